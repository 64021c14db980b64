"""CUAD: clause retrieval in commercial contracts, and "is the clause there at all?".

One question per (contract, clause category), phrased from the category descriptions of CUAD_v1_README.txt and
naming the contract: 'In the contract "<title>": <category question>'. "Document Name" and "Parties" are left out
(every contract has both). Gold: the category's clause texts in master_clauses.csv (an empty list = no such clause).

Clause match rule (master_clauses.csv has no character offsets): passage and clause are reduced to lower-case
alphanumeric words; a passage from the *same contract* matches a clause when their longest common run of words is
at least min(n, max(5, ceil(n/2)), 40) words long, n being the clause's length in words. So a short clause must
appear whole, a long one may be cut by a chunk boundary as long as half of it (or 40 words) is in one passage.

Metrics: `clause_hit@4` / `@10` (clause present: a top-k passage matches a gold clause), `contract_hit@4` (a top-4
passage comes from the named contract at all), `citation_hit` (clause present and answered: a cited passage
matches), and refusal precision / recall / rate with "clause absent" as the gold positive (CUAD's own "No");
`evidence_auroc` (ours only): how well our evidence score separates present from absent clauses.

`cuad_pdf` asks the same questions of the same contracts printed as paged PDFs (`evals.suites.pdf`: running header,
"Page n of N" footer, paragraphs flowing across pages), read through the advisor's PDF loader. It adds
`page_accuracy`: of our citations in answers to present-clause questions, the share whose page is the one the cited
passage starts on in the printed file.

Sampling: a seeded set of ceil(sample / 10) contracts is indexed (they are each other's distractors) and `sample`
(contract, category) questions are drawn from them; full mode indexes all contracts and asks every question.
"""

from __future__ import annotations

import ast
import csv
import math
from difflib import SequenceMatcher
from functools import partial
from pathlib import Path
from typing import Any

from advisor.config import Settings
from evals.metrics import auroc
from evals.suites.common import (
    CorpusDoc,
    Stopwatch,
    Systems,
    build_systems,
    cache_note,
    corpus_file,
    corpus_label,
    held_apart,
    mean,
    missing,
    norm_words,
    refusal_metrics,
    refused_when_first,
    result,
    skipped,
    stable_sample,
)
from evals.suites.pdf import page_words, starts_on

NAME = "cuad"
FOLDER = "cuad"
CONTRACTS_PER_QUESTIONS = 10

# master_clauses.csv column -> the question, from the category descriptions in CUAD_v1_README.txt
QUESTIONS = {
    "Agreement Date": "What is the date of the contract?",
    "Effective Date": "On what date is the contract effective?",
    "Expiration Date": "On what date will the contract's initial term expire?",
    "Renewal Term": "What is the renewal term after the initial term expires?",
    "Notice Period To Terminate Renewal": "What is the notice period required to terminate renewal?",
    "Governing Law": "Which state or country's law governs the interpretation of the contract?",
    "Most Favored Nation": "If a third party gets better terms, is the buyer entitled to those better terms "
                           "(most favored nation)?",
    "Competitive Restriction Exception": "What are the exceptions or carve-outs to the non-compete, exclusivity "
                                         "or no-solicit of customers restrictions?",
    "Non-Compete": "Is a party restricted from competing with the counterparty or operating in a certain "
                   "geography, business or technology sector?",
    "Exclusivity": "Is there an exclusive dealing commitment with the counterparty?",
    "No-Solicit Of Customers": "Is a party restricted from soliciting customers or partners of the counterparty?",
    "No-Solicit Of Employees": "Is a party restricted from soliciting or hiring employees of the counterparty?",
    "Non-Disparagement": "Is a party required not to disparage the counterparty?",
    "Termination For Convenience": "Can a party terminate the contract without cause, solely by giving notice?",
    "Rofr/Rofo/Rofn": "Does a party have a right of first refusal, first offer or first negotiation?",
    "Change Of Control": "Can a party terminate, or is consent or notice required, if the other party undergoes a "
                         "change of control such as a merger or sale of assets?",
    "Anti-Assignment": "Is consent or notice required if the contract is assigned to a third party?",
    "Revenue/Profit Sharing": "Is one party required to share revenue or profit with the counterparty?",
    "Price Restrictions": "Is there a restriction on the ability of a party to raise or reduce prices?",
    "Minimum Commitment": "Is there a minimum order size or minimum amount one party must buy?",
    "Volume Restriction": "Is there a fee increase or consent requirement if use exceeds a certain volume?",
    "Ip Ownership Assignment": "Does intellectual property created by one party become the property of the "
                               "counterparty?",
    "Joint Ip Ownership": "Is there any joint or shared ownership of intellectual property between the parties?",
    "License Grant": "Does the contract contain a license granted by one party to its counterparty?",
    "Non-Transferable License": "Does the contract limit the ability of a party to transfer the license it has "
                                "been granted?",
    "Affiliate License-Licensor": "Does the contract license intellectual property of the licensor's affiliates?",
    "Affiliate License-Licensee": "Does the contract extend the license to the licensee's affiliates?",
    "Unlimited/All-You-Can-Eat-License": "Is there an unlimited, all-you-can-eat or enterprise-wide license?",
    "Irrevocable Or Perpetual License": "Does the contract contain a license grant that is irrevocable or "
                                        "perpetual?",
    "Source Code Escrow": "Is a party required to deposit its source code into escrow?",
    "Post-Termination Services": "Is a party subject to obligations after the termination or expiration of the "
                                 "contract, such as transition services?",
    "Audit Rights": "Does a party have the right to audit the books, records or operations of the counterparty?",
    "Uncapped Liability": "Is a party's liability uncapped upon breach of its obligations?",
    "Cap On Liability": "Is there a cap on liability upon breach of a party's obligations?",
    "Liquidated Damages": "Does the contract award liquidated damages or a termination fee?",
    "Warranty Duration": "What is the duration of any warranty against defects or errors?",
    "Insurance": "Is a party required to maintain insurance for the benefit of the counterparty?",
    "Covenant Not To Sue": "Is a party restricted from contesting the validity of the counterparty's intellectual "
                           "property or bringing a claim against it?",
    "Third Party Beneficiary": "Is there a non-contracting party who is a beneficiary of the contract?",
}


def clause_matches(passage: str, clause: str) -> bool:
    """The documented rule: a long enough common run of normalised words (see the module docstring)."""
    gold = norm_words(clause)
    if not gold:
        return False
    needed = min(len(gold), max(5, math.ceil(len(gold) / 2)), 40)
    text = norm_words(passage)
    match = SequenceMatcher(None, text, gold, autojunk=False).find_longest_match(0, len(text), 0, len(gold))
    return match.size >= needed


def _title(stem: str) -> str:
    return stem.replace("_", " ").strip()


def load(folder: Path) -> tuple[dict[str, CorpusDoc], list[dict[str, Any]]]:
    """Contracts by doc id, and one question per (contract, category)."""
    csv.field_size_limit(1 << 30)
    names: dict[str, str] = {}
    with (folder / "filename_map.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            names[row["master_clauses_Filename"]] = row["full_contract_txt_file"]
    contracts: dict[str, CorpusDoc] = {}
    questions = []
    with (folder / "master_clauses.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            txt = names.get(row["Filename"])
            if txt is None or not (folder / "full_contract_txt" / txt).is_file():
                continue
            stem = Path(txt).stem
            doc_id = stem.replace("#", "_")
            if doc_id not in contracts:
                text = (folder / "full_contract_txt" / txt).read_text(encoding="utf-8", errors="replace")
                contracts[doc_id] = CorpusDoc(doc_id, _title(stem), text, doc_type="contract")
            for category, question in QUESTIONS.items():
                clauses = [c for c in ast.literal_eval(row[category] or "[]") if str(c).strip()]
                questions.append({"id": f"{doc_id}::{category}", "doc_id": doc_id, "category": category,
                                  "question": f'In the contract "{_title(stem)}": {question}',
                                  "clauses": clauses, "present": bool(clauses)})
    return contracts, questions


def run(settings: Settings, *, sample: int | None, cache_dir: Path, datasets_dir: Path,
        with_baseline: bool = True, calibration: str = "questions", fmt: str = "md") -> dict[str, Any]:
    suite = NAME if fmt == "md" else f"{NAME}_{fmt}"
    reason = missing(datasets_dir, f"{FOLDER}/master_clauses.csv", f"{FOLDER}/filename_map.tsv",
                     f"{FOLDER}/full_contract_txt")
    if reason:
        return skipped(suite, reason, sample)
    contracts, questions = load(datasets_dir / FOLDER)
    if sample is None:
        doc_ids = sorted(contracts)
    else:
        doc_ids = sorted(stable_sample(NAME, sorted(contracts), math.ceil(sample / CONTRACTS_PER_QUESTIONS),
                                       key=lambda d: d))
    kept = set(doc_ids)
    pool = [q for q in questions if q["doc_id"] in kept]
    chosen = stable_sample(NAME, pool, sample, key=lambda q: q["id"])
    labelled = held_apart(NAME, pool, sample, lambda q: q["present"], calibration)
    systems = build_systems(settings, suite=suite, docs=[contracts[d] for d in doc_ids],
                            label=corpus_label(doc_ids, sample is None), cache_dir=cache_dir,
                            with_baseline=with_baseline, labelled=labelled, fmt=fmt)
    printed = _printed_pages(systems, [contracts[d] for d in doc_ids]) if fmt == "pdf" else {}
    watch = Stopwatch()
    per_query: list[dict[str, Any]] = []
    for q in chosen:
        row: dict[str, Any] = {"id": q["id"], "category": q["category"], "present": q["present"]}

        def matches(doc_id: str, text: str, q: dict[str, Any] = q) -> bool:
            return doc_id == q["doc_id"] and any(clause_matches(text, c) for c in q["clauses"])

        for system in systems.all():
            answer = watch.time(system.name, partial(system.answer, q["question"], audience="public"))
            top = system.retrieve(q["question"], k=10, audience="public")
            row[system.name] = {
                "refused": not answer.covered, "route": answer.route, "evidence_score": answer.evidence_score,
                "contract_hit@4": any(r.doc_id == q["doc_id"] for r in top[:4]),
                "clause_hit@1": any(matches(r.doc_id, r.text) for r in top[:1]),
                "clause_hit@4": any(matches(r.doc_id, r.text) for r in top[:4]),
                "clause_hit@10": any(matches(r.doc_id, r.text) for r in top),
                "citation_hit": any(matches(c.doc_id, c.passage) for c in answer.citations)}
            if printed and system is systems.ours and q["present"] and answer.covered:
                row[system.name]["pages"] = [_on_page(printed.get(c.doc_id, []), c.page, c.passage)
                                             for c in answer.citations]
        per_query.append(row)
    out = {}
    present = [r for r in per_query if r["present"]]
    for system in systems.all():
        rows = [r[system.name] for r in per_query]
        metrics = {m: mean([float(r[system.name][m]) for r in present]) for m in ("clause_hit@4", "clause_hit@10")}
        metrics["contract_hit@4"] = mean([float(r["contract_hit@4"]) for r in rows])
        metrics["citation_hit"] = mean([float(r[system.name]["citation_hit"]) for r in present
                                        if not r[system.name]["refused"]])
        metrics.update(refusal_metrics([r["refused"] for r in rows], [not r["present"] for r in per_query]))
        metrics.update(refused_when_first([r[system.name]["refused"] for r in present],
                                          [r[system.name]["clause_hit@1"] for r in present]))
        if system is systems.ours:
            metrics["evidence_auroc"] = auroc([r["evidence_score"] for r in rows], [r["present"] for r in per_query])
            if printed:
                pages = [ok for r in rows for ok in r.get("pages", [])]
                metrics["page_accuracy"] = mean([float(ok) for ok in pages])
                metrics["page_citations"] = float(len(pages))
        metrics.update(watch.summary(system.name))
        metrics.update(systems.index_stats.get(system.name, {}))
        out[system.name] = metrics
    notes = [f"{len(chosen)} questions ({len(present)} with the clause present) over {len(doc_ids)} contracts",
             cache_note(systems.index_stats), "latency is the full answer"]
    if systems.baseline is not None:
        notes.append("the baseline never refuses: its refusal precision is undefined and shown as 0")
    if printed:
        notes.append("contracts printed as paged PDFs and read through the PDF loader; page_accuracy: citations "
                     "whose page is where the cited passage starts in the printed file")
    return result(suite, sample=sample, n_queries=len(chosen), systems=out, notes=notes, per_query=per_query)


def run_pdf(settings: Settings, **kwargs: Any) -> dict[str, Any]:
    """The CUAD questions over the same contracts printed as paged PDFs."""
    return run(settings, fmt="pdf", **kwargs)


def _printed_pages(systems: Systems, docs: list[CorpusDoc]) -> dict[str, list[list[str]]]:
    """Each document's pages as printed, by document id (read back from the PDFs the suite wrote)."""
    return {d.doc_id: page_words(corpus_file(systems.root / "docs", d.doc_id, "pdf"), d.title) for d in docs}


def _on_page(pages: list[list[str]], page: int | None, passage: str) -> bool:
    """Whether a citation's page is where its passage starts in the printed document."""
    if not page or not 1 <= page <= len(pages):
        return False
    return starts_on(passage, pages[page - 1], pages[page] if page < len(pages) else [])
