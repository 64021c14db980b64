"""How long reading a question in another script in English takes, and how often the reply is usable.

    python -m benchmarks.translate [--models qwen2.5-coder-1.5b,qwen2.5-coder-0.5b]

Over the blind dev set in Japanese, Chinese and Korean (evals/sets/fresh_cjk.jsonl), each model in its own
supervised process as `make run` starts it, through `LLMGenerator.translate` (the prompt files
`prompts/translate*.j2`). A reply that is not usable (empty, still mostly in the other script, far too long)
leaves the question read as written. What the translations do to the answers is the eval's to say (evals/README,
fresh_cjk). Results are merged into benchmarks/results/translate.json (one entry per model).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from advisor.advisor import Advisor
from advisor.config import load_settings
from benchmarks.llm import cpu_model, model_names, summary, write_results

REPO = Path(__file__).resolve().parents[1]
CJK_SET = REPO / "evals" / "sets" / "fresh_cjk.jsonl"
RESULTS = REPO / "benchmarks" / "results" / "translate.json"


def bench_model(name: str) -> dict[str, object]:
    advisor = Advisor.from_settings(load_settings(generator="llamacpp", llm_model=name))
    try:
        advisor.warm_up()
        status = advisor.wait_for_model()
        if status is None or status["state"] != "ready":
            raise SystemExit(f"{name} is not ready: {status}")
        translate = advisor.generator.translate  # type: ignore[attr-defined]
        questions = [json.loads(line)["question"] for line in CJK_SET.read_text().splitlines() if line.strip()]
        times, usable = [], 0
        for question in questions:
            started = time.perf_counter()
            english = translate(question)
            times.append((time.perf_counter() - started) * 1e3)
            usable += english is not None
        return {"questions": len(questions), "usable_replies": usable, "translate_ms": summary(times),
                "cpu": cpu_model(), "n_threads": advisor.settings.llm_n_threads,
                "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    finally:
        advisor.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="qwen2.5-coder-1.5b")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results = json.loads(args.out.read_text()) if args.out.is_file() else {}
    for name in model_names(args.models):
        print(f"translating {CJK_SET.name} with {name}…", flush=True)
        results[name] = bench_model(name)
        print(json.dumps(results[name], indent=2), flush=True)
    write_results(args.out, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
