from advisor.cite import check_citations, cited_sentences, enforce, support
from advisor.types import Citation, Document

DOC = Document("d1", "Intro. AstraZeneca paid $110m upfront to CSPC. The deal is worth up to $5.3bn.", {})


FIRST = "AstraZeneca paid $110m upfront to CSPC."
SECOND = "The deal is worth up to $5.3bn."


def _span(sentence: str) -> tuple[int, int]:
    start = DOC.text.index(sentence)
    return start, start + len(sentence)


def _citation(n: int, start: int, end: int, doc: Document = DOC) -> Citation:
    return Citation(n=n, doc_id=doc.doc_id, title="t", chunk_id="c", passage=doc.text[start:end],
                    char_start=start, char_end=end)


def test_support_needs_the_numbers_and_most_words() -> None:
    passage = "AstraZeneca paid $110m upfront to CSPC."
    assert support("AstraZeneca paid $110m upfront to CSPC.", passage) == 1.0
    assert support("AstraZeneca paid $150m upfront to CSPC.", passage) == 0.0
    assert support("Pfizer bought Seagen for a large sum in cash.", passage) < 0.3


def test_markers_before_or_after_the_full_stop() -> None:
    parsed = cited_sentences("One claim here [1]. Second claim. [2] Third claim [1, 2].")
    assert [(s.text, s.refs) for s in parsed] == [("One claim here.", [1]), ("Second claim.", [2]),
                                                 ("Third claim.", [1, 2])]


def test_checks_catch_wrong_span_missing_citation_and_unsupported_claim() -> None:
    good = _citation(1, *_span(FIRST))
    forged = good.model_copy(update={"n": 2, "passage": "AstraZeneca paid $999m upfront to CSPC."})
    text = ("AstraZeneca paid $110m upfront to CSPC [1]. AstraZeneca paid $999m upfront to CSPC [2]. "
            "An uncited claim. Novartis bought Argo outright [1].")
    checks = check_citations(text, [good, forged], {"d1": DOC})
    by_sentence = {(c.sentence, c.n): c for c in checks}
    assert by_sentence[("AstraZeneca paid $110m upfront to CSPC.", 1)].ok
    assert "not the quoted span" in by_sentence[("AstraZeneca paid $999m upfront to CSPC.", 2)].reason
    assert by_sentence[("An uncited claim.", 0)].reason == "no citation"
    assert not by_sentence[("Novartis bought Argo outright.", 1)].ok


def test_enforce_drops_unsupported_sentences_and_renumbers() -> None:
    first, second = _citation(1, *_span(FIRST)), _citation(2, *_span(SECOND))
    text = "Novartis bought Argo outright [1]. The deal is worth up to $5.3bn [2]."
    new_text, kept, dropped = enforce(text, [first, second], check_citations(text, [first, second], {"d1": DOC}))
    assert dropped == 1
    assert new_text == "The deal is worth up to $5.3bn [1]."
    assert [c.n for c in kept] == [1] and kept[0].passage == "The deal is worth up to $5.3bn."
