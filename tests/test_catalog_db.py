"""The catalog's contract on SQLite and on a real PostgreSQL: what ingest writes, what retrieval and the deal
analytics read, edits, removals, the writer lock and a crash mid-ingest, through the Advisor."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from advisor.advisor import Advisor
from advisor.config import Settings
from advisor.index.catalog import Catalog, WriterBusy
from tests.conftest import REPO, new_database, write_article


@pytest.fixture(params=["sqlite", "postgresql"])
def settings_db(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    url = None
    if request.param == "postgresql":
        url = new_database(request.getfixturevalue("postgres"), f"catalog_{uuid.uuid4().hex[:8]}")
    return Settings(data_dir=tmp_path / "data", embedder="hash", min_evidence_score=0.25, database_url=url)


def test_ingest_read_edit_remove(settings_db: Settings, mini_corpus: Path) -> None:
    advisor = Advisor.from_settings(settings_db)
    report = advisor.ingest([mini_corpus])
    assert report.ok and report.new == 5
    catalog = advisor.store.catalog
    counts = catalog.counts()
    assert counts["files"] == 5 and counts["documents"] == 6 and counts["chunks"] == 6
    assert catalog.all_chunk_ids() == advisor.store.vectors.ids()
    assert catalog.document("az-cspc").meta["title"] == "Az Cspc"  # type: ignore[union-attr]
    generation, deals = catalog.documents_of_type("deal")
    assert generation == catalog.generation and sorted(d[0] for d in deals) == ["D1", "D2"]
    fields = {cid: (audience, doc_type) for cid, audience, _, doc_type, *_ in catalog.filter_fields()}
    assert fields[next(c for c in fields if c.startswith("fee-playbook#"))] == ("internal", "article")
    assert ("deal", "public", 2) in catalog.doc_stats()
    first = next(catalog.iter_chunks([c for c in catalog.all_chunk_ids() if c.startswith("az-cspc#")]))
    assert all(c.doc_id == "az-cspc" for c in catalog.next_chunks(first.chunk_id, 5))

    answer = advisor.ask("How much did AstraZeneca pay CSPC upfront?")
    assert answer.covered and "$110m" in answer.text
    assert "1.5%" not in advisor.ask("What is the Lantern Protocol success fee?").text  # public sees no internal
    assert "1.5%" in advisor.ask("What is the Lantern Protocol success fee?", audience="internal").text

    write_article(mini_corpus / "articles", "az-cspc", "AstraZeneca later paid CSPC a $50m milestone in 2026.")
    edited = advisor.ingest([mini_corpus])
    assert edited.changed == 1 and edited.chunks_removed >= 1
    assert "$50m" in advisor.ask("What milestone did AstraZeneca pay CSPC?").text
    assert advisor.indexer().delete_document("japan-pmda") > 0 and catalog.document("japan-pmda") is None
    assert catalog.all_chunk_ids() == advisor.store.vectors.ids()
    advisor.close()


def test_one_writer_at_a_time(settings_db: Settings, tmp_path: Path) -> None:
    first = Catalog(settings_db.database_url or tmp_path / "c.sqlite3")
    second = Catalog(settings_db.database_url or tmp_path / "c.sqlite3")
    lock = tmp_path / "ingest.lock"
    with first.writer(lock), pytest.raises(WriterBusy, match="wait for it to finish"), second.writer(lock):
        pass
    with second.writer(lock):  # released with the first writer
        pass
    first.close()
    second.close()


def test_a_killed_writer_is_repaired_on_the_shared_catalog(postgres: str, tmp_path: Path, mini_corpus: Path) -> None:
    """kill -9 mid-ingest against PostgreSQL: its session lock dies with it, and the re-run equals a clean run."""
    for i in range(12):
        write_article(mini_corpus / "articles", f"note-{i}", f"Note {i} discusses licensing deal {i} in detail. " * 30)
    runs = {}
    for name in ("clean", "crashed"):
        url = new_database(postgres, f"kill_{name}_{uuid.uuid4().hex[:6]}")
        env = {**os.environ, "ADVISOR_DATA_DIR": str(tmp_path / name), "ADVISOR_EMBEDDER": "hash",
               "ADVISOR_DATABASE_URL": url, "PYTHONPATH": str(REPO), "ADVISOR_CHUNK_TARGET_WORDS": "60",
               "ADVISOR_CHUNK_MAX_WORDS": "80", "ADVISOR_INGEST_BATCH_CHUNKS": "16"}
        command = [sys.executable, "-m", "advisor.cli", "ingest", str(mini_corpus)]
        if name == "crashed":
            killed = subprocess.run(command, env={**env, "ADVISOR_FAULT_KILL": "after_upsert:2"}, cwd=REPO,
                                    capture_output=True, text=True, timeout=300)
            assert killed.returncode == -9, killed.stderr
        done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        settings = Settings(data_dir=tmp_path / name, embedder="hash", database_url=url, chunk_target_words=60,
                            chunk_max_words=80)
        store = Advisor.from_settings(settings).store
        runs[name] = (store.vectors.ids(), store.catalog.all_chunk_ids(), store.catalog.counts())
    assert runs["clean"] == runs["crashed"] and runs["clean"][0] == runs["clean"][1]
