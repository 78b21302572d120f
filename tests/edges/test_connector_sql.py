"""The SQL connector on a provincial database built from the simulated world."""
from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from connectors.base import ConnectorError
from sandbox.generate import generate_world
from sandbox.sqldb import touch_rows, write_source_db
from sangkien import store
from sangkien.pipeline.run import run_sync
from sangkien.reference.orgs import load_orgs
from sangkien.store.registry import add_connector, build_connector, get_connector_row
from tests.conftest import _pg_database


@pytest.fixture(scope="module")
def sql_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sql") / "world"
    generate_world(root, 2000, seed=8, noise="none")
    return root


def test_a_sql_source_lands_every_row_once_in_small_batches_and_then_only_changes(engine, sql_world, tmp_path):
    load_orgs(engine, sql_world / "orgs.csv")
    source_url = f"sqlite:///{tmp_path / 'hcm.db'}"
    settings = write_source_db(sql_world, "hcm", source_url)
    add_connector(engine, "hcm", "sql", {**settings, "batch_size": 7})
    truth = pd.read_csv(sql_world / "truth.csv", dtype=str).query("source == 'hcm'")
    _, [first], _, status = run_sync(engine)
    assert status == "completed", first.errors
    assert first.received == len(truth) == first.accepted + first.ineligible + first.quarantined
    assert first.files == -(-len(truth) // 7)  # one batch per 7 rows, each committed with its state
    key, title = settings["primary_key"], settings["columns"]["title"]
    changed = sorted(truth["source_record_id"])[:3]
    touch_rows(source_url, changed, str(key), str(title))
    _, [second], _, _ = run_sync(engine)
    assert (second.received, second.land.changed) == (3, 3)
    with engine.connect() as conn:
        titles = dict(conn.execute(sa.select(store.records.c.source_record_id, store.records.c.title)
                                   .where(store.records.c.source_record_id.in_(changed))).all())
    assert all(t.endswith("(sửa)") for t in titles.values()) and len(titles) == 3


def test_sql_settings_refuse_a_password_in_the_url_and_check_names_missing_columns(engine, sql_world, tmp_path):
    from sangkien.errors import UserError

    settings = write_source_db(sql_world, "hcm", f"sqlite:///{tmp_path / 'hcm.db'}")
    with pytest.raises(UserError, match="must not hold the password"):
        add_connector(engine, "bad", "sql", {**settings, "url": "postgresql+psycopg://u:pw@127.0.0.1/x"})
    add_connector(engine, "hcm", "sql", {**settings, "columns": {**settings["columns"], "title": "Tieu de"}})
    with engine.connect() as conn:
        connector = build_connector(get_connector_row(conn, "hcm"))
    with pytest.raises(ConnectorError, match="no column\\(s\\) 'Tieu de'"):
        connector.check()


@pytest.fixture
def pg_source_url(pg_admin):  # type: ignore[no-untyped-def]
    """A fresh PostgreSQL database for a provincial system (dropped afterwards)."""
    with _pg_database(pg_admin) as url:
        yield url


def _kill_a_read_of(admin: sa.Engine, database: str, reader: threading.Thread) -> int:
    """Terminate the backend that is running a read of ``database`` (waits for one while ``reader`` runs)."""
    while reader.is_alive():
        with admin.connect() as conn:
            killed = conn.scalar(sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :d "
                "AND state = 'active' AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()"), {"d": database})
        if killed:
            return int(killed)
    return 0


@pytest.mark.postgres
def test_a_sql_read_whose_connection_is_killed_fails_clearly_and_the_next_sync_resumes(sql_world, tmp_path,
                                                                                        pg_admin, pg_source_url):
    engine = store.open_store(f"sqlite:///{tmp_path / 'store.db'}")
    load_orgs(engine, sql_world / "orgs.csv")
    settings = write_source_db(sql_world, "hcm", pg_source_url)
    # each batch's query takes a moment on the server, long enough to be caught running
    query = 'SELECT s.* FROM sang_kien AS s CROSS JOIN pg_sleep(0.1)'
    add_connector(engine, "hcm", "sql", {**settings, "table": None, "query": query, "batch_size": 5})
    truth = pd.read_csv(sql_world / "truth.csv", dtype=str).query("source == 'hcm'")
    landed = threading.Event()

    def count() -> int:
        with engine.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.count()).select_from(store.raw_records)) or 0)

    outcome: list[object] = []
    reader = threading.Thread(target=lambda: outcome.append(run_sync(engine)), daemon=True)
    reader.start()
    while count() < 10 and reader.is_alive():  # two batches landed: the read is under way
        landed.wait(0.05)
    assert reader.is_alive(), "the read ended before its connection could be killed"
    assert _kill_a_read_of(pg_admin, sa.engine.make_url(pg_source_url).database or "", reader) == 1
    reader.join()
    _, [failed], _, status = outcome[0]  # type: ignore[misc]
    kept = count()
    assert status == "failed" and failed.error_type == "transient", failed.errors
    [message] = failed.errors
    print(f"\nSQL read killed: {message}")
    assert "connection to the database was lost mid-read" in message and "resumes" in message, message
    assert "terminating connection due to administrator command" in message
    with engine.connect() as conn:
        state = conn.execute(sa.select(store.connector_state.c.state)).scalar_one()
    assert 10 <= kept < len(truth) and state["after"]  # the batches read before the kill are kept, with their place

    _, [resumed], _, status = run_sync(engine)
    with engine.connect() as conn:
        ids = list(conn.scalars(sa.select(store.raw_records.c.source_record_id)))
    assert status == "completed", resumed.errors
    assert len(ids) == len(set(ids)) and set(ids) == set(truth["source_record_id"])  # none lost, none doubled
    assert resumed.received == len(truth) - kept  # it went on from where the killed read stopped
    print(f"SQL kind, connection killed mid-read: {kept} rows kept, {resumed.received} read on resuming, "
          f"{len(truth)} in the source, {len(truth) - len(set(ids))} lost, {len(ids) - len(set(ids))} doubled")
    engine.dispose()
