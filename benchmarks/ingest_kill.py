"""What a crash mid-ingest costs: a large file, killed after some batches are stored, then the re-run.

    python -m benchmarks.ingest_kill [--paragraphs 3000] [--kill-after 3] [--embedder minilm]

Writes one generated text file of `--paragraphs` paragraphs, ingests it uninterrupted into one data dir, and into
another with `kill -9` after the `--kill-after`-th batch of vectors is stored (before the file's commit), then
re-runs there. Records what each run embedded and reused, its time, and whether the two indexes are equal.
Figures to benchmarks/results/ingest_kill.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "ingest_kill.json"


def _ingest(corpus: Path, data: Path, embedder: str, extra: dict[str, str] | None = None) -> dict:
    env = {**os.environ, "ADVISOR_DATA_DIR": str(data), "ADVISOR_EMBEDDER": embedder, "PYTHONPATH": str(REPO),
           "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", **(extra or {})}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "advisor.cli", "ingest", str(corpus)], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=7200)
    figures = {"returncode": done.returncode, "seconds": round(time.perf_counter() - started, 1)}
    found = re.search(r"(\d+) embedded(?:, (\d+) reused)?", done.stdout)
    if found:
        figures.update(embedded=int(found[1]), reused=int(found[2] or 0))
    return figures


def _state(data: Path, embedder: str) -> tuple[set[str], set[str], dict[str, int]]:
    from advisor.config import Settings
    from advisor.index.store import IndexStore

    store = IndexStore(Settings(data_dir=data, embedder=embedder))  # type: ignore[arg-type]
    return store.vectors.ids(), store.catalog.all_chunk_ids(), store.catalog.counts()


def main() -> int:
    from advisor.config import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=3000, help="two make about one chunk")
    parser.add_argument("--kill-after", type=int, default=3, help="batches stored before the kill")
    parser.add_argument("--embedder", default="minilm", choices=["minilm", "hash"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="advisor-kill-") as scratch:
        root = Path(scratch)
        corpus = root / "corpus"
        corpus.mkdir()
        paragraphs = (f"Clause {i}. The licensee pays milestone {i} when the programme reaches stage {i % 7}, "
                      f"and royalties on net sales in territory {i % 13} step up at threshold {i * 3}. " * 4
                      for i in range(args.paragraphs))
        body = "\n\n".join(paragraphs)
        (corpus / "long-agreement.md").write_text("---\ntitle: A long agreement\ndoc_id: long-agreement\n"
                                                  f"published: 2025-01-01\naudience: internal\n---\n{body}\n")
        clean = _ingest(corpus, root / "clean", args.embedder)
        killed = _ingest(corpus, root / "crashed", args.embedder, {"ADVISOR_FAULT_KILL": f"after_upsert:"
                                                                                         f"{args.kill_after}"})
        rerun = _ingest(corpus, root / "crashed", args.embedder)
        a, b = _state(root / "clean", args.embedder), _state(root / "crashed", args.embedder)
        figures = {"file_bytes": (corpus / "long-agreement.md").stat().st_size, "embedder": args.embedder,
                   "batch_chunks": Settings.model_fields["ingest_batch_chunks"].default,
                   "killed_after_batches": args.kill_after, "uninterrupted": clean,
                   "killed": killed, "rerun": rerun, "indexes_equal": a == b and a[0] == a[1],
                   "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return 0 if figures["indexes_equal"] and killed["returncode"] == -9 else 1


if __name__ == "__main__":
    sys.exit(main())
