"""The store: SQLAlchemy Core tables, the engine, and migrations applied on first use.

One schema serves SQLite (the embedded default) and PostgreSQL (production).
Alembic owns the schema's history (sangkien/migrations); ``open_store`` brings any
database up to the newest revision before handing out the engine.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

if TYPE_CHECKING:
    import pandas as pd

from sangkien.errors import UserError

DEFAULT_URL = "sqlite:///sangkien.db"
SCHEMA_VERSION = 1  # of the canonical record contract, stored on every record row

metadata = sa.MetaData()

org_units = sa.Table(
    "org_units", metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("parent_code", sa.String(64), nullable=True, index=True),
    sa.Column("sector_parent_code", sa.String(64), nullable=True, index=True),
    sa.Column("valid_from", sa.Date, nullable=True),
    sa.Column("valid_to", sa.Date, nullable=True),
    sa.Column("successor_code", sa.String(64), nullable=True),  # a merged unit's counts roll into this unit
)

org_aliases = sa.Table(
    "org_aliases", metadata,
    sa.Column("unit_code", sa.String(64), sa.ForeignKey("org_units.code", ondelete="CASCADE"), primary_key=True),
    sa.Column("alias", sa.Text, primary_key=True),
    sa.Column("alias_folded", sa.Text, nullable=False, index=True),
)

phases = sa.Table(
    "phases", metadata,
    sa.Column("phase", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("counts_from", sa.Date, nullable=False),
)

quotas = sa.Table(
    "quotas", metadata,
    sa.Column("unit_code", sa.String(64), primary_key=True),  # checked against org_units on load
    sa.Column("phase", sa.Integer, primary_key=True),
    sa.Column("target", sa.BigInteger, nullable=False),
    sa.Column("basis", sa.String(32), nullable=False, server_default="valid"),
    sa.Column("assigned_by", sa.String(64), nullable=True),
)

connectors = sa.Table(
    "connectors", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

connector_state = sa.Table(
    "connector_state", metadata,
    sa.Column("connector", sa.String(64), sa.ForeignKey("connectors.name", ondelete="CASCADE"), primary_key=True),
    sa.Column("state", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

sync_runs = sa.Table(
    "sync_runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),  # running, completed, failed
    sa.Column("flow_run_id", sa.String(64), nullable=True),
    sa.Column("message", sa.Text, nullable=True),
)

sync_run_sources = sa.Table(
    "sync_run_sources", metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("sync_runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("received", sa.Integer, nullable=False, server_default="0"),
    sa.Column("new", sa.Integer, nullable=False, server_default="0"),
    sa.Column("changed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("unchanged", sa.Integer, nullable=False, server_default="0"),
    sa.Column("accepted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("ineligible", sa.Integer, nullable=False, server_default="0"),
    sa.Column("quarantined", sa.Integer, nullable=False, server_default="0"),
    sa.Column("files", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error_type", sa.String(32), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("seconds", sa.Float, nullable=True),
)

raw_records = sa.Table(
    "raw_records", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("source_record_id", sa.String(256), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),  # the row verbatim, as JSON text
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("origin", sa.Text, nullable=True),  # e.g. "export-2022-05.csv:17"
    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("run_id", sa.Integer, nullable=True),  # the run that last landed this content
    sa.Column("seen_run", sa.Integer, nullable=True, index=True),  # the last run that received it
    sa.Column("landing_problem", sa.Text, nullable=True),  # "column|check|message" when it could not be landed cleanly
    sa.Column("outcome", sa.String(16), nullable=True),  # accepted, ineligible, quarantined
    sa.Column("reason", sa.Text, nullable=True),
    sa.UniqueConstraint("source", "source_record_id", name="uq_raw_source_record"),
)

records = sa.Table(
    "records", metadata,
    sa.Column("raw_id", sa.Integer, sa.ForeignKey("raw_records.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("source", sa.String(64), nullable=False, index=True),
    sa.Column("source_record_id", sa.String(256), nullable=False),
    sa.Column("portal_id", sa.String(128), nullable=True, index=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("title_folded", sa.Text, nullable=False),
    sa.Column("authors", sa.Text, nullable=False),  # JSON list of NFC names
    sa.Column("author_keys", sa.Text, nullable=False),  # sorted folded name keys, "|"-joined
    sa.Column("submitted_by", sa.Text, nullable=True),
    sa.Column("unit_code", sa.String(64), nullable=False, index=True),
    sa.Column("unit_text", sa.Text, nullable=True),
    sa.Column("field", sa.String(32), nullable=False),
    sa.Column("field_raw", sa.Text, nullable=True),
    sa.Column("solution_type", sa.String(32), nullable=False),
    sa.Column("recognized_on", sa.Date, nullable=True),
    sa.Column("applied_on", sa.Date, nullable=False),
    sa.Column("submitted_at", sa.Date, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("status_raw", sa.Text, nullable=True),
    sa.Column("benefit_vnd", sa.Float, nullable=True),
    sa.Column("updated_at", sa.DateTime, nullable=True),
    sa.Column("phase", sa.Integer, nullable=True),
    sa.Column("eligible", sa.Boolean, nullable=False),
    sa.Column("ineligible_reason", sa.Text, nullable=True),
    sa.Column("schema_version", sa.Integer, nullable=False, server_default=str(SCHEMA_VERSION)),
)

quarantine = sa.Table(
    "quarantine", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("raw_id", sa.Integer, sa.ForeignKey("raw_records.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("source", sa.String(64), nullable=False, index=True),
    sa.Column("column", sa.String(64), nullable=False),
    sa.Column("check", sa.String(64), nullable=False),
    sa.Column("value", sa.Text, nullable=True),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("run_id", sa.Integer, nullable=True),
)

initiatives = sa.Table(
    "initiatives", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("unit_code", sa.String(64), nullable=False, index=True),
    sa.Column("phase", sa.Integer, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("portal_id", sa.String(128), nullable=True),
    sa.Column("applied_on", sa.Date, nullable=False),
    sa.Column("submitted_at", sa.Date, nullable=False),
    sa.Column("benefit_vnd", sa.Float, nullable=True),
    sa.Column("members", sa.Integer, nullable=False),
    sa.Column("match_rule", sa.String(32), nullable=False),  # what joined the members
    sa.Column("created_run", sa.Integer, nullable=True),
    sa.Column("updated_run", sa.Integer, nullable=True),
)

initiative_members = sa.Table(
    "initiative_members", metadata,
    sa.Column("raw_id", sa.Integer, sa.ForeignKey("raw_records.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("initiative_id", sa.Integer, sa.ForeignKey("initiatives.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("matched_on", sa.String(32), nullable=False),  # model, reviewer, single
)

match_links = sa.Table(  # the scored pairs that hold an initiative together: its evidence
    "match_links", metadata,
    sa.Column("raw_id_a", sa.Integer, sa.ForeignKey("raw_records.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("raw_id_b", sa.Integer, sa.ForeignKey("raw_records.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("initiative_id", sa.Integer, nullable=False, index=True),
    sa.Column("weight", sa.Float, nullable=True),  # log2-odds; null for a reviewer's link
    sa.Column("evidence", sa.Text, nullable=False),
    sa.Column("decided_by", sa.String(16), nullable=False),  # model, reviewer
    sa.Index("ix_match_links_raw_id_b", "raw_id_b"),
)

match_index = sa.Table(  # the matcher's coded arrays of every resolved record, in segments (sangkien/matchindex.py)
    "match_index", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scheme", sa.String(64), nullable=False),  # how the codes were made; another scheme means rebuild
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("created_run", sa.Integer, nullable=True),
    sa.Column("token", sa.String(32), nullable=True),  # random, per segment: names its file in the local cache
    sa.Column("payload", sa.LargeBinary, nullable=False),
)

resolve_queue = sa.Table(  # records whose outcome was decided since they were last resolved
    "resolve_queue", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("raw_id", sa.Integer, nullable=False),
)

review_pairs = sa.Table(  # pairs the model was unsure of, and what a reviewer decided
    "review_pairs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("raw_id_a", sa.Integer, sa.ForeignKey("raw_records.id", ondelete="CASCADE"), nullable=False),
    sa.Column("raw_id_b", sa.Integer, sa.ForeignKey("raw_records.id", ondelete="CASCADE"), nullable=False),
    sa.Column("weight", sa.Float, nullable=False),
    sa.Column("evidence", sa.Text, nullable=False),
    sa.Column("model_merged", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="open"),  # open, accepted, rejected
    sa.Column("created_run", sa.Integer, nullable=True),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("decided_by", sa.Text, nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("applied", sa.Boolean, nullable=False, server_default=sa.false()),  # taken into a resolution run
    sa.UniqueConstraint("raw_id_a", "raw_id_b", name="uq_review_pair"),
)

node_settings = sa.Table(
    "node_settings", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

unit_counts = sa.Table(
    "unit_counts", metadata,
    sa.Column("unit_code", sa.String(64), primary_key=True),
    sa.Column("phase", sa.Integer, primary_key=True),
    sa.Column("records", sa.Integer, nullable=False),
    sa.Column("initiatives", sa.Integer, nullable=False),
    sa.Column("valid", sa.Integer, nullable=False),
    sa.Column("pending", sa.Integer, nullable=False),
    sa.Column("rejected", sa.Integer, nullable=False),
    sa.Column("ineligible", sa.Integer, nullable=False),
    sa.Column("registrants", sa.Integer, nullable=False),
    sa.Column("benefit_vnd", sa.Float, nullable=False),
    sa.Column("run_id", sa.Integer, nullable=True),
    sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
)


def _count_columns() -> list[sa.Column]:
    return [sa.Column(name, sa.Integer, nullable=False)
            for name in ("records", "initiatives", "valid", "pending", "rejected", "ineligible", "registrants")] + [
        sa.Column("benefit_vnd", sa.Float, nullable=False)]


count_history = sa.Table(  # unit_counts of every roll-up, kept: the trend a projection is drawn from
    "count_history", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, nullable=True),
    sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    sa.Column("unit_code", sa.String(64), nullable=False),
    sa.Column("phase", sa.Integer, nullable=False),
    *_count_columns(),
    sa.Index("ix_count_history_unit_phase", "unit_code", "phase", "as_of"),
)

child_nodes = sa.Table(  # at an upper node: the nodes below allowed to push here, with their token's hash
    "child_nodes", metadata,
    sa.Column("code", sa.String(64), primary_key=True),  # the child's org unit
    sa.Column("token_hash", sa.String(128), nullable=False),
    sa.Column("token_hint", sa.String(16), nullable=False),  # the token's first characters, to tell tokens apart
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)

submissions = sa.Table(  # at an upper node: every accepted push, append-only
    "submissions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("node", sa.String(64), nullable=False),
    sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    sa.Column("idempotency_key", sa.String(128), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("receipt", sa.JSON, nullable=False),
    sa.UniqueConstraint("idempotency_key", name="uq_submission_idempotency_key"),
    sa.Index("ix_submissions_node_as_of", "node", "as_of"),
)

submission_units = sa.Table(  # a submission's counts per unit and phase, as the child computed them
    "submission_units", metadata,
    sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("unit_code", sa.String(64), primary_key=True),
    sa.Column("phase", sa.Integer, primary_key=True),
    *_count_columns(),
    sa.Column("duplicates_removed", sa.Integer, nullable=False),
)

submission_entries = sa.Table(  # a submission's initiatives: keyed hashes only, no names
    "submission_entries", metadata,
    sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("entry_no", sa.Integer, primary_key=True),
    sa.Column("unit_code", sa.String(64), nullable=False),
    sa.Column("phase", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("benefit_vnd", sa.Float, nullable=True),
    sa.Column("records", sa.Integer, nullable=False),
    sa.Column("keys", sa.Text, nullable=False),  # "|"-joined HMAC match keys
    sa.Column("people", sa.Text, nullable=False),  # "|"-joined HMAC keys of the registrants
)

submission_ineligible = sa.Table(  # records the child holds that cannot count, by the unit they name
    "submission_ineligible", metadata,
    sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("unit_code", sa.String(64), primary_key=True),
    sa.Column("phase", sa.Integer, primary_key=True),
    sa.Column("records", sa.Integer, nullable=False),
)

pushes = sa.Table(  # at a child node: every push attempted upward and what came back
    "pushes", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("upstream", sa.Text, nullable=False),
    sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    sa.Column("idempotency_key", sa.String(128), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # accepted, replayed, failed, unchanged
    sa.Column("receipt", sa.JSON, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("run_id", sa.Integer, nullable=True),
)


def database_url(cli_value: str | None = None) -> str:
    """The database URL: ``--db``, else ``SANGKIEN_DB_URL``, else ``sqlite:///sangkien.db``."""
    return cli_value or os.environ.get("SANGKIEN_DB_URL") or DEFAULT_URL


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_engine(url: str) -> Engine:
    """An engine for ``url`` with the settings the store relies on (FKs and WAL on SQLite)."""
    try:
        engine = sa.create_engine(url, future=True)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
        raise UserError(f"database URL {url!r} is not valid: {exc}; "
                        "use e.g. sqlite:///sangkien.db or postgresql+psycopg://user@host/db") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _alembic_config(engine: Engine):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema revision (a no-op when it is there)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = _alembic_config(engine)
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current != head:
        command.upgrade(config, "head")


@lru_cache(maxsize=8)
def open_store(url: str) -> Engine:
    """The engine for ``url``, its schema created or upgraded on first use.

    Raises UserError, in one line, when the database cannot be reached.
    """
    engine = create_engine(url)
    try:
        migrate(engine)
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise UserError(f"cannot open the database {engine.url.render_as_string(hide_password=True)}: {reason}") from None
    return engine


# --- bulk paths -------------------------------------------------------------------------
# The hot stages move hundreds of thousands of rows; SQLAlchemy's per-row parameter
# handling costs more than the database. These helpers go through the driver instead:
# COPY on PostgreSQL, executemany on SQLite. Values must already be plain: str, int,
# float, bool or None, with dates as ISO text (see ``sql_timestamp_text``).

def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def sql_timestamp_text(conn: Connection, aware: bool) -> str:
    """The strftime format for a timestamp column written through the bulk paths."""
    base = "%Y-%m-%d %H:%M:%S.%f"
    return base + "+00:00" if aware and conn.dialect.name == "postgresql" else base


def bulk_insert(conn: Connection, table: sa.Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) inside the caller's transaction."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name == "postgresql":
            with cursor.copy(f'COPY "{table.name}" ({_quoted(columns)}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            cursor.executemany(f'INSERT INTO "{table.name}" ({_quoted(columns)}) VALUES ({marks})', rows)
    finally:
        cursor.close()


def bulk_update(conn: Connection, table: sa.Table, set_columns: Sequence[str], key_columns: Sequence[str],
                rows: Iterable[Sequence[Any]]) -> None:
    """UPDATE ``table`` SET ``set_columns`` for each row of (*set values, *key values)."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name == "postgresql":
            columns = [*set_columns, *key_columns]
            # made afresh: an earlier update of this transaction may have set other columns
            cursor.execute(f'DROP TABLE IF EXISTS pg_temp."_bulk_{table.name}"')
            cursor.execute(f'CREATE TEMP TABLE "_bulk_{table.name}" ON COMMIT DROP AS '
                           f'SELECT {_quoted(columns)} FROM "{table.name}" WITH NO DATA')
            with cursor.copy(f'COPY "_bulk_{table.name}" ({_quoted(columns)}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
            sets = ", ".join(f'"{c}" = b."{c}"' for c in set_columns)
            keys = " AND ".join(f't."{c}" = b."{c}"' for c in key_columns)
            cursor.execute(f'UPDATE "{table.name}" AS t SET {sets} FROM "_bulk_{table.name}" AS b WHERE {keys}')
        else:
            sets = ", ".join(f'"{c}" = ?' for c in set_columns)
            keys = " AND ".join(f'"{c}" = ?' for c in key_columns)
            cursor.executemany(f'UPDATE "{table.name}" SET {sets} WHERE {keys}', rows)
    finally:
        cursor.close()


@contextmanager
def rewriting(engine: Engine, tables: Sequence[sa.Table]) -> Iterator[Connection]:
    """A transaction (committed at the end) that empties ``tables`` and fills them again whole.

    On SQLite, two things a bulk load does not need are set aside for it (a full resolution at
    2 M records: about 9 s less):
    - the tables' secondary indexes are dropped and built again at the end, one sort each
      instead of a B-tree insert per row in random key order. SQLite's DDL is transactional: if
      the transaction rolls back, the indexes are back as they were, and readers on other
      connections keep seeing them all along (WAL snapshots);
    - foreign-key checks are off for this connection until the transaction ends. The caller
      vouches for every reference it writes (rows built from records read, and parents written,
      in the same run; raw records are never deleted). Deleting a parent cascades to nothing
      meanwhile: empty children first.
    On PostgreSQL, where a DROP INDEX would lock readers out until commit, this is a plain transaction.
    """
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        raw = conn.connection.dbapi_connection
        if sqlite:  # a no-op inside a transaction: set before it begins
            raw.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with conn.begin():
                indexes = [ix for table in tables for ix in table.indexes] if sqlite else []
                for ix in indexes:
                    conn.exec_driver_sql(f'DROP INDEX IF EXISTS "{ix.name}"')
                for table in tables:
                    conn.execute(table.delete())
                yield conn
                for ix in indexes:
                    ix.create(conn)
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def id_set(conn: Connection, name: str, values: Iterable[int]) -> sa.Table:
    """A temporary table ``name`` holding the distinct integers ``values`` (column ``id``), for
    ``column.in_(sa.select(t.c.id))``: one statement for any number of ids, where an IN list of
    literals costs SQLAlchemy a bound parameter each. Lives until the transaction ends (PostgreSQL)
    or is refilled by the next call (SQLite)."""
    ids = sorted({int(v) for v in values})
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name == "postgresql":
            cursor.execute(f'CREATE TEMP TABLE IF NOT EXISTS "{name}" (id bigint PRIMARY KEY) ON COMMIT DROP')
            cursor.execute(f'TRUNCATE "{name}"')
            with cursor.copy(f'COPY "{name}" (id) FROM STDIN') as copy:
                for v in ids:
                    copy.write_row((v,))
            cursor.execute(f'ANALYZE "{name}"')
        else:
            cursor.execute(f'CREATE TEMP TABLE IF NOT EXISTS "{name}" (id INTEGER PRIMARY KEY)')
            cursor.execute(f'DELETE FROM "{name}"')
            cursor.executemany(f'INSERT INTO "{name}" (id) VALUES (?)', [(v,) for v in ids])
    finally:
        cursor.close()
    return sa.table(name, sa.column("id", sa.Integer))


def frame_rows(frame: "pd.DataFrame", chunk: int = 100_000) -> Iterator[tuple[Any, ...]]:
    """Plain tuples from a frame for the bulk paths: missing values as None, numpy scalars as Python.

    Made ``chunk`` rows at a time: a row's Python values cost several times its frame's bytes
    (1.4 M initiatives made all at once held about 0.5 GB more at the full resolution's peak).
    """
    for start in range(0, len(frame), chunk):
        part = frame.iloc[start:start + chunk]
        yield from zip(*[part[c].astype(object).where(part[c].notna(), None).tolist() for c in part.columns])


def read_frame(conn: Connection, query: sa.Select, columns: Sequence[str],
               convert: "Callable[[pd.DataFrame], pd.DataFrame] | None" = None,
               chunk: int = 200_000) -> "pd.DataFrame":
    """The rows of ``query`` as a DataFrame, fetched straight from the driver.

    Skips SQLAlchemy's per-row result processing: dates may arrive as ISO text (SQLite)
    or date objects (PostgreSQL); pass them through ``pd.to_datetime``. ``convert``, when
    given, is applied to each ``chunk`` of rows as it arrives (say, text dates to datetimes),
    so the driver's values of one chunk at a time are alive, not those of every row; it
    should settle the dtypes, since a chunk may infer other ones (a column all None in it).
    Without it, the rows are read at once.
    """
    import pandas as pd

    result = conn.execute(query)
    cursor = result.cursor
    try:
        if convert is None:
            return pd.DataFrame.from_records(cursor.fetchall() if cursor is not None else [], columns=list(columns))
        parts = []
        while True:
            rows = cursor.fetchmany(chunk) if cursor is not None else []
            if rows or not parts:
                parts.append(convert(pd.DataFrame.from_records(rows, columns=list(columns))))
            if len(rows) < chunk:
                break
    finally:
        result.close()
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
