"""The evidence gate: its logistic model, how it is loaded and fitted, the heading similarity it reads, and the
answer-hygiene rules of the composer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from advisor.cite import cited_sentences, verify
from advisor.embed import HashEmbedder
from advisor.gate import Gate, TextVectors, heading_text, load_gate
from advisor.generate.candidates import is_about_the_text, restates
from advisor.generate.extractive import ExtractiveGenerator
from advisor.types import Chunk, Document, Hit
from evals.calibrate import Row, best_threshold, cross_validated, fit, fit_logistic, probabilities


def test_a_fitted_gate_is_a_probability_and_an_unfitted_one_the_linear_score() -> None:
    fitted = Gate(0.5, weights={"dense": 4.0, "coverage": 2.0, "heading": 3.0}, bias=-5.0)
    weak = {"dense": 0.3, "coverage": 0.2, "heading": 0.3}
    strong = {"dense": 0.7, "coverage": 0.6, "heading": 0.8}
    assert 0 < fitted.score(weak) < 0.5 < fitted.score(strong) < 1
    assert fitted.semantic
    linear = Gate(0.35, dense_weight=0.2)
    assert not linear.semantic
    assert linear.score({"dense": 0.5, "coverage": 0.5, "heading": 0.9}) == pytest.approx(0.5)


def test_load_gate_reads_the_model_and_an_override_replaces_only_its_threshold(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({"embedders": {"m": {"weights": {"dense": 1.0, "heading": 2.0, "unknown": 9.0},
                                                    "bias": -1.5, "threshold": 0.6, "dataset": "dev"}}}))
    gate = load_gate("m", None, path)
    assert gate.weights == {"dense": 1.0, "heading": 2.0} and gate.bias == -1.5 and gate.threshold == 0.6
    assert gate.source == "calibrated on dev"
    overridden = load_gate("m", 0.3, path)
    assert overridden.threshold == 0.3 and overridden.weights == gate.weights
    assert overridden.source == "ADVISOR_MIN_EVIDENCE_SCORE"
    other = load_gate("other", None, path)
    assert not other.weights and other.source == "uncalibrated default"


def test_the_logistic_fit_separates_what_is_separable_and_picks_a_threshold_between() -> None:
    rng = np.random.default_rng(0)
    pos = rng.uniform(0.55, 0.9, size=(40, 3))
    neg = rng.uniform(0.1, 0.45, size=(40, 3))
    x = np.vstack([pos, neg])
    y = np.array([1.0] * 40 + [0.0] * 40)
    weights, bias = fit_logistic(x, y)
    assert (weights > 0).all()
    scores = probabilities(x, weights, bias)
    accuracy, threshold = best_threshold(scores, y)
    assert accuracy == 1.0 and scores[40:].max() < threshold <= scores[:40].min()
    rows = [Row("s", str(i), list(map(float, xi)), bool(yi)) for i, (xi, yi) in enumerate(zip(x, y, strict=True))]
    assert fit(rows)[3] == 1.0 and cross_validated(rows) == 1.0


class _Counting(HashEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[str]] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return super().embed(texts)


def _hit(doc_id: str, title: str, section: str, text: str) -> Hit:
    chunk = Chunk(chunk_id=f"{doc_id}#0", doc_id=doc_id, text=text, char_start=0, char_end=len(text),
                  meta={"title": title, "audience": "public"}, section=section)
    return Hit(chunk, 1.0)


def test_headings_are_embedded_once_and_the_matching_heading_scores_highest() -> None:
    embedder = _Counting()
    texts = TextVectors(embedder, size=10)
    hits = [_hit("a", "NewCo deals", "What a NewCo deal is", "x"),
            _hit("b", "Japan pricing", "How NHI prices are revised", "y")]
    question = embedder.embed(["NewCo deal what is"])[0]
    embedder.calls.clear()
    first = texts.similarities(question, [heading_text(h) for h in hits])
    assert first[0] > first[1]
    assert embedder.calls == [["NewCo deals. What a NewCo deal is", "Japan pricing. How NHI prices are revised"]]
    assert texts.similarities(question, [heading_text(h) for h in hits]) == first and len(embedder.calls) == 1


@pytest.mark.parametrize(("sentence", "about"), [
    ("This playbook sets out how Meridian consultants run each phase.", True),
    ("These notes record a strategy meeting between the firm and a client.", True),
    ("Our separate 2026 outlook sets out those forecasts in more detail.", True),
    ("The views on 2026 in this outlook are forecasts, not reports of events.", True),
    ("Can we diversify without reputational risk? This is a question we hear often.", True),
    ("All statements about 2026 below are forecasts, not results.", True),
    ("This report by GlobalData found that 28% of deals involved Chinese assets.", False),
    ("This report found 28% of innovator deals came from China.", False),
    ("The scope of this section of the BIOSECURE Act is narrow.", False),
    ("This deal was the largest upfront ever paid for a Chinese asset.", False),
])
def test_a_sentence_about_the_text_itself_is_told_from_one_about_the_subject(sentence: str, about: bool) -> None:
    assert is_about_the_text(sentence) is about


def test_a_sentence_that_only_repeats_the_question_restates_it() -> None:
    question = {"newco", "deal", "chinese", "biotech"}
    assert restates({"newco", "deal", "chinese"}, question)
    assert not restates({"newco", "deal", "investors", "fund", "equity"}, question)
    assert not restates(set(), question)


def test_a_cue_without_its_items_is_left_out_and_so_are_the_items_of_a_dropped_cue() -> None:
    text = ("## Launch pricing\n\nThe ministry uses two main methods to set the launch price of a medicine:\n\n"
            "- **Comparison method.** The launch price is set equal to a comparator's price.\n"
            "- **Cost method.** The launch price is built up from the costs of making it.\n\n"
            "Launch prices in Japan are revised every year after the medicine is listed.")
    hits = [_hit("p", "Japan pricing", "Launch pricing", text)]
    draft = ExtractiveGenerator(lambda term: 1.0, max_sentences=3).generate(
        "How is the launch price of a medicine set in Japan?", hits)
    assert "two main methods" not in draft.text  # the cue alone announces items it does not show
    assert "comparator" not in draft.text and "Launch prices in Japan are revised every year" in draft.text


def test_warming_embeds_each_text_once_up_to_the_cache_size() -> None:
    embedder = _Counting()
    texts = TextVectors(embedder, size=2)
    hits = [_hit(d, "T", s, "x") for d, s in (("a", "One"), ("b", "One"), ("c", "Two"), ("d", "Three"))]
    assert texts.warm((heading_text(h) for h in hits), batch=1) == 2  # the third heading is over the size
    assert embedder.calls == [["T. One"], ["T. Two"]]
    assert texts.warm(heading_text(h) for h in hits) == 0


def test_the_missing_terms_are_those_no_hit_holds_the_weightiest_first() -> None:
    hits = [_hit("k", "Kailera Therapeutics", "Launch", "Kailera was formed in May 2024 with a $400m financing.")]
    generator = ExtractiveGenerator(lambda term: {"employe": 3.0, "kailera": 2.0, "staff": 4.0}.get(term, 1.0))
    assert generator.missing_terms("How many employees does Kailera have?", hits) == ["employe"]  # stems
    assert generator.missing_terms("How many staff and employees does Kailera have?", hits) == ["staff", "employe"]
    assert generator.missing_terms("When was Kailera formed?", hits) == []


def test_missing_terms_of_equal_weight_go_in_the_question_order() -> None:
    # words no chunk holds all weigh the most: which of them the gate weighs must not change from one process to
    # the next (a set's order does)
    hits = [_hit("k", "Kailera Therapeutics", "Launch", "Kailera was formed in May 2024 with a $400m financing.")]
    generator = ExtractiveGenerator(lambda term: 1.0)
    question = "Did Kailera report delta, gamma, alpha or omega results?"
    assert generator.missing_terms(question, hits) == ["report", "delta", "gamma"]
    assert generator.missing_terms(question, hits, most=6) == ["report", "delta", "gamma", "alpha", "omega", "result"]


def test_a_status_question_leads_with_the_newest_news_and_caps_forecasts_at_publication() -> None:
    timeline = _hit("t", "Act timeline", "Timeline", "## Timeline\n\nIn March 2024 the committee approved the Act. "
                    "As of December 2025 the Act is part of the defence bill that the House passed.")
    timeline.chunk.meta["published"] = 20251215
    old = _hit("o", "Act note", "Status", "## Status\n\nIn September 2024 the House passed the Act by a wide margin. "
               "The Act is expected to become law in 2027 at the earliest.")
    old.chunk.meta["published"] = 20241001
    draft = ExtractiveGenerator(lambda term: 1.0, max_sentences=4).generate("Where does the Act stand now?",
                                                                          [old, timeline])
    order = [s for s in ("December 2025", "2027", "September 2024", "March 2024") if s in draft.text]
    assert order and order[0] == "December 2025"  # the newest news, although its document came second
    documents = {h.chunk.doc_id: Document(h.chunk.doc_id, h.chunk.text, dict(h.chunk.meta)) for h in (old, timeline)}
    checked = verify(draft.text, draft.citations, documents)  # reordered sentences still quote their own passage
    assert not checked.dropped and checked.supported == len(cited_sentences(draft.text))
    if "2027" in order:  # a 2024 note's forecast is 2024 news: after the 2025 status
        assert order.index("2027") > order.index("December 2025")
