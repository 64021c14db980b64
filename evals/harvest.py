"""Accepted corrections become regression questions: `python -m evals harvest`.

A consultant marks an answer "not helpful" and says what a right answer would have stated (facts and the source
holding them) or that it should have said the sources don't cover the question; `advisor corrections accept ID`
reviews it; harvest appends each accepted correction not yet harvested to evals/sets/regressions.jsonl in the eval
set's schema, with the question's audience and the conversation before it. The runner's `regressions` split reads
that file, so a harvested case fails until the advisor is fixed, and stays in every later run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from advisor.records import Records

REPO = Path(__file__).resolve().parents[1]
REGRESSIONS_SET = REPO / "evals" / "sets" / "regressions.jsonl"
PREFIX = "reg-"


def as_question(correction: dict[str, Any]) -> dict[str, Any]:
    uncovered = correction["uncovered"]
    gold = correction["note"] or ("Our sources don't cover this: the advisor should say so." if uncovered
                                  else "A right answer states: " + "; ".join(correction["facts"]))
    row: dict[str, Any] = {"id": PREFIX + correction["id"][:12], "question": correction["question"],
                           "audience": correction["audience"], "type": "regression", "gold_answer": gold,
                           "required_facts": [] if uncovered else correction["facts"],
                           "gold_sources": [correction["source"]] if correction["source"] and not uncovered else [],
                           "answerable": not uncovered, "correction_id": correction["id"]}
    if correction["history"]:
        row["history"] = correction["history"]
    return row


def harvest(records: Records, out: Path = REGRESSIONS_SET) -> list[dict[str, Any]]:
    """Append the accepted corrections not yet in `out`; returns the rows added."""
    existing = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()] \
        if out.is_file() else []
    seen = {row.get("correction_id") for row in existing}
    added = [as_question(c) for c in records.corrections("accepted") if c["id"] not in seen]
    if added:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("a", encoding="utf-8") as handle:
            for row in added:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return added
