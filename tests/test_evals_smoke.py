"""CI smoke: a fixed sample of the in-house set through the runner, on the real corpus index, with thresholds.

The sample is `evals.runner.smoke_sample`: per question type, the three dev-split ids first in
sha256("smoke:" + id) order (36 questions; test and new-user questions are never in it). The index is the corpus
embedded with the real MiniLM, kept between runs in pytest's cache (seeded from the dev index `.advisor/` when
present) and brought up to date incrementally, so an unchanged corpus embeds nothing. The thresholds were set a
little below the values measured on the earlier, all-split sample; the dev sample measures higher
(evals/README.md), so they are loose for now.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from advisor.advisor import Advisor
from advisor.config import Settings
from evals import runner
from evals.system import AdvisorSystem

pytestmark = pytest.mark.model
REPO = Path(__file__).resolve().parents[1]
CORPUS = [REPO / "corpus" / "articles", REPO / "corpus" / "deals", REPO / "corpus" / "docs"]

# set on the earlier (all-split) sample at commit b8d5368: recall@10 0.728, correct 0.528 (19/36), citation
# precision 1.000, refusal precision and recall 0.625 (5/8); each failed when one or two more questions regressed.
# The dev-only sample measures recall@10 0.737, correct 0.806 (29/36), citation precision 1.000, refusal precision
# and recall 1.000 (8/8) with the extractive generator (evals/README.md)
THRESHOLDS = {"recall@10": 0.70, "correct": 0.50, "citation_precision": 0.95, "refusal_precision": 0.55,
              "refusal_recall": 0.55}


def _index_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = getattr(request.config, "cache", None)
    if cache is None:  # -p no:cacheprovider: build in a temporary folder (slow: the whole corpus is embedded)
        return tmp_path_factory.mktemp("evals-smoke") / "data"
    data_dir = Path(cache.mkdir("evals-smoke-index"))
    dev_index = REPO / ".advisor" / "index"
    if not (data_dir / "index").exists() and (dev_index / "catalog.sqlite3").is_file():
        shutil.copytree(dev_index, data_dir / "index")  # the dev index is never written by this test
    return data_dir


@pytest.fixture(scope="module")
def smoke_results(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir = _index_dir(request, tmp_path_factory)
    try:
        advisor = Advisor.from_settings(Settings(data_dir=data_dir))
        ingested = advisor.ingest(CORPUS)
    except ValueError:  # a seeded index built with another embedder: start this cache afresh
        shutil.rmtree(data_dir / "index", ignore_errors=True)
        advisor = Advisor.from_settings(Settings(data_dir=data_dir))
        ingested = advisor.ingest(CORPUS)
    assert ingested.ok, (ingested.failed[:3], ingested.record_errors[:3])
    advisor.warm_up()
    questions = runner.smoke_sample(runner.load_questions())
    results = runner.run_inhouse([AdvisorSystem(advisor)], questions, markers=runner.load_markers(),
                                 internal_docs=runner.internal_doc_ids(advisor))
    return results["systems"]["advisor"]


def test_smoke_sample_covers_every_type_and_both_audiences(smoke_results: dict[str, Any]) -> None:
    records = smoke_results["records"]
    assert {r["type"] for r in records} == set(runner.TYPES)
    assert {r["audience"] for r in records} == {"public", "internal"}
    assert any(not r["answerable"] for r in records)
    assert smoke_results["overall"]["errors"] == 0, [r["error"] for r in records if r.get("error")]


@pytest.mark.parametrize("metric", sorted(THRESHOLDS))
def test_smoke_metric_holds_its_threshold(smoke_results: dict[str, Any], metric: str) -> None:
    overall = smoke_results["overall"]
    failing = [r["id"] for r in smoke_results["records"] if not r.get("passed")]
    assert overall[metric] is not None
    assert overall[metric] >= THRESHOLDS[metric], f"{metric} = {overall[metric]:.3f}; failed: {failing}"


def test_smoke_public_answers_never_leak(smoke_results: dict[str, Any]) -> None:
    leaks = {r["id"]: r["leak_reasons"] for r in smoke_results["records"] if r.get("leak")}
    assert smoke_results["overall"]["leaks"] == 0, leaks
    assert smoke_results["overall"]["retrieval_leaks"] == 0
