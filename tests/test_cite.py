import re

from advisor.cite import Verifier, check_citations, cited_sentences, complete_sentences, enforce, support, verify
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


# Verifier: the checks an LLM's answer goes through ------------------------------------------------------------

ARTICLE = Document("a1", "The partnership. AstraZeneca paid $110m upfront to CSPC in June 2025. "
                         "CSPC contributes an AI platform for small-molecule discovery. "
                         "Pfizer licensed SSGJ-707 from 3SBio for $1,250m upfront.", {"title": "Deals"})
AZ = "AstraZeneca paid $110m upfront to CSPC in June 2025."
PLATFORM = "CSPC contributes an AI platform for small-molecule discovery."
PFIZER = "Pfizer licensed SSGJ-707 from 3SBio for $1,250m upfront."


def _passages(*sentences: str) -> list[Citation]:
    out = []
    for n, sentence in enumerate(sentences, start=1):
        start = ARTICLE.text.index(sentence)
        out.append(Citation(n=n, doc_id="a1", title="Deals", chunk_id="c1", passage=sentence, char_start=start,
                            char_end=start + len(sentence)))
    return out


EVIDENCE = _passages(AZ, PLATFORM, PFIZER)
DOCS = {"a1": ARTICLE}


def _numbers_cited(text: str) -> set[int]:
    return {int(n) for group in re.findall(r"\[([\d, ]+)\]", text) for n in group.split(",")}


def test_fabricated_citation_numbers_never_reach_the_answer() -> None:
    text = ("AstraZeneca paid $110m upfront to CSPC [7]. Novartis paid $900m for a Korean antibody [9]. "
            "CSPC contributes an AI platform for small-molecule discovery [2].")
    result = verify(text, EVIDENCE, DOCS)
    assert _numbers_cited(result.text) <= {c.n for c in result.citations} == {1, 2}
    assert "Novartis" not in result.text and result.dropped == ["Novartis paid $900m for a Korean antibody."]
    # the sentence with a number that names no passage is re-cited to the passage that supports it
    assert result.text.startswith("AstraZeneca paid $110m upfront to CSPC [1].")
    assert result.citations[0].passage == AZ and result.recited == 1


def test_uncited_claims_get_their_support_or_go() -> None:
    text = "AstraZeneca paid $110m upfront to CSPC. The deal will transform Chinese biotech forever."
    result = verify(text, EVIDENCE, DOCS)
    assert result.text == "AstraZeneca paid $110m upfront to CSPC [1]."
    assert result.citations[0].passage == AZ
    assert result.dropped == ["The deal will transform Chinese biotech forever."]


def test_a_claim_cited_to_the_wrong_passage_is_re_cited_and_numbers_stay_dense() -> None:
    text = "Pfizer licensed SSGJ-707 from 3SBio for $1,250m upfront [1]. CSPC brings an AI platform [3]."
    result = verify(text, EVIDENCE, DOCS)
    assert result.text == ("Pfizer licensed SSGJ-707 from 3SBio for $1,250m upfront [1]. "
                           "CSPC brings an AI platform [2].")
    assert [c.passage for c in result.citations] == [PFIZER, PLATFORM]
    assert result.recited == 2 and not result.dropped


def test_a_wrong_figure_is_unsupported_even_with_the_right_words() -> None:
    result = verify("AstraZeneca paid $150m upfront to CSPC [1].", EVIDENCE, DOCS)
    assert result.text == "" and result.supported == 0 and result.citations == []


def test_a_synthesis_across_two_passages_keeps_both_citations() -> None:
    text = "AstraZeneca paid CSPC $110m upfront for an AI platform for small-molecule discovery [1, 2]."
    result = verify(text, EVIDENCE, DOCS)
    assert result.text.endswith("[1, 2].") and [c.passage for c in result.citations] == [AZ, PLATFORM]


def test_gap_statements_stand_without_citations_but_figures_do_not() -> None:
    text = ("AstraZeneca paid $110m upfront to CSPC [1]. Our sources don't cover the royalty rates. "
            "Our sources don't cover it, but royalties are 12%.")
    result = verify(text, EVIDENCE, DOCS)
    assert result.text == "AstraZeneca paid $110m upfront to CSPC [1]. Our sources don't cover the royalty rates."
    assert result.gaps == 1 and result.supported == 1 and len(result.dropped) == 1


def test_a_citation_whose_passage_is_not_in_its_document_is_never_used() -> None:
    forged = EVIDENCE[0].model_copy(update={"passage": "AstraZeneca paid $150m upfront to CSPC in June 2025."})
    result = verify("AstraZeneca paid $150m upfront to CSPC in June 2025 [1].", [forged, *EVIDENCE[1:]], DOCS)
    assert result.supported == 0 and "$150m" not in result.text


def test_streamed_pieces_yield_the_same_sentences_once_complete() -> None:
    text = "AstraZeneca paid $110m upfront to CSPC. [1] CSPC contributes an AI platform [2]. Pfizer paid $1,250m [3]."
    pieces = [text[i:i + 3] for i in range(0, len(text), 3)]
    streamed = list(complete_sentences(pieces))
    assert [(s.text, s.refs) for s in streamed] == [(s.text, s.refs) for s in cited_sentences(text)]
    assert streamed[0].refs == [1]  # the marker after the full stop arrived before the sentence was released


def test_incremental_verification_matches_whole_answer_verification() -> None:
    text = ("CSPC brings an AI platform [3]. Novartis paid $900m [2]. "
            "Pfizer licensed SSGJ-707 from 3SBio for $1,250m upfront [3].")
    verifier = Verifier(EVIDENCE, DOCS)
    shown = [out for s in complete_sentences(re.findall(r"\S+\s*", text)) if (out := verifier.add(s))]
    assert " ".join(shown) == verify(text, EVIDENCE, DOCS).text == verifier.result().text


def test_a_trailing_list_of_markers_belongs_to_the_sentence_before() -> None:
    parsed = cited_sentences("Platform IP stays with the AI company. [1], [2], [3]")
    assert [(s.text, s.refs) for s in parsed] == [("Platform IP stays with the AI company.", [1, 2, 3])]
