"""The default generator: no LLM. It selects the sentences that best answer the question from the
top evidence, removes repeats, orders them readably (by source, then by position) and cites each.

Selection follows the shape of answer asked for (`advisor.intent`): a list question gets the enumeration (a cue
and its bullet items, kept together, with a larger sentence budget); a comparison gets the table that sets its
sides against each other, each row shown under its header; a sentence stating a figure keeps the next sentence
when that one carries the figure forward.

The same selection is the evidence an LLM generator reads (`evidence()`): the best sentences, numbered,
instead of whole chunks. Sentences that address a language model ("ignore previous instructions…")
are never selected: retrieved text is data, and such a sentence is no evidence of anything.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from advisor.analytics.dates import find_dates
from advisor.asked import asked_kind
from advisor.generate import Draft, DraftStream
from advisor.generate.candidates import (
    Candidate,
    Span,
    antecedent,
    continuation,
    display,
    heading_over_item,
    is_about_the_text,
    is_instruction,
    is_new,
    is_title_line,
    paragraph_next,
    record_lines,
    restates,
    table_rows,
    unseen,
    with_marker,
)
from advisor.generate.lists import (
    ListBlock,
    announced_count,
    announced_items,
    announces_elsewhere,
    list_blocks,
    tables,
)
from advisor.index.lexical import tokenize
from advisor.ingest.chunker import page_at
from advisor.ingest.meta import date_str
from advisor.intent import (
    is_advice,
    is_comparison,
    is_list_question,
    is_status,
    list_focus,
    question_parts,
    without_source_reference,
)
from advisor.text import is_heading, numbers, sentence_spans
from advisor.types import Chunk, Citation, Hit

_MONEY_Q = re.compile(
    r"\b(how much|value|valued|worth|upfront|paid|pay|price|cost|fee|milestone|royalt|terms|agree|deal|sign|"
    r"licen[cs]|acqui|partnership|collaboration)|\$", re.I)
_COUNT_Q = re.compile(r"\b(how many|number of|share|percent|proportion|%)", re.I)
_WHEN_Q = re.compile(r"\b(when|what year|which year|date)\b", re.I)
_SHARE_Q = re.compile(r"\b(share|percent|percentage|proportion|ratios?)\b", re.I)
_MONEY = re.compile(r"\$\s?\d|\b\d[\d,.]*\s?(bn|billion|m|million)\b|\bUSD\b", re.I)
_PERCENT = re.compile(r"\d\s?%|\bper ?cent\b", re.I)
# a sentence that states a difference: what a comparison question is after
_CONTRAST = re.compile(r"\b(instead|whereas|unlike|rather than|in contrast|by contrast|compared with|compared to|"
                       r"differs?|difference|changed?|changes|no longer|while|but|higher than|lower than|"
                       r"larger than|smaller than|more than|less than)\b", re.I)
# the first of the points a sentence has counted, in prose: "… for four main reasons. First, equity …"
_FIRST = re.compile(r"\W*first(?:ly)?\b", re.I)
# what separates a list's cue from its first item, or one item from the next: white space and item markers
_MARKERS = re.compile(r"(?m)^[ \t]*(?:[-*+•]|\d+[.)])[ \t]")
# words that frame a comparison ("how do A and B compare"): no evidence sentence needs to contain them
_COMPARE_WORDS = frozenset(tokenize("compare comparison compared differ difference different versus vs contrast"))


@dataclass
class _Query:
    """The question as selection reads it: its terms and their weights, and the answer shape it asks for."""

    terms: set[str]
    weights: dict[str, float]
    total: float
    wants_list: bool
    focus: tuple[str, ...]  # the plural nouns a list question enumerates, as written ("premiums",)
    wants_compare: bool = False
    wants_share: bool = False

    def coverage(self, terms: set[str]) -> float:
        return sum(self.weights[t] for t in self.terms & terms) / self.total

    def matchable(self, terms: set[str]) -> set[str]:
        """A sentence's terms, plus each hyphenated question term whose words it has apart ("data governance"
        states "data-governance")."""
        joined = {t for t in self.terms if "-" in t and t not in terms and set(t.split("-")) <= terms}
        return terms | joined if joined else terms


Following = Callable[[Chunk, int], list[Chunk]]
# the least an ask of a compound question must be covered for its best sentence to join the answer
ASK_FLOOR = 0.5
# an advice question's sentences may score this much lower, relative to the best, than a fact question's
ADVICE_FLOOR = 0.8
# items read when a cue announces sections without saying how many
UNCOUNTED_ITEMS = 5
# a sentence's score gains this much per unit of its section heading's similarity to the question (when the
# advisor measured it), and the first sentences of a section, where authors put its answer, gain LEAD_WEIGHT more
SECTION_WEIGHT = 0.3
LEAD_WEIGHT = 0.15
LEAD_SENTENCES = 2
# a sentence's score gains this much per unit of its own similarity to the question (when the advisor measured it)
SEMANTIC_WEIGHT = 0.3
# a sentence joins the answer as part of its section when it scores at least this share of the floor a sentence
# needs to join on its own (a section's point may share fewer of the question's words than its best sentence)
SECTION_FLOOR = 0.5
# a question about where things stand now: the sentence with the newest news gains this much, the oldest nothing
RECENCY_WEIGHT = 0.15
# an advice question is answered by the recommendation list of a section this near the question in meaning (its
# heading's similarity at most this far below the best-matching section's), at most ADVICE_ITEMS of its items
ADVICE_MARGIN = 0.05
ADVICE_ITEMS = 6


class ExtractiveGenerator:
    """`list_factor`, `compare_factor` and `prose_factor` widen the sentence budget for a list question (its
    items are the answer), a comparison (each side needs its evidence) and a question that asks for no figure or
    date (what something is, why, what to do: several sections' points answer it, `sections` of them).

    `following(chunk, n)` gives the chunks after a hit's chunk in its document, to the same reader: a chosen
    sentence that announces an enumeration its own section does not hold ("Four deals illustrate the range:")
    is followed by the sections it announces, each as its heading and first sentence. Without it, a cue stays
    alone. `asks_advice(question)` says whether a question asks what to do (the advisor reads it by meaning,
    `advisor.shapes`); its answer leads with the recommendations of the section nearest it.
    """

    def __init__(self, idf: Callable[[str], float], *, max_sentences: int = 5, max_hits: int = 6,
                 list_factor: float = 2.0, compare_factor: float = 1.4, prose_factor: float = 1.8, sections: int = 3,
                 following: Following | None = None, asks_advice: Callable[[str], bool] = is_advice) -> None:
        if sections < 1:
            raise ValueError(f"sections must be at least 1, got {sections}")
        for name, factor in (("list_factor", list_factor), ("compare_factor", compare_factor),
                             ("prose_factor", prose_factor)):
            if factor < 1:
                raise ValueError(f"{name} must be at least 1, got {factor}")
        self._idf = idf
        self._following = following
        self._asks_advice = asks_advice
        self.sections = sections
        self.max_sentences = max_sentences
        self.max_hits = max_hits
        self.list_factor = list_factor
        self.compare_factor = compare_factor
        self.prose_factor = prose_factor

    def _query(self, question: str) -> _Query:
        # "according to our briefing" says where to look, not what an answer sentence says
        terms = self._readable(set(tokenize(without_source_reference(question))))
        compare = is_comparison(question)
        if compare:
            terms -= _COMPARE_WORDS
        # a figure the question states (not a year) is a claim to check, not a word the answer must repeat
        weights = {t: 0.0 if re.fullmatch(r"\d[\d.,]*", t) and not re.fullmatch(r"(?:19|20)\d\d", t)
                   else self._idf(t) for t in terms}
        return _Query(terms, weights, sum(weights.values()) or 1.0, is_list_question(question), list_focus(question),
                      compare, bool(_SHARE_Q.search(question)))

    def missing_terms(self, question: str, hits: list[Hit], most: int = 3) -> list[str]:
        """The question's terms that none of these hits holds (in its text, title or heading), the weightiest first
        (at most `most`): "how many employees does Kailera have" finds Kailera, and no employees. How much each
        matters is the embedder's to say (`Advisor._salience`): "pros and cons", "worth it" frame a question, and
        move its meaning little."""
        query = self._query(question)
        present: set[str] = set()
        for hit in hits:
            present |= set(tokenize(f"{hit.chunk.text} {hit.chunk.meta.get('title', '')} {hit.chunk.section}"))
        present = query.matchable(present)
        absent = [t for t in query.terms if t not in present and t not in _COMPARE_WORDS and query.weights[t] > 0]
        # equal weights (every word no chunk holds weighs the most) go in the question's order, so the same
        # question always weighs the same terms (a set's order changes from one process to the next)
        order = {t: i for i, t in enumerate(dict.fromkeys(tokenize(question)))}  # first mention first
        return sorted(absent, key=lambda t: (-query.weights[t], order.get(t, len(order)), t))[:most]

    def _readable(self, terms: set[str]) -> set[str]:
        """A hyphenated word the collection never uses ("data-heavy") is read as its words ("data", "heavy");
        codes ("BB-1701") stay whole, as their parts mean nothing alone."""
        unseen = self._idf("\x00never-indexed")  # the idf of any term no chunk contains (the maximum)
        out: set[str] = set()
        for term in terms:
            parts = term.split("-")
            if len(parts) > 1 and self._idf(term) >= unseen and all(p.isalpha() and len(p) > 2 for p in parts):
                out.update(parts)
            else:
                out.add(term)
        return out

    def _candidates(self, query: _Query, question: str, hits: list[Hit], max_hits: int) -> list[Candidate]:
        wants = tuple(bool(p.search(question)) for p in (_MONEY_Q, _COUNT_Q, _WHEN_Q))
        status = is_status(question)
        out = []
        for rank, hit in enumerate(hits[:max_hits]):
            text = hit.chunk.text
            # a sentence is read under its document title and section heading: "which CAR-T therapies has the
            # NMPA approved" is answered by a list whose heading, not each line, says CAR-T and NMPA
            context = set(tokenize(f"{hit.chunk.meta.get('title', '')} {hit.chunk.section}"))
            previous: set[str] = set()
            rows = table_rows(text)
            leads = {span[0]: block.cue for block in list_blocks(text) if block.cue
                     for item in block.items for span in item}
            section = hit.heading_similarity or 0.0
            since_heading = None  # sentences since the last heading line in this chunk (None before any)
            meanings = hit.sentence_similarity or {}
            for start, end in sentence_spans(text):
                meaning = meanings.get(start)
                header, (start, end) = rows.get(start, (None, (start, end)))
                if header == (start, end):
                    continue  # a header row alone states nothing; its rows are read under it
                raw = text[start:end]
                if raw.lstrip().startswith("#"):
                    since_heading = 0
                elif since_heading is not None:
                    since_heading += 1
                opens = since_heading is not None and 0 < since_heading <= LEAD_SENTENCES
                terms = query.matchable(set(tokenize(raw)))
                # a table row is read under its header, a list item under the sentence that introduces it
                # ("Day rates for 2026:" / "- Partner: EUR 4,200 per day")
                lead = header or leads.get(start)
                read = terms | query.matchable(set(tokenize(text[lead[0]:lead[1]]))) if lead else terms
                # a comparison is often stated in two consecutive sentences or table rows, one per side or aspect
                gate_terms = read | context | (previous if query.wants_compare else set())
                previous = terms
                if raw.lstrip().startswith("#") or len(raw.split()) < 5 or raw.rstrip().endswith("?"):
                    continue
                if is_instruction(raw) or not query.terms & terms:
                    continue
                # answer hygiene: a sentence about the text itself, or one that repeats the question, answers nothing
                if is_about_the_text(raw) or restates(terms, query.terms):
                    continue
                if header is None and is_title_line(text, start, end):
                    continue  # a heading or title line is read as context, never quoted as a sentence
                # selection ranks sentences by their own words; the evidence gate reads them in context
                own = query.coverage(terms)  # what it inherits from its header or cue counts half
                score = own + (query.coverage(read) - own) / 2 + _bonus(query, raw, wants) + 0.15 / (1 + rank)
                score += section * (SECTION_WEIGHT + (LEAD_WEIGHT if opens else 0.0))
                if meaning is not None:
                    score += SEMANTIC_WEIGHT * meaning
                if len(raw.split()) > 60:
                    score -= 0.05
                out.append(Candidate(rank, hit, start, end, terms, score, query.coverage(gate_terms), header,
                                      read_with=frozenset(gate_terms), cue=leads.get(start)))
        if status:
            _favour_the_newest(out)
        return out

    def generate(self, question: str, hits: list[Hit], *, max_sentences: int | None = None) -> Draft:
        return self._select(question, hits, max_sentences or self.max_sentences, floor=0.55, prose=True)

    def stream(self, question: str, hits: list[Hit], *, max_sentences: int | None = None) -> DraftStream:
        draft = self.generate(question, hits, max_sentences=max_sentences)
        return DraftStream(draft.citations, draft.coverage, [draft.text] if draft.text else [])

    def evidence(self, question: str, hits: list[Hit], *, max_sentences: int) -> Draft:
        """The sentences an LLM should read: a wider, looser selection, numbered and cited like an answer."""
        return self._select(question, hits, max_sentences, floor=0.4, prose=False)

    def _select(self, question: str, hits: list[Hit], limit: int, floor: float, prose: bool) -> Draft:
        """`prose`: a question that asks for no figure or date is composed section by section (`_by_section`); the
        evidence an LLM reads stays the best sentences, compressed (its prompt is what it pays for on a CPU)."""
        query = self._query(question)
        asks = question_parts(question)
        parts = [self._query(ask) for ask in asks] if len(asks) > 1 else [query]  # a simple question is read once
        # a compound question's hits interleave each ask's (the advisor retrieves per ask): read as many more
        candidates = sorted(self._candidates(query, question, hits, self.max_hits * len(parts)),
                            key=lambda c: -c.score)
        if not candidates:
            return Draft("", [], 0.0)
        best_coverage = max(c.coverage for c in candidates)
        chosen: list[Candidate] = []
        if query.wants_list:
            limit = max(limit, round(limit * self.list_factor))
            chosen = self._best_list(query, hits, best_coverage)[:limit]
        elif query.wants_compare:
            limit = max(limit, round(limit * self.compare_factor))
            chosen = self._best_table(query, hits, best_coverage)[:limit]
        advice: list[Candidate] = []
        if not chosen and self._asks_advice(question):  # what to do: several considerations, each less central
            floor *= ADVICE_FLOOR
            advice = self._recommendations(hits)
        best = candidates[0].score
        dropped_cues: set[tuple[str, int]] = set()

        def take(cand: Candidate) -> None:
            if not is_new(cand, chosen):
                return
            if cand.cue is not None and (cand.hit.chunk.chunk_id, cand.cue[0]) in dropped_cues:
                return  # an item of an enumeration whose cue was left out is out of its context
            items = [item for item in self._announced(cand) if is_new(item, [cand, *chosen])]
            if not items and _announces(cand):
                dropped_cues.add((cand.hit.chunk.chunk_id, cand.start))
                return  # a cue without the items it announces is a fragment
            chosen.append(cand)
            chosen.extend(items)
            chosen.extend(line for line in record_lines(cand) if unseen(line, chosen))
            follow = continuation(cand)
            if follow is not None and len(chosen) < limit and is_new(follow, chosen):
                chosen.append(follow)

        if prose and not chosen and asked_kind(question) is None:  # a figure or a date is a sentence or two
            # a comparison in prose keeps its wider budget: each side needs its sections
            limit = max(limit, round(limit * self.prose_factor))
            if advice:  # the core sentence, then the recommendations in the author's order, then the sections
                take(candidates[0])
                taken = [c for c in advice if is_new(c, chosen)]
                chosen.extend(taken)
                limit += len(taken)
            self._by_section(candidates, take, limit, SECTION_FLOOR * floor * best, chosen)
        for cand in candidates:
            if len(chosen) >= limit or cand.score < floor * best:
                break
            take(cand)
        if len(parts) > 1:
            best_coverage = max(best_coverage, self._each_ask(parts, candidates, chosen))
        for cand in list(chosen):  # a sentence that leans on the one before it is read with it
            before = antecedent(cand)
            while before is not None and all((c.hit.chunk.chunk_id, c.start) != (before.hit.chunk.chunk_id,
                                                                                  before.start) for c in chosen):
                chosen.append(before)
                before = antecedent(before)
        return self._compose(chosen, coverage=best_coverage, newest_first=is_status(question))

    def _by_section(self, candidates: list[Candidate], take: Callable[[Candidate], None], limit: int,
                    least: float, chosen: list[Candidate]) -> None:
        """Prose, section by section. The best sentence first (the answer's core); then the section whose heading
        is nearest the question in meaning, its sentences in the author's order (authors put a section's point in
        its first sentences); then the next best sections (by their best sentence), each its best sentences. Each
        section gives at most its share of the budget, so the answer reads each section's point rather than one
        section's best words and scattered others. A sentence scoring under `least` joins from no section."""
        take(candidates[0])
        groups: dict[str, list[Candidate]] = {}
        for cand in candidates:
            if cand.score >= least:
                groups.setdefault(cand.hit.chunk.chunk_id, []).append(cand)
        ordered = list(groups.values())
        anchor = max(ordered, key=lambda g: (g[0].hit.heading_similarity or 0.0, -g[0].hit_rank))
        if anchor[0].hit.heading_similarity is not None:  # the advisor measured the headings
            ordered.remove(anchor)
            ordered.insert(0, sorted(anchor, key=lambda c: c.start))
        share = max(2, -(-limit // self.sections))
        for group in ordered[: self.sections]:
            before = len(chosen)
            for cand in group:
                if len(chosen) >= limit or len(chosen) - before >= share:
                    break
                take(cand)
                follow = paragraph_next(cand) if cand in chosen else None
                if follow is not None and len(chosen) < limit and len(chosen) - before < share:
                    take(follow)  # the point, then its substance

    @staticmethod
    def _each_ask(parts: list[_Query], candidates: list[Candidate], chosen: list[Candidate]) -> float:
        """A compound question is answered when each of its asks is: the sentence that best covers each ask joins
        the answer (a whole-question ranking favours one ask), and the evidence covers the question as well as
        its worst-covered ask. ("What did Ono pay for Deciphera, and which drug had Zai Lab licensed?" has no
        one sentence for both, however well two sentences answer it.)"""
        worst = 1.0
        for part in parts:
            scored = [(part.coverage(part.matchable(set(c.read_with or c.terms))), c) for c in candidates]
            coverage, best = max(scored, key=lambda s: (s[0], -s[1].hit_rank))
            worst = min(worst, coverage)
            if coverage >= ASK_FLOOR and is_new(best, chosen):
                chosen.append(best)
                chosen.extend(line for line in record_lines(best) if unseen(line, chosen))
        return worst

    def _read_on(self, chunk: Chunk, offset: int, n: int) -> tuple[list[Chunk], list[tuple[str, int]]]:
        """`chunk` and up to `n` chunks after it, each with the offset to read its text from: `offset` in `chunk`,
        then wherever the previous one ended (chunks may overlap)."""
        assert self._following is not None
        sources, texts, covered = [chunk], [(chunk.text, offset)], chunk.char_start + offset
        for source in self._following(chunk, n):
            texts.append((source.text, max(0, covered - source.char_start)))
            sources.append(source)
            covered = max(covered, source.char_end)
        return sources, texts

    def _announced(self, cue: Candidate) -> list[Candidate]:
        """When `cue` ends its chunk or section announcing an enumeration, what it announces, read on into the
        chunks after it: as many sections as it counts, each its heading and first sentence, or the bullet items
        that continue in the next chunk."""
        chunk = cue.hit.chunk
        if self._following is None or not announces_elsewhere(chunk.text, (cue.start, cue.end)):
            return []
        wanted = announced_count(chunk.text[cue.start:cue.end]) or UNCOUNTED_ITEMS
        sources, texts = self._read_on(chunk, cue.end, 2 * wanted)
        out = []
        for index, item in announced_items(texts, wanted):
            source = sources[index]
            read = [*item.spans, *([item.heading] if item.heading else [])]
            if any(is_instruction(source.text[a:b]) for a, b in read):
                continue
            hit = cue.hit if source is chunk else Hit(source, 0.0)
            for a, b in item.spans:
                out.append(Candidate(cue.hit_rank, hit, a, b, set(tokenize(source.text[a:b])), cue.score,
                                      cue.coverage, heading=item.heading))
        return out

    def _recommendations(self, hits: list[Hit]) -> list[Candidate]:
        """What to do, as the author listed it: the bullet or numbered list (its cue and items) of the section
        nearest the question in meaning, when that section is within ADVICE_MARGIN of the best-matching one; among
        such lists, the one whose best item is nearest the question. The items of a recommendation list often share
        no word with the question ("Staged technology transfer tied to milestones" answers "how do we protect our
        know-how"), so they are read by their section, not by their words. Nothing when no section was measured."""
        measured = [(rank, h) for rank, h in enumerate(hits[: self.max_hits]) if h.heading_similarity is not None]
        if not measured:
            return []
        top = max(h.heading_similarity or 0.0 for _, h in measured)
        scored: list[tuple[float, int, Hit, ListBlock]] = []
        for rank, hit in measured:
            if (hit.heading_similarity or 0.0) < top - ADVICE_MARGIN:
                continue
            text, meanings = hit.chunk.text, hit.sentence_similarity or {}
            for block in list_blocks(text):
                first = block.spans()[0][0]
                if any(is_heading(line) for line in text[:first].split("\n")[1:]):
                    continue  # under a later heading of the chunk: another section, whose nearness was not measured
                if any(is_instruction(text[a:b]) for a, b in block.spans()):
                    continue
                items = [span for item in block.items for span in item]
                scored.append((max(meanings.get(a, 0.0) for a, _ in items), rank, hit, block))
        if not scored:
            return []
        _, rank, hit, block = max(scored, key=lambda s: (s[0], -s[1]))
        text = hit.chunk.text
        # an item of a word or two is a pointer or a label ("See the pricing note."), not a recommendation
        items = [s for item in block.items for s in item
                 if len(_MARKERS.sub("", text[s[0]:s[1]]).split()) >= 3][:ADVICE_ITEMS]
        spans = ([block.cue] if block.cue else []) + items
        out = [Candidate(rank, hit, a, b, set(tokenize(text[a:b])), 0.0, 0.0,
                         cue=block.cue if (a, b) != block.cue else None) for a, b in spans]
        return out + self._list_continued(rank, hit, block, ADVICE_ITEMS - len(items))

    def _list_continued(self, rank: int, hit: Hit, block: ListBlock, wanted: int) -> list[Candidate]:
        """The items of a list that its chunk ends with, read on into the next chunk (the chunker cut it), up to
        `wanted` of them."""
        chunk = hit.chunk
        end = block.spans()[-1][1]
        if wanted <= 0 or self._following is None or chunk.text[end:].strip():
            return []
        sources, texts = self._read_on(chunk, end, 1)
        sources, texts = sources[1:], texts[1:]  # the list's own chunk ends with it
        out: list[Candidate] = []
        for index, item in announced_items(texts, wanted):
            source = sources[index]
            if item.heading is not None or any(is_instruction(source.text[a:b]) for a, b in item.spans):
                break  # a section, not a list item: the list ended with the chunk
            out.extend(Candidate(rank, Hit(source, 0.0), a, b, set(tokenize(source.text[a:b])), 0.0, 0.0)
                       for a, b in item.spans if len(_MARKERS.sub("", source.text[a:b]).split()) >= 3)
        return out[:wanted]

    def _best_list(self, query: _Query, hits: list[Hit], best_coverage: float) -> list[Candidate]:
        """The enumeration that best answers a list question, cue and items together, or nothing.

        A block counts when, read with its heading, it covers the question about as well as the best single
        sentence does and it is about what is asked for: the enumerated noun, plural as asked ("therapies", not
        the "cell therapy" of "cell therapy licences carry risks:"), is in its cue or heading.
        """
        scored: list[tuple[float, int, Hit, ListBlock]] = []
        for rank, hit in enumerate(hits[: self.max_hits]):
            text = hit.chunk.text
            context = set(tokenize(f"{hit.chunk.meta.get('title', '')} {hit.chunk.section}"))
            for block in list_blocks(text):
                spans = block.spans()
                terms = set(tokenize(" ".join(text[a:b] for a, b in spans)))
                cue = text[block.cue[0]:block.cue[1]] if block.cue else ""
                if query.focus and not _names_any(f"{cue} {hit.chunk.section}", query.focus):
                    continue
                coverage = query.coverage(terms | context)
                if coverage < 0.8 * best_coverage or any(is_instruction(text[a:b]) for a, b in spans):
                    continue
                scored.append((coverage + 0.15 / (1 + rank), rank, hit, block))
        if not scored:
            return []
        score, rank, hit, block = max(scored, key=lambda s: s[0])
        text = hit.chunk.text
        return [Candidate(rank, hit, a, b, set(tokenize(text[a:b])), score, score) for a, b in block.spans()]

    def _best_table(self, query: _Query, hits: list[Hit], best_coverage: float) -> list[Candidate]:
        """For a comparison, the table that sets the sides against each other: its header names at least two of
        the question's terms ("| Factor | China | Japan |"), and its rows that match the question's other terms
        are the evidence, read under that header. Nothing when no table covers the question as well as the best
        sentence nearly does."""
        scored: list[tuple[float, int, Hit, Span, list[Span]]] = []
        for rank, hit in enumerate(hits[: self.max_hits]):
            text = hit.chunk.text
            context = set(tokenize(f"{hit.chunk.meta.get('title', '')} {hit.chunk.section}"))
            for table in tables(text):
                named = query.terms & set(tokenize(text[table.header[0]:table.header[1]]))
                matched = {r: query.terms & query.matchable(set(tokenize(text[r[0]:r[1]]))) for r in table.rows}
                rows = [r for r in table.rows if matched[r] and not is_instruction(text[r[0]:r[1]])]
                if len(named) < 2 or not rows:
                    continue
                coverage = query.coverage(named | context | {t for r in rows for t in matched[r]})
                if coverage >= 0.8 * best_coverage:
                    scored.append((coverage + 0.15 / (1 + rank), rank, hit, table.header, rows))
        if not scored:
            return []
        score, rank, hit, header, rows = max(scored, key=lambda s: s[0])
        text = hit.chunk.text
        return [Candidate(rank, hit, a, b, set(tokenize(text[a:b])), score, score, header) for a, b in rows]

    def _compose(self, chosen: list[Candidate], coverage: float, newest_first: bool = False) -> Draft:
        # readable order: sources by their best sentence, sentences in document order within a source (for a
        # question about where things stand now: the newest news first)
        order: dict[str, int] = {}
        for cand in chosen:
            order.setdefault(cand.hit.chunk.doc_id, len(order))
        if newest_first:  # the newest news first, whichever document it is in
            today = dt.date.today()
            when = {id(c): _as_of(c, today) for c in chosen}
            chosen.sort(key=lambda c: (-when[id(c)][0], -when[id(c)][1], order[c.hit.chunk.doc_id],
                                       c.hit.chunk.char_start + c.start))
        else:
            chosen.sort(key=lambda c: (order[c.hit.chunk.doc_id], c.hit.chunk.char_start + c.start))
        groups: list[list[Candidate]] = []
        for cand in chosen:
            prev = groups[-1][-1] if groups else None
            lead = cand.heading[0] if cand.heading else cand.start
            adjacent = (prev is not None and prev.hit.chunk.chunk_id == cand.hit.chunk.chunk_id
                        and prev.end <= lead and not _MARKERS.sub("", prev.hit.chunk.text[prev.end:lead]).strip())
            if adjacent:
                groups[-1].append(cand)
            else:
                groups.append([cand])
        parts: list[str] = []
        citations: list[Citation] = []
        previous_doc = None
        headings: set[tuple[str, str]] = set()  # (document, heading) shown so far
        for n, group in enumerate(groups, start=1):
            chunk = group[0].hit.chunk
            if group[0].header is None and group[0].heading is None:  # a list item quoted without what precedes it
                over = heading_over_item(chunk.text, group[0].start)  # reads under its heading, once an answer
                if over is not None and (chunk.doc_id, chunk.text[over[0]:over[1]]) not in headings:
                    group[0] = replace(group[0], heading=over)
            if group[0].heading is not None:
                headings.add((chunk.doc_id, chunk.text[group[0].heading[0]:group[0].heading[1]]))
            head = group[0].header or group[0].heading
            lo, hi = (head[0] if head else group[0].start), group[-1].end
            shown = [display(chunk.text, c) for c in group]
            # a cue and the first item it introduces read as one sentence ("The key changes were: …")
            merged: list[str] = []
            for text in shown:
                if merged and merged[-1].endswith(":"):
                    merged[-1] = f"{merged[-1]} {text}"
                else:
                    merged.append(text)
            marked = [with_marker(text, n) for text in merged]
            if parts and chunk.doc_id != previous_doc:  # a paragraph for each source
                marked[0] = "\n\n" + marked[0]
            previous_doc = chunk.doc_id
            parts.extend(marked)
            meta = chunk.meta
            citations.append(Citation(
                n=n, doc_id=chunk.doc_id, title=str(meta.get("title", chunk.doc_id)),
                url=str(meta.get("source_url", "")), published=date_str(_int(meta.get("published"))),
                doc_type=str(meta.get("doc_type", "")), audience=str(meta.get("audience", "")),
                page=page_at(meta, chunk.char_start + group[0].start), chunk_id=chunk.chunk_id,
                passage=chunk.text[lo:hi], char_start=chunk.char_start + lo, char_end=chunk.char_start + hi,
            ))
        return Draft(" ".join(parts).replace(" \n\n", "\n\n"), citations, coverage)


def _bonus(query: _Query, sentence: str, wants: tuple[bool, ...]) -> float:
    """What the question asks for, stated: money, a number, a year; a share is answered by a percentage, a
    comparison by a sentence that states a difference."""
    wants_money, wants_count, wants_when = wants
    bonus = 0.0
    if wants_money and _MONEY.search(sentence):
        bonus += 0.12
    if wants_count and numbers(sentence):
        bonus += 0.08
    if wants_when and re.search(r"\b(19|20)\d\d\b", sentence):
        bonus += 0.08
    if query.wants_share and _PERCENT.search(sentence):
        bonus += 0.1
    if query.wants_compare and _CONTRAST.search(sentence):
        bonus += 0.1
    return bonus


def _as_of(cand: Candidate, today: dt.date) -> tuple[int, int]:
    """How recent a sentence's news is, as (the latest date it names, capped at its document's publication — a
    forecast of 2026 in a 2025 note is 2025 news — or 0 when it names none; its document's publication date)."""
    published = _int(cand.hit.chunk.meta.get("published"))
    named = [h.lo for h in find_dates(cand.hit.chunk.text[cand.start:cand.end].lower(), today) if h.lo]
    latest = max(named, default=0)
    return (min(latest, published) if published and latest else latest), published


def _favour_the_newest(candidates: list[Candidate]) -> None:
    """A status question: each sentence gains up to RECENCY_WEIGHT by how recent its news is among the candidates
    (the newest 1.0, the oldest 0.0)."""
    today = dt.date.today()
    when = [_as_of(c, today) for c in candidates]
    ordered = sorted(set(when))
    if len(ordered) < 2:
        return
    for cand, date in zip(candidates, when, strict=True):
        cand.score += RECENCY_WEIGHT * ordered.index(date) / (len(ordered) - 1)


def _announces(cand: Candidate) -> bool:
    """A sentence that introduces what follows it: it ends with a colon, or it counts what its paragraph then
    enumerates ("… for four main reasons. First, equity …")."""
    sentence = cand.hit.chunk.text[cand.start:cand.end]
    if sentence.rstrip(" *_").endswith(":"):
        return True
    follow = paragraph_next(cand) if announced_count(sentence) else None
    return follow is not None and bool(_FIRST.match(follow.hit.chunk.text[follow.start:follow.end]))


def _names_any(text: str, nouns: tuple[str, ...]) -> bool:
    return any(re.search(rf"\b{re.escape(noun)}\b", text, re.I) for noun in nouns)


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0
