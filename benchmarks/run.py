"""Speed and memory of the advisor on this machine; figures go to benchmarks/results/, never into tests.

    python -m benchmarks.run [--skip-scale] [--scale-chunks 100000]

Stages:
  ingest    fresh ingest of corpus/ with the packaged MiniLM as the product runs it (model warmed first; ONNX
            for questions, bulk batches on the runtime measured faster on this machine, remembered in the
            embedder cache), then the raw embedder on the very same chunk texts, then an unchanged re-ingest
            (in process, and as the `advisor ingest` command)
  ask       warm `Advisor.ask` latency with the extractive generator over the calibration questions
  scale     hybrid retrieval over a synthetic index of N chunks (deal-style records, random unit vectors)
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from advisor.advisor import Advisor
from advisor.config import Settings
from advisor.embed import Embedder, make_embedder
from advisor.ingest.deals import COLUMNS
from advisor.retrieve import Filters

REPO = Path(__file__).resolve().parents[1]
CORPUS = [REPO / "corpus" / "articles", REPO / "corpus" / "deals", REPO / "corpus" / "docs"]
RESULTS = REPO / "benchmarks" / "results"
CALIBRATION_SET = REPO / "evals" / "calibration" / "coverage.jsonl"
QUESTIONS = [json.loads(line)["q"] for line in CALIBRATION_SET.read_text().splitlines() if line.strip()]


def rss_mb() -> float:
    """Peak resident memory of this process image (VmHWM; ru_maxrss would carry a forking parent's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def stage_ingest(workdir: Path, embedder: Embedder) -> tuple[dict, Advisor]:
    settings = Settings(data_dir=workdir / "corpus-data")
    advisor = Advisor(settings, store=Advisor.from_settings(settings, embedder=embedder).store, embedder=embedder)
    t0 = time.perf_counter()
    report = advisor.ingest(CORPUS)
    ingest_s = time.perf_counter() - t0
    texts = [c.embed_text() for c in advisor.store.catalog.iter_chunks()]
    t0 = time.perf_counter()
    embedder.embed(texts)
    raw_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    unchanged = Advisor(settings, store=Advisor.from_settings(settings, embedder=embedder).store,
                        embedder=embedder).ingest(CORPUS)
    unchanged_s = time.perf_counter() - t0
    env = {**os.environ, "ADVISOR_DATA_DIR": str(settings.data_dir)}
    cli_times = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "advisor.cli", "ingest", "-q", *map(str, CORPUS)], env=env, cwd=REPO,
                       check=True, capture_output=True)
        cli_times.append(time.perf_counter() - t0)
    ingest_rate = report.embedded / ingest_s
    raw_rate = len(texts) / raw_s
    return {
        "files": report.files, "chunks": report.chunks_added, "embedded": report.embedded,
        "fresh_ingest_s": round(ingest_s, 2), "ingest_chunks_per_s": round(ingest_rate, 2),
        "raw_embedder_chunks_per_s": round(raw_rate, 2),
        "ingest_vs_raw_throughput": round(ingest_rate / raw_rate, 3),
        "unchanged_reingest_in_process_s": round(unchanged_s, 3),
        "unchanged_reingest_embedded": unchanged.embedded,
        "unchanged_reingest_cli_s_median": round(statistics.median(cli_times), 3),
        "unchanged_reingest_cli_s_all": [round(t, 3) for t in cli_times],
    }, advisor


def stage_ask(advisor: Advisor, rounds: int = 3) -> dict:
    advisor.warm_up()
    advisor.wait_warm()
    advisor.ask("warm-up question about licensing in China")
    times, covered = [], 0
    for _ in range(rounds):
        for q in QUESTIONS:
            t0 = time.perf_counter()
            answer = advisor.ask(q)
            times.append((time.perf_counter() - t0) * 1e3)
            covered += answer.covered
    return {"questions": len(QUESTIONS), "rounds": rounds, "p50_ms": round(pct(times, 50), 1),
            "p95_ms": round(pct(times, 95), 1), "mean_ms": round(statistics.mean(times), 1),
            "rss_mb_after": round(rss_mb(), 1)}


class RandomEmbedder:
    """Deterministic random unit vectors: index-side scale tests without hours of embedding."""

    name = "random-384"
    dim = 384

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
        return out


def synthetic_deals(folder: Path, n: int, vocabulary: list[str]) -> None:
    rng = np.random.default_rng(11)
    companies = [f"{a} {b}" for a in ("Hengrui", "Akeso", "Kelun", "Hansoh", "Innovent", "Zai", "Argo", "CSPC",
                                      "Duality", "Biotheus", "Takeda", "Daiichi", "Astellas", "Yuhan", "Alteogen")
                 for b in ("Bio", "Pharma", "Therapeutics", "Medicines", "Labs", "Sciences")]
    per_file = 5000
    for f in range(0, n, per_file):
        # four files in five are public, like a corpus of public briefings with some internal notes
        audience = "internal" if (f // per_file) % 5 == 4 else "public"
        (folder / f"deals-{f // per_file:03d}.csv.meta.yaml").write_text(f"audience: {audience}\n")
        with open(folder / f"deals-{f // per_file:03d}.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            for i in range(f, min(n, f + per_file)):
                words = " ".join(rng.choice(vocabulary, size=40))
                upfront = float(rng.integers(5, 1500))
                writer.writerow([f"S{i:06d}", f"{2019 + i % 8}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                                 rng.choice(companies), "China", rng.choice(companies), "United States",
                                 "licence", f"asset-{i}", "ADC", "oncology", "phase 1", "Global ex-China",
                                 upfront, upfront * 10, upfront * 11, "tiered", f"https://example.com/{i}", words])


def stage_scale(workdir: Path, n: int) -> dict:
    """Build an N-chunk index through the real ingest path, then measure retrieval in a fresh process."""
    vocabulary = sorted({w for q in QUESTIONS for w in q.lower().replace("?", "").split()})
    folder = workdir / "synthetic"
    folder.mkdir()
    synthetic_deals(folder, n, vocabulary)
    data_dir = workdir / "scale-data"
    settings = Settings(data_dir=data_dir, embedder="hash")
    embedder = RandomEmbedder()
    advisor = Advisor(settings, store=Advisor.from_settings(settings, embedder=embedder).store,  # type: ignore[arg-type]
                      embedder=embedder)  # type: ignore[arg-type]
    t0 = time.perf_counter()
    report = advisor.ingest([folder])
    build_s = time.perf_counter() - t0
    probe = subprocess.run([sys.executable, "-m", "benchmarks.run", "--probe", str(data_dir)], cwd=REPO,
                           check=True, capture_output=True, text=True)
    return {"chunks": report.chunks_added, "build_s": round(build_s, 1), **json.loads(probe.stdout)}


def probe(data_dir: Path) -> dict:
    """A fresh process, as a server would be: open the index, load MiniLM, run hybrid retrieval."""
    settings = Settings(data_dir=data_dir, embedder="hash")
    embedder = RandomEmbedder()
    advisor = Advisor(settings, store=Advisor.from_settings(settings, embedder=embedder).store,  # type: ignore[arg-type]
                      embedder=embedder)  # type: ignore[arg-type]
    t0 = time.perf_counter()
    advisor.retriever.warm_up()
    load_s = time.perf_counter() - t0
    query_embedder = make_embedder(Settings())  # questions as the product embeds them
    query_embedder.embed(["warm up"])
    filters = {"public": Filters(audience="public"), "internal": Filters(audience="internal"),
               "public+company+date": Filters(audience="public", date_from=20230101, companies=("Hengrui Bio",))}
    total, embed, parts = [], [], {"dense_ms": [], "lexical_ms": [], "fuse_ms": []}
    by_filter: dict[str, list[float]] = {name: [] for name in filters}
    for _ in range(3):
        for q in QUESTIONS:
            t0 = time.perf_counter()
            query_embedder.embed([q])
            embed.append((time.perf_counter() - t0) * 1e3)
            for name, f in filters.items():
                timings: dict[str, float] = {}
                t0 = time.perf_counter()
                advisor.retriever.search(q, f, 8, timings)
                total.append((time.perf_counter() - t0) * 1e3)
                by_filter[name].append(total[-1])
                for key in parts:
                    parts[key].append(timings[key])
    with_embedding = [t + e for t, e in zip(total[::3], embed, strict=False)]
    return {
        "queries": len(total), "index_load_s": round(load_s, 2),
        "retrieval_p50_ms": round(pct(total, 50), 2), "retrieval_p95_ms": round(pct(total, 95), 2),
        **{f"{k.removesuffix('_ms')}_p50_ms": round(pct(v, 50), 2) for k, v in parts.items()},
        "by_filter_p50_p95_ms": {k: [round(pct(v, 50), 2), round(pct(v, 95), 2)] for k, v in by_filter.items()},
        "minilm_query_embed_p50_ms": round(pct(embed, 50), 2),
        "with_minilm_query_embedding_p50_ms": round(pct(with_embedding, 50), 2),
        "with_minilm_query_embedding_p95_ms": round(pct(with_embedding, 95), 2),
        "serving_process_max_rss_mb": round(rss_mb(), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--scale-chunks", type=int, default=100_000)
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe(Path(args.probe))))
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    results: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "platform": platform.platform()},
                     "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    embedder = make_embedder(Settings())  # the product's default: ONNX for questions, bulk as measured here
    embedder.embed(["warm up the model"])
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results["ingest"], advisor = stage_ingest(work, embedder)
        results["ingest"]["embedder"] = {key: getattr(embedder, key, None) for key in ("runtime", "bulk_runtime")}
        print(json.dumps(results["ingest"], indent=2))
        results["ask"] = stage_ask(advisor)
        print(json.dumps(results["ask"], indent=2))
        if not args.skip_scale:
            results["scale"] = stage_scale(work, args.scale_chunks)
            print(json.dumps(results["scale"], indent=2))
    results["benchmark_process_max_rss_mb"] = round(rss_mb(), 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {RESULTS / 'latest.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
