"""Load on one replica and on two behind nginx, on shared stores; figures to benchmarks/results/load-replicas.json.

    python -m benchmarks.replicas [--clients 20] [--requests 15] [--repeat 3]

Starts PostgreSQL (catalog and records), `chroma run` (vectors) and ingests the corpus into them with the
packaged embedder; then, for 1 and 2 replicas: starts each `advisor serve` on an empty data dir (recording how
long it takes to answer /readyz), puts nginx with deploy/nginx.conf in front, and sends the same load as
`make load` through nginx. CPU per request is taken from /proc for the replicas together, and separately for
nginx, PostgreSQL and Chroma. All on loopback, on this one machine: a second replica shares the same cores, so
it is not expected to double throughput; the figures are what they are.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from benchmarks.load import cpu_seconds, run
from benchmarks.services import advisor_server, chroma, new_database, nginx, postgres, postgres_pid

REPO = Path(__file__).resolve().parent.parent
CORPUS = ["corpus/articles", "corpus/deals", "corpus/docs"]
RESULTS = REPO / "benchmarks" / "results" / "load-replicas.json"


def _env(data_dir: Path, database: str, chroma_url: str) -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "ADVISOR_DATA_DIR": str(data_dir), "ADVISOR_DATABASE_URL": database,
            "ADVISOR_CHROMA_URL": chroma_url, "ADVISOR_UI_ENABLED": "false", "ADVISOR_GENERATOR": "extractive",
            "ADVISOR_ANONYMOUS_REQUESTS_PER_MINUTE": "1000000", "ADVISOR_TRUSTED_PROXIES": '["127.0.0.1"]',
            "ADVISOR_API_KEYS": json.dumps({"replicas-bench-admin-0123456789ab": "admin"})}


def _replica(stack: ExitStack, env: dict[str, str], log: Path) -> tuple[str, int, float]:
    """Start one replica on an empty data dir; (host:port, pid, seconds until /readyz answered 200)."""
    started = time.perf_counter()
    url, pid = stack.enter_context(advisor_server(env, log))
    return url.removeprefix("http://"), pid, round(time.perf_counter() - started, 1)


def measure(n: int, database: str, chroma_url: str, stores: dict[str, int | None], scratch: Path,
            args: argparse.Namespace) -> dict:
    with ExitStack() as stack:
        replicas = [_replica(stack, _env(scratch / f"replica-{n}-{i}", database, chroma_url),
                             scratch / f"replica-{n}-{i}.log") for i in range(n)]
        base, nginx_pid = stack.enter_context(nginx([r[0] for r in replicas], REPO / "deploy" / "nginx.conf"))
        asyncio.run(run(base, args.clients, 2))  # warm-up through the balancer
        rounds = []
        for _ in range(args.repeat):
            before = {name: cpu_seconds(pid) if pid else None for name, pid in
                      {**stores, "nginx": nginx_pid}.items()}
            replicas_before = sum(cpu_seconds(r[1]) or 0.0 for r in replicas)
            figures = asyncio.run(run(base, args.clients, args.requests))
            done = figures["requests"] or 1
            figures["replicas_cpu_ms_per_request"] = round(
                (sum(cpu_seconds(r[1]) or 0.0 for r in replicas) - replicas_before) / done * 1e3, 1)
            for name, pid in {**stores, "nginx": nginx_pid}.items():
                after = cpu_seconds(pid) if pid else None
                figures[f"{name}_cpu_ms_per_request"] = round((after - before[name]) / done * 1e3, 1) \
                    if after is not None and before[name] is not None else None
            rounds.append(figures)
    keep = ("p50_ms", "p95_ms", "max_ms", "throughput_rps", "replicas_cpu_ms_per_request",
            "postgres_cpu_ms_per_request", "chroma_cpu_ms_per_request", "nginx_cpu_ms_per_request",
            "client_cpu_ms_per_request", "steal_percent", "errors")
    return {"replicas": n, "ready_after_s": [r[2] for r in replicas],
            **{k: statistics.median(r[k] for r in rounds) for k in ("p50_ms", "p95_ms", "throughput_rps")},
            "errors": sum(r["errors"] for r in rounds), "rounds": [{k: r.get(k) for k in keep} for r in rounds]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="advisor-replicas-"))
    with postgres() as pg, chroma() as (chroma_url, chroma_pid):
        database = new_database(pg, "advisor")
        started = time.perf_counter()
        ingest = subprocess.run([sys.executable, "-m", "advisor.cli", "ingest", *CORPUS], cwd=REPO,
                                env=_env(scratch / "ingest", database, chroma_url), capture_output=True, text=True,
                                timeout=3600)
        if ingest.returncode not in (0, 1):
            raise SystemExit(f"ingest failed: {ingest.stderr[-2000:]}")
        ingest_s = round(time.perf_counter() - started, 1)
        stores = {"postgres": postgres_pid(pg), "chroma": chroma_pid}
        results = [measure(n, database, chroma_url, stores, scratch, args) for n in (1, 2)]
    out = {"clients": args.clients, "requests_per_client": args.requests, "repeat": args.repeat,
           "ingest_into_shared_stores_s": ingest_s, "ingest_summary": ingest.stdout.strip().splitlines()[-1:],
           "cpus": os.cpu_count(), "results": results, "measured": time.strftime("%Y-%m-%dT%H:%M:%S"),
           "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                    text=True).stdout.strip()}
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return 0 if all(r["errors"] == 0 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
