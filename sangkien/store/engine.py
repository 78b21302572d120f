"""Opening the store: the database URL, the engine (SQLite pragmas), and Alembic migrations on first use."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine.interfaces import DBAPIConnection
    from sqlalchemy.pool import ConnectionPoolEntry

from sangkien.errors import UserError
from sangkien.store.tables import DEFAULT_URL


def database_url(cli_value: str | None = None) -> str:
    """The database URL: ``--db``, else ``SANGKIEN_DB_URL``, else ``sqlite:///sangkien.db``."""
    return cli_value or os.environ.get("SANGKIEN_DB_URL") or DEFAULT_URL


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
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


def _alembic_config(engine: Engine) -> Config:
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
        shown = engine.url.render_as_string(hide_password=True)
        raise UserError(f"cannot open the database {shown}: {reason}") from None
    return engine

