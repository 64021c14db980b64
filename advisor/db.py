"""One database for shared state: SQLite under the data dir by default, PostgreSQL with ADVISOR_DATABASE_URL.

Engines come from SQLAlchemy (Core only); the schema is created and changed by numbered migrations, recorded in
a `schema_version` table and applied at start-up or by `advisor db upgrade`.
"""

from __future__ import annotations

from collections.abc import Callable
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


def _records_tables(conn: Connection) -> None:
    # checkfirst: a records file written before migrations existed already has these tables, with these columns
    RECORDS.create_all(conn, checkfirst=True)


# (version, what it does, how): append only; a released migration is never edited
MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "records: conversations, answers, feedback, corrections, leads", _records_tables),
]


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


def upgrade(engine: Engine) -> list[int]:
    """Apply the migrations this database has not had, each in its own transaction; returns their versions.
    On PostgreSQL an advisory lock keeps two processes starting at once from applying the same one twice."""
    applied: list[int] = []
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(4711)"))
        conn.execute(text("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"))
        current = conn.execute(text("SELECT MAX(version) FROM schema_version")).scalar() or 0
        for version, _what, migrate in MIGRATIONS:
            if version > current:
                migrate(conn)
                conn.execute(text("INSERT INTO schema_version (version) VALUES (:v)"), {"v": version})
                applied.append(version)
    return applied


def version(engine: Engine) -> int:
    with engine.connect() as conn:
        try:
            return int(conn.execute(text("SELECT MAX(version) FROM schema_version")).scalar() or 0)
        except Exception:  # noqa: BLE001 - no schema_version table yet
            return 0
