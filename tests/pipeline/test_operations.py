"""Operations without Prefect's engine: the run report, full refresh and backfill, abandoned runs,
and the same sync giving the same report on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from sandbox.generate import generate_world
from sandbox.servers import serve
from sangkien import store
from sangkien.errors import UserError
from sangkien.pipeline.pullmode import BackfillWindow, PullMode
from sangkien.pipeline.run import mark_abandoned_runs, run_sync, start_run
from sangkien.present import runreport
from sangkien.present.report import report_rows
from sangkien.reference.orgs import load_orgs
from sangkien.reference.quotas import load_quotas
from sangkien.store.registry import add_connector, get_connector_row, read_config_file
from tests.conftest import run_cli
from tests.pipeline.test_sync_store import BAD_DATE_ROW, BANK_ROW, SCHOOL_ROW, setup_store

TOKEN = "ops-portal-token-5150"
NH_COPY = ("NH-9;CONG-77;GIAI PHAP SO HOA HO SO TIN DUNG;Nguyen Van An, Tran Thi Binh;G001;Cong nghe thong tin;"
           "Giai phap ky thuat;01/02/2022;15/01/2022;20/02/2022;Da duyet;")


def test_run_table_has_a_row_per_source_with_control_totals_and_duplicates_merged(engine, world):
    setup_store(engine, world)
    world.source("hanoi", BANK_ROW, SCHOOL_ROW, BAD_DATE_ROW)
    world.source("nganhang", NH_COPY)
    for name in ("hanoi", "nganhang"):
        add_connector(engine, name, "files", read_config_file(world.config(name)))
    run_id, _, _, _ = run_sync(engine)
    with engine.connect() as conn:
        rows = {r["source"]: r for r in runreport.source_rows(conn, run_id)}
    assert list(rows["hanoi"]) == list(runreport.SOURCE_COLUMNS)
    hanoi, nganhang = rows["hanoi"], rows["nganhang"]
    assert (hanoi["received"], hanoi["accepted"], hanoi["quarantined"], hanoi["new"]) == (3, 2, 1, 3)
    # the banking union's copy of the Hà Nội initiative is one duplicate merged, counted where it arrived last
    assert hanoi["duplicates_merged"] + nganhang["duplicates_merged"] == 1
    assert nganhang["duplicates_merged"] == 1
    assert hanoi["pushed"] is None and hanoi["error_type"] is None


def test_reconciliation_names_units_furthest_behind_and_the_discrepancies(engine, world):
    setup_store(engine, world)
    world.source("hanoi", BANK_ROW, SCHOOL_ROW, BAD_DATE_ROW)
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    add_connector(engine, "gone", "files", {**read_config_file(world.config("hanoi")), "path": "/nonexistent/drop"})
    run_id, _, _, status = run_sync(engine)
    assert status == "failed"
    with engine.connect() as conn:
        behind = runreport.units_behind(conn)
        page = runreport.reconciliation_markdown(conn, run_id)
    # nothing counted yet in phase 2 (VGCL, target 20) nor for P34-YTE (target 1): the largest gap first
    assert [(r["unit_code"], r["phase"]) for r in behind[:2]] == [("VGCL", 2), ("P34-YTE", 1)]
    assert [r["completion"] for r in behind] == sorted(r["completion"] for r in behind)
    assert page.startswith(f"# Sync run {run_id}: failed")
    assert "| P34-YTE |" in page and "| VGCL |" in page
    assert "source `gone` failed (configuration error)" in page
    assert "row(s) of `hanoi` quarantined on applied_on / date_format" in page
    # what the run lost or held back is not "the sources disagree": two sections, named apart
    held, disagree = page.index("## Rows this run lost or held back"), page.index("## Where the sources disagree")
    assert held < page.index("source `gone` failed") < page.index("quarantined on applied_on") < disagree
    assert "Nothing: the sources hold the same initiatives." in page[disagree:]


def _portal(engine: sa.Engine, url: str) -> None:
    add_connector(engine, "portal", "portal", {"base_url": url, "token": "env:SANGKIEN_OPS_TOKEN", "page_size": 50,
                                               "timeout": 2.0, "attempts": 4})


def _state(engine: sa.Engine) -> dict[str, object]:
    with engine.connect() as conn:
        return get_connector_row(conn, "portal")["state"]


@pytest.fixture(scope="module")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ops") / "world"
    generate_world(root, 300, seed=12, noise="light")
    return root


def test_full_refresh_rereads_everything_and_backfill_leaves_the_incremental_state(small_world, tmp_path, monkeypatch):
    monkeypatch.setenv("SANGKIEN_OPS_TOKEN", TOKEN)
    engine = store.open_store(f"sqlite:///{tmp_path / 's.db'}")
    load_orgs(engine, small_world / "orgs.csv")
    with serve("portal", small_world, token=TOKEN) as server:
        _portal(engine, server.url)
        _, [first], _, _ = run_sync(engine)
        state = _state(engine)
        _, [incremental], _, _ = run_sync(engine)
        _, [full], _, _ = run_sync(engine, mode=PullMode(full_refresh=True))
        assert _state(engine) == state  # nothing changed at the source: the watermark ends where it was
        with engine.connect() as conn:
            stamps = [json.loads(p)["updated_at"] for p in conn.scalars(sa.select(store.raw_records.c.payload))]
        window = BackfillWindow(start=dt.date(2022, 3, 1), end=dt.date(2022, 3, 31))
        in_window = sum("2022-03-01" <= s[:10] <= "2022-03-31" for s in stamps)
        server.system.change_records(0.05, seed=3)  # changes a backfill of March must not move the state past
        _, [backfill], _, status = run_sync(engine, mode=PullMode(window=window))
        assert _state(engine) == state
        _, [after], _, _ = run_sync(engine)  # the next incremental sync still sees the changes
    assert incremental.received < first.received  # only the watermark's own record(s) again
    assert (full.received, full.land.unchanged) == (first.received, first.received)
    assert status == "completed" and in_window > 0 and backfill.received == in_window
    assert backfill.received == backfill.accepted + backfill.ineligible + backfill.quarantined
    assert after.land.changed > 0


def test_a_backfill_window_must_be_ordered_and_excludes_a_full_refresh():
    with pytest.raises(ValueError, match="before its start"):
        BackfillWindow(start="2022-06-30", end="2022-06-01")
    with pytest.raises(UserError, match="not both"):
        PullMode(full_refresh=True, window=BackfillWindow(start="2022-06-01", end="2022-06-30"))


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_runs_left_running_by_a_killed_process_show_as_abandoned(engine, db_url):
    host = socket.gethostname()
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        for started, message in ((now, f"running in pid {_dead_pid()} on {host}"),
                                 (now, f"running in pid {os.getpid()} on {host}"),
                                 (now, "running in pid 4242 on another-host"),
                                 (now - dt.timedelta(days=2), "running in pid 4242 on another-host")):
            conn.execute(store.sync_runs.insert().values(started_at=started, status="running", message=message))
    shown = run_cli("--db", db_url, "runs", "--last", "10")
    assert shown.returncode == 0, shown.stderr
    assert "run 1: abandoned" in shown.stdout and "ended without closing it" in shown.stdout
    assert "run 2: running" in shown.stdout and "run 3: running" in shown.stdout  # alive; too recent to tell
    assert "run 4: abandoned" in shown.stdout and "presumed killed" in shown.stdout
    assert mark_abandoned_runs(engine) == []
    run_id = start_run(engine)  # a new run also marks them; its own process is alive
    with engine.connect() as conn:
        statuses = dict(conn.execute(sa.select(store.sync_runs.c.id, store.sync_runs.c.status)).all())
    assert statuses == {1: "abandoned", 2: "running", 3: "running", 4: "abandoned", run_id: "running"}


@pytest.mark.postgres
def test_the_same_sync_on_sqlite_and_postgresql_gives_identical_reports(small_world, tmp_path, pg_admin):
    name = f"sangkien_test_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    pg_url = pg_admin.url.set(database=name).render_as_string(hide_password=False)
    outputs = []
    try:
        for url in (f"sqlite:///{tmp_path / 's.db'}", pg_url):
            engine = store.open_store(url)
            load_orgs(engine, small_world / "orgs.csv")
            load_quotas(engine, small_world / "quotas.csv")
            for config in sorted((small_world / "sources").glob("*.yaml")):
                add_connector(engine, config.stem, "files", read_config_file(config))
            run_id, _, _, _ = run_sync(engine)
            with engine.connect() as conn:
                _, rows = report_rows(conn)
                sources = [{k: v for k, v in r.items() if k != "seconds"} for r in runreport.source_rows(conn, run_id)]
                page = runreport.reconciliation_markdown(conn, run_id)
            outputs.append((rows, sources, page))
            engine.dispose()
            csv_report = run_cli("--db", url, "report", "--format", "csv")
            assert csv_report.returncode == 0, csv_report.stderr
            outputs[-1] += (csv_report.stdout,)
    finally:
        store.open_store.cache_clear()
        with pg_admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    sqlite, postgres = outputs
    assert len(sqlite[0]) > 50 and sum(s["received"] for s in sqlite[1]) > 300
    assert sqlite == postgres
