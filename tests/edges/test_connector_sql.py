"""The SQL connector on a provincial database built from the simulated world."""
from __future__ import annotations

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
