"""Fit the question-shape model: does a question ask what to do? (`advisor.shapes`)

Reads the development questions only (the dev half of the in-house set and the fresh dev set; test and new_user are
never read here), labels a question advice when its type is `advice`, embeds it with the advisor's embedder and fits
an L2-regularised logistic model on the vector. The penalty and the threshold are the ones with the best
cross-validated F1 (10 folds, seeded); the figures that justify them are written with the model to
advisor/data/question_shapes.json, under the embedder's name.

    python -m evals.shapes [--out advisor/data/question_shapes.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

import numpy as np

from advisor.config import load_settings
from advisor.embed import make_embedder
from advisor.intent import is_advice
from advisor.shapes import SHAPES_FILE
from evals.calibrate import FRESH_DEV_SET, fit_logistic, probabilities
from evals.runner import QA_SET, load_questions

PENALTIES = (0.001, 0.003, 0.01, 0.03)
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.1, 0.91, 0.05))
FOLDS = 10


def dev_questions() -> list[dict]:
    return [q for q in load_questions(QA_SET) if q["split"] == "dev"] + load_questions(FRESH_DEV_SET)


def counts(predicted: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    tp = int((predicted & labels).sum())
    fp = int((predicted & ~labels).sum())
    fn = int((~predicted & labels).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3), "tp": tp, "fp": fp,
            "fn": fn}


def cross_validated(x: np.ndarray, y: np.ndarray, penalty: float) -> np.ndarray:
    """Each question's probability from a model fitted without its fold."""
    order = np.random.default_rng(0).permutation(len(y))
    out = np.zeros(len(y))
    for fold in range(FOLDS):
        held = order[fold::FOLDS]
        kept = np.setdiff1d(order, held)
        weights, bias = fit_logistic(x[kept], y[kept].astype(float), l2=penalty)
        out[held] = probabilities(x[held], weights, bias)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=SHAPES_FILE)
    args = parser.parse_args(argv)
    settings = load_settings()
    embedder = make_embedder(settings)
    questions = dev_questions()
    x = embedder.embed([q["question"] for q in questions]).astype(np.float64)
    y = np.array([q["type"] == "advice" for q in questions])
    best: tuple[float, float, float] | None = None  # (f1, penalty, threshold)
    for penalty in PENALTIES:
        scores = cross_validated(x, y, penalty)
        for threshold in THRESHOLDS:
            f1 = counts(scores >= threshold, y)["f1"]
            if best is None or f1 > best[0]:
                best = (f1, penalty, threshold)
    assert best is not None
    _, penalty, threshold = best
    cv = counts(cross_validated(x, y, penalty) >= threshold, y)
    phrasing = counts(np.array([is_advice(q["question"]) for q in questions]), y)
    weights, bias = fit_logistic(x, y.astype(float), l2=penalty)
    data = json.loads(args.out.read_text()) if args.out.is_file() else {}
    data.setdefault("embedders", {}).setdefault(embedder.name, {})["advice"] = {
        "weights": [round(float(w), 6) for w in weights], "bias": round(bias, 6), "threshold": threshold,
        "penalty": penalty, "dataset": "dev questions: the dev half of advisor_qa and fresh_dev; advice = type advice",
        "questions": len(y), "advice": int(y.sum()), "cross_validated": cv, "phrasing_rule": phrasing,
        "fitted": dt.date.today().isoformat(),
    }
    args.out.write_text(json.dumps(data, indent=1) + "\n")
    print(f"advice model for {embedder.name}: penalty {penalty}, threshold {threshold}; {FOLDS}-fold cross-validated "
          f"{cv}; the phrasing rule on the same questions {phrasing}; wrote {args.out}")


if __name__ == "__main__":
    main()
