"""Load on the HTTP API: N concurrent clients asking questions over loopback; figures to a results file.

    python -m benchmarks.load [--clients 20] [--requests 15] [--port 8765] [--workers 1]

Starts `advisor serve` on 127.0.0.1 over the default index (run `make ingest` first), waits for /healthz,
sends clients x requests questions from the calibration set to /v1/ask (--repeat rounds; the
figures are the rounds' medians, each round kept, with the CPU per request of the server and of this load
generator, which shares the machine), and stops the server. The
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


class Connection:
    """One keep-alive HTTP/1.1 connection that POSTs JSON: the least client work per request.

    The load generator shares the 2 cores with the server, so its own CPU is taken from the server's: httpx
    spent 6-7 ms of CPU per request here, a third of what the server spends answering one.
    """

    def __init__(self, base: str) -> None:
        host, _, port = base.removeprefix("http://").partition(":")
        self.host, self.port = host, int(port or 80)
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, payload: object) -> tuple[int, bytes]:
        """(status, body) of a POST; reconnects when the server closed the connection."""
        body = json.dumps(payload).encode()
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        writer.write(head + body)
        await writer.drain()
        status_line, *header_lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {name.strip().lower(): value.strip() for name, _, value in (h.partition(":") for h in header_lines
                                                                              if h)}
        if "content-length" in headers:
            content = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            content = b""
            while size := int((await reader.readuntil(b"\r\n")).strip() or b"0", 16):
                content += await reader.readexactly(size)
                await reader.readuntil(b"\r\n")
            await reader.readuntil(b"\r\n")
        else:
            content = await reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return int(status_line.split(" ", 2)[1]), content

    async def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


async def client(base: str, worker: int, count: int, latencies: list[float], errors: list[str],
                 inside: list[float]) -> None:
    connection = Connection(base)
    try:
        for i in range(count):
            question = QUESTIONS[(worker * count + i) % len(QUESTIONS)]
            started = time.perf_counter()
            try:
                status, content = await asyncio.wait_for(connection.post("/v1/ask", {"question": question}), 60)
                if status != 200:
                    errors.append(f"{status}: {content[:200].decode(errors='replace')}")
                else:
                    inside.append(float(json.loads(content).get("timings_ms", {}).get("total_ms", 0.0)))
            except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                errors.append(repr(exc))
                await connection.close()
            latencies.append((time.perf_counter() - started) * 1e3)
    finally:
        await connection.close()


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) of a process and its live descendants, from /proc; None where there is none."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}  # pid -> (parent, seconds)
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    if pid not in stats:
        return None
    family, total, grew = {pid}, 0.0, True
    while grew:
        grew = False
        for child, (parent, _) in stats.items():
            if parent in family and child not in family:
                family.add(child)
                grew = True
    for member in family:
        total += stats[member][1]
    return total


def cpu_ticks() -> list[int] | None:
    """The machine's CPU counters since boot (user, nice, system, idle, iowait, irq, softirq, steal…)."""
    try:
        return [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return None


def steal_percent(before: list[int] | None, after: list[int] | None) -> float | None:
    """Share of the machine's CPU time the hypervisor gave to other guests meanwhile (this VM's main noise)."""
    if not before or not after or len(before) < 8:
        return None
    spent = [b - a for a, b in zip(before, after, strict=True)]
    return round(100 * spent[7] / max(1, sum(spent[:8])), 1)


async def run(base: str, clients: int, requests: int, server_pid: int | None = None) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    inside: list[float] = []  # the advisor's own time per answer; the rest is queueing, HTTP and the GIL
    server_before = cpu_seconds(server_pid) if server_pid else None
    client_before, ticks_before = time.process_time(), cpu_ticks()
    started = time.perf_counter()
    await asyncio.gather(*(client(base, w, requests, latencies, errors, inside) for w in range(clients)))
    wall = time.perf_counter() - started
    server_after = cpu_seconds(server_pid) if server_pid else None
    # CPU per request on each side: on one machine the load generator's own CPU is taken from the server's
    cpu = {"server_cpu_ms_per_request": round((server_after - server_before) / len(latencies) * 1e3, 1)
           if server_before is not None and server_after is not None else None,
           "client_cpu_ms_per_request": round((time.process_time() - client_before) / len(latencies) * 1e3, 1),
           "steal_percent": steal_percent(ticks_before, cpu_ticks())}
    return {**cpu, "clients": clients, "requests": len(latencies), "errors": len(errors), "error_samples": errors[:3],
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
        while time.monotonic() < deadline + 180 and httpx.get(base + "/readyz", timeout=2).json().get("warming"):
            time.sleep(1)  # answers are timed warm: the heading and sentence cache is filled first
        asyncio.run(run(base, args.clients, 2))  # warm-up: every worker has loaded its indexes and models
        rounds = [asyncio.run(run(base, args.clients, args.requests, server.pid)) for _ in range(args.repeat)]
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
                                             "advisor_p95_ms", "server_cpu_ms_per_request",
                                             "client_cpu_ms_per_request", "steal_percent")} for r in rounds])
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
