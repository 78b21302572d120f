"""Benchmark: ways to write landed rows into ``raw_records``, side by side, on SQLite and PostgreSQL.

    python bench/bulk_write.py [--rows 200000] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]

Each way inserts the same rows (about 400 bytes of payload each, as a portal page lands them) into a
fresh store's ``raw_records``, with its unique key and indexes, in one transaction:

* ``sqlalchemy``: ``conn.execute(table.insert(), [dict, ...])``, SQLAlchemy Core's executemany
  (on PostgreSQL its "insertmanyvalues" batching);
* ``driver``: the DBAPI cursor's ``executemany`` with plain tuples (SQLite), ``COPY ... FROM STDIN``
  through psycopg 3 (PostgreSQL): what ``sangkien.store.bulk_insert`` does;
* ``staging`` (SQLite only): ``executemany`` into a temporary table without indexes, then
  ``INSERT INTO raw_records SELECT ... FROM`` it.

Prints rows/s per way and store. Not a test: it asserts only that every way wrote every row.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COLUMNS = ("source", "source_record_id", "payload", "content_hash", "origin", "fetched_at", "run_id", "seen_run",
           "landing_problem", "clock")


def rows(n: int) -> list[tuple[Any, ...]]:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    out = []
    for i in range(n):
        payload = json.dumps({"id": f"SK{i:07d}", "title": f"Nâng cao hiệu quả công tác số {i} tại đơn vị sản xuất",
                              "authors": ["Nguyễn Văn An", "Trần Thị Bình"], "workplace": f"G{i % 5000:06d}",
                              "field": "Nâng cao năng suất lao động", "solution_type": "Giải pháp kỹ thuật",
                              "recognized_on": "2022-10-29", "applied_on": "2022-10-01", "submitted_at": "2022-11-03",
                              "status": "Hợp lệ", "benefit_vnd": 1500000, "updated_at": "2022-12-21T16:12:05Z"},
                             ensure_ascii=False)
        out.append(("portal", f"SK{i:07d}", payload, hashlib.sha256(payload.encode()).hexdigest(),
                    f"page {i // 500 + 1}:{i % 500 + 1}", stamp, 1, 1, None, "2022-12-21T16:12:05Z"))
    return out


def by_sqlalchemy(conn: sa.Connection, table: sa.Table, data: list[tuple[Any, ...]]) -> None:
    stamp = dt.datetime.now(dt.UTC)
    conn.execute(table.insert(), [dict(zip(COLUMNS, row[:5] + (stamp,) + row[6:], strict=True)) for row in data])


def by_driver(conn: sa.Connection, table: sa.Table, data: list[tuple[Any, ...]]) -> None:
    from sangkien import store

    store.bulk_insert(conn, table, COLUMNS, data)


def by_staging(conn: sa.Connection, table: sa.Table, data: list[tuple[Any, ...]]) -> None:
    names = ", ".join(f'"{c}"' for c in COLUMNS)
    conn.exec_driver_sql(f'CREATE TEMP TABLE IF NOT EXISTS "_stage" AS SELECT {names} FROM raw_records WHERE 0')
    conn.exec_driver_sql('DELETE FROM "_stage"')
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.executemany(f'INSERT INTO "_stage" ({names}) VALUES ({", ".join("?" for _ in COLUMNS)})', data)
    cursor.close()
    conn.exec_driver_sql(f'INSERT INTO raw_records ({names}) SELECT {names} FROM "_stage"')


WAYS: dict[str, Callable[[sa.Connection, sa.Table, list[tuple[Any, ...]]], None]] = {
    "sqlalchemy": by_sqlalchemy, "driver": by_driver, "staging": by_staging}


def fresh_store(kind: str, pg_admin: str, folder: Path) -> tuple[str, Callable[[], None]]:
    if kind == "sqlite":
        path = folder / f"{uuid.uuid4().hex}.db"
        return f"sqlite:///{path}", lambda: None
    admin = sa.create_engine(pg_admin, isolation_level="AUTOCOMMIT")
    name = f"sangkien_bulk_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    return admin.url.set(database=name).render_as_string(hide_password=False), drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="a PostgreSQL database to create scratch databases from ('' to skip PostgreSQL)")
    args = parser.parse_args()

    from sangkien import store

    data = rows(args.rows)
    print(f"bench: {args.rows:,} raw_records rows, {sum(len(r[2]) for r in data) / len(data):.0f} bytes of payload "
          f"each, {dt.datetime.now():%Y-%m-%d %H:%M}")
    kinds = ["sqlite"] + (["postgresql"] if args.pg else [])
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            for way, write in WAYS.items():
                if way == "staging" and kind != "sqlite":
                    continue
                url, drop = fresh_store(kind, args.pg, Path(tmp))
                engine = store.open_store(url)
                try:
                    started = time.perf_counter()
                    with engine.begin() as conn:
                        write(conn, store.raw_records, data)
                    seconds = time.perf_counter() - started
                    with engine.connect() as conn:
                        written = conn.scalar(sa.select(sa.func.count()).select_from(store.raw_records))
                    assert written == len(data), f"{kind} {way}: {written} rows written of {len(data)}"
                finally:
                    engine.dispose()
                    drop()
                print(f"  {kind:10} {way:11} {seconds:7.2f} s   {len(data) / seconds:10,.0f} rows/s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
