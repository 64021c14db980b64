"""Incremental, idempotent, crash-safe ingestion against a real embedded Chroma."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.advisor import Advisor
from advisor.config import Settings
from tests.conftest import REPO, write_article


def _advisor(settings: Settings) -> Advisor:
    return Advisor.from_settings(settings)


def _state(settings: Settings) -> tuple[set[str], set[str], list[str], dict[str, int]]:
    """(vector ids, catalog ids, lexical ids, catalog counts) of a fresh view of the index."""
    advisor = _advisor(settings)
    store = advisor.store
    return store.vectors.ids(), store.catalog.all_chunk_ids(), sorted(store.lexical().ids), store.catalog.counts()


def test_first_run_indexes_everything_and_rerun_embeds_nothing(settings: Settings, mini_corpus: Path) -> None:
    advisor = _advisor(settings)
    first = advisor.ingest([mini_corpus])
    assert first.ok, first.failed
    assert first.new == 5 and first.chunks_added > 0
    assert advisor.embedder.texts_embedded == first.chunks_added  # type: ignore[attr-defined]

    again = _advisor(settings)
    second = again.ingest([mini_corpus])
    assert again.embedder.texts_embedded == 0  # type: ignore[attr-defined]
    assert (second.unchanged, second.chunks_added, second.chunks_removed) == (5, 0, 0)
    vectors, catalog, lexical, _ = _state(settings)
    assert vectors == catalog == set(lexical)


def test_changed_file_replaces_its_chunks(settings: Settings, mini_corpus: Path) -> None:
    advisor = _advisor(settings)
    advisor.ingest([mini_corpus])
    before = advisor.store.catalog.chunk_ids_for_hash
    path = mini_corpus / "articles" / "biosecure.md"
    path.write_text(path.read_text().replace("11 December 2025", "18 December 2025"))
    report = _advisor(settings).ingest([mini_corpus])
    assert report.changed == 1 and report.chunks_added >= 1 and report.chunks_removed >= 1
    vectors, catalog, lexical, _ = _state(settings)
    assert vectors == catalog == set(lexical)
    texts = [c.text for c in _advisor(settings).store.catalog.iter_chunks()]
    assert any("18 December 2025" in t for t in texts)
    assert not any("11 December 2025" in t for t in texts)
    assert before  # the catalog API used above exists


def test_editing_one_deal_row_reembeds_only_that_row(settings: Settings, mini_corpus: Path) -> None:
    _advisor(settings).ingest([mini_corpus])
    deals = mini_corpus / "deals" / "deals.csv"
    deals.write_text(deals.read_text().replace("1250,4800,6050", "1250,4750,6000"))
    advisor = _advisor(settings)
    report = advisor.ingest([mini_corpus])
    assert report.changed == 1
    assert advisor.embedder.texts_embedded == 1  # type: ignore[attr-defined]
    assert report.chunks_removed == 1


def test_prune_removes_chunks_of_deleted_files(settings: Settings, mini_corpus: Path) -> None:
    _advisor(settings).ingest([mini_corpus])
    (mini_corpus / "articles" / "japan-pmda.md").unlink()
    kept = _advisor(settings).ingest([mini_corpus])
    assert kept.missing == ["japan-pmda.md"] or kept.missing[0].endswith("japan-pmda.md")
    assert _state(settings)[3]["documents"] == 5 + 1  # nothing removed without --prune (2 deals + 4 articles)
    pruned = _advisor(settings).ingest([mini_corpus], prune=True)
    assert pruned.removed == 1 and pruned.chunks_removed >= 1
    vectors, catalog, lexical, counts = _state(settings)
    assert vectors == catalog == set(lexical)
    assert counts["documents"] == 5


def test_identical_content_under_two_paths_is_stored_once(settings: Settings, mini_corpus: Path) -> None:
    _advisor(settings).ingest([mini_corpus])
    before = _state(settings)[3]["chunks"]
    shutil.copy(mini_corpus / "articles" / "az-cspc.md", mini_corpus / "articles" / "az-cspc-copy.md")
    report = _advisor(settings).ingest([mini_corpus])
    assert report.duplicates == 1 and report.chunks_added == 0
    assert _state(settings)[3]["chunks"] == before


def test_corrupt_pdf_is_reported_and_the_rest_ingests(settings: Settings, mini_corpus: Path) -> None:
    (mini_corpus / "articles" / "broken.pdf").write_bytes(b"%PDF-1.7\ngarbage that is not a pdf")
    report = _advisor(settings).ingest([mini_corpus])
    assert not report.ok
    assert [p for p, _ in report.failed] == [str(mini_corpus / "articles" / "broken.pdf")]
    assert "not a readable PDF" in report.failed[0][1]
    assert report.new == 5


def test_an_id_owned_by_one_file_cannot_be_taken_by_another(settings: Settings, mini_corpus: Path) -> None:
    """A later file reusing an indexed id is refused, naming the owner; the owner's document stays as it was."""
    advisor = _advisor(settings)
    advisor.ingest([mini_corpus])
    original = advisor.store.catalog.document("az-cspc")
    other = mini_corpus / "aa-first-in-order"
    other.mkdir()
    write_article(other, "az-cspc", "A different text that reuses the same id as another article.",
                  audience="internal")
    report = advisor.ingest([mini_corpus])
    refused = [e for e in report.record_errors if "'az-cspc'" in e]
    assert len(refused) == 1 and "aa-first-in-order" in refused[0] and "already used by" in refused[0]
    assert advisor.store.catalog.document("az-cspc") == original


def test_an_id_two_new_files_both_bring_is_refused_in_both(settings: Settings, mini_corpus: Path) -> None:
    """On a fresh index neither file owns the id: path order must not decide (it let a new internal file displace
    a public record), so neither is indexed and each error names the other file."""
    other = mini_corpus / "aa-first-in-order"
    other.mkdir()
    write_article(other, "az-cspc", "A different text that reuses the same id as another article.",
                  audience="internal")
    advisor = _advisor(settings)
    report = advisor.ingest([mini_corpus])
    refused = sorted(e for e in report.record_errors if "'az-cspc'" in e)
    assert len(refused) == 2 and all("also used by" in e for e in refused)
    assert "articles" in refused[0].split("also used by")[1] and "aa-first" in refused[1].split("also used by")[1]
    assert advisor.store.catalog.document("az-cspc") is None and not report.ok


def _cli(args: list[str], settings: Settings, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "ADVISOR_DATA_DIR": str(settings.data_dir), "ADVISOR_EMBEDDER": "hash",
                "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "advisor.cli", *args], capture_output=True, text=True,
                          env=full_env, cwd=REPO, timeout=300)


def test_cli_exit_status_and_summary(settings: Settings, mini_corpus: Path) -> None:
    (mini_corpus / "articles" / "broken.pdf").write_bytes(b"not a pdf at all")
    result = _cli(["ingest", str(mini_corpus)], settings)
    assert result.returncode == 1
    assert "broken.pdf" in result.stderr and "failed" in result.stderr
    assert "5 new" in result.stdout and "1 failed" in result.stdout


@pytest.mark.parametrize("event,count", [("after_upsert", 1), ("after_file", 2)])
def test_killed_run_is_repaired_to_the_uninterrupted_state(tmp_path: Path, mini_corpus: Path, event: str,
                                                           count: int) -> None:
    # several small batches so the kill lands between them
    extra = mini_corpus / "articles"
    for i in range(12):
        write_article(extra, f"note-{i}", f"Note {i} discusses licensing deal number {i} in some detail. " * 30)
    clean = Settings(data_dir=tmp_path / "clean", embedder="hash")
    crashed = Settings(data_dir=tmp_path / "crashed", embedder="hash")
    env = {"ADVISOR_CHUNK_TARGET_WORDS": "60", "ADVISOR_CHUNK_MAX_WORDS": "80"}
    assert _cli(["ingest", str(mini_corpus)], clean, env).returncode == 0

    killed = _cli(["ingest", str(mini_corpus)], crashed, {**env, "ADVISOR_FAULT_KILL": f"{event}:{count}"})
    assert killed.returncode == -9, killed.stderr
    rerun = _cli(["ingest", str(mini_corpus)], crashed, env)
    assert rerun.returncode == 0, rerun.stderr
    assert "repaired" in rerun.stderr

    small = {"chunk_target_words": 60, "chunk_max_words": 80}
    a = _state(clean.model_copy(update=small))
    b = _state(crashed.model_copy(update=small))
    assert a[0] == b[0] == a[1] == b[1] == set(a[2]) == set(b[2])  # same ids everywhere, no duplicates
    assert a[3] == b[3]


def test_a_large_file_is_committed_in_batches_and_a_late_kill_loses_one_batch(tmp_path: Path) -> None:
    """One file of ~60 chunks in batches of 8: killed after the 4th batch's vectors are stored (the file not yet
    committed), the re-run embeds only the chunks no batch stored, and the index equals an uninterrupted run."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    body = "\n\n".join(f"Paragraph {i} sets out how licensing term {i} was negotiated between the parties. " * 3
                        for i in range(60))
    write_article(corpus, "long-report", body)
    env = {"ADVISOR_CHUNK_TARGET_WORDS": "40", "ADVISOR_CHUNK_MAX_WORDS": "50", "ADVISOR_INGEST_BATCH_CHUNKS": "8"}
    clean = Settings(data_dir=tmp_path / "clean", embedder="hash")
    crashed = Settings(data_dir=tmp_path / "crashed", embedder="hash")
    first = _cli(["ingest", str(corpus)], clean, env)
    assert first.returncode == 0, first.stderr
    total = int(first.stdout.split(" embedded")[0].rsplit(" ", 1)[1])
    assert total > 40

    killed = _cli(["ingest", str(corpus)], crashed, {**env, "ADVISOR_FAULT_KILL": "after_upsert:4"})
    assert killed.returncode == -9
    rerun = _cli(["ingest", str(corpus)], crashed, env)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{total - 32} embedded, 32 reused from an interrupted run" in rerun.stdout

    small = {"chunk_target_words": 40, "chunk_max_words": 50}
    a = _state(clean.model_copy(update=small))
    b = _state(crashed.model_copy(update=small))
    assert a[0] == b[0] == a[1] == b[1] == set(a[2]) == set(b[2])
    assert a[3] == b[3]


def test_a_file_over_the_size_limit_is_refused_with_what_to_do(settings: Settings, mini_corpus: Path) -> None:
    big = mini_corpus / "articles" / "huge.txt"
    big.write_text("A sentence about licensing. " * 4000)
    report = Advisor.from_settings(settings.model_copy(update={"max_file_bytes": 100_000})).ingest([mini_corpus])
    reasons = dict(report.failed)
    assert "over the 100,000-byte limit" in reasons[str(big)] and "ADVISOR_MAX_FILE_BYTES" in reasons[str(big)]
    assert report.new == 5  # the rest of the corpus is indexed


def test_a_corpus_under_a_hidden_folder_is_read_but_hidden_files_inside_it_are_not(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from advisor.advisor import Advisor
    from tests.conftest import write_article

    root = tmp_path / ".cache" / "corpus"
    (root / ".drafts").mkdir(parents=True)
    write_article(root, "visible", "AstraZeneca agreed a deal with CSPC in June 2025 worth up to $5.3bn.")
    write_article(root / ".drafts", "draft", "An unpublished draft about a rumoured deal in 2026.")
    report = Advisor.from_settings(settings).ingest([root])
    assert report.ok and report.new == 1  # the article, not the hidden draft


def test_a_read_document_is_current_after_an_edit_here_or_in_another_process(settings: Settings,
                                                                             tmp_path: Path) -> None:
    from advisor.index.catalog import Catalog

    corpus = tmp_path / "edits"
    corpus.mkdir()
    path = write_article(corpus, "note", "Celltrion agreed to buy a plant in New Jersey for about $330m.")
    advisor = _advisor(settings)
    advisor.ingest([corpus])
    assert "$330m" in advisor.store.catalog.document("note").text  # type: ignore[union-attr]
    path.write_text(path.read_text().replace("$330m", "$331m"))
    advisor.ingest([corpus])  # this process's own write: seen at once
    assert "$331m" in advisor.store.catalog.document("note").text  # type: ignore[union-attr]

    reader = Catalog(settings.index_dir / "catalog.sqlite3")  # a server process reading the same index
    reader.RECHECK_S = 0.0
    assert "$331m" in reader.document("note").text  # type: ignore[union-attr]
    path.unlink()
    advisor.ingest([corpus], prune=True)
    assert reader.document("note") is None  # another process's delete: seen once the generation is re-read
