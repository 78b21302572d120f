"""A wrong mapping is caught: a source whose rows are mostly quarantined fails the sync, naming why."""
from __future__ import annotations

import sqlalchemy as sa

from sangkien import store
from sangkien.pipeline.quarantine import release
from sangkien.pipeline.run import run_sync
from sangkien.store.registry import add_connector, edit_connector, read_config_file
from sangkien.store.settings import set_setting
from tests.pipeline.test_sync_store import BANK_ROW, SCHOOL_ROW, setup_store


def _wrong_date_format(engine, world) -> None:  # type: ignore[no-untyped-def]
    setup_store(engine, world)
    world.source("hanoi", BANK_ROW, SCHOOL_ROW)
    world.source("nganhang", BANK_ROW.replace("HN-1", "NH-1"))
    for name in ("hanoi", "nganhang"):
        add_connector(engine, name, "files", read_config_file(world.config(name)))
    edit_connector(engine, "hanoi", {"date_format": "%Y-%m-%d"})  # the files say 15/01/2022


def test_a_source_quarantining_most_of_its_rows_fails_the_run_naming_the_top_reason(engine, world):
    _wrong_date_format(engine, world)
    summary = run_sync(engine)
    assert summary.status == "failed"
    by_name = {r.source: r for r in summary.sources}
    hanoi = by_name["hanoi"]
    assert (hanoi.received, hanoi.quarantined, hanoi.error_type) == (2, 2, "configuration")
    assert "2 of 2 rows quarantined (100%, above the limit of 50%)" in hanoi.errors[0]
    assert "date_format" in hanoi.errors[0] and "(%Y-%m-%d)" in hanoi.errors[0]
    assert not by_name["nganhang"].errors and by_name["nganhang"].accepted == 1
    with engine.connect() as conn:
        run = conn.execute(sa.select(store.sync_runs)).mappings().one()
        recorded = conn.execute(sa.select(store.sync_run_sources).where(
            store.sync_run_sources.c.source == "hanoi")).mappings().one()
    assert run["status"] == "failed" and "hanoi (configuration error): 2 of 2 rows quarantined" in run["message"]
    assert recorded["error_type"] == "configuration" and "quarantine release --source hanoi" in recorded["error"]


def test_nothing_is_lost_fixing_the_mapping_and_releasing_accepts_the_rows(engine, world):
    _wrong_date_format(engine, world)
    run_sync(engine)
    edit_connector(engine, "hanoi", {"date_format": "%d/%m/%Y"})
    result = release(engine, "hanoi", None)
    assert (result.released, result.accepted, result.quarantined) == (2, 2, 0)


def test_the_quarantine_limit_is_a_node_setting(engine, world):
    _wrong_date_format(engine, world)
    with engine.begin() as conn:
        set_setting(conn, "quarantine_limit", "100%")  # never fail a source for its quarantine
    assert run_sync(engine).status == "completed"
