"""The API against its own OpenAPI description, fuzzed by schemathesis; figures to benchmarks/results/fuzz.json.

    python -m benchmarks.fuzz [--examples 300] [--url http://127.0.0.1:8000]

Without --url it starts `advisor serve` on a free 127.0.0.1 port over a small index of its own (hash embedder:
the contract, not the answers, is under test) with the per-client limits lifted, runs schemathesis' coverage,
fuzzing and stateful phases as an anonymous caller and as a consultant, and stops the server. Every check runs
except `positive_data_acceptance`: it expects any schema-valid body to be accepted, and three of our rules can't
be said in JSON Schema (a date range whose start is after its end, a chat whose last message is not the user's,
an id that does not exist). Requests are counted by the server itself (/metrics), not estimated.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from benchmarks.services import advisor_server

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "fuzz.json"
EXCLUDED = "positive_data_acceptance"
CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"  # 413 counts as rejecting an invalid body
CONSULTANT = "fuzz-consultant-key-0123456789abcdef"
_COUNTER = re.compile(r'^advisor_http_requests_total\{.*status="(\d+)"\} ([0-9.e+]+)$', re.MULTILINE)


def served_requests(url: str) -> dict[str, int]:
    """Requests the server has answered so far: total, and how many were 5xx."""
    text = httpx.get(url + "/metrics", timeout=10).text
    counts = [(int(code), float(n)) for code, n in _COUNTER.findall(text)]
    return {"total": int(sum(n for _, n in counts)), "5xx": int(sum(n for code, n in counts if code >= 500))}


def schemathesis(url: str, *, examples: int, seed: int, key: str | None, report: Path) -> dict:
    """One `st run`; its JSON report's figures and the failures it printed."""
    command = [str(Path(sys.executable).parent / "st"), "--config-file", str(CONFIG), "run", url + "/openapi.json",
               "-n", str(examples),
               "--checks", "all", "--exclude-checks", EXCLUDED, "--seed", str(seed), "--workers", "1",
               "--no-color", "--report", "json", "--report-json-path", str(report),
               "--generation-database", "none"]
    if key:
        command += ["-H", f"X-API-Key:{key}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    data = json.loads(report.read_text()) if report.exists() else {}
    failures = [line.strip() for line in done.stdout.splitlines() if re.match(r"\s*- ST\d+ ", line)]
    return {"exit_code": done.returncode, "test_cases": data.get("test_cases", {}).get("generated", 0),
            "failures": data.get("test_cases", {}).get("unique_failures", len(failures)),
            "failure_kinds": sorted(set(failures)), "errors": data.get("operations", {}).get("errored", 0),
            "operations": data.get("operations", {}).get("tested", 0), "seconds": round(data.get("running_time", 0), 1),
            "output_tail": done.stdout[-3000:] if done.returncode else ""}


def fuzz(url: str, *, examples: int, seed: int = 1) -> dict:
    """Anonymous and consultant runs against a live server; the server's own request counts around them."""
    before = served_requests(url)
    with tempfile.TemporaryDirectory() as scratch:
        runs = {who: schemathesis(url, examples=examples, seed=seed, key=key, report=Path(scratch) / f"{who}.json")
                for who, key in (("anonymous", None), ("consultant", CONSULTANT))}
    after = served_requests(url)
    return {"examples_per_operation": examples, "seed": seed, "excluded_checks": [EXCLUDED],
            "requests": after["total"] - before["total"], "server_errors_5xx": after["5xx"] - before["5xx"],
            "failures": sum(r["failures"] for r in runs.values()), "runs": runs}


@contextmanager
def own_server() -> Iterator[str]:
    """`advisor serve` over a two-article index in a temporary data dir, limits lifted for one busy client."""
    root = Path(tempfile.mkdtemp(prefix="advisor-fuzz-"))
    corpus = root / "corpus"
    corpus.mkdir()
    for doc_id, audience, text in (
            ("fuzz-public", "public", "AstraZeneca agreed a $5.3bn AI research deal with CSPC in June 2025."),
            ("fuzz-internal", "internal", "Our success fee is never below 1.5% of upfront.")):
        (corpus / f"{doc_id}.md").write_text(f"---\ntitle: {doc_id}\ndoc_id: {doc_id}\npublished: 2025-06-13\n"
                                             f"audience: {audience}\n---\n{text}\n")
    env = {**os.environ, "ADVISOR_DATA_DIR": str(root / "data"), "ADVISOR_EMBEDDER": "hash",
           "ADVISOR_UI_ENABLED": "false", "ADVISOR_ANONYMOUS_REQUESTS_PER_MINUTE": "100000000",
           "ADVISOR_FAILED_KEY_ATTEMPTS": "100000000", "ADVISOR_API_KEYS": json.dumps({CONSULTANT: "consultant"}),
           "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-m", "advisor.cli", "ingest", str(corpus)], env=env, cwd=REPO, check=True,
                   capture_output=True, timeout=300)
    with advisor_server(env, root / "server.log", timeout=120) as (url, _):
        yield url
    shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=600, help="test cases per operation and phase")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--url", help="a running server (its limits must allow one very busy client)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.url:
        figures = fuzz(args.url.rstrip("/"), examples=args.examples, seed=args.seed)
    else:
        with own_server() as url:
            figures = fuzz(url, examples=args.examples, seed=args.seed)
    figures["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps({k: v for k, v in figures.items() if k != "runs"}, indent=2))
    return 0 if figures["failures"] == 0 and figures["server_errors_5xx"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
