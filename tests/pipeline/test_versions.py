"""Newer data is never overwritten by older: the source's clock orders versions, re-drops are named,
every version is kept with the run that brought it (SQLite and PostgreSQL, no Prefect)."""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from sangkien import store
from sangkien.pipeline.history import record_history
from sangkien.pipeline.run import pull_source, run_sync, start_run
from sangkien.pipeline.source_clock import clocks, is_older
from sangkien.present import runreport
from sangkien.present.history import format_history
from sangkien.present.report import format_runs
from sangkien.store.registry import add_connector, read_config_file
from tests.conftest import CONFIG_YAML, HEADER
from tests.pipeline.test_sync_store import BANK_ROW, SCHOOL_ROW, setup_store

CLOCKED_HEADER = HEADER + ";Cập nhật lúc"
CLOCKED_YAML = CONFIG_YAML + '  updated_at: "Cập nhật lúc"\n'


def clocked_source(world, name: str = "hanoi"):  # type: ignore[no-untyped-def]
    """A file-drop source that maps updated_at (its clock); returns a writer of export files."""
    folder = world.root / name
    folder.mkdir(exist_ok=True)
    world.config(name).write_text(CLOCKED_YAML.format(folder=name), encoding="utf-8")

    def drop(file: str, *rows: str, newline: str = "\n") -> None:
        (folder / file).write_bytes((newline.join([CLOCKED_HEADER, *rows]) + newline).encode("utf-8"))

    return drop


def v1(row: str, stamp: str = "2022-06-01T08:00:00") -> str:
    return f"{row};{stamp}"


def titles(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(store.records.c.source_record_id, store.records.c.title)).all())


V2_BANK = BANK_ROW.replace("Giải pháp số hoá hồ sơ tín dụng", "Giải pháp số hoá toàn bộ hồ sơ tín dụng")
V2_SCHOOL = SCHOOL_ROW.replace("Cải tiến quy trình chấm bài", "Cải tiến quy trình chấm bài trực tuyến")


def test_an_older_export_dropped_again_never_overwrites_the_newer_records(engine, world):
    setup_store(engine, world)
    drop = clocked_source(world)
    drop("export-1.csv", v1(BANK_ROW), v1(SCHOOL_ROW))
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    run_sync(engine)
    drop("export-2.csv", v1(V2_BANK, "2022-07-01T08:00:00"), v1(V2_SCHOOL, "2022-07-01T08:00:00"))
    _, (second,), _, _ = run_sync(engine)
    assert (second.land.changed, second.land.stale) == (2, 0)
    newer = titles(engine)
    # export 1 again, re-saved: one byte differs (line endings), so the file is read again
    drop("export-1-resaved.csv", v1(BANK_ROW), v1(SCHOOL_ROW), newline="\r\n")
    run_id, (third,), _, status = run_sync(engine)
    assert status == "completed"
    assert (third.received, third.land.changed, third.land.stale) == (2, 0, 2)
    assert titles(engine) == newer
    assert third.received == third.accepted + third.ineligible + third.quarantined
    with engine.connect() as conn:
        shown = format_runs(conn, last=1)
        row = runreport.source_rows(conn, run_id)[0]
        page = runreport.reconciliation_markdown(conn, run_id)
    assert "stale 2" in shown
    assert "export-1-resaved.csv is a re-drop of export-1.csv (run 1)" in shown
    assert row["stale"] == 2
    assert "2 row(s) of `hanoi` were older than the stored version" in page
    with engine.connect() as conn:
        raw_id = conn.scalar(sa.select(store.raw_records.c.id).where(store.raw_records.c.source_record_id == "HN-1"))
        history = record_history(conn, [raw_id])[raw_id]
    assert [(h["run"], h["status"], h["origin"]) for h in history] == [
        (1, "superseded", "export-1.csv:2"), (2, "current", "export-2.csv:2"), (3, "stale", "export-1-resaved.csv:2")]


def test_a_row_older_than_the_stored_one_is_kept_as_a_stale_version_with_its_run(engine, world):
    setup_store(engine, world)
    drop = clocked_source(world)
    drop("export-1.csv", v1(V2_BANK, "2022-07-01T08:00:00"))
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    run_sync(engine)
    drop("export-old.csv", v1(BANK_ROW, "2022-05-01T08:00:00"))  # an older state nobody had landed
    run_id, (result,), _, _ = run_sync(engine)
    assert (result.land.changed, result.land.stale) == (0, 1)
    assert titles(engine)["HN-1"] == "Giải pháp số hoá toàn bộ hồ sơ tín dụng"
    with engine.connect() as conn:
        versions = conn.execute(sa.select(store.record_versions.c.status, store.record_versions.c.run_id,
                                          store.record_versions.c.origin)).all()
    assert versions == [("stale", run_id, "export-old.csv:2")]


def test_a_newer_row_replaces_the_stored_one_and_the_old_content_stays_in_the_history(engine, world):
    setup_store(engine, world)
    drop = clocked_source(world)
    drop("export-1.csv", v1(BANK_ROW))
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    first, *_ = run_sync(engine)
    drop("export-2.csv", v1(V2_BANK, "2022-07-01T08:00:00"))
    second, *_ = run_sync(engine)
    drop("export-3.csv", v1(BANK_ROW, "2022-05-01T08:00:00"))
    third, *_ = run_sync(engine)
    with engine.connect() as conn:
        raw_id = conn.scalar(sa.select(store.raw_records.c.id))
        history = record_history(conn, [raw_id])[raw_id]
    assert [(h["run"], h["status"]) for h in history] == [(first, "superseded"), (second, "current"),
                                                           (third, "stale")]
    assert history[0]["replaced_run"] == second
    assert {c["field"] for c in history[1]["changes"]} == {"Tên sáng kiến", "Cập nhật lúc"}
    text = "\n".join(format_history("hanoi:HN-1", history))
    assert f"run {second}" in text and "replaced in run" in text and "stale" in text
    assert "changed Tên sáng kiến: 'Giải pháp số hoá hồ sơ tín dụng' → 'Giải pháp số hoá toàn bộ hồ sơ tín dụng'" \
        in text


def test_without_a_clock_a_redropped_older_file_is_named_and_does_not_replace_the_newer(engine, world):
    setup_store(engine, world)
    path = world.source("hanoi", BANK_ROW, SCHOOL_ROW, file="a.csv")
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    run_sync(engine)
    world.source("hanoi", V2_BANK, V2_SCHOOL, file="b.csv")
    _, (second,), _, _ = run_sync(engine)
    assert second.land.changed == 2
    newer = titles(engine)
    (path.parent / "c.csv").write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))  # a.csv, re-saved
    _, (third,), _, _ = run_sync(engine)
    assert (third.land.changed, third.land.stale) == (0, 2)
    assert third.notes == ["c.csv is a re-drop of a.csv (run 1): its 2 changed row(s) match that older version "
                           "exactly, so the newer stored content was kept (counted stale)"]
    assert titles(engine) == newer


def test_without_a_clock_a_file_with_new_content_still_replaces(engine, world):
    setup_store(engine, world)
    world.source("hanoi", BANK_ROW, file="a.csv")
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    run_sync(engine)
    world.source("hanoi", V2_BANK, file="b.csv")
    _, (second,), _, _ = run_sync(engine)
    assert (second.land.changed, second.land.stale, second.notes) == (1, 0, [])
    assert titles(engine)["HN-1"] == "Giải pháp số hoá toàn bộ hồ sơ tín dụng"


def test_rows_landed_by_an_abandoned_run_are_counted_by_the_run_that_finishes_them(engine, world):
    setup_store(engine, world)
    world.source("hanoi", BANK_ROW, SCHOOL_ROW)
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    killed = start_run(engine)
    pull_source(engine, "hanoi", killed)  # landed, then the process died before validating and counting
    with engine.begin() as conn:
        conn.execute(store.sync_runs.update().where(store.sync_runs.c.id == killed).values(status="abandoned"))
    _, (result,), _, status = run_sync(engine)
    assert status == "completed"
    assert (result.received, result.land.new, result.accepted) == (2, 2, 2)
    assert result.notes == [f"counted 2 row(s) landed by run {killed}, which ended before counting them"]
    with engine.connect() as conn:
        received = conn.scalar(sa.select(sa.func.sum(store.sync_run_sources.c.received)))
        stored = conn.scalar(sa.select(sa.func.count()).select_from(store.raw_records))
    assert received == stored == 2


def test_clocks_order_times_and_counters_but_not_one_against_the_other():
    found = clocks(pd.Series(["15/06/2022", "2022-06-15T10:30:00+07:00", "2022-06-15T03:30:00Z", "", "17", "?"]),
                   "%d/%m/%Y")
    assert found == ["2022-06-15T00:00:00.000000", "2022-06-15T10:30:00.000000", "2022-06-15T10:30:00.000000",
                     None, "#17", None]
    assert is_older(found[0], found[1]) and not is_older(found[1], found[2])
    assert is_older("#9", "#10") and not is_older("#9", found[0]) and not is_older(None, found[0])
