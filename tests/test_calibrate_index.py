"""`advisor calibrate`: the gate's threshold fitted to an index from questions made of its own chunks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from advisor.advisor import Advisor
from advisor.calibrate import (
    best_threshold,
    calibrate_index,
    calibrate_on_questions,
    probes,
    read_labelled,
    refusal_bound,
    within_budget,
)
from advisor.config import Settings
from advisor.gate import INDEX_CALIBRATION, load_gate


@pytest.fixture
def indexed(tmp_path: Path, mini_corpus: Path) -> Advisor:
    advisor = Advisor.from_settings(Settings(data_dir=tmp_path / "data", embedder="hash"))
    assert advisor.ingest([mini_corpus]).ok
    return advisor


def _packaged(tmp_path: Path, name: str, median: float) -> Path:
    path = tmp_path / "packaged.json"
    path.write_text(json.dumps({"embedders": {name: {
        "weights": {"dense": 2.0, "coverage": 2.0, "heading": 2.0}, "bias": -3.0, "threshold": 0.5,
        "probe_median": median, "dataset": "test"}}}))
    return path


def test_probes_are_made_of_the_index_own_words_and_each_has_an_unanswerable_twin(indexed: Advisor) -> None:
    found = probes(indexed, n=5)
    assert found and len(found) % 2 == 0
    for question, twin in zip(found[::2], found[1::2], strict=True):
        assert question.answerable and not twin.answerable and question.chunk_id == twin.chunk_id
        asked, other = question.question.split(), twin.question.split()
        assert len(asked) == len(other) and sum(a != b for a, b in zip(asked, other, strict=True)) == 1
        chunk = next(indexed.store.catalog.iter_chunks([question.chunk_id]))
        assert all(word in chunk.text.lower() for word in asked)


def test_the_threshold_moves_by_how_this_index_scores_its_own_questions(indexed: Advisor, tmp_path: Path) -> None:
    name = indexed.embedder.name
    entry = calibrate_index(indexed, n=10, packaged=_packaged(tmp_path, name, median=0.6))
    shift = float(entry["probe_median"]) - 0.6
    assert entry["threshold"] == pytest.approx(min(0.95, max(0.05, 0.5 + shift)), abs=1e-4)
    assert entry["generation"] == indexed.store.catalog.generation
    written = json.loads((tmp_path / "data" / INDEX_CALIBRATION).read_text())["embedders"][name]
    assert written == entry
    gate = load_gate(name, None, tmp_path / "packaged.json", index_path=tmp_path / "data" / INDEX_CALIBRATION)
    assert gate.threshold == entry["threshold"] and "data/calibration.json" in gate.source
    lower = calibrate_index(indexed, n=10, write=False, packaged=_packaged(tmp_path, name, median=0.9))
    assert lower["threshold"] < entry["threshold"]  # the home corpus scored its probes higher: a lower bar here


def test_the_cli_says_what_to_do_without_a_fitted_gate_or_an_index(tmp_path: Path) -> None:
    env = {"ADVISOR_DATA_DIR": str(tmp_path / "empty"), "ADVISOR_EMBEDDER": "hash", "HF_HUB_OFFLINE": "1",
           "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "advisor.cli", "calibrate"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 2 and "is empty: run `advisor ingest` first" in done.stderr


def test_an_index_calibration_made_for_another_fit_is_not_used(indexed: Advisor, tmp_path: Path) -> None:
    name = indexed.embedder.name
    calibrate_index(indexed, n=10, packaged=_packaged(tmp_path, name, median=0.6))
    refit = tmp_path / "refit.json"
    data = json.loads((tmp_path / "packaged.json").read_text())
    data["embedders"][name]["weights"]["dense"] = 3.0  # the packaged gate was fitted again
    refit.write_text(json.dumps(data))
    gate = load_gate(name, None, refit, index_path=tmp_path / "data" / INDEX_CALIBRATION)
    assert gate.threshold == 0.5 and gate.weights["dense"] == 3.0 and gate.source == "calibrated on test"


def _labelled(tmp_path: Path, lines: list[object]) -> Path:
    path = tmp_path / "labelled.jsonl"
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    return path


ANSWERABLE = ["Where did the PMDA open an office?", "What does drug loss describe?",
              "Which platform does CSPC contribute to the AstraZeneca partnership?",
              "Which companies does the BIOSECURE Act target?", "What did Japan relax in December 2023?",
              "What does the collaboration between AstraZeneca and CSPC target?"]
UNANSWERABLE = ["Zorvelqua brimlox tradenav spectrum?", "Quatexmol kinsup orbital ferrites?",
                "Draloxrin velquazor harmonica?", "Navbritex moldrakin quasars?", "Supkinlox zorbrivel tundra?",
                "Texqua rinmol glaciers?"]


def test_labelled_questions_choose_the_threshold_for_the_pipeline_decision(indexed: Advisor, tmp_path: Path) -> None:
    name = indexed.embedder.name
    packaged = _packaged(tmp_path, name, median=0.6)
    items = read_labelled(_labelled(tmp_path, [{"question": q, "answerable": True} for q in ANSWERABLE]
                                    + [{"question": q, "answerable": False} for q in UNANSWERABLE]))
    entry = calibrate_on_questions(indexed, items, packaged=packaged)
    assert entry["method"] == "questions" and entry["dataset"].endswith("6 answerable, 6 not")
    assert entry["balanced_accuracy"] == 1.0  # the made-up words share nothing with the corpus
    assert entry["answerable_refused"] == 0.0 and entry["unanswerable_refused"] == 1.0
    gate = load_gate(name, None, packaged, index_path=tmp_path / "data" / INDEX_CALIBRATION)
    assert gate.threshold == entry["threshold"]
    # what the threshold was chosen for holds when the advisor answers with that gate
    indexed._gate = gate
    assert not indexed.ask(UNANSWERABLE[0], audience="internal").covered
    assert indexed.ask(ANSWERABLE[0], audience="internal").covered


def test_too_few_labelled_questions_of_a_kind_is_no_basis(indexed: Advisor, tmp_path: Path) -> None:
    packaged = _packaged(tmp_path, indexed.embedder.name, median=0.6)
    items = [{"question": q, "answerable": True} for q in ANSWERABLE] + [{"question": UNANSWERABLE[0],
                                                                           "answerable": False}]
    with pytest.raises(ValueError, match="at least 5 answerable and 5 unanswerable"):
        calibrate_on_questions(indexed, items, packaged=packaged, write=False)


@pytest.mark.parametrize(("line", "message"), [
    ("not json", "labelled.jsonl:2: not JSON"),
    ('{"question": "Why?"}', '"answerable" (true or false)'),
    ('{"question": "Why?", "answerable": "yes"}', '"answerable" (true or false)'),
    ('{"question": "Why?", "answerable": true, "audience": "everyone"}', '"audience" must be'),
])
def test_a_bad_labelled_file_says_which_line_and_what_it_needs(tmp_path: Path, line: str, message: str) -> None:
    path = _labelled(tmp_path, [{"question": "What is it?", "answerable": True}, line])
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_labelled(path)
    with pytest.raises(ValueError, match="not found"):
        read_labelled(tmp_path / "absent.jsonl")


def test_the_cli_reads_labelled_questions_and_says_which_line_is_wrong(indexed: Advisor, tmp_path: Path) -> None:
    bad = _labelled(tmp_path, [{"question": "Where did the PMDA open an office?", "answerable": True},
                               '{"question": "Why?", "answerable": "sometimes"}'])
    env = {"ADVISOR_DATA_DIR": str(tmp_path / "data"), "ADVISOR_EMBEDDER": "hash", "HF_HUB_OFFLINE": "1",
           "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "advisor.cli", "calibrate", "--labelled", str(bad)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2 and "labelled.jsonl:2:" in done.stderr and "answerable" in done.stderr


def test_a_threshold_that_refuses_too_many_answerable_questions_is_lowered_to_the_budget() -> None:
    # unanswerable questions that read like answerable ones (a contract asked about a clause it lacks): balanced
    # accuracy puts the threshold above two of the ten answerable questions
    answerable = [0.2, 0.5, 0.6, 0.7, 0.8, 0.9, 0.9, 0.9, 0.9, 0.9]
    unanswerable = [0.1, 0.3, 0.4, 0.45, 0.55]
    scores, y = np.array(answerable + unanswerable), np.array([1.0] * 10 + [0.0] * 5)
    _, balanced = best_threshold(scores, y)
    assert balanced > 0.5 and (np.array(answerable) < balanced).mean() == 0.2
    # one refused of ten may be 39% of questions like them (95% bound), none of ten 26%
    assert within_budget(scores, y, 0.4) == 0.5  # refuses 0.2 only
    assert within_budget(scores, y, 0.3) == 0.2  # refuses none
    # ten questions cannot show 5% (none refused may be 26%): the threshold refuses none of them
    assert within_budget(scores, y, 0.05) == 0.2
    assert within_budget(scores, y, 0.3, confidence=0.5) == 0.6  # a weaker bound: two refused, 0.2 and 0.5
    # a question the pipeline refuses after the gate anyway does not count against the gate's budget
    caught = np.array([True] + [False] * 14)
    assert within_budget(scores, y, 0.3, caught) == 0.5
    # a budget of 1 keeps the threshold where balanced accuracy put it
    assert within_budget(scores, y, 1.0) >= balanced


def test_the_refusal_bound_is_the_clopper_pearson_upper_limit() -> None:
    assert refusal_bound(0, 84) == pytest.approx(1 - 0.05 ** (1 / 84), abs=1e-9)  # 3.5%
    assert refusal_bound(4, 84) == pytest.approx(0.1057, abs=1e-4)  # 4.8% seen: at most 10.6%
    assert refusal_bound(2, 40, confidence=0.5) == pytest.approx(0.0663, abs=1e-3)  # about the median
    assert refusal_bound(5, 5) == 1.0
    assert refusal_bound(1, 200) < refusal_bound(1, 100) < refusal_bound(2, 100)


def test_a_budget_outside_zero_to_one_is_refused_with_what_it_means(indexed: Advisor, tmp_path: Path) -> None:
    packaged = _packaged(tmp_path, indexed.embedder.name, median=0.6)
    items = [{"question": q, "answerable": True} for q in ANSWERABLE] + \
        [{"question": q, "answerable": False} for q in UNANSWERABLE]
    with pytest.raises(ValueError, match="1 keeps the threshold of best balanced accuracy"):
        calibrate_on_questions(indexed, items, packaged=packaged, write=False, max_false_refusal=1.5)
    kept = calibrate_on_questions(indexed, items, packaged=packaged, write=False, max_false_refusal=1.0)
    assert kept["threshold"] == kept["balanced_threshold"]
