"""Roll-up as of a date and reconciliation, on the store (SQLite and PostgreSQL)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pandas as pd
import pytest
import sqlalchemy as sa

from sangkien import store
from sangkien.cli.main import main
from sangkien.errors import RejectedFile
from sangkien.pipeline import reconcile, worklist
from sangkien.pipeline.rollup import compute_unit_counts, roll_up
from sangkien.pipeline.run import run_sync
from sangkien.present.reconcile_render import WORKLIST_CSV
from sangkien.reference.orgs import load_orgs
from sangkien.reference.quotas import load_quotas
from sangkien.store.registry import add_connector, read_config_file
from tests.conftest import ORGS_CSV, one_line_error, run_cli

# Thái Bình merges into Hưng Yên after 2025-06-30 (the 2025 province merger); a new
# Hưng Yên health union only exists from 2025-07-01.
MERGED_ORGS = ORGS_CSV.replace(
    "P34,LĐLĐ tỉnh Thái Bình,province,VGCL,,,,Thái Bình\n",
    "P34,LĐLĐ tỉnh Thái Bình,province,VGCL,,,2025-06-30,Thái Bình,P33\n"
    "P33,LĐLĐ tỉnh Hưng Yên,province,VGCL,,,,Hưng Yên,\n"
    "P33-YTE,Công đoàn ngành Y tế Hưng Yên,local_sector,P33,,2025-07-01,,,\n",
).replace("valid_to,aliases\n", "valid_to,aliases,successor_code\n")

ROW = "{id};{portal};{title};{author};{unit};Giáo dục;Giải pháp quản lý;01/03/2022;01/02/2022;05/03/2022;{status};{benefit}"


def row(id: str, title: str, unit: str = "G002", portal: str = "", author: str = "Lê Văn Cường",
        status: str = "Hợp lệ", benefit: str = "") -> str:
    return ROW.format(id=id, portal=portal, title=title, author=author, unit=unit, status=status, benefit=benefit)


def sync_world(engine: sa.Engine, world, sources: dict[str, list[str]], orgs: str | None = None) -> None:  # type: ignore[no-untyped-def]
    if orgs:
        (world.root / "orgs.csv").write_text(orgs, encoding="utf-8")
    load_orgs(engine, world.root / "orgs.csv")
    load_quotas(engine, world.root / "quotas.csv")
    for name, rows in sources.items():
        world.source(name, *rows)
        add_connector(engine, name, "files", read_config_file(world.config(name)))
    run_sync(engine)


def unit_counts(engine: sa.Engine, as_of: dt.date) -> dict[tuple[str, int], dict[str, float]]:
    with engine.connect() as conn:
        counts = compute_unit_counts(conn, as_of)
    return {(r["unit_code"], r["phase"]): r for r in counts.to_dict("records")}


# --- roll-up as of a date -----------------------------------------------------------------

def test_merged_unit_rolls_into_its_successor_after_the_merge_not_before(engine, world):
    sync_world(engine, world, {"thaibinh": [row("TB-1", "Sổ tay điều dưỡng điện tử", unit="G003")]}, MERGED_ORGS)
    before = unit_counts(engine, dt.date(2025, 6, 30))
    after = unit_counts(engine, dt.date(2025, 7, 1))
    assert before[("P34", 1)]["initiatives"] == 1 and ("P33", 1) not in before
    assert after[("P33", 1)]["initiatives"] == 1 and ("P34", 1) not in after
    # the district-level union under the merged province follows it; the national count does not move
    assert after[("P34-YTE", 1)]["initiatives"] == 1
    assert before[("VGCL", 1)]["initiatives"] == after[("VGCL", 1)]["initiatives"] == 1


def test_unit_not_yet_valid_is_not_reported(engine, world):
    sync_world(engine, world, {"hanoi": [row("HN-1", "Sáng kiến một")]}, MERGED_ORGS)
    with engine.connect() as conn:
        early = reconcile.open_scope(conn, as_of=dt.date(2025, 6, 1))
        late = reconcile.open_scope(conn, as_of=dt.date(2025, 7, 1))
    assert "P33-YTE" not in early.subtree and "P33-YTE" in late.subtree
    assert "P34" in early.subtree and "P34" not in late.subtree


def test_successor_must_be_a_known_unit_without_cycles(engine, tmp_path):
    bad = MERGED_ORGS.replace("Hưng Yên,\n", "Hưng Yên,P34\n", 1).replace("2025-07-01,,,\n", "2025-07-01,,,NOWHERE\n")
    (tmp_path / "orgs.csv").write_text(bad, encoding="utf-8")
    with pytest.raises(RejectedFile) as caught:
        load_orgs(engine, tmp_path / "orgs.csv")
    text = str(caught.value)
    assert "unknown successor_code 'NOWHERE'" in text
    assert "(P33): successor_code 'P34' needs valid_to" in text
    assert "(P34): part of a cycle of successors" in text


def test_each_ancestor_counts_an_initiative_once_on_every_basis(engine, world):
    # a Hà Nội bank branch: under Hà Nội (geographic) and the Banking union (sector), both under VGCL
    bank = row("HN-1", "Số hoá hồ sơ tín dụng", unit="G001", portal="C-1", author="Nguyễn Văn An, Trần Thị Bình",
               benefit="1.500.000")
    sync_world(engine, world, {
        "hanoi": [bank, row("HN-2", "Chấm bài", status="Chờ duyệt")],
        "nganhang": [bank.replace("HN-1", "NH-9").replace("Số hoá", "So hoa")],
    })
    counts = unit_counts(engine, dt.date(2025, 1, 1))
    for unit in ("G001", "NGANHANG"):
        c = counts[(unit, 1)]
        assert (c["records"], c["initiatives"], c["valid"], c["pending"], c["registrants"], c["benefit_vnd"]) == \
            (2, 1, 1, 0, 2, 1_500_000), unit
    for unit in ("P01", "VGCL"):
        c = counts[(unit, 1)]
        assert (c["records"], c["initiatives"], c["valid"], c["pending"], c["rejected"], c["ineligible"],
                c["registrants"], c["benefit_vnd"]) == (3, 2, 1, 1, 0, 0, 3, 1_500_000), unit


def test_every_roll_up_is_kept_in_count_history(engine, world):
    sync_world(engine, world, {"hanoi": [row("HN-1", "Sáng kiến một")]})
    roll_up(engine, None)
    with engine.connect() as conn:
        runs = conn.execute(sa.select(store.count_history.c.as_of, sa.func.count())
                            .group_by(store.count_history.c.as_of)).all()
        current = conn.scalar(sa.select(sa.func.count()).select_from(store.unit_counts))
    assert len(runs) == 2 and current == runs[0][1] == runs[1][1]


# --- against quotas ----------------------------------------------------------------------

def test_projection_continues_the_fitted_pace_to_the_phase_end():
    days = pd.Series(range(100, 110))
    history = pd.DataFrame({"unit_code": "P01", "phase": 1, "day": days, "value": (days - 100) * 10})
    one = pd.DataFrame({"unit_code": ["P34"], "phase": [1], "day": [105], "value": [7]})
    falling = pd.DataFrame({"unit_code": "P99", "phase": 1, "day": [100, 101, 102], "value": [30, 20, 25]})
    ends_on = pd.Series({1: 119})
    as_of = dt.date(1970, 1, 1) + dt.timedelta(days=110)
    out = reconcile.project(pd.concat([history, one, falling]), ends_on, as_of).set_index("unit_code")
    assert out.loc["P01", "projected"] == 190 and out.loc["P01", "trend_points"] == 10
    assert pd.isna(out.loc["P34", "projected"])  # a single point draws no trend
    assert out.loc["P99", "projected"] == 25  # a falling count is a correction: never projected downward
    ended = reconcile.project(history, pd.Series({1: 104}), as_of).set_index("unit_code")
    assert ended.loc["P01", "projected"] == 40  # after the phase: its last count, no extrapolation


def test_quota_rows_project_from_nightly_history(engine, world):
    sync_world(engine, world, {"hanoi": [row("HN-1", "Sổ tay an toàn lao động"),
                                         row("HN-2", "Phần mềm chấm công", author="Vũ Thị Lan")]})
    nights = [dt.datetime(2022, 5, d, 19, 0, tzinfo=dt.UTC) for d in (1, 2, 3, 4)]
    with engine.begin() as conn:
        conn.execute(store.count_history.insert(), [
            {"run_id": None, "as_of": night, "unit_code": "P01", "phase": 1, "records": 0, "initiatives": 0,
             "valid": 2 * n, "pending": 0, "rejected": 0, "ineligible": 0, "registrants": 0, "benefit_vnd": 0.0}
            for n, night in enumerate(nights)])
    with engine.connect() as conn:
        rows = reconcile.quota_rows(conn, reconcile.open_scope(conn, unit="P01", phase=1,
                                                               as_of=dt.date(2022, 5, 5)))
    p01 = rows.set_index("unit_code").loc["P01"]
    assert (p01["target"], p01["counted"], p01["completion"], p01["shortfall"]) == (4, 2, 0.5, 2)
    # +2 a night from 6 on 5 May (Vietnam date of the last run) to 31 May: 6 + 2 * 26
    assert (p01["trend_points"], p01["projected"], p01["ends_on"]) == (4, 58, "2022-05-31")


def test_children_targets_that_do_not_add_up_are_flagged_not_changed(engine, world):
    sync_world(engine, world, {"hanoi": [row("HN-1", "Sáng kiến một")]})
    with engine.connect() as conn:
        flags = reconcile.target_flags(conn, reconcile.open_scope(conn))
        rows = worklist.discrepancies(conn, phase=1)
        targets = dict(conn.execute(sa.select(store.quotas.c.unit_code, store.quotas.c.target)
                                    .where(store.quotas.c.phase == 1)).all())
    vgcl = flags.set_index("unit_code").loc["VGCL"]
    assert (vgcl["target"], vgcl["children_target"], vgcl["difference"]) == (10, 6, -4)
    assert vgcl["children_detail"] == "P01 4, NGANHANG 2"
    flagged = [r for r in rows if r["cause"] == "targets_differ"]
    assert [(r["unit_code"], r["expected"], r["actual"]) for r in flagged] == [("VGCL", 10, 6)]
    assert flagged[0]["params"]["children_target"] == 6 and flagged[0]["kind"] == "quota"
    assert targets == {"VGCL": 10, "P01": 4, "NGANHANG": 2, "P34-YTE": 1}


# --- between sources ---------------------------------------------------------------------

PLANTED = ("Sổ theo dõi công văn điện tử", "Phần mềm xếp thời khoá biểu", "Quy trình kiểm kê thư viện")


def planted_world(engine, world) -> None:  # type: ignore[no-untyped-def]
    """Hà Nội's system holds four initiatives; the portal has one of them (and one from Thái Bình)."""
    hanoi = [row("HN-1", "Sáng kiến đã lên cổng", portal="C-1")]
    hanoi += [row(f"HN-{i}", title, author=f"Tác giả {i}", unit="G001" if i == 2 else "G002")
              for i, title in enumerate(PLANTED, start=2)]
    portal = [row("P-1", "Sáng kiến đã lên cổng", portal="C-1"),
              row("P-2", "Bệnh án điện tử", unit="G003", portal="C-2", author="Đỗ Thị Hoa")]
    sync_world(engine, world, {"hanoi": hanoi, "portal": portal})


def test_sources_listing_names_the_initiatives_the_portal_lacks(engine, world):
    planted_world(engine, world)
    with engine.connect() as conn:
        scope = reconcile.open_scope(conn)
        result = reconcile.source_coverage(conn, scope)
        missing = reconcile.missing(conn, scope)
        rows = worklist.discrepancies(conn, unit="P01", phase=1)
    assert sorted(missing["title"]) == sorted(PLANTED)
    assert set(missing["lacking_source"]) == {"portal"}  # Thái Bình is outside Hà Nội's system: not "lacking"
    assert set(missing["held_by"]) == {"hanoi:HN-2", "hanoi:HN-3", "hanoi:HN-4"}
    cov = result.coverage.set_index(["unit_code", "source"])
    assert tuple(cov.loc[("P01", "portal"), ["held", "expected", "lacking"]]) == (1, 4, 3)
    assert tuple(cov.loc[("VGCL", "portal"), ["initiatives", "in_two_or_more", "held", "lacking"]]) == (5, 1, 2, 3)
    p01 = [r for r in rows if r["kind"] == "sources" and r["unit_code"] == "P01"]
    assert len(p01) == 1 and p01[0]["difference"] == -3 and p01[0]["items"] == 3
    assert (p01[0]["cause"], p01[0]["source"], p01[0]["params"]["holders"]) == ("not_on_portal", "portal", ["hanoi"])
    assert {r["unit_code"] for r in rows} <= {"P01", "P01-D01", "G001", "G002"}  # the unit and below only


def test_the_initiatives_behind_a_row_are_the_ones_the_source_lacks(engine, world):
    planted_world(engine, world)
    with engine.connect() as conn:
        found = worklist.build(conn, reconcile.open_scope(conn))
        titles = dict(conn.execute(sa.select(store.initiatives.c.id, store.initiatives.c.title)).tuples().all())
    items = found.items[(found.items["source"] == "portal") & (found.items["cause"] == "not_on_portal")]
    assert sorted(titles[i] for i in items["initiative_id"]) == sorted(PLANTED)
    assert set(items["unit_code"]) == {"G001", "G002"}  # each under its own unit, not once per ancestor


def test_what_carries_a_unit_over_its_target_comes_first(engine, world):
    """Hà Nội (target 4) has 1 initiative on the portal and 3 only in its own system: uploading them meets its
    target on the portal. The same 3 leave the confederation (target 10) short, and Ba Đình has no target."""
    planted_world(engine, world)
    with engine.connect() as conn:
        rows = [r for r in worklist.discrepancies(conn, phase=1, kinds=("sources",)) if r["source"] == "portal"]
    by_unit = {r["unit_code"]: r for r in rows}
    assert (by_unit["P01"]["target"], by_unit["P01"]["standing"], by_unit["P01"]["effect"]) == (4, 1, 3)
    assert by_unit["P01"]["crosses"] and not by_unit["VGCL"]["crosses"] and not by_unit["P01-D01"]["crosses"]
    assert by_unit["P01"]["items"] == by_unit["VGCL"]["items"] == 3  # the same initiatives, a different effect
    assert by_unit["P01"]["rank"] < by_unit["VGCL"]["rank"] < by_unit["P01-D01"]["rank"]
    assert [r["rank"] for r in rows] == sorted(r["rank"] for r in rows)


def test_discrepancy_rows_have_exactly_the_agreed_keys(engine, world):
    planted_world(engine, world)
    with engine.connect() as conn:
        rows = worklist.discrepancies(conn)
    assert rows and {r["kind"] for r in rows} == {"quota", "sources"}
    assert all(tuple(r) == worklist.WORKLIST_COLUMNS for r in rows)
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))


def test_a_store_without_an_org_tree_has_nothing_to_reconcile(engine):
    with engine.connect() as conn:
        assert worklist.discrepancies(conn) == []


# --- the command --------------------------------------------------------------------------

def test_reconcile_json_parses_and_csv_has_the_header(engine, world, db_url, capsys):
    planted_world(engine, world)
    assert main(["--db", db_url, "reconcile", "--format", "json", "--phase", "1"]) == 0
    parsed = json.loads(capsys.readouterr().out)
    assert {m["title"] for m in parsed["sources"]["missing"]} == set(PLANTED)
    assert {"quotas", "target_flags", "discrepancies"} <= set(parsed)
    for section, columns in (("all", WORKLIST_CSV), ("quotas", reconcile.QUOTA_COLUMNS),
                             ("sources", reconcile.MISSING_COLUMNS)):
        assert main(["--db", db_url, "reconcile", "--format", "csv", "--section", section]) == 0
        table = list(csv.reader(io.StringIO(capsys.readouterr().out)))
        assert tuple(table[0]) == columns and len(table) > 1
    assert main(["--db", db_url, "reconcile", "--unit", "P01"]) == 0
    text = capsys.readouterr().out
    assert "Against quotas" in text and all(title in text for title in PLANTED)


@pytest.mark.parametrize("args, expected", [
    (["--unit", "P99"], "unknown unit 'P99'"),
    (["--phase", "9"], "unknown phase 9"),
    (["--as-of", "31/05/2022"], "'31/05/2022' is not a date"),
    (["--section", "push"], "unknown value for --section 'push'; did you mean 'pushes'?"),
])
def test_reconcile_bad_input_is_one_line(tmp_path, args, expected):
    line = one_line_error(run_cli("--db", f"sqlite:///{tmp_path / 's.db'}", "reconcile", *args, cwd=tmp_path))
    assert expected in line
