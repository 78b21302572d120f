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


PASSWORD_VARIABLE = "SANGKIEN_DB_PASSWORD"


def store_reference(url: str) -> str:
    """What may travel as a parameter (to a flow, a task, a child flow run): ``url`` without its password.

    ``resolve_store`` puts the password back from the environment where the flow runs."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        return url
    # URL.set() ignores None, so the tuple's own _replace clears the password
    return parsed._replace(password=None).render_as_string(hide_password=False) if parsed.password else url


def _password(url: str) -> str | None:
    try:
        return sa.engine.make_url(url).password
    except sa.exc.ArgumentError:
        return None


def resolve_store(reference: str | None) -> str:
    """The store's URL from a reference that carries no password.

    - none: ``$SANGKIEN_DB_URL`` (else ``sqlite:///sangkien.db``);
    - ``env:VARIABLE``: the URL in that environment variable;
    - a URL without a password: the password comes from ``$SANGKIEN_DB_PASSWORD``, else from
      ``$SANGKIEN_DB_URL`` when that names the same store, else none (the driver may still find one:
      ``PGPASSWORD``, ``~/.pgpass``).
    A URL that carries a password is refused: a parameter is stored (Prefect's database, its UI), a secret
    must not be.
    """
    if not reference:
        return database_url(None)
    if reference.startswith("env:"):
        name = reference[4:]
        if not os.environ.get(name):
            raise UserError(f"the store reference {reference} names an environment variable that is not set")
        return os.environ[name]
    if _password(reference):
        raise UserError(f"the store URL {store_reference(reference)} was given with its password, which must not "
                        f"travel as a parameter: give it without the password and set ${PASSWORD_VARIABLE} where "
                        "the flow runs, or give env:VARIABLE")
    password = os.environ.get(PASSWORD_VARIABLE)
    configured = os.environ.get("SANGKIEN_DB_URL") or ""
    if not password and configured and store_reference(configured) == reference:
        password = _password(configured)
    if not password:
        return reference
    return sa.engine.make_url(reference).set(password=password).render_as_string(hide_password=False)


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

