"""One database for shared state: SQLite under the data dir by default, PostgreSQL with ADVISOR_DATABASE_URL.

Engines come from SQLAlchemy (Core only); the schema is created and changed by numbered migrations, recorded in
a `schema_version` table and applied at start-up or by `advisor db upgrade`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    TextClause,
    create_engine,
    event,
    text,
)

RECORDS = MetaData()
Table("conversations", RECORDS, Column("id", Text, primary_key=True), Column("created", Float, nullable=False),
      Column("audience", Text, nullable=False), Column("role", Text, nullable=False),
      Column("client", Text, nullable=False, server_default=""))
Table("answers", RECORDS, Column("id", Text, primary_key=True), Column("conversation_id", Text, nullable=False),
      Column("created", Float, nullable=False), Column("question", Text, nullable=False),
      Column("answer", Text, nullable=False), Index("answers_conversation", "conversation_id"))
Table("feedback", RECORDS, Column("id", Integer, primary_key=True, autoincrement=True),
      Column("answer_id", Text, nullable=False), Column("created", Float, nullable=False),
      Column("rating", Text, nullable=False), Column("reason", Text, nullable=False))
Table("corrections", RECORDS, Column("id", Text, primary_key=True), Column("answer_id", Text, nullable=False),
      Column("created", Float, nullable=False), Column("facts", Text, nullable=False),
      Column("source", Text, nullable=False), Column("uncovered", Integer, nullable=False),
      Column("note", Text, nullable=False), Column("status", Text, nullable=False, server_default="pending"),
      Column("reviewed", Float))
Table("leads", RECORDS, Column("id", Text, primary_key=True), Column("created", Float, nullable=False),
      Column("name", Text, nullable=False), Column("email", Text, nullable=False),
      Column("company", Text, nullable=False), Column("consent", Integer, nullable=False),
      Column("conversation_id", Text, nullable=False, server_default=""),
      Column("message", Text, nullable=False, server_default=""))


CATALOG = MetaData()
Table("files", CATALOG, Column("path", Text, primary_key=True), Column("content_hash", Text, nullable=False),
      Column("errors", Text, nullable=False, server_default="[]"), Index("files_hash", "content_hash"))
Table("documents", CATALOG, Column("doc_id", Text, primary_key=True), Column("content_hash", Text, nullable=False),
      Column("text", Text, nullable=False), Column("meta", Text, nullable=False),
      Column("pages", Text, nullable=False, server_default="[]"), Index("documents_hash", "content_hash"))
Table("chunks", CATALOG, Column("chunk_id", Text, primary_key=True), Column("doc_id", Text, nullable=False),
      Column("content_hash", Text, nullable=False), Column("text", Text, nullable=False),
      Column("char_start", Integer, nullable=False), Column("char_end", Integer, nullable=False),
      Column("section", Text, nullable=False), Column("meta", Text, nullable=False),
      Index("chunks_hash", "content_hash"))
Table("state", CATALOG, Column("key", Text, primary_key=True), Column("value", Text, nullable=False))


def _create(metadata: MetaData) -> Callable[[Connection], None]:
    # checkfirst: a file written before migrations existed already has these tables, with these columns
    return lambda conn: metadata.create_all(conn, checkfirst=True)


# per component, (version, what it does, how): append only; a released migration is never edited. The records and
# the catalog are separate components: one database may hold both (PostgreSQL) or each its own file (SQLite).
MIGRATIONS: dict[str, list[tuple[int, str, Callable[[Connection], None]]]] = {
    "records": [(1, "conversations, answers, feedback, corrections, leads", _create(RECORDS))],
    "catalog": [(1, "files, documents, chunks, state", _create(CATALOG))],
}


def named(sql: str, args: Sequence[Any]) -> tuple[TextClause, dict[str, Any]]:
    """A statement written with `?` placeholders (SQLite's, which the catalog and records SQL use) as a
    SQLAlchemy text clause with named parameters, for any dialect."""
    parts = sql.split("?")
    body = "".join(part + (f":p{i}" if i < len(parts) - 1 else "") for i, part in enumerate(parts))
    return text(body), {f"p{i}": value for i, value in enumerate(args)}


def database_url(url: str | None, data_dir: Path, default_file: str = "records.sqlite3") -> str:
    """A SQLAlchemy URL: postgresql:// is driven by psycopg 3; a bare path or sqlite:/// is a SQLite file."""
    url = url or str(data_dir / default_file)
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith(("postgresql+psycopg://", "sqlite://")):
        return url
    if "://" in url:
        raise ValueError(f"database URL {url!r} is not supported: use postgresql://user@host/db or a SQLite path")
    return f"sqlite:///{url}"


def engine_for(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            # WAL: readers never wait for the writer; NORMAL: consistent, a power cut may lose the last write
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def upgrade(engine: Engine, component: str = "records") -> list[int]:
    """Apply the component's migrations this database has not had, in one transaction; returns their versions.
    On PostgreSQL an advisory lock keeps two processes starting at once from applying the same one twice."""
    applied: list[int] = []
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(4711)"))
        conn.execute(text("CREATE TABLE IF NOT EXISTS schema_version (component TEXT NOT NULL, "
                          "version INTEGER NOT NULL)"))
        current = conn.execute(text("SELECT MAX(version) FROM schema_version WHERE component = :c"),
                               {"c": component}).scalar() or 0
        for number, _what, migrate in MIGRATIONS[component]:
            if number > current:
                migrate(conn)
                conn.execute(text("INSERT INTO schema_version (component, version) VALUES (:c, :v)"),
                             {"c": component, "v": number})
                applied.append(number)
    return applied


def version(engine: Engine, component: str = "records") -> int:
    with engine.connect() as conn:
        try:
            return int(conn.execute(text("SELECT MAX(version) FROM schema_version WHERE component = :c"),
                                    {"c": component}).scalar() or 0)
        except Exception:  # noqa: BLE001 - no schema_version table yet
            return 0
