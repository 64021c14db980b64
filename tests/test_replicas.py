"""Two API replicas on shared stores: the catalog and records in a real PostgreSQL, the vectors in a real `chroma
run`; each replica has its own, initially empty, data dir (only caches live there)."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.conftest import REPO, new_database, running_server

ADMIN = "replica-admin-key-0123456789abcdef"
CONSULTANT = "replica-consultant-key-0123456789ab"


def _env(tmp_path: Path, name: str, chroma: str, database: str, collection: str) -> dict[str, str]:
    return {**os.environ, "ADVISOR_DATA_DIR": str(tmp_path / name), "ADVISOR_EMBEDDER": "hash",
            "ADVISOR_MIN_EVIDENCE_SCORE": "0.25", "PYTHONPATH": str(REPO), "ADVISOR_UI_ENABLED": "false",
            "ADVISOR_CHROMA_URL": chroma, "ADVISOR_COLLECTION": collection, "ADVISOR_DATABASE_URL": database,
            "ADVISOR_API_KEYS": json.dumps({ADMIN: "admin", CONSULTANT: "consultant"})}


def _within(seconds: float, check: Callable[[], bool]) -> float | None:
    """How long `check` took to come true (None: not within `seconds`)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if check():
            return time.monotonic() - started
        time.sleep(0.1)
    return None


def _cites(url: str, doc_id: str) -> bool:
    answer = httpx.post(url + "/v1/ask", json={"question": "What did Lotus Biologics license to Heron?"},
                        headers={"X-API-Key": CONSULTANT}, timeout=30).json()
    return doc_id in {c["doc_id"] for c in answer.get("citations", [])}


def test_an_ingest_or_delete_through_one_replica_is_seen_by_the_other(
        postgres: str, chroma_server: str, tmp_path: Path) -> None:
    database = new_database(postgres, f"replicas_{uuid.uuid4().hex[:8]}")
    collection = f"replicas_{uuid.uuid4().hex[:8]}"
    a_env = _env(tmp_path, "a", chroma_server, database, collection)
    b_env = _env(tmp_path, "b", chroma_server, database, collection)
    note = b"---\ntitle: Lotus note\ndoc_id: lotus-note\naudience: internal\npublished: 2025-05-01\n---\n" \
           b"Lotus Biologics licensed its bispecific antibody to Heron for $75m upfront in May 2025.\n"
    with running_server(a_env, tmp_path / "a.log") as (a, _), running_server(b_env, tmp_path / "b.log") as (b, _):
        started = time.monotonic()
        assert not list((tmp_path / "b").glob("**/catalog.sqlite3"))  # B keeps no catalog of its own
        done = httpx.post(a + "/v1/ingest", files={"files": ("lotus-note.md", note, "text/markdown")},
                          headers={"X-API-Key": ADMIN}, timeout=60)
        assert done.status_code == 200 and done.json()["new"] == 1
        seen_by_b = _within(2.0, lambda: _cites(b, "lotus-note"))
        gone = httpx.delete(b + "/v1/documents/lotus-note", headers={"X-API-Key": ADMIN}, timeout=60)
        assert gone.status_code == 200
        gone_from_a = _within(2.0, lambda: not _cites(a, "lotus-note"))

        # two ingests at once, through both replicas: one writes, the other is told to retry; never interleaved
        results: dict[str, httpx.Response] = {}

        def upload(name: str, url: str) -> None:
            body = note.replace(b"lotus-note", f"note-{name}".encode()) * 1
            results[name] = httpx.post(url + "/v1/ingest", headers={"X-API-Key": ADMIN}, timeout=120,
                                       files={"files": (f"note-{name}.md", body * 40, "text/markdown")})
        threads = [threading.Thread(target=upload, args=(n, u)) for n, u in (("a", a), ("b", b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(r.status_code for r in results.values())
        health = httpx.get(b + "/healthz").json()
    assert seen_by_b is not None, "replica B did not cite the document ingested through A within 2 s"
    assert gone_from_a is not None, "replica A still cited the document deleted through B after 2 s"
    assert statuses in ([200, 200], [200, 409])
    refused = [r for r in results.values() if r.status_code == 409]
    assert all("retry" in r.json()["error"] for r in refused)
    assert health["documents"] == 2 - len(refused)
    print(f"B saw A's ingest after {seen_by_b:.2f} s; A saw B's delete after {gone_from_a:.2f} s; "
          f"concurrent ingests {statuses}; {time.monotonic() - started:.1f} s in all")
