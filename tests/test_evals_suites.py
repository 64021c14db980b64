"""The public suites on miniature datasets written in the real formats (fast, hash embedder), the skip path, the
index cache, and the real shared datasets' formats (read only, skipped where absent)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from advisor.config import Settings
from evals.metrics import auroc
from evals.suites import SUITES, cuad, multihop, pubmedqa, scifact, squad_v2
from evals.suites.common import (
    CALIBRATION_QUESTIONS,
    CorpusDoc,
    contains_answer,
    default_datasets_dir,
    held_apart,
    refusal_metrics,
    refused_when_first,
    stable_sample,
    write_corpus,
)
from evals.suites.pdf import page_words, starts_on

KEYS = {"suite", "status", "reason", "sample", "n_queries", "systems", "notes"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "unused", embedder="hash", min_evidence_score=0.25)


def _jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


TOPICS = [
    ("tau protein aggregation drives neurodegeneration in alzheimer disease", "Tau aggregation"),
    ("statin therapy lowers cardiovascular mortality in elderly patients", "Statins and mortality"),
    ("vitamin d supplementation does not prevent fractures in adults", "Vitamin D and fractures"),
    ("crispr base editing corrects sickle cell mutations in stem cells", "Base editing sickle cell"),
    ("gut microbiome composition predicts response to immunotherapy", "Microbiome and immunotherapy"),
    ("malaria parasites resist artemisinin through kelch13 mutations", "Artemisinin resistance"),
]


def write_scifact(root: Path) -> None:
    folder = root / "scifact"
    _jsonl(folder / "corpus.jsonl", [{"_id": str(100 + i), "title": title,
                                      "text": f"We show that {claim}. The effect was robust across cohorts."}
                                     for i, (claim, title) in enumerate(TOPICS)])
    _jsonl(folder / "queries.jsonl", [{"_id": str(i), "text": claim.capitalize() + ".", "metadata": {}}
                                      for i, (claim, _) in enumerate(TOPICS)])
    (folder / "qrels").mkdir()
    (folder / "qrels" / "train.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{i}\t{100 + i}\t1\n" for i in range(len(TOPICS))))


def write_squad(root: Path) -> None:
    paragraphs = [{"context": f"Researchers found that {claim}. This was reported in 2019.", "qas": [
        {"id": f"a{i}", "question": f"What did researchers find about {title.lower()}?", "is_impossible": False,
         "answers": [{"text": claim.split(" ")[0], "answer_start": 23}]},
        {"id": f"u{i}", "question": "Which volcano erupted on the far side of the moon in 1750?",
         "is_impossible": True, "answers": []}]} for i, (claim, title) in enumerate(TOPICS[:3])]
    path = root / "squad_v2" / "dev-v2.0.cs224n_split.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"version": "v2.0", "data": [{"title": "Medicine_notes", "paragraphs": paragraphs}]}))


def write_multihop(root: Path) -> None:
    folder = root / "multihop_rag_sample"
    folder.mkdir(parents=True)
    queries, truth = [], {}
    for i, (claim, title) in enumerate(TOPICS[:4]):
        queries.append({"id": str(i), "question": f"Did the report say that {claim}?",
                        "question_type": "inference_query"})
        truth[str(i)] = {"answer": "Yes", "evidence_list": [
            {"author": "A. Writer", "category": "science", "fact": f"The study found that {claim}.",
             "published_at": "2023-10-01T10:00:00+00:00", "source": "Science Daily", "title": title,
             "url": f"https://news.example/{i}"}]}
    queries.append({"id": "9", "question": "Which quarterback threw for 400 yards in the Zanzibar snow bowl?",
                    "question_type": "null_query"})
    truth["9"] = {"answer": "Insufficient information.", "evidence_list": []}
    (folder / "queries.json").write_text(json.dumps({"task": "t", "description": "d", "total": 5,
                                                     "queries": queries}))
    (folder / "ground_truth.json").write_text(json.dumps(truth))


def write_cuad(root: Path) -> None:
    folder = root / "cuad"
    (folder / "full_contract_txt").mkdir(parents=True)
    law = "This Agreement shall be governed by and construed in accordance with the laws of the State of Delaware."
    grant = ("Licensor hereby grants to Licensee an exclusive, royalty-bearing license under the Licensed Patents "
             "to develop and commercialize the Licensed Products in the Territory.")
    filler = " ".join(f"Section {n}. The parties shall cooperate in good faith on item {n}." for n in range(90))
    rows = []
    for i, company in enumerate(["Acme Biotherapeutics", "Borealis Pharma"]):
        stem = f"{company.replace(' ', '').upper()}_01_01_2020-EX-10.{i}-LICENSE AGREEMENT"
        body = f"LICENSE AGREEMENT\n\n{filler}\n\n{law}\n\n" + (f"{grant}\n\n" if i == 0 else "") + filler
        (folder / "full_contract_txt" / f"{stem}.txt").write_text(body)
        row = {"Filename": f"{stem}.pdf"}
        for category in cuad.QUESTIONS:
            clauses = {"Governing Law": [law], "License Grant": [grant] if i == 0 else []}.get(category, [])
            row[category] = repr(clauses)
            row[f"{category}-Answer"] = "Yes" if clauses else "No"
        rows.append(row)
    with (folder / "master_clauses.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (folder / "filename_map.tsv").write_text("master_clauses_Filename\tfull_contract_txt_file\n" + "".join(
        f"{r['Filename']}\t{r['Filename'][:-4]}.txt\n" for r in rows))


def write_pubmedqa(root: Path) -> None:
    """Three studies on the corpus's topics, indexed, and one held out (its id hashes into the held-out share)."""
    ids = [str(n) for n in range(10_000, 10_400)]
    indexed = [i for i in ids if not pubmedqa.held_out(i)][:3]
    absent = next(i for i in ids if pubmedqa.held_out(i))
    data = {pmid: {"QUESTION": f"Did researchers find that {claim}?", "CONTEXTS": [
        f"{title} was studied in a cohort.", f"Researchers found that {claim} in that cohort."],
        "LABELS": ["BACKGROUND", "RESULTS"], "YEAR": "2019", "final_decision": "yes", "LONG_ANSWER": "Yes."}
        for pmid, (claim, title) in zip(indexed, TOPICS, strict=False)}
    data[absent] = {"QUESTION": "Does zanzibar snow improve quarterback passing accuracy?", "CONTEXTS": [
        "Quarterbacks threw in the Zanzibar snow."], "LABELS": ["RESULTS"], "YEAR": "2020", "final_decision": "no",
        "LONG_ANSWER": "No."}
    (root / "pubmedqa").mkdir(parents=True)
    (root / "pubmedqa" / "ori_pqal.json").write_text(json.dumps(data))


WRITERS = {"scifact": write_scifact, "squad_v2": write_squad, "multihop": write_multihop, "cuad": write_cuad,
           "pubmedqa": write_pubmedqa}


@pytest.fixture
def datasets(tmp_path: Path) -> Path:
    root = tmp_path / "datasets"
    root.mkdir()
    for write in WRITERS.values():
        write(root)
    return root


def test_every_suite_is_registered() -> None:
    assert set(SUITES) == {"scifact", "cuad", "cuad_pdf", "multihop", "squad_v2", "pubmedqa"}


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_suite_skips_with_a_message_when_its_dataset_is_absent(name: str, settings: Settings,
                                                               tmp_path: Path) -> None:
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    out = SUITES[name](settings, sample=5, cache_dir=tmp_path / "cache", datasets_dir=empty)
    assert set(out) == KEYS
    assert out["status"] == "skipped" and out["systems"] == {} and out["n_queries"] == 0
    assert str(empty) in out["reason"] and "--datasets" in out["reason"]
    assert not (tmp_path / "cache").exists()


def test_scifact_ranks_the_relevant_abstract_first_for_both_systems(settings: Settings, datasets: Path,
                                                                    tmp_path: Path) -> None:
    out = SUITES["scifact"](settings, sample=4, cache_dir=tmp_path / "cache", datasets_dir=datasets)
    assert set(out) == KEYS | {"per_query"} and out["status"] == "ok"
    assert out["n_queries"] == 4 and out["sample"] == 4
    for name in ("advisor", "naive-baseline"):
        metrics = out["systems"][name]
        assert metrics["ndcg@10"] == 1.0 and metrics["recall@100"] == 1.0
    assert any("test.tsv is absent" in note for note in out["notes"])
    assert [row["gold"] for row in out["per_query"]] == [[str(100 + int(row["id"]))] for row in out["per_query"]]


def test_a_rerun_reuses_the_cached_indexes_and_embeds_nothing(settings: Settings, datasets: Path,
                                                              tmp_path: Path) -> None:
    cache = tmp_path / ".cache" / "evals"  # under a hidden directory, as a cache often is
    first = SUITES["scifact"](settings, sample=None, cache_dir=cache, datasets_dir=datasets)
    second = SUITES["scifact"](settings, sample=None, cache_dir=cache, datasets_dir=datasets)
    for name in ("advisor", "naive-baseline"):
        assert first["systems"][name]["embedded"] > 0
        assert second["systems"][name]["embedded"] == 0
        assert second["systems"][name]["chunks"] == first["systems"][name]["chunks"]
        assert second["systems"][name]["ndcg@10"] == first["systems"][name]["ndcg@10"]
    assert first["systems"]["advisor"]["chunks"] >= len(TOPICS)
    assert len([p for p in cache.iterdir() if p.is_dir()]) == 1
    # a different corpus subset is a different cache entry, never a partial overwrite
    SUITES["scifact"](settings, sample=2, cache_dir=cache, datasets_dir=datasets, with_baseline=False)
    assert len([p for p in cache.iterdir() if p.is_dir()]) == 2


def test_squad_v2_measures_refusal_calibration(settings: Settings, datasets: Path, tmp_path: Path) -> None:
    out = SUITES["squad_v2"](settings, sample=None, cache_dir=tmp_path / "cache", datasets_dir=datasets)
    ours, base = out["systems"]["advisor"], out["systems"]["naive-baseline"]
    assert out["n_queries"] == 6
    assert base["refusal_rate"] == 0.0 and base["refusal_recall"] == 0.0
    # the moon-volcano questions share no evidence with the corpus: our gate refuses them, answers the others
    assert ours["refusal_recall"] == 1.0 and ours["refusal_precision"] == 1.0
    assert ours["evidence_auroc"] == 1.0 and "evidence_auroc" not in base
    assert base["paragraph_recall@4"] == 1.0 and ours["paragraph_recall@4"] == 1.0
    assert 0.0 <= ours["answer_contains_gold"] <= 1.0


def test_multihop_measures_evidence_recall_and_null_refusal(settings: Settings, datasets: Path,
                                                            tmp_path: Path) -> None:
    out = SUITES["multihop"](settings, sample=None, cache_dir=tmp_path / "cache", datasets_dir=datasets)
    ours, base = out["systems"]["advisor"], out["systems"]["naive-baseline"]
    assert out["n_queries"] == 5
    assert ours["evidence_recall@4"] == 1.0 and base["evidence_recall@4"] == 1.0
    assert base["refusal_rate"] == 0.0
    null_row = next(r for r in out["per_query"] if r["null"])
    assert null_row["advisor"]["refused"] is True and null_row["naive-baseline"]["refused"] is False
    # which check refused is kept per question: the gate ("no_coverage") or a check after it ("partial")
    for row in out["per_query"]:
        assert (row["advisor"]["route"] in ("no_coverage", "partial")) is row["advisor"]["refused"]


def test_pubmedqa_asks_about_studies_indexed_and_held_out(settings: Settings, datasets: Path,
                                                          tmp_path: Path) -> None:
    out = SUITES["pubmedqa"](settings, sample=None, cache_dir=tmp_path / "cache", datasets_dir=datasets)
    ours, base = out["systems"]["advisor"], out["systems"]["naive-baseline"]
    assert out["n_queries"] == 4 and sum(not r["answerable"] for r in out["per_query"]) == 1
    assert ours["abstract_recall@1"] == 1.0 and base["abstract_recall@1"] == 1.0  # the abstracts only, no titles
    assert ours["evidence_first"] == 3.0 and ours["refused_when_evidence_first"] == 0.0
    assert ours["refusal_recall"] == 1.0 and ours["refusal_f1"] == 1.0  # the held-out study shares nothing
    assert base["refusal_rate"] == 0.0 and "evidence_auroc" not in base


def test_cuad_finds_the_clause_in_the_named_contract(settings: Settings, datasets: Path, tmp_path: Path) -> None:
    out = SUITES["cuad"](settings, sample=None, cache_dir=tmp_path / "cache", datasets_dir=datasets)
    assert out["n_queries"] == 2 * len(cuad.QUESTIONS)
    rows = {r["id"].split("::")[1] + ("@acme" if "ACME" in r["id"] else "@borealis"): r for r in out["per_query"]}
    for name in ("advisor", "naive-baseline"):
        assert rows["Governing Law@acme"][name]["clause_hit@10"] is True
        assert rows["License Grant@acme"][name]["clause_hit@10"] is True
    assert 0.0 <= out["systems"]["advisor"]["clause_hit@4"] <= 1.0
    assert out["systems"]["naive-baseline"]["refusal_rate"] == 0.0


def test_cuad_pdf_reads_the_printed_contracts_and_checks_cited_pages(settings: Settings, datasets: Path,
                                                                    tmp_path: Path) -> None:
    out = SUITES["cuad_pdf"](settings, sample=None, cache_dir=tmp_path / "cache", datasets_dir=datasets)
    assert out["suite"] == "cuad_pdf" and out["n_queries"] == 2 * len(cuad.QUESTIONS)
    printed = sorted((tmp_path / "cache").glob("cuad_pdf-*/docs/*.pdf"))
    assert len(printed) == 2 and all(len(page_words(p)) >= 3 for p in printed)  # each runs over pages
    rows = {r["id"].split("::")[1] + ("@acme" if "ACME" in r["id"] else "@borealis"): r for r in out["per_query"]}
    assert rows["Governing Law@acme"]["advisor"]["clause_hit@10"] is True
    ours = out["systems"]["advisor"]
    cited = [ok for r in out["per_query"] for ok in r["advisor"].get("pages", [])]
    assert ours["page_citations"] == len(cited) > 0
    assert ours["page_accuracy"] == sum(cited) / len(cited) == 1.0
    assert "page_accuracy" not in out["systems"]["naive-baseline"]


def test_pdf_corpus_is_rewritten_only_when_a_document_changes(tmp_path: Path) -> None:
    docs = [CorpusDoc("c1", "Contract One", "First paragraph.\nSecond paragraph."), CorpusDoc("c2", "Two", "Text.")]
    paths = write_corpus(docs, tmp_path, "pdf")
    assert [p.suffix for p in paths] == [".pdf", ".pdf"]
    meta = yaml.safe_load(paths[0].with_name(paths[0].name + ".meta.yaml").read_text())
    assert meta == {"id": "c1", "title": "Contract One", "audience": "public", "doc_type": "article"}
    stamp = paths[0].stat().st_mtime_ns
    assert write_corpus(docs, tmp_path, "pdf") == paths and paths[0].stat().st_mtime_ns == stamp
    write_corpus(docs[:1], tmp_path, "pdf")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([paths[0].name, paths[0].name + ".meta.yaml"])
    with pytest.raises(ValueError, match="'md' or 'pdf'"):
        write_corpus(docs, tmp_path, "docx")


def test_page_start_check_follows_a_passage_across_the_page_break() -> None:
    page, after = "the term ends on 1 may".split(), "2030 unless renewed".split()
    assert starts_on("The term ends on 1 May 2030.", page, after)
    assert starts_on("ends on 1 May 2030 unless renewed", page, after)
    assert not starts_on("unless renewed by the parties", page, after)
    assert not starts_on("", page, after)


def test_clause_match_rule() -> None:
    clause = ("Licensor hereby grants to Licensee an exclusive, royalty-bearing license under the Licensed "
              "Patents to develop and commercialize the Licensed Products.")
    assert cuad.clause_matches("ARTICLE 2. " + clause.upper().replace(",", "") + " More text.", clause)
    half = " ".join(clause.split()[:12])  # 12 of 21 words: more than half survives a chunk boundary
    assert cuad.clause_matches(f"... {half}", clause)
    assert not cuad.clause_matches("Licensor hereby grants to Licensee a licence.", clause)
    assert cuad.clause_matches("governed by the laws of Delaware", "Delaware")
    assert not cuad.clause_matches("the State of New York", "State of Delaware")


def test_sampling_is_stable_and_nested() -> None:
    items = [str(i) for i in range(100)]
    small = stable_sample("suite", items, 10, key=str)
    assert small == stable_sample("suite", list(reversed(items)), 10, key=str)
    assert stable_sample("suite", items, 30, key=str)[:10] == small
    assert stable_sample("other", items, 10, key=str) != small
    with pytest.raises(ValueError, match="sample must be greater than 0, got 0"):
        stable_sample("suite", items, 0, key=str)


def test_refusal_metrics_and_answer_containment() -> None:
    assert refusal_metrics([True, True, False, False], [True, False, True, False]) == {
        "refusal_precision": 0.5, "refusal_recall": 0.5, "refusal_f1": 0.5, "refusal_rate": 0.5}
    assert refusal_metrics([True, False, False, False], [True, True, False, False])["refusal_f1"] == 0.6667
    assert refused_when_first([True, False, True], [True, True, False]) == {
        "evidence_first": 2.0, "refused_when_evidence_first": 0.5}
    assert refusal_metrics([False, False], [True, False])["refusal_precision"] == 0.0
    assert auroc([0.9, 0.1, 0.5], [True, False, True]) == 1.0
    assert auroc([0.2, 0.2, 0.9], [True, False, False]) == 0.25
    assert auroc([0.3], [True]) == 0.0
    assert contains_answer("It was in the 10th and 11th centuries [1].", ["10th and 11th centuries"])
    assert not contains_answer("The year 1100 saw it.", ["110"])


REAL = default_datasets_dir()


@pytest.mark.skipif(not REAL.is_dir(), reason=f"shared datasets not found at {REAL}")
def test_the_shared_datasets_parse_as_the_suites_expect() -> None:
    if (REAL / "squad_v2").is_dir():
        docs, questions = squad_v2.load(REAL / squad_v2.FILE)
        assert len(docs) == 646 and len(questions) == 6078
        assert sum(not q["answerable"] for q in questions) == 3168
    if (REAL / "multihop_rag_sample").is_dir():
        docs, questions = multihop.load(REAL / multihop.FOLDER)
        assert len(questions) == 500 and sum(q["null"] for q in questions) == 71
        assert len(docs) == 326
    if (REAL / "scifact").is_dir():
        qrels, _ = scifact.load_qrels(REAL / "scifact" / "qrels")
        assert len(qrels) >= 300
    if (REAL / "pubmedqa").is_dir():
        docs, questions = pubmedqa.load(REAL / pubmedqa.FILE)
        assert len(questions) == 1000 and len(docs) == sum(q["answerable"] for q in questions)
        assert 0.1 < 1 - len(docs) / 1000 < 0.2  # about HELD_OUT of the studies left out
    if (REAL / "cuad").is_dir():
        contracts, questions = cuad.load(REAL / cuad.FOLDER)
        assert len(contracts) > 100 and len(questions) == len(contracts) * len(cuad.QUESTIONS)
        assert 0.2 < sum(q["present"] for q in questions) / len(questions) < 0.6


def test_questions_held_apart_for_calibration_are_never_the_measured_ones() -> None:
    items = [{"id": f"q{i}", "question": f"question {i}", "ok": i % 3 != 0} for i in range(400)]
    measured = {q["id"] for q in stable_sample("suite", items, 150, key=lambda q: q["id"])}
    held = held_apart("suite", items, 150, lambda q: q["ok"])
    assert len(held) == CALIBRATION_QUESTIONS
    assert not {h["question"].replace("question ", "q") for h in held} & measured
    assert all(h["answerable"] == (int(h["question"].split()[1]) % 3 != 0) and h["audience"] == "public"
               for h in held)
    assert held_apart("suite", items, None, lambda q: q["ok"]) == []
    assert held_apart("suite", items, 150, lambda q: q["ok"], "documents") == []
