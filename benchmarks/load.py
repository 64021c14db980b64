"""Load on the HTTP API: N concurrent clients asking questions over loopback; figures to a results file.

    python -m benchmarks.load [--clients 20] [--requests 15] [--port 8765] [--workers 1]

Starts `advisor serve` on 127.0.0.1 over the default index (run `make ingest` first), waits for /healthz,
sends clients x requests questions from the calibration set to /v1/ask (--repeat rounds; the
figures are the rounds' medians, each round kept), and stops the server. The
anonymous rate limit is raised for the run (every client shares 127.0.0.1). With --workers N the API runs
as N processes without the UI (figures go to results/load-workers-N.json instead of results/load.json).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = [json.loads(line)["q"] for line in (REPO / "evals" / "calibration" / "coverage.jsonl").read_text()
             .splitlines() if line.strip()]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def client(base: str, worker: int, count: int, latencies: list[float], errors: list[str],
                 inside: list[float]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        for i in range(count):
            question = QUESTIONS[(worker * count + i) % len(QUESTIONS)]
            started = time.perf_counter()
            try:
                response = await http.post("/v1/ask", json={"question": question})
                if response.status_code != 200:
                    errors.append(f"{response.status_code}: {response.text[:200]}")
                else:
                    inside.append(float(response.json().get("timings_ms", {}).get("total_ms", 0.0)))
            except httpx.HTTPError as exc:
                errors.append(repr(exc))
            latencies.append((time.perf_counter() - started) * 1e3)


async def run(base: str, clients: int, requests: int) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    inside: list[float] = []  # the advisor's own time per answer; the rest is queueing, HTTP and the GIL
    started = time.perf_counter()
    await asyncio.gather(*(client(base, w, requests, latencies, errors, inside) for w in range(clients)))
    wall = time.perf_counter() - started
    return {"clients": clients, "requests": len(latencies), "errors": len(errors), "error_samples": errors[:3],
            "p50_ms": round(pct(latencies, 50), 1), "p95_ms": round(pct(latencies, 95), 1),
            "max_ms": round(max(latencies), 1), "throughput_rps": round(len(latencies) / wall, 1),
            "advisor_p50_ms": round(pct(inside, 50), 1) if inside else None,
            "advisor_p95_ms": round(pct(inside, 95), 1) if inside else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3,
                        help="measured rounds on one server; the figures are each round's, and their median")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ADVISOR_ANONYMOUS_REQUESTS_PER_MINUTE": "100000",
           "ADVISOR_UI_ENABLED": "false", "ADVISOR_GENERATOR": "extractive",  # the target is extractive
           "ADVISOR_WORKERS": str(args.workers)}
    server = subprocess.Popen([sys.executable, "-m", "advisor.cli", "serve", "--port", str(args.port)], cwd=REPO,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{args.port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=2).json().get("status") == "ok":
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit("server did not start within 120 s")
        asyncio.run(run(base, args.clients, 2))  # warm-up: every worker has loaded its indexes and models
        rounds = [asyncio.run(run(base, args.clients, args.requests)) for _ in range(args.repeat)]
    finally:
        server.terminate()
        server.wait(timeout=30)
    # this VM's figures swing between rounds (steal time, other work): report every round and the median
    result = {key: statistics.median(r[key] for r in rounds) for key in ("p50_ms", "p95_ms", "max_ms",
                                                                          "throughput_rps")}
    result.update(clients=args.clients, requests=sum(r["requests"] for r in rounds),
                  errors=sum(r["errors"] for r in rounds),
                  error_samples=[e for r in rounds for e in r["error_samples"]][:3],
                  rounds=[{k: r[k] for k in ("p50_ms", "p95_ms", "max_ms", "throughput_rps", "advisor_p50_ms",
                                             "advisor_p95_ms")} for r in rounds])
    result["measured"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    result["generator"] = "extractive"
    result["workers"] = args.workers
    result["embedder_runtime"] = env.get("ADVISOR_EMBEDDER_RUNTIME", "onnx")
    # other work on the machine skews the figures: the 1-minute load average says how quiet it was
    result["loadavg_1min_before"] = round(load_before, 2)
    result["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                      text=True).stdout.strip()
    out = REPO / "benchmarks" / "results" / ("load.json" if args.workers == 1 else f"load-workers-{args.workers}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
