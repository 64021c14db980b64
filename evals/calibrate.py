"""Calibrate the evidence gate: when is retrieved evidence strong enough to answer?

Runs a labelled set of questions (answerable from the corpus or not) through retrieval and the
extractive generator, records the two gate features (top dense similarity, best-sentence coverage),
and picks the dense weight and threshold with the best balanced accuracy. Writes the result, with
the figures that justify it, to advisor/data/calibration.json.

    python -m evals.calibrate [--set evals/calibration/coverage.jsonl] [--data-dir .advisor-calibration]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from pathlib import Path

from advisor.advisor import CALIBRATION_FILE, Advisor
from advisor.config import load_settings
from advisor.retrieve import Filters

REPO = Path(__file__).resolve().parents[1]
CORPUS = [REPO / "corpus" / "articles", REPO / "corpus" / "deals", REPO / "corpus" / "docs"]


def features(advisor: Advisor, question: str) -> tuple[float, float]:
    timings: dict[str, float] = {}
    hits = advisor.retriever.search(question, Filters(audience="internal"), advisor.settings.top_k, timings)
    draft = advisor.generator.generate(question, hits)
    return float(timings.get("top_dense_similarity", 0.0)), draft.coverage


def balanced_accuracy(rows: list[tuple[float, float, bool]], weight: float, threshold: float) -> float:
    tp = sum(1 for d, c, y in rows if y and weight * d + (1 - weight) * c >= threshold)
    tn = sum(1 for d, c, y in rows if not y and weight * d + (1 - weight) * c < threshold)
    pos = sum(1 for *_, y in rows if y) or 1
    neg = sum(1 for *_, y in rows if not y) or 1
    return 0.5 * (tp / pos + tn / neg)


def fit(rows: list[tuple[float, float, bool]]) -> tuple[float, float, float]:
    """(balanced accuracy, dense weight, threshold): the best weight, and the middle of its best plateau."""
    grid = [(balanced_accuracy(rows, w / 10, t / 100), w / 10, t / 100) for w in range(11) for t in range(5, 96)]
    top = max(score for score, _, _ in grid)
    weight = min(w for score, w, _ in grid if score >= top - 1e-9)
    plateau = [t for score, w, t in grid if w == weight and score >= top - 1e-9]
    return top, weight, plateau[len(plateau) // 2]


def cross_validated(rows: list[tuple[float, float, bool]], folds: int = 5, seed: int = 7) -> float:
    shuffled = rows[:]
    random.Random(seed).shuffle(shuffled)
    scores = []
    for k in range(folds):
        test = shuffled[k::folds]
        train = [r for i, r in enumerate(shuffled) if i % folds != k]
        _, weight, threshold = fit(train)
        scores.append(balanced_accuracy(test, weight, threshold))
    return sum(scores) / len(scores)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", default=str(REPO / "evals" / "calibration" / "coverage.jsonl"))
    parser.add_argument("--data-dir", default=str(REPO / ".advisor-calibration"))
    parser.add_argument("--out", default=str(CALIBRATION_FILE))
    args = parser.parse_args()

    settings = load_settings(data_dir=Path(args.data_dir))
    advisor = Advisor.from_settings(settings)
    report = advisor.ingest(CORPUS)
    if not report.ok:
        raise SystemExit(f"corpus did not ingest cleanly: {report.failed[:3]} {report.record_errors[:3]}")
    labelled = [json.loads(line) for line in Path(args.set).read_text().splitlines() if line.strip()]
    rows = []
    for item in labelled:
        dense, coverage = features(advisor, item["q"])
        rows.append((dense, coverage, bool(item["answerable"])))
        print(f"{'A' if item['answerable'] else '-'} dense={dense:.3f} coverage={coverage:.3f}  {item['q']}")
    accuracy, weight, threshold = fit(rows)
    cv = cross_validated(rows)
    out = Path(args.out)
    data = json.loads(out.read_text()) if out.is_file() else {}
    data.setdefault("embedders", {})[advisor.embedder.name] = {
        "dense_weight": weight,
        "threshold": threshold,
        "dataset": Path(args.set).relative_to(REPO).as_posix() if Path(args.set).is_relative_to(REPO) else args.set,
        "answerable": sum(1 for *_, y in rows if y),
        "unanswerable": sum(1 for *_, y in rows if not y),
        "balanced_accuracy": round(accuracy, 4),
        "balanced_accuracy_5fold_cv": round(cv, 4),
        "calibrated_on": dt.date.today().isoformat(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2) + "\n")
    print(f"embedder {advisor.embedder.name}: dense_weight={weight} threshold={threshold} "
          f"balanced accuracy {accuracy:.3f} (5-fold CV {cv:.3f}) -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
