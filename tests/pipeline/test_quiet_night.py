"""A night with nothing new costs in proportion to what changed: it validates nothing, resolves nothing and does
not count again, yet its report is the same and says it is as of tonight; anything the counts depend on that
changed between two nights (the org tree, a child's push) makes it count again (SQLite and PostgreSQL)."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from sangkien import store
from sangkien.pipeline import summary
from sangkien.pipeline.run import run_sync
from sangkien.present.report import report_rows
from sangkien.reference import tree
from sangkien.reference.orgs import load_orgs
from sangkien.store.registry import add_connector, read_config_file
from tests.pipeline.test_sync_store import BANK_ROW, SCHOOL_ROW, setup_store


def _report(engine: sa.Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return report_rows(conn)[1]


def _counted(engine: sa.Engine) -> tuple[set[int | None], int, int]:
    """(the run ids the counts carry, their rows, the rows of the count history)."""
    with engine.connect() as conn:
        runs = set(conn.scalars(sa.select(store.unit_counts.c.run_id).distinct()))
        rows = conn.scalar(sa.select(sa.func.count()).select_from(store.unit_counts))
        history = conn.scalar(sa.select(sa.func.count()).select_from(store.count_history))
    return runs, int(rows or 0), int(history or 0)


def _synced(engine: sa.Engine, world) -> int:  # type: ignore[no-untyped-def]
    setup_store(engine, world)
    world.source("hanoi", BANK_ROW, SCHOOL_ROW)
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    return run_sync(engine).run_id


def test_a_night_with_nothing_new_keeps_the_report_and_dates_it_tonight(engine, world):
    first = _synced(engine, world)
    report = _report(engine)
    runs, rows, history = _counted(engine)
    assert runs == {first} and rows and history == rows

    night = run_sync(engine)
    assert night.status == "completed" and night.resolved is not None and night.resolved.compared == 0
    assert sum(s.received for s in night.sources) == 0
    assert _report(engine) == report
    # the counts stand for tonight's run, the trend gains tonight's point, and readers find the summary current
    assert _counted(engine) == ({night.run_id}, rows, 2 * rows)
    with engine.connect() as conn:
        assert summary.is_current(conn) and summary.state(conn)["run_id"] == night.run_id


def test_a_new_day_works_the_summary_out_again_on_that_day(engine, world):
    _synced(engine, world)
    report = _report(engine)
    tomorrow = tree.today() + dt.timedelta(days=1)
    assert summary.carry_forward(engine, 99, today=tomorrow)
    with engine.connect() as conn:
        kept = summary.state(conn)
        assert summary.is_current(conn)
    assert str(kept["tree_date"])[:10] == tomorrow.isoformat() and kept["run_id"] == 99
    assert _report(engine) == report


def test_a_unit_moved_in_the_org_tree_between_two_nights_is_counted_under_its_new_parent(engine, world):
    _synced(engine, world)
    assert {r["unit_code"] for r in _report(engine) if r["phase"] == 1 and r["valid"]} >= {"P01-D01", "P01"}
    # the bank branch moves from Ba Đình (Hà Nội) to Thái Bình's health union; nothing new arrives
    moved = (world.root / "orgs.csv").read_text(encoding="utf-8").replace(
        "grassroots,P01-D01,NGANHANG", "grassroots,P34-YTE,NGANHANG")
    (world.root / "orgs.csv").write_text(moved, encoding="utf-8")
    load_orgs(engine, world.root / "orgs.csv")
    night = run_sync(engine)
    assert night.resolved is not None and night.resolved.compared == 0
    valid = {(r["unit_code"], r["phase"]): r["valid"] for r in _report(engine)}
    assert valid[("P34-YTE", 1)] == 1 and valid[("P34", 1)] == 1
    assert valid.get(("P01-D01", 1), 0) == 0


def test_a_unit_that_ends_between_two_nights_makes_the_night_count_again(engine, world):
    _synced(engine, world)
    with engine.begin() as conn:  # Ba Đình's school union closes today: tomorrow's tree differs from today's
        conn.execute(store.org_units.update().where(store.org_units.c.code == "G002")
                     .values(valid_to=tree.today()))
    tomorrow = tree.today() + dt.timedelta(days=2)
    assert not summary.carry_forward(engine, 99, today=tomorrow)
    assert _counted(engine)[0] != {99}
