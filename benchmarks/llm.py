"""LLM answering speed on this machine: time to first token, total time, prompt size, memory.

    python -m benchmarks.llm [--models qwen2.5-coder-1.5b,qwen2.5-coder-0.5b,smollm2-135m] [--limit 20]

Runs over a fixed sample of the answerable in-house eval questions (evals/sets/advisor_qa.jsonl) against
the index in the configured data dir (`make ingest` first). Per model:
  load        sha256 verification + llama.cpp load, and resident memory before/after
  prompt      prompt tokens per question with whole chunks vs with the compressed evidence (the model's
              own tokenizer and chat template; counted, not evaluated)
  answer      `Advisor.stream` end to end: model first token (from the start of generation), first shown
              sentence (after verification), total; how often the model's text was dropped for the fallback
  prefix      time to first token for the same prompt with an empty KV cache vs with the system prompt
              cached (what prefix reuse saves)
Results are merged into benchmarks/results/llm.json (one entry per model, replaced when re-measured).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

from advisor.advisor import Advisor
from advisor.config import load_settings
from advisor.generate.llamacpp import LlamaCppChat
from advisor.generate.llm import LLMGenerator, answer_messages, documents_from_citations, documents_from_hits
from advisor.models import REGISTRY, resolve
from advisor.retrieve import Filters
from advisor.types import Answer

REPO = Path(__file__).resolve().parents[1]
QA_SET = REPO / "evals" / "sets" / "advisor_qa.jsonl"
RESULTS = REPO / "benchmarks" / "results" / "llm.json"


def rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(pct(values, 50), 1), "p95": round(pct(values, 95), 1),
            "mean": round(statistics.fmean(values), 1) if values else 0.0}


def sample_questions(limit: int, advisor: Advisor) -> list[dict[str, Any]]:
    """Every k-th answerable public question that reaches a generator: not analytic (the deals table answers
    those without an LLM) and past the evidence gate (a refused question never calls the model)."""
    rows = [json.loads(line) for line in QA_SET.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r.get("answerable") and r.get("audience", "public") == "public"
            and advisor.analytics.parse(r["question"]) is None and advisor.ask(r["question"]).covered]
    step = max(1, len(rows) // max(1, limit))
    return rows[::step][:limit]


def first_token_ms(chat: LlamaCppChat, messages: list[dict[str, str]]) -> float:
    started = time.perf_counter()
    for _ in chat.chat(messages, max_tokens=1, temperature=0.0, stream=True):
        break
    return (time.perf_counter() - started) * 1e3


def bench_model(name: str, base: Advisor, questions: list[dict[str, Any]], prefix_trials: int) -> dict[str, Any]:
    settings = base.settings.model_copy(update={"generator": "llamacpp", "llm_model": name})
    advisor = Advisor(settings, store=base.store, embedder=base.embedder)
    # the model in this process (the server runs it in its own; loopback HTTP adds about a millisecond a call),
    # so its KV cache can be emptied for the prefix measurement
    chat = LlamaCppChat(name, settings.models_dir, n_ctx=settings.llm_n_ctx, n_threads=settings.llm_n_threads,
                        flash_attn=settings.llm_flash_attn)
    generator = LLMGenerator(chat, advisor.extractive, prompts_dir=settings.prompts_dir,
                             max_tokens=settings.llm_max_tokens, evidence_sentences=settings.llm_evidence_sentences)
    advisor.generator = generator
    rss_before = rss_mb()
    t0 = time.perf_counter()
    resolve(name, settings.models_dir)  # sha256 verification (cached for the load below)
    verify_s = time.perf_counter() - t0
    chat.load()
    load_s = time.perf_counter() - t0 - verify_s
    rss_loaded = rss_mb()
    t1 = time.perf_counter()
    generator.warm_up()
    warm_s = time.perf_counter() - t1

    before, after, model_ttft, shown_ttft, total, fallback, dropped, covered = [], [], [], [], [], 0, [], 0
    for row in questions:
        question = row["question"]
        hits = advisor.retriever.search(question, Filters(audience="public"), settings.top_k)
        evidence = advisor.extractive.evidence(question, hits, max_sentences=generator.evidence_sentences)
        if evidence.citations:
            compressed = answer_messages(question, documents_from_citations(evidence.citations),
                                         settings.prompts_dir, generator.max_sentences)
            whole = answer_messages(question, documents_from_hits(hits[:advisor.extractive.max_hits]),
                                    settings.prompts_dir, generator.max_sentences)
            after.append(chat.prompt_tokens(compressed))
            before.append(chat.prompt_tokens(whole))
        started = time.perf_counter()
        first_shown = None
        answer = None
        for event in advisor.stream(question, writer="llm"):
            if event["event"] == "delta" and first_shown is None:
                first_shown = (time.perf_counter() - started) * 1e3
            elif event["event"] == "answer":
                answer = Answer.model_validate(event["data"])
        elapsed = (time.perf_counter() - started) * 1e3
        assert answer is not None
        if "first_token_ms" in answer.timings_ms:
            model_ttft.append(answer.timings_ms["first_token_ms"])
            shown_ttft.append(first_shown or elapsed)
            total.append(elapsed)
            fallback += any("answered from the sources" in n for n in answer.notes)
            dropped.append(sum(int(n.split()[0]) for n in answer.notes if "sentence(s) dropped" in n))
        covered += answer.covered
    cold, warm = [], []
    for row in questions[:prefix_trials]:
        hits = advisor.retriever.search(row["question"], Filters(audience="public"), settings.top_k)
        evidence = advisor.extractive.evidence(row["question"], hits, max_sentences=generator.evidence_sentences)
        if not evidence.citations:
            continue
        messages = generator.messages(row["question"], evidence)
        chat.load().reset()  # empty KV cache: the whole prompt is evaluated
        cold.append(first_token_ms(chat, messages))
        generator.warm_up()  # only the system prompt cached, as after any other question
        warm.append(first_token_ms(chat, messages))
    result = {
        "model": name, "description": REGISTRY[name].description if name in REGISTRY else name,
        "questions": len(questions), "generated": len(model_ttft), "covered": covered,
        "sha256_verify_s": round(verify_s, 2), "load_s": round(load_s, 2), "warm_up_s": round(warm_s, 2),
        "rss_mb_before_load": round(rss_before), "rss_mb_loaded": round(rss_loaded),
        "rss_mb_peak": round(rss_mb("VmHWM")),
        "model_first_token_ms": summary(model_ttft), "first_shown_sentence_ms": summary(shown_ttft),
        "total_ms": summary(total),
        "prompt_tokens_whole_chunks": summary([float(x) for x in before]),
        "prompt_tokens_compressed": summary([float(x) for x in after]),
        "fallback_to_extractive": fallback, "sentences_dropped_mean": round(statistics.fmean(dropped), 2)
        if dropped else 0.0,
        "prefix_reuse_first_token_ms": {"cold_cache": summary(cold), "system_prompt_cached": summary(warm)},
        "settings": {"n_ctx": settings.llm_n_ctx, "n_threads": settings.llm_n_threads,
                     "flash_attn": settings.llm_flash_attn,
                     "max_tokens": settings.llm_max_tokens, "evidence_sentences": settings.llm_evidence_sentences},
    }
    chat._llm = None  # noqa: SLF001 - free the model before the next one loads
    gc.collect()
    return result


def throughput(name: str, models_dir: Path, *, n_threads: int, prompt_tokens: int = 512, gen_tokens: int = 128,
               trials: int = 3) -> dict[str, Any]:
    """Raw llama.cpp speed of this build: prompt evaluation and generation in tokens per second (median of
    `trials`), on a fixed text from the corpus, with an empty KV cache each time."""
    import llama_cpp

    path = resolve(name, models_dir)
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=2048, n_threads=n_threads, n_threads_batch=n_threads,
                          n_batch=512, seed=0, verbose=False)
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted((REPO / "corpus" / "articles").glob("cn-*.md")))
    tokens = llm.tokenize(text.encode("utf-8"))[:prompt_tokens]
    prompt_s, gen_s = [], []
    for _ in range(trials):
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(tokens)
        prompt_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for _ in range(gen_tokens):  # greedy, past any end-of-text token: always the same number of steps
            llm.eval([llm.sample(temp=0.0)])
        gen_s.append(time.perf_counter() - t0)
    info = llama_cpp.llama_print_system_info().decode()
    del llm
    gc.collect()
    return {"prompt_tokens": len(tokens), "generated_tokens": gen_tokens, "trials": trials, "n_threads": n_threads,
            "prompt_tok_s": round(len(tokens) / statistics.median(prompt_s), 1),
            "gen_tok_s": round(gen_tokens / statistics.median(gen_s), 1),
            "llama_cpp_version": llama_cpp.__version__, "system_info": info.strip()}


def model_names(arg: str) -> list[str]:
    """The models a comma-separated --models argument names."""
    return [m.strip() for m in arg.split(",") if m.strip()]


def write_results(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {path}")


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="qwen2.5-coder-1.5b,qwen2.5-coder-0.5b,smollm2-135m")
    parser.add_argument("--limit", type=int, default=20, help="questions per model")
    parser.add_argument("--prefix-trials", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--throughput", metavar="BUILD",
                        help="only measure raw prompt and generation tokens/s of the installed llama.cpp build, "
                             "recorded under this label (e.g. portable, native)")
    args = parser.parse_args(argv)
    if args.throughput:
        settings = load_settings()
        results = json.loads(args.out.read_text()) if args.out.is_file() else {}
        for name in model_names(args.models):
            print(f"throughput of {name} with the {args.throughput} build…", flush=True)
            entry = throughput(name, settings.models_dir, n_threads=settings.llm_n_threads)
            entry.update(cpu=cpu_model(), measured_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            results.setdefault("throughput", {}).setdefault(args.throughput, {})[name] = entry
            print(json.dumps(entry, indent=2), flush=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        return 0
    settings = load_settings(generator="extractive")  # the base selects questions; each model gets its own
    base = Advisor.from_settings(settings)
    if base.store.catalog.counts()["chunks"] == 0:
        parser.error(f"the index in {settings.data_dir} is empty: run `make ingest` first")
    base.warm_up()
    questions = sample_questions(args.limit, base)
    results = json.loads(args.out.read_text()) if args.out.is_file() else {}
    results["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}
    results.setdefault("models", {})
    for name in model_names(args.models):
        print(f"benchmarking {name} on {len(questions)} questions…", flush=True)
        entry = bench_model(name, base, questions, args.prefix_trials)
        entry["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        results["models"][name] = entry
        print(json.dumps(entry, indent=2), flush=True)
    write_results(args.out, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
