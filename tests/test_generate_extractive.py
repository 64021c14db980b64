"""The extractive generator's answer shapes: a list question gets the enumeration, a comparison gets the table
that sets its sides against each other, a figure keeps its update, and every sentence still verifies against
the passage it cites. Hand-made chunks, no index: the generator only needs an idf."""

from __future__ import annotations

import re
from dataclasses import replace

from advisor.cite import Verifier, cited_sentences
from advisor.generate import Draft
from advisor.generate.extractive import ExtractiveGenerator
from advisor.generate.lists import list_blocks, tables
from advisor.types import Chunk, Document, Hit

PREMIUMS = """## Pricing premiums for innovation

Premiums added under the comparison method are the main way Japan rewards innovation at launch. As commonly \
summarised, the main premiums and their approximate ranges are:

- **Innovativeness premium:** roughly 70–120%, for drugs with a new mechanism.
- **Usefulness premiums:** roughly 35–60% (usefulness I) and 5–30% (usefulness II).
- **Sakigake premium:** for products designated under the Sakigake scheme.

Because premium rules are revised every two years, companies should check the current rules."""

METHODS = """## How a new medicine's NHI price is set

The MHLW uses two main methods to set the launch price of a new medicine in Japan:

- **Similar efficacy comparison method.** The price is set equal to a comparator's.
- **Cost accounting method.** The price is built up from costs."""

RISKS = """## Risks specific to cell therapy deals

Cell therapy licences from China carry risks beyond those of small molecules:

- **Manufacturing transfer.** Products must be made close to patients.
- **Genetic data.** Patient data are subject to China's genetic resources rules.

China's regulator has approved a growing list of CAR-T therapies since 2021."""

COMPARISON = """## Comparing Japan and China for a Western firm

Both countries court Western partners for AI research.

| Factor | China | Japan |
|---|---|---|
| Volume of licensable early assets | Very high | Moderate |
| Geopolitical and sanctions risk | High and rising | Low |
| Data governance | Strict outbound data controls (PIPL) | EU adequacy |"""

CAPACITY = """## Samsung Biologics

Samsung Biologics' Songdo campus reached about 604,000 litres of capacity when its fourth plant became \
operational in 2023. A fifth plant of 180,000 litres opened in 2025, taking total campus capacity to roughly \
784,000 litres. It also offers fill-finish services."""


def _hit(doc_id: str, text: str, title: str = "") -> Hit:
    section = text.splitlines()[0].lstrip("# ")
    chunk = Chunk(chunk_id=f"{doc_id}#0", doc_id=doc_id, text=text, char_start=0, char_end=len(text),
                  meta={"title": title, "audience": "public"}, section=section)
    return Hit(chunk, 1.0)


def _generator() -> ExtractiveGenerator:
    return ExtractiveGenerator(lambda term: 1.0, max_sentences=3)


def _verified(draft: Draft, hits: list[Hit]) -> str:
    """The draft as the advisor shows it: every sentence checked against the passage it cites."""
    texts: dict[str, str] = {}  # each document as its chunks lie in it (two chunks of one document: one text)
    for chunk in sorted((h.chunk for h in hits), key=lambda c: c.char_start):
        texts[chunk.doc_id] = texts.get(chunk.doc_id, "").ljust(chunk.char_start, "\n") + chunk.text
    documents = {h.chunk.doc_id: Document(h.chunk.doc_id, texts[h.chunk.doc_id], dict(h.chunk.meta)) for h in hits}
    verifier = Verifier(draft.citations, documents)
    for sentence in cited_sentences(draft.text):
        verifier.add(sentence)
    result = verifier.result()
    assert not result.dropped, result.dropped
    return result.text


def test_list_blocks_and_tables_are_found_with_their_cue_and_header() -> None:
    blocks = list_blocks(PREMIUMS)
    assert len(blocks) == 1 and len(blocks[0].items) == 3
    assert PREMIUMS[slice(*blocks[0].cue)].endswith("approximate ranges are:")
    (table,) = tables(COMPARISON)
    assert COMPARISON[slice(*table.header)] == "| Factor | China | Japan |"
    assert [COMPARISON[slice(*r)].split("|")[1].strip() for r in table.rows] == [
        "Volume of licensable early assets", "Geopolitical and sanctions risk", "Data governance"]


def test_a_list_question_gets_the_cue_and_every_item_beyond_the_usual_budget() -> None:
    hits = [_hit("methods", METHODS, "How Japan prices new medicines"),
            _hit("premiums", PREMIUMS, "How Japan prices new medicines")]
    draft = _generator().generate("What launch price premiums does Japan offer for new medicines?", hits)
    text = _verified(draft, hits)
    for item in ("70–120%", "35–60%", "5–30%", "Sakigake"):
        assert item in text
    assert "Innovativeness premium: roughly 70–120%" in text  # bullets shown as plain sentences
    assert len(cited_sentences(draft.text)) > 3  # more than max_sentences: the items are the answer
    assert "Cost accounting" not in text  # a list of methods is not the list of premiums asked for


def test_a_list_that_only_shares_a_word_with_the_question_is_not_the_answer() -> None:
    hits = [_hit("risks", RISKS, "Cell therapy deals")]
    draft = _generator().generate("Which CAR-T therapies has China's regulator approved?", hits)
    assert "growing list of CAR-T therapies" in draft.text
    assert "Manufacturing transfer" not in draft.text  # "cell therapy licences … risks:" enumerates risks


def test_a_comparison_reads_the_table_rows_under_their_header() -> None:
    hits = [_hit("jp-cn", COMPARISON, "Japan or China? Choosing an Asia base")]
    question = "How do Japan and China compare on geopolitical and data governance risk?"
    text = _verified(_generator().generate(question, hits), hits)
    assert "Geopolitical and sanctions risk — China: High and rising; Japan: Low" in text
    assert "Data governance — China: Strict outbound data controls (PIPL); Japan: EU adequacy" in text
    assert "Volume of licensable" not in text  # rows the question does not ask about stay out


def test_a_figure_keeps_the_sentence_that_updates_it() -> None:
    hits = [_hit("kr", CAPACITY, "Korean CDMOs")]
    # the update names neither Samsung nor Songdo: on its own it would never be chosen
    text = _verified(_generator().generate("How large is Samsung Biologics' Songdo site?", hits, max_sentences=2),
                     hits)
    assert "604,000" in text and "784,000" in text and "fill-finish" not in text


def test_a_pointer_to_the_source_does_not_lower_the_evidence_coverage() -> None:
    hits = [_hit("risks", RISKS, "Cell therapy deals")]
    generator = _generator()
    plain = generator.generate("Which CAR-T therapies has China's regulator approved?", hits).coverage
    pointed = generator.generate("Which CAR-T therapies has China's regulator approved, according to our "
                                 "cell therapy briefing?", hits).coverage
    assert pointed >= plain > 0


def test_an_unknown_hyphenated_word_is_read_as_its_words() -> None:
    known = {"data", "heavy", "ai", "partnerships", "china"}
    generator = ExtractiveGenerator(lambda term: 1.0 if term in known else 9.0)
    hits = [_hit("ai", "## AI\n\nData heavy AI partnerships in China need data controls.", "AI")]
    joined = generator.generate("Are data-heavy AI partnerships in China risky?", hits).coverage
    assert joined > 0.5  # "data-heavy", unseen in the collection, counts as "data" and "heavy"


def test_a_figure_in_the_question_is_checked_not_required() -> None:
    stake = "## The NewCo\n\nHengrui took a 19.9% equity stake in Kailera, plus $110m upfront and near-term payments."
    hits = [_hit("newco", stake, "NewCo structures")]
    generator = _generator()
    plain = generator.generate("Why did Hengrui take a stake in Kailera?", hits)
    wrong_figure = generator.generate("Why did Hengrui take a 49% stake in Kailera?", hits)
    assert wrong_figure.coverage == plain.coverage > 0 and "19.9%" in wrong_figure.text
    # a year still counts: it says which time the question is about
    assert generator.generate("Why did Hengrui take a stake in Kailera in 2031?", hits).coverage < plain.coverage


def test_each_ask_of_a_compound_question_gets_its_evidence() -> None:
    ono = _hit("jp", "## Buying instead\n\nOno Pharmaceutical agreed to acquire Deciphera for about $2.4bn in 2024. "
                     "Ono wanted a US commercial team.", "Japanese partners")
    record = "Deciphera (United States) and Zai Lab (China) announced a licence deal on 11 June 2019. The deal " \
             "covers ripretinib (small molecule, oncology, phase 3). Territory: Greater China. Deciphera–Zai Lab " \
             "deal value: upfront $20m, milestones $185m, total $205m."
    chunk = Chunk(chunk_id="D1#0", doc_id="D1", text=record, char_start=0, char_end=len(record), section="",
                  meta={"title": "Deciphera–Zai Lab licence (2019)", "audience": "public", "doc_type": "deal"})
    hits = [ono, Hit(chunk, 0.5)]
    question = "Ono bought Deciphera in 2024. What did it pay, and which Deciphera drug had Zai Lab licensed?"
    draft = _generator().generate(question, hits, max_sentences=1)  # one sentence would serve one ask only
    text = _verified(draft, hits)
    assert "$2.4bn" in text and "ripretinib" in text and "upfront $20m" in text  # the record's asset and money
    alone = _generator().generate("Which Deciphera drug had Zai Lab licensed?", hits).coverage
    assert draft.coverage >= min(alone, _generator().generate("What did Ono pay for Deciphera?", hits).coverage)


def test_a_question_asking_what_to_do_gets_more_of_the_considerations_than_one_asking_when() -> None:
    steps = "## Protecting a licence against BIOSECURE\n\n" + " ".join((
        "A China licence exposed to BIOSECURE should name a second manufacturer qualified in Europe.",
        "Mapping every CDMO in the supply chain shows where BIOSECURE could bite on the licence.",
        "A change of law clause lets a licence survive if BIOSECURE names the licensor's supplier.",
        "Technology transfer plans written into the licence shorten any BIOSECURE-driven switch.",
        "Cell banks kept outside China protect licence supply whatever BIOSECURE finally says.",
        "Checking the Pentagon's 1260H list before signing a licence is the first BIOSECURE screen.",
        "Budget for a comparability study, since moving production under BIOSECURE pressure needs one.",
        "Licence terms should be reviewed yearly while the BIOSECURE text keeps changing in Congress."))
    hits = [_hit("biosecure", steps, "BIOSECURE and licensing")]
    fact = _generator().generate("When are licence terms reviewed under BIOSECURE?", hits, max_sentences=4)
    advice = _generator().generate("How should we protect a China licence from BIOSECURE?", hits, max_sentences=4)
    def sentences(draft: Draft) -> int:
        return len(re.findall(r"\[\d+\]", draft.text))
    assert sentences(fact) <= 4 < sentences(advice)


def test_a_list_item_is_read_under_the_sentence_that_introduces_it() -> None:
    card = ("## Day rates\n\nMeridian day rates for 2026 are set in euros and converted at the proposal date.\n"
            "Day rates rose by an average of 5% from 2025 for every grade.\n\n"
            "The 2026 day rates by grade are:\n\n- Partner: EUR 4,200 per day\n- Director: EUR 3,100 per day\n"
            "- Associate: EUR 1,600 per day\n")
    hits = [_hit("card", card, "Rate card 2026")]
    text = _verified(_generator().generate("What is Meridian's 2026 day rate for a partner?", hits,
                                           max_sentences=2), hits)
    assert "EUR 4,200" in text


def test_prose_leads_with_the_best_sentence_then_the_section_whose_heading_means_the_question_in_order() -> None:
    definition = ("## What a NewCo deal is\n\n"
                  "A NewCo is a licence to a newly created company funded by investors. "
                  "In return the NewCo pays the licensor cash and an equity stake in itself. "
                  "NewCos became common among China licensors from 2024.")
    elsewhere = ("## Why licensors choose a NewCo\n\n"
                 "A NewCo deal lets a licensor keep upside without building its own US organisation. "
                 "NewCo deal terms resemble a licence with milestones and royalties.")
    other = ("## Risks of NewCo deals\n\n"
             "A NewCo deal depends on further financing rounds to pay its milestones. "
             "Dilution cuts the licensor's NewCo stake unless it joins later rounds.")
    hits = [_hit("why", elsewhere), _hit("what", definition), _hit("risk", other)]
    for hit, heading in zip(hits, (0.45, 0.8, 0.3), strict=True):
        hit.heading_similarity = heading
    draft = _generator().generate("What is a NewCo deal?", hits)
    text = _verified(draft, hits)
    # the definition's section is quoted in the author's order: its second sentence, which shares no word of the
    # question but "NewCo", follows its first
    assert text.index("A NewCo is a licence") < text.index("In return the NewCo pays the licensor")
    assert {c.doc_id for c in draft.citations} == {"why", "what", "risk"}  # each of the sections gives its point
    assert len(re.findall(r"\[\d+\]", text)) <= round(3 * 1.8)  # a wider budget, still a budget
    # a question asking for a figure or a date is answered by its best sentences, not section by section
    dated = _generator().generate("When did NewCos take off?", hits)
    assert len(re.findall(r"\[\d+\]", dated.text)) <= 3 and "from 2024" in dated.text


def test_sentence_meaning_lifts_a_sentence_that_shares_few_words_with_the_question() -> None:
    text = ("## Moving production\n\n"
            "Switching a biologic to a new manufacturer usually takes several years of transfer and validation. "
            "Manufacturer audits and manufacturer fees vary across the manufacturer market.")
    hit = _hit("cdmo", text)
    start = text.index("Switching")
    other = text.index("Manufacturer audits")
    question = "How long does it take to change manufacturer?"
    without = ExtractiveGenerator(lambda term: 1.0, max_sentences=1).generate(question, [hit]).text
    hit.sentence_similarity = {start: 0.9, other: 0.1}
    with_meaning = ExtractiveGenerator(lambda term: 1.0, max_sentences=1).generate(question, [hit]).text
    assert "Manufacturer audits" in without and "several years" in with_meaning


def test_a_section_point_brings_the_next_sentence_of_its_paragraph_that_gives_its_substance() -> None:
    hub = ("## Regional headquarters\n\n"
           "Singapore hosts the regional headquarters of many large pharma companies. "
           "The reasons are consistent: English as the working language, a 17% tax rate and direct flights. "
           "Talent is deep.\n\n"
           "Offices elsewhere are noted here as an aside about headquarters.")
    market = ("## The market\n\n"
              "Singapore is a small market for medicines, with about six million people. "
              "Its trial capacity is limited.")
    hits = [_hit("hub", hub), _hit("market", market)]
    for hit, heading in zip(hits, (0.7, 0.4), strict=True):
        hit.heading_similarity = heading
    text = _verified(_generator().generate("Should we put our headquarters in Singapore?", hits), hits)
    # the point, then its substance, though that sentence shares no word with the question
    assert text.index("hosts the regional headquarters") < text.index("17% tax rate")
    # a figure question is answered by its best sentences, not section by section: no continuation rides along
    figure = _generator().generate("When did Singapore open the headquarters?", hits).text
    assert "The reasons are consistent" not in figure


PROTECTIONS = """## Trade secrets and know-how

Much of a biologic's value lies in unpatented know-how such as cell lines and process parameters.

Practical know-how protections include:

- Schedules listing the know-how transferred, with limits on its use.
- Staged technology transfer tied to milestones rather than a single data dump.
- Need-to-know access lists and logging of data-room downloads.
- See pricing-note.

## Checklist for licensees

1. Chain of title for every licensed patent family and its assignments.
2. Co-ownership terms for any jointly held patents and their consents."""


def test_advice_gets_the_recommendation_list_of_the_section_nearest_the_question_in_meaning() -> None:
    near = _hit("secrets", PROTECTIONS)
    far = _hit("other", "## Patent filing in China\n\nA know-how protection plan matters less than filing early "
                        "in China.\n\n- Search prior art before filing anything.\n"
                        "- Register each licence contract with the ministry.")
    near.heading_similarity, far.heading_similarity = 0.68, 0.55
    for hit in (near, far):
        hit.sentence_similarity = {}
    question = "How do we protect our process know-how when we hand it to a partner?"
    text = _verified(_generator().generate(question, [near, far]), [near, far])
    # items that share no word with the question come in, by their section, with their cue, in the author's order
    assert "Staged technology transfer tied to milestones" in text
    assert text.index("Schedules listing") < text.index("Staged technology") < text.index("Need-to-know")
    assert "Practical know-how protections include: Schedules listing" in text  # the cue reads with its first item
    assert "pricing-note" not in text  # a pointer is not a recommendation
    assert "Chain of title" not in text  # a list under a later heading belongs to another section
    assert "Search prior art" not in text  # a section further from the question in meaning
    # without measured sections, or for a question that is not asking what to do, no list is read by its section
    plain = _hit("secrets", PROTECTIONS)
    assert "Staged technology" not in _generator().generate(question, [plain]).text
    assert "Staged technology" not in _generator().generate("What is know-how?", [near, far]).text


def test_a_numbered_item_number_is_a_marker_not_a_sentence() -> None:
    text = "Practical points:\n\n1. In licensing deals, control the manufacturing site.\n2. Model tariffs at 15%.\n"
    block = list_blocks(text)[0]
    assert [text[a:b] for a, b in block.spans()] == [
        "Practical points:", "In licensing deals, control the manufacturing site.", "Model tariffs at 15%."]


def test_a_sentence_that_leans_on_the_one_before_it_is_quoted_with_it() -> None:
    text = ("## Why clients ask\n\n"
            "China has become indispensable as a source of licensable drug candidates. "
            "At the same time, US policy toward Chinese biotech is tightening and reputational risk is rising. "
            "Firms manage that exposure through gradual and transparent moves.")
    hit = _hit("risk", text)
    answer = _verified(ExtractiveGenerator(lambda term: 1.0, max_sentences=1).generate(
        "Is US policy on reputational risk tightening?", [hit]), [hit])
    assert answer.startswith("China has become indispensable")  # never "At the same time, …" alone
    assert answer.index("indispensable") < answer.index("At the same time")
    # a sentence that stands alone brings nothing before it
    alone = ExtractiveGenerator(lambda term: 1.0, max_sentences=1).generate("How do firms manage exposure?", [hit]).text
    assert "indispensable" not in alone


def test_a_count_of_points_and_its_points_are_quoted_together_or_not_at_all() -> None:
    text = ("## ADC trends\n\n"
            "Meridian sees three trends in ADC licensing. First, targets are moving beyond HER2 towards B7-H3. "
            "Second, bispecific ADC formats are attracting interest. Third, buyers want global randomised data.")
    hit = _hit("adc", text)
    answer = _verified(ExtractiveGenerator(lambda term: 1.0, max_sentences=2).generate(
        "Which ADC formats are drawing interest from buyers?", [hit]), [hit])
    # "Second, …" is read with the points before it and the sentence that counts them, never alone
    assert answer.startswith("Meridian sees three trends in ADC licensing [1]. First, targets")
    assert answer.index("First, targets") < answer.index("Second, bispecific")
    # the count alone ("three trends.") is not quoted without its points
    alone = ExtractiveGenerator(lambda term: 1.0, max_sentences=1).generate("How many ADC trends does Meridian see?",
                                                                            [hit]).text
    assert alone != "Meridian sees three trends in ADC licensing [1]."


def test_a_recommendation_list_the_chunker_cut_is_read_on_into_the_next_chunk() -> None:
    first = ("## Trade secrets and know-how\n\nPractical know-how protections include:\n\n"
             "- Schedules listing the know-how transferred, with limits on its use.\n"
             "- Staged technology transfer tied to milestones rather than a single data dump.\n")
    second = ("- Dispute resolution in a forum whose awards are enforceable in China, such as HKIAC arbitration.\n"
              "- Non-solicitation clauses for key technical staff.\n\n"
              "## Checklist for licensees\n\n1. Chain of title for every licensed patent family and its assignments.\n"
              "2. Co-ownership terms for any jointly held patents.")
    head = Chunk(chunk_id="ip#0", doc_id="ip", text=first, char_start=0, char_end=len(first),
                 meta={"title": "IP", "audience": "public"}, section="Trade secrets and know-how")
    tail = Chunk(chunk_id="ip#1", doc_id="ip", text=second, char_start=len(first),
                 char_end=len(first) + len(second), meta={"title": "IP", "audience": "public"},
                 section="Trade secrets and know-how")
    hit = Hit(head, 1.0)
    hit.heading_similarity, hit.sentence_similarity = 0.7, {}
    generator = ExtractiveGenerator(lambda term: 1.0, max_sentences=3,
                                    following=lambda chunk, n: [tail] if chunk is head else [])
    draft = generator.generate("How do we protect know-how transferred to a partner?", [hit])
    documents = {"ip": Document("ip", first + second, {"title": "IP", "audience": "public"})}
    verifier = Verifier(draft.citations, documents)
    for sentence in cited_sentences(draft.text):
        verifier.add(sentence)
    text = verifier.result().text
    assert not verifier.result().dropped
    assert text.index("Staged technology") < text.index("Dispute resolution") < text.index("Non-solicitation")
    assert "Chain of title" not in text  # the list ends where the next section begins


def test_a_list_item_quoted_without_its_list_reads_under_its_section_heading_once() -> None:
    sticking = ("## Process and culture\n\nNegotiations are founder-led and fast.\n\n## Common sticking points\n\n"
                "1. **Territory**: whether the licensor keeps Greater China or only mainland China, and how Taiwan "
                "and Hong Kong are treated.\n"
                "2. **Upfront versus milestones**: licensors push guaranteed money; licensees push contingent "
                "value.\n")
    more = ("## Common sticking points\n\n"
            "- **Reversion**: what returns to the licensor if the licensee stops developing the asset in Taiwan.\n"
            "- **Governance**: how the joint steering committee decides.\n")
    first, second = _hit("guide", sticking), _hit("guide", more)
    second.chunk = replace(second.chunk, chunk_id="guide#1", char_start=len(sticking) + 2)
    hits = [first, second]
    question = "What do licensors ask for on Taiwan and Hong Kong territory rights?"
    text = _verified(_generator().generate(question, hits, max_sentences=6), hits)
    assert "Common sticking points — Territory: whether the licensor keeps Greater China" in text
    assert "Reversion: what returns to the licensor" in text  # the next chunk's item of the same section ...
    assert text.count("Common sticking points") == 1  # ... reads under the heading already shown
    # another document's section of the same name is another section: its item reads under its own heading
    hits = [first, _hit("other-guide", more)]
    text = _verified(_generator().generate(question, hits, max_sentences=6), hits)
    assert "Common sticking points — Reversion: what returns to the licensor" in text
    assert "Process and culture —" not in text  # the nearest heading above the item, not the chunk's first
    # a sentence that is not a list item keeps its plain form
    plain = _verified(_generator().generate("Who leads negotiations?", hits), hits)
    assert "Negotiations are founder-led and fast" in plain and " — Negotiations" not in plain


def test_a_citation_gives_the_page_of_the_quoted_sentence_not_of_the_heading_above_it() -> None:
    text = ("## Common sticking points\n\nOther terms come first.\n\n"
            "1. **Territory**: whether the licensor keeps Greater China or only mainland China, and how Taiwan "
            "and Hong Kong are treated.\n2. **Governance**: how the joint steering committee decides.\n")
    hit = _hit("guide", text)
    turn = text.index("1. **Territory**")
    hit.chunk.meta.update(page=4, page_turns=f"{turn}:5")  # the list starts on the page after its heading
    draft = _generator().generate("What do licensors ask for on Taiwan and Hong Kong territory rights?", [hit])
    assert "Common sticking points — Territory" in _verified(draft, [hit])
    assert [c.page for c in draft.citations] == [5]
