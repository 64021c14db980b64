"""Fit the evidence gate's threshold to the index at hand, from its own documents (`advisor calibrate`).

The packaged gate (`advisor/data/calibration.json`) was fitted on the firm's corpus. On another corpus (a client's
filings, a public benchmark) the same evidence reads differently: similarities and term coverage sit at other
levels, and a threshold fitted elsewhere may refuse nearly everything. This module asks the index questions it
can answer and questions it cannot, both made from its own chunks, and moves the gate's threshold (its feature
weights stay as fitted) to separate them:

- an answerable question: a sampled chunk's most informative sentence, reduced to its rarer content words (at
  most `QUERY_WORDS`, in their order), the way a user types a keyword question;
- an unanswerable twin: the same question with its rarest word replaced by a made-up name no chunk contains,
  the way a user asks about a company or product the documents never mention.

Made-up questions read differently from real ones, and how far depends on how a corpus's users ask (measured on
the public suites: the threshold a suite's own questions call for ranged from 0.32 to 0.84, and no rule over
probes made from the documents predicted it). So when a few real questions are at hand, labelled answerable or
not (`advisor calibrate --labelled FILE`, JSON lines `{"question": ..., "answerable": true}`), the threshold is
chosen on them instead: the one with the best balanced accuracy of the pipeline's decision, as the packaged gate's
was, unless the gate would then refuse more than `MAX_FALSE_REFUSAL` of answerable questions like them; then the
highest threshold that keeps within that budget (`calibrate_on_questions`). The budget is kept with 95% confidence
(`within_budget`): a few dozen labelled questions are a sample, and a threshold that refuses 5% of them refuses
more of the next ones. A wrong refusal leaves the user with nothing,
while a cited answer to a question the sources miss can be checked against its citations; balanced accuracy weighs
the two alike, and on a corpus whose unanswerable questions read much like its answerable ones (a contract asked
about a clause it lacks) it buys a little refusal recall with many refusals of answerable questions.

Without labelled questions, the gate keeps its fitted operating point relative to how this index answers its own
questions: the threshold
moves by the difference between the median score of this index's answerable probes and the median the same probes
scored on the corpus the gate was fitted on (`packaged_probe_median` in the packaged calibration). An index whose
evidence reads weaker across the board gets a lower threshold, one whose evidence reads stronger a higher one;
the home corpus keeps its own. The twins are scored to report how many of them the new threshold refuses. The
result, with its figures, goes to `<data_dir>/calibration.json`, which the advisor reads before the packaged file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from advisor.gate import CALIBRATION_FILE, INDEX_CALIBRATION, Gate, fitted_entry, load_gate
from advisor.text import content_words, sentence_spans
from advisor.types import Turn

if TYPE_CHECKING:
    from advisor.advisor import Advisor

QUERY_WORDS = 7
MIN_WORDS = 8  # a sentence with fewer content words makes no question
MIN_THRESHOLD, MAX_THRESHOLD = 0.05, 0.95
MIN_PROBES = 5  # fewer answerable questions than this is no basis for a threshold
MIN_LABELLED = 5  # labelled questions: at least this many of each kind
MAX_FALSE_REFUSAL = 0.05  # the share of answerable questions the gate may refuse
# ... on questions like the labelled ones, not only on those: kept with this confidence (`within_budget`)
BUDGET_CONFIDENCE = 0.95
_SYLLABLES = ("zor", "vel", "qua", "rin", "tex", "mol", "dra", "kin", "sup", "lox", "nav", "bri")


@dataclass
class Probe:
    question: str
    answerable: bool
    chunk_id: str


def _made_up_name(rng: random.Random, known: set[str]) -> str:
    while True:
        name = "".join(rng.choice(_SYLLABLES) for _ in range(3)).capitalize()
        if name.lower() not in known:
            return name


def probes(advisor: Advisor, n: int = 150, seed: int = 0) -> list[Probe]:
    """`n` answerable questions from sampled chunks, each with its unanswerable twin."""
    idf = advisor.store.lexical().idf
    ids = sorted(advisor.store.lexical().ids, key=lambda c: hashlib.sha256(f"{seed}:{c}".encode()).hexdigest())
    rng = random.Random(seed)
    out: list[Probe] = []
    for chunk in advisor.store.catalog.iter_chunks(ids[: n * 3]):
        if len(out) >= 2 * n:
            break
        sentences = [chunk.text[a:b] for a, b in sentence_spans(chunk.text)]
        words_of = [content_words(s) for s in sentences if not s.lstrip().startswith(("#", "|"))]
        candidates = [w for w in words_of if len(w) >= MIN_WORDS]
        if not candidates:
            continue
        words = max(candidates, key=lambda ws: sum(idf(w) for w in set(ws)))
        ranked = sorted(set(words), key=lambda w: -idf(w))[:QUERY_WORDS]
        kept = [w for w in dict.fromkeys(words) if w in ranked]
        rarest = ranked[0]
        twin = [_made_up_name(rng, set(words)) if w == rarest else w for w in kept]
        out.append(Probe(" ".join(kept), True, chunk.chunk_id))
        out.append(Probe(" ".join(twin), False, chunk.chunk_id))
    return out


def probe_scores(advisor: Advisor, gate: Gate, *, n: int = 150, seed: int = 0) -> tuple[list[float], list[float]]:
    """The gate's scores for the index's own answerable questions and for their unanswerable twins."""
    answerable: list[float] = []
    twins: list[float] = []
    for probe in probes(advisor, n=n, seed=seed):
        features = advisor.evidence(probe.question, audience="internal")
        score = gate.score(features) if features is not None else 1.0
        (answerable if probe.answerable else twins).append(score)
    return answerable, twins


def _packaged_gate(advisor: Advisor, packaged: Path) -> Gate:
    """The packaged fit for this embedder (not an earlier calibration of the index), which calibration moves."""
    gate = load_gate(advisor.embedder.name, None, packaged)
    if not gate.weights:
        raise ValueError(f"no fitted gate for embedder {advisor.embedder.name}: nothing to calibrate "
                         f"(run `python -m evals.calibrate` for it first)")
    return gate


def calibrate_index(advisor: Advisor, *, n: int = 150, seed: int = 0, write: bool = True,
                    packaged: Path = CALIBRATION_FILE) -> dict[str, object]:
    """Fit the gate's threshold to this index (see the module docstring); returns what it wrote."""
    gate = _packaged_gate(advisor, packaged)
    reference = (fitted_entry(advisor.embedder.name, packaged) or {}).get("probe_median")
    if reference is None:
        raise ValueError(f"no fitted gate for embedder {advisor.embedder.name}: nothing to calibrate "
                         f"(run `python -m evals.calibrate` for it first)")
    answerable, twins = probe_scores(advisor, gate, n=n, seed=seed)
    if len(answerable) < MIN_PROBES:
        raise ValueError(f"the index has too few chunks with full sentences to calibrate on ({len(answerable)})")
    here = statistics.median(answerable)
    threshold = round(min(MAX_THRESHOLD, max(MIN_THRESHOLD, gate.threshold + here - reference)), 4)
    entry = {
        "weights": gate.weights, "bias": gate.bias, "threshold": threshold, "method": "documents",
        "dataset": f"this index's own chunks ({len(answerable)} questions made from them)",
        "packaged_threshold": gate.threshold, "probe_median": round(here, 4), "packaged_probe_median": reference,
        "answerable_refused": round(sum(s < threshold for s in answerable) / len(answerable), 4),
        "twins_refused": round(sum(s < threshold for s in twins) / max(1, len(twins)), 4),
        "calibrated_on": dt.date.today().isoformat(),
        "generation": advisor.store.catalog.generation,  # the index as it was: a later ingest may call for another
    }
    if write:
        _write(advisor, entry)
    return entry


def _write(advisor: Advisor, entry: dict[str, Any]) -> None:
    path = Path(advisor.settings.data_dir) / INDEX_CALIBRATION
    data = json.loads(path.read_text()) if path.is_file() else {}
    data.setdefault("embedders", {})[advisor.embedder.name] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    advisor.reload_gate()


def decision(advisor: Advisor, gate: Gate, question: str, *, audience: str = "internal",
             history: Sequence[Turn] = ()) -> tuple[dict[str, float], bool] | None:
    """The gate's features for a question, and whether the pipeline refuses it even with the gate open (sources on
    the topic, none stating the value asked): a threshold is chosen for the pipeline's decision, not the gate's
    alone. None when the deal analytics answer the question (no gate applies there)."""
    features = advisor.evidence(question, audience=audience, history=list(history))  # type: ignore[arg-type]
    if features is None:
        return None
    try:
        advisor._gate = Gate(-1.0, weights={"heading": 1.0})  # open: every answer passes
        answer = advisor.ask(question, audience=audience, history=list(history))  # type: ignore[arg-type]
    finally:
        advisor._gate = gate
    return features, not answer.covered


def balanced_accuracy(scores: np.ndarray, y: np.ndarray, threshold: float, caught: np.ndarray | None = None) -> float:
    """Of the pipeline's decision: answered when the score clears the threshold and nothing after the gate refuses
    (`caught`)."""
    answered = (scores >= threshold) & ~(caught if caught is not None else np.zeros(len(scores), bool))
    pos, neg = y == 1, y == 0
    tpr = float(answered[pos].mean()) if pos.any() else 1.0
    tnr = float((~answered[neg]).mean()) if neg.any() else 1.0
    return 0.5 * (tpr + tnr)


def best_threshold(scores: np.ndarray, y: np.ndarray, caught: np.ndarray | None = None) -> tuple[float, float]:
    """(balanced accuracy, threshold): the middle of the best plateau on a 0.01 grid."""
    grid = [(balanced_accuracy(scores, y, t / 100, caught), t / 100) for t in range(1, 100)]
    top = max(score for score, _ in grid)
    plateau = [t for score, t in grid if score >= top - 1e-9]
    return top, plateau[len(plateau) // 2]


def refusal_bound(refused: int, asked: int, confidence: float = BUDGET_CONFIDENCE) -> float:
    """The one-sided upper confidence bound (Clopper–Pearson) of a refusal rate seen as `refused` of `asked`: the
    rate at which seeing so few refusals would be no likelier than 1 - `confidence`. 0 of 84 reads as at most 3.5%
    at 95%; 4 of 84, which looks like 4.8%, as at most 10.6%."""
    if refused >= asked:
        return 1.0

    def at_most(rate: float) -> float:  # P(refused or fewer of `asked`) at this rate
        return sum(math.comb(asked, i) * rate ** i * (1 - rate) ** (asked - i) for i in range(refused + 1))

    low, high = refused / asked, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if at_most(middle) > 1 - confidence else (low, middle)
    return high


def within_budget(scores: np.ndarray, y: np.ndarray, budget: float, caught: np.ndarray | None = None,
                  confidence: float = BUDGET_CONFIDENCE) -> float:
    """The highest threshold (0.01 grid) at which the gate itself refuses at most `budget` of the answerable
    questions (those the pipeline does not refuse after the gate anyway, `caught`) with `confidence`: the rate it
    refuses the labelled ones at is a sample's, and the threshold that keeps a sample of 84 within 5% refused 8.4%
    of the next 214 (MultiHop-RAG, evals/README). A budget of 1 is always kept. Too few answerable questions show
    no budget that small (0 of 58 refused may still be 5.0%): then the highest threshold that refuses none of them."""
    gated = (y == 1) & ~(caught if caught is not None else np.zeros(len(scores), bool))
    if not gated.any():
        return MIN_THRESHOLD
    kept = scores[gated]
    grid = [(t / 100, int((kept < t / 100).sum())) for t in range(1, 100)]
    within = [t for t, refused in grid if budget >= 1.0 or refusal_bound(refused, len(kept), confidence) <= budget]
    return max(within, default=max((t for t, refused in grid if refused == 0), default=MIN_THRESHOLD))


def read_labelled(path: Path) -> list[dict[str, Any]]:
    """Labelled questions from a JSON-lines file: {"question": str, "answerable": bool, "audience"?: "public" |
    "internal"} per line (audience defaults to internal)."""
    if not path.is_file():
        raise ValueError(f"{path} not found: give a JSON-lines file of labelled questions")
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from exc
        if not isinstance(item, dict) or not str(item.get("question", "")).strip() \
                or not isinstance(item.get("answerable"), bool):
            raise ValueError(f'{path}:{number}: each line needs "question" (text) and "answerable" (true or false)')
        if item.get("audience", "internal") not in ("public", "internal"):
            raise ValueError(f'{path}:{number}: "audience" must be "public" or "internal"')
        items.append({"question": item["question"].strip(), "answerable": item["answerable"],
                      "audience": item.get("audience", "internal")})
    return items


def calibrate_on_questions(advisor: Advisor, items: Sequence[dict[str, Any]], *, write: bool = True,
                           packaged: Path = CALIBRATION_FILE, label: str = "labelled questions",
                           max_false_refusal: float = MAX_FALSE_REFUSAL) -> dict[str, object]:
    """Choose the gate's threshold on real questions about this index, labelled answerable or not (see the module
    docstring): the best balanced accuracy, lowered where needed so that the gate refuses at most
    `max_false_refusal` of the answerable ones; the feature weights stay as packaged. Returns what it wrote."""
    if not 0.0 <= max_false_refusal <= 1.0:
        raise ValueError(f"the false-refusal budget is a share from 0 to 1 (1 keeps the threshold of best balanced "
                         f"accuracy), not {max_false_refusal}")
    gate = _packaged_gate(advisor, packaged)
    scores, labels, caught = [], [], []
    for item in items:
        read = decision(advisor, gate, item["question"], audience=item.get("audience", "internal"))
        if read is None:
            continue  # the deal analytics answer it: the gate does not decide
        scores.append(gate.score(read[0]))
        labels.append(1.0 if item["answerable"] else 0.0)
        caught.append(read[1])
    n_pos, n_neg = int(sum(labels)), len(labels) - int(sum(labels))
    if n_pos < MIN_LABELLED or n_neg < MIN_LABELLED:
        raise ValueError(f"need at least {MIN_LABELLED} answerable and {MIN_LABELLED} unanswerable questions the "
                         f"gate decides; got {n_pos} and {n_neg}")
    x, y, c = np.array(scores), np.array(labels), np.array(caught, dtype=bool)
    _, balanced = best_threshold(x, y, c)
    threshold = min(balanced, within_budget(x, y, max_false_refusal, c))  # lowered only to keep the budget
    accuracy = balanced_accuracy(x, y, threshold, c)
    answered = (x >= threshold) & ~c
    entry = {
        "weights": gate.weights, "bias": gate.bias, "threshold": threshold, "method": "questions",
        "dataset": f"{label}: {n_pos} answerable, {n_neg} not",
        "packaged_threshold": gate.threshold, "balanced_accuracy": round(accuracy, 4),
        "balanced_threshold": balanced, "max_false_refusal": max_false_refusal,
        "budget_confidence": BUDGET_CONFIDENCE,
        "answerable_refused": round(float((~answered[y == 1]).mean()), 4),
        "unanswerable_refused": round(float((~answered[y == 0]).mean()), 4),
        "calibrated_on": dt.date.today().isoformat(),
        "generation": advisor.store.catalog.generation,
    }
    if write:
        _write(advisor, entry)
    return entry
