"""Bulk paths for the hot stages: COPY on PostgreSQL, executemany on SQLite, whole-table rewrites,
temporary id sets, and frames read and written in chunks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

if TYPE_CHECKING:
    import pandas as pd



# --- bulk paths -------------------------------------------------------------------------
# The hot stages move hundreds of thousands of rows; SQLAlchemy's per-row parameter
# handling costs more than the database. These helpers go through the driver instead:
# COPY on PostgreSQL, executemany on SQLite. Values must already be plain: str, int,
# float, bool or None, with dates as ISO text (see ``sql_timestamp_text``).

def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _driver_connection(conn: Connection) -> DBAPIConnection:
    """The driver's connection under ``conn``: never None while ``conn`` is open (``conn.connection``
    revalidates an invalidated one or raises)."""
    raw = conn.connection.dbapi_connection
    assert raw is not None, "an open Connection holds a driver connection"
    return raw


def sql_timestamp_text(conn: Connection, aware: bool) -> str:
    """The strftime format for a timestamp column written through the bulk paths."""
    base = "%Y-%m-%d %H:%M:%S.%f"
    return base + "+00:00" if aware and conn.dialect.name == "postgresql" else base


class day_number(sa.sql.functions.FunctionElement):  # lower case: used like sa.func.*
    """A date column as its day number since 1970-01-01 (an integer; NULL stays NULL).

    Reading millions of dates as ISO text makes a string per value and then parses it
    (``pd.to_datetime``); a day number arrives as an int and becomes a date by arithmetic
    (at 2 M records: 0.9 s less, and 200 MB less of the frame's peak)."""

    type = sa.Integer()
    inherit_cache = True


@compiles(day_number)
def _day_number_sqlite(element: day_number, compiler: SQLCompiler, **kw: Any) -> str:
    # julianday of a date is exactly n + 0.5: the difference is a whole number
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 2440587.5 AS INTEGER)"


@compiles(day_number, "postgresql")
def _day_number_postgresql(element: day_number, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(({compiler.process(element.clauses, **kw)}) - DATE '1970-01-01')"


def dates_from_day_numbers(values: pd.Series) -> pd.Series:
    """:class:`day_number` values (ints, None for a missing date) as ``datetime64[us]``."""
    import numpy as np
    import pandas as pd

    days = pd.to_numeric(values).astype(np.float64)
    return pd.to_datetime(days, unit="D").astype("datetime64[us]")


def bulk_insert(conn: Connection, table: sa.Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) inside the caller's transaction."""
    cursor = _driver_connection(conn).cursor()
    try:
        if conn.dialect.name == "postgresql":
            with cursor.copy(f'COPY "{table.name}" ({_quoted(columns)}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            insert = f'INSERT INTO "{table.name}" ({_quoted(columns)}) VALUES ({marks})'
            cursor.executemany(insert, rows)  # type: ignore[arg-type]  # sqlite3 takes any iterable; DBAPICursor says Sequence
    finally:
        cursor.close()


def bulk_update(conn: Connection, table: sa.Table, set_columns: Sequence[str], key_columns: Sequence[str],
                rows: Iterable[Sequence[Any]]) -> None:
    """UPDATE ``table`` SET ``set_columns`` for each row of (*set values, *key values)."""
    cursor = _driver_connection(conn).cursor()
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
            update = f'UPDATE "{table.name}" SET {sets} WHERE {keys}'
            cursor.executemany(update, rows)  # type: ignore[arg-type]  # sqlite3 takes any iterable; DBAPICursor says Sequence
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
        raw = _driver_connection(conn)
        if sqlite:  # a no-op inside a transaction: set before it begins
            raw.execute("PRAGMA foreign_keys=OFF")
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
                raw.execute("PRAGMA foreign_keys=ON")


def id_set(conn: Connection, name: str, values: Iterable[int]) -> sa.TableClause:
    """A temporary table ``name`` holding the distinct integers ``values`` (column ``id``), for
    ``column.in_(sa.select(t.c.id))``: one statement for any number of ids, where an IN list of
    literals costs SQLAlchemy a bound parameter each. Lives until the transaction ends (PostgreSQL)
    or is refilled by the next call (SQLite)."""
    ids = sorted({int(v) for v in values})
    cursor = _driver_connection(conn).cursor()
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


def frame_rows(frame: pd.DataFrame, chunk: int = 100_000) -> Iterator[tuple[Any, ...]]:
    """Plain tuples from a frame for the bulk paths: missing values as None, numpy scalars as Python.

    Made ``chunk`` rows at a time: a row's Python values cost several times its frame's bytes
    (1.4 M initiatives made all at once held about 0.5 GB more at the full resolution's peak).
    """
    for start in range(0, len(frame), chunk):
        part = frame.iloc[start:start + chunk]
        yield from zip(*[part[c].astype(object).where(part[c].notna(), None).tolist() for c in part.columns],
                       strict=False)


def read_frame(conn: Connection, query: sa.Select, columns: Sequence[str],
               convert: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
               chunk: int = 200_000) -> pd.DataFrame:
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
        parts: list[pd.DataFrame] = []
        while True:
            rows = cursor.fetchmany(chunk) if cursor is not None else []
            if rows or not parts:
                parts.append(convert(pd.DataFrame.from_records(rows, columns=list(columns))))
            if len(rows) < chunk:
                break
    finally:
        result.close()
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def read_ints(conn: Connection, query: sa.Select, width: int, chunk: int = 500_000) -> Any:
    """The rows of ``query``, whose ``width`` columns are all integers (no NULL), as an (n, width) int64 array.

    Straight from the driver into numpy, without a DataFrame's inference of object columns (a
    second or more on a few million rows)."""
    import itertools

    import numpy as np

    result = conn.execute(query)
    cursor = result.cursor
    parts = []
    while cursor is not None:
        rows = cursor.fetchmany(chunk)
        if rows:
            parts.append(np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64, count=width * len(rows)))
        if len(rows) < chunk:
            break
    return (np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)).reshape(-1, width)

