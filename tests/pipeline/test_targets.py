"""Every target the source documents set, counted its own way: several assigners (Hà Nội, seed 003), a share of
members (Thái Bình health, seed 002), a share of units (Public Employees, seed 004); and a store made before
assigners existed keeps its figures. On the store (SQLite and PostgreSQL), through the real commands."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from alembic import command

from sangkien import store
from sangkien.cli.main import main
from sangkien.errors import RejectedFile
from sangkien.reference.members import load_members, members_on
from sangkien.reference.orgs import load_orgs
from sangkien.reference.quotas import load_quotas
from sangkien.store.engine import _alembic_config
from tests.conftest import ORGS_CSV
from tests.pipeline.test_reconcile import row, sync_world

# under Hà Nội (P01): G001 and G002 (district P01-D01); under Thái Bình health (P34-YTE): G003
UNDER = {"P01": {"G001", "G002"}, "P01-D01": {"G001", "G002"}, "P34-YTE": {"G003"}, "NGANHANG": {"G001"},
         "VGCL": {"G001", "G002", "G003"}}


def initiatives() -> list[tuple[str, str, str, str]]:
    """(id, unit, author, status) of the initiatives written to the source; the truth the tests count from."""
    return [("S-1", "G002", "Nguyễn Văn An", "Hợp lệ"), ("S-2", "G002", "Trần Thị Bình", "Hợp lệ"),
            ("S-3", "G001", "Lê Văn Cường", "Hợp lệ"), ("S-4", "G001", "Phạm Thị Dung", "Chờ duyệt"),
            ("S-5", "G003", "Đỗ Thị Hoa", "Hợp lệ"), ("S-6", "G003", "Hoàng Văn Em", "Hợp lệ"),
            ("S-7", "G003", "Hoàng Văn Em", "Chờ duyệt")]


TITLES = ("Sổ theo dõi công văn điện tử", "Phần mềm xếp thời khoá biểu", "Quy trình kiểm kê thư viện",
          "Cải tiến máy bơm nước", "Bệnh án điện tử", "Quy trình tiếp đón người bệnh", "Hộp thuốc cấp cứu lưu động")


def sync(engine, world, quotas: str) -> None:  # type: ignore[no-untyped-def]
    (world.root / "quotas.csv").write_text(quotas, encoding="utf-8")
    rows = [row(i, title, unit=unit, author=author, status=status)
            for (i, unit, author, status), title in zip(initiatives(), TITLES, strict=True)]
    sync_world(engine, world, {"hanoi": rows})


def valid_under(unit: str) -> int:
    return sum(1 for _, u, _, s in initiatives() if u in UNDER[unit] and s == "Hợp lệ")


def authors_under(unit: str) -> int:
    return len({(u, a) for _, u, a, _ in initiatives() if u in UNDER[unit]})


def reconcile_json(db_url: str, capsys, *args: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert main(["--db", db_url, "reconcile", "--format", "json", "--as-of", "2022-05-31", *args]) == 0
    return json.loads(capsys.readouterr().out)


def report_json(db_url: str, capsys, *args: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert main(["--db", db_url, "report", "--format", "json", *args]) == 0
    return json.loads(capsys.readouterr().out)


# --- assigners (seed 003: Hà Nội, assigned 60,000 by the confederation, set itself 130,000) -----------------

HANOI_QUOTAS = """\
unit_code,phase,target,basis,assigned_by
VGCL,1,10,valid,
P01,1,4,valid,VGCL
P01,1,6,valid,P01
P01-D01,1,5,valid,P01
P34-YTE,1,1,valid,
"""


def test_hanoi_shows_the_target_assigned_by_the_confederation_and_the_one_it_set_itself(engine, world, db_url,
                                                                                        capsys):
    sync(engine, world, HANOI_QUOTAS)
    quotas = [q for q in reconcile_json(db_url, capsys, "--unit", "P01")["quotas"] if q["unit_code"] == "P01"]
    truth = valid_under("P01")
    assert [(q["assigned_by"], q["target"], q["counted"], q["completion"]) for q in quotas] == [
        ("VGCL", 4, truth, round(truth / 4, 4)), ("P01", 6, truth, round(truth / 6, 4))]
    assert quotas[0]["assigned_by_name"] == "Tổng Liên đoàn Lao động Việt Nam"
    report = [r for r in report_json(db_url, capsys, "--unit", "P01", "--phase", "1")["rows"]]
    assert [(r["assigned_by"], r["target"], r["valid"], r["completion"]) for r in report] == [
        ("VGCL", 4, truth, round(truth / 4, 4)), ("P01", 6, truth, round(truth / 6, 4))]
    assert main(["--db", db_url, "report", "--unit", "P01", "--phase", "1"]) == 0
    table = capsys.readouterr().out
    assert "set by" in table and "itself" in table and "VGCL" in table


def test_the_childrens_sum_is_checked_against_the_target_a_unit_set_itself(engine, world, db_url, capsys):
    sync(engine, world, HANOI_QUOTAS)
    flags = {f["unit_code"]: f for f in reconcile_json(db_url, capsys)["target_flags"]}
    # Hà Nội assigned 5 below against the 6 it set itself (not the 4 it was assigned)
    assert (flags["P01"]["target"], flags["P01"]["children_target"], flags["P01"]["assigned_by"]) == (6, 5, "P01")
    # the confederation assigned P01 4 and nothing else to P34-YTE's level: its children's sum is 4, not 4 + 6
    assert (flags["VGCL"]["target"], flags["VGCL"]["children_target"]) == (10, 4)


def test_quota_assigner_defaults_to_the_parent_and_the_top_sets_its_own(engine, tmp_path):
    orgs, quotas = tmp_path / "orgs.csv", tmp_path / "quotas.csv"
    orgs.write_text(ORGS_CSV, encoding="utf-8")
    load_orgs(engine, orgs)
    quotas.write_text("unit_code,phase,target\nVGCL,1,300000\nP01,1,60000\nP34-YTE,1,100\n", encoding="utf-8")
    load_quotas(engine, quotas)
    with engine.connect() as conn:
        got = dict(conn.execute(sa.select(store.quotas.c.unit_code, store.quotas.c.assigned_by)).tuples().all())
    assert got == {"VGCL": "VGCL", "P01": "VGCL", "P34-YTE": "P34"}


def test_a_quota_file_with_an_unknown_assigner_or_a_repeated_target_is_rejected_naming_each_line(engine, tmp_path):
    orgs, quotas = tmp_path / "orgs.csv", tmp_path / "quotas.csv"
    orgs.write_text(ORGS_CSV, encoding="utf-8")
    load_orgs(engine, orgs)
    quotas.write_text("unit_code,phase,target,basis,assigned_by\nP01,1,60000,valid,VGCL\nP01,1,130000,valid,P01\n"
                      "P01,1,5,valid,VGCL\nP01-D01,1,9,valid,HANOI\nP34-YTE,1,150,share_of_members,\n",
                      encoding="utf-8")
    with pytest.raises(RejectedFile) as rejected:
        load_quotas(engine, quotas)
    assert rejected.value.problems == [
        "line 4 (P01): second valid quota for phase 1 assigned by VGCL, first on line 2",
        "line 5 (P01-D01): assigned_by 'HANOI' is not a unit of the org tree",
        "line 6 (P34-YTE): a share_of_members target is a percentage (0 to 100), not 150"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store.quotas)).scalar_one() == 0


# --- members (seed 002: Thái Bình health, "at least 10% of members take part") ---------------------------------

HEALTH_QUOTAS = """\
unit_code,phase,target,basis,assigned_by
P34-YTE,1,2,valid,P34
P34-YTE,1,10,share_of_members,P34-YTE
NGANHANG,1,10,share_of_members,
"""
MEMBERS = "unit_code,as_of,members\nG003,2021-06-01,15\nG003,2022-01-01,20\nG003,2022-07-01,40\n"


def test_thai_binh_health_counts_its_initiatives_and_the_share_of_members_taking_part(engine, world, db_url, capsys,
                                                                                      tmp_path):
    sync(engine, world, HEALTH_QUOTAS)
    (tmp_path / "members.csv").write_text(MEMBERS, encoding="utf-8")
    assert main(["--db", db_url, "members", "load", str(tmp_path / "members.csv")]) == 0
    capsys.readouterr()
    quotas = {(q["unit_code"], q["basis"]): q for q in reconcile_json(db_url, capsys, "--phase", "1")["quotas"]}
    valid = quotas[("P34-YTE", "valid")]
    assert (valid["target"], valid["counted"], valid["completion"]) == (2, valid_under("P34-YTE"),
                                                                       valid_under("P34-YTE") / 2)
    # members on the phase's last day (2022-05-31): the count of 2022-01-01, not the later one
    share = quotas[("P34-YTE", "share_of_members")]
    expected = round(100 * authors_under("P34-YTE") / 20, 2)
    assert (share["taking_part"], share["out_of"], share["counted"]) == (authors_under("P34-YTE"), 20, expected)
    assert share["completion"] == round(expected / 10, 4) and share["assigned_by"] == "P34-YTE"
    # a unit without a member count says so by name, and has no share (never 0%)
    banking = quotas[("NGANHANG", "share_of_members")]
    assert banking["counted"] is None and banking["completion"] is None
    assert "no member count for Công đoàn Ngân hàng Việt Nam (NGANHANG) on or before 2022-05-31" in banking["note"]
    rows = {(r["unit_code"], r["basis"]): r for r in report_json(db_url, capsys, "--phase", "1")["rows"]}
    assert rows[("P34-YTE", "share_of_members")]["counted"] == expected
    assert rows[("NGANHANG", "share_of_members")]["completion"] is None
    assert main(["--db", db_url, "reconcile", "--format", "json", "--as-of", "2022-05-31", "--lang", "vi"]) == 0
    worklist = json.loads(capsys.readouterr().out)["discrepancies"]
    [missing] = [r for r in worklist if r["cause"] == "uncountable_basis"]
    assert "Công đoàn Ngân hàng Việt Nam chưa có số đoàn viên đến ngày 31/05/2022" in missing["explanation"]


def test_a_units_own_member_count_stands_for_its_subtree_and_counts_are_kept_as_history(engine, world, db_url,
                                                                                         capsys, tmp_path):
    sync(engine, world, HEALTH_QUOTAS)
    (tmp_path / "members.csv").write_text(MEMBERS, encoding="utf-8")
    load_members(engine, tmp_path / "members.csv")
    (tmp_path / "more.csv").write_text("unit_code,as_of,members\nP34-YTE,2022-03-01,50\nG003,2022-01-01,25\n",
                                       encoding="utf-8")
    load_members(engine, tmp_path / "more.csv")
    with engine.connect() as conn:
        on_day = members_on(conn, dt.date(2022, 5, 31)).set_index("unit_code")["members"].to_dict()
    assert on_day == {"G003": 25, "P34-YTE": 50}  # the same day loaded again replaces; the others stay
    share = {(q["unit_code"], q["basis"]): q for q in reconcile_json(db_url, capsys)["quotas"]}[
        ("P34-YTE", "share_of_members")]
    assert (share["out_of"], share["counted"]) == (50, round(100 * authors_under("P34-YTE") / 50, 2))
    assert main(["--db", db_url, "members", "list", "--unit", "G003"]) == 0
    assert capsys.readouterr().out.count("G003") == 3


def test_a_bad_members_file_is_rejected_whole_naming_every_line(engine, tmp_path):
    orgs, members = tmp_path / "orgs.csv", tmp_path / "members.csv"
    orgs.write_text(ORGS_CSV, encoding="utf-8")
    load_orgs(engine, orgs)
    members.write_text("unit_code,as_of,members\nG003,2022-01-01,20\nG999,2022-01-01,5\nG002,01/01/2022,7\n"
                       "G001,2022-01-01,1.5\nG003,2022-01-01,21\nG002,,3\n", encoding="utf-8")
    with pytest.raises(RejectedFile) as rejected:
        load_members(engine, members)
    assert rejected.value.problems == [
        "line 3 (G999): unknown unit 'G999'",
        "line 4 (G002): as_of '01/01/2022' is not an ISO date (YYYY-MM-DD)",
        "line 5 (G001): members '1.5' is not a whole number ≥ 0 (write 8500, or 8.500 with thousands separators)",
        "line 6 (G003): second count for 2022-01-01, first on line 2",
        "line 7 (G002): as_of is empty; the date the count was taken (YYYY-MM-DD)"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store.unit_members)).scalar_one() == 0


# --- units taking part (seed 004: Public Employees, "100% of affiliated unions") ---------------------------------

UNITS_ORGS = ORGS_CSV + "G004,Công đoàn cơ sở Trường Tiểu học Kim Đồng,grassroots,P01-D01,,,,\n"
UNITS_QUOTAS = """\
unit_code,phase,target,basis,assigned_by
VGCL,1,100,share_of_units,
P01-D01,1,100,share_of_units:grassroots,
P01,1,100,share_of_units:children,
"""


def test_the_share_of_direct_children_or_of_grassroots_units_taking_part(engine, world, db_url, capsys):
    (world.root / "quotas.csv").write_text(UNITS_QUOTAS, encoding="utf-8")
    rows = [row(i, title, unit=unit, author=author, status=status)
            for (i, unit, author, status), title in zip(initiatives(), TITLES, strict=True)]
    sync_world(engine, world, {"hanoi": rows}, orgs=UNITS_ORGS)
    quotas = {q["unit_code"]: q for q in reconcile_json(db_url, capsys, "--phase", "1")["quotas"]}
    children = {"VGCL": ["P01", "P34", "NGANHANG"], "P01": ["P01-D01"]}
    for unit, below in children.items():
        taking = sum(1 for child in below if valid_under({"P34": "P34-YTE"}.get(child, child)) > 0)
        assert (quotas[unit]["taking_part"], quotas[unit]["out_of"]) == (taking, len(below))
        assert quotas[unit]["completion"] == round(taking / len(below), 4)
    grassroots = ["G001", "G002", "G004"]
    taking = sum(1 for g in grassroots if any(u == g and s == "Hợp lệ" for _, u, _, s in initiatives()))
    assert (quotas["P01-D01"]["taking_part"], quotas["P01-D01"]["out_of"]) == (taking, 3)
    assert quotas["P01-D01"]["counted"] == round(100 * taking / 3, 2) and quotas["P01-D01"]["basis"] == \
        "share_of_units:grassroots"


# --- a store made before assigners ------------------------------------------------------------------------------

def test_a_store_made_before_assigners_upgrades_and_reports_the_same_figures(engine, world, db_url, capsys):
    from tests.conftest import QUOTAS_CSV

    sync(engine, world, QUOTAS_CSV)
    before = report_json(db_url, capsys)["rows"]
    quotas_before = reconcile_json(db_url, capsys)["quotas"]
    config = _alembic_config(engine)
    command.downgrade(config, "0009")
    with engine.begin() as conn:  # as the loader wrote quotas then: no assigner
        conn.execute(sa.text("UPDATE quotas SET assigned_by = NULL"))
        assert "unit_members" not in sa.inspect(conn).get_table_names()
    command.upgrade(config, "head")
    after = report_json(db_url, capsys)["rows"]
    figures = ("unit_code", "phase", "records", "initiatives", "valid", "pending", "rejected", "registrants",
               "target", "completion")
    assert [{k: r[k] for k in figures} for r in after] == [{k: r[k] for k in figures} for r in before]
    assert reconcile_json(db_url, capsys)["quotas"] == quotas_before
    assert {r["assigned_by"] for r in after if r["unit_code"] == "P01"} == {"VGCL"}


def test_the_workbook_lists_every_target_with_its_assigner_and_the_members_share(engine, world, db_url, capsys,
                                                                                tmp_path):
    import openpyxl

    sync(engine, world, HEALTH_QUOTAS.replace("NGANHANG,1,10,share_of_members,\n", "P01,1,4,valid,VGCL\n"
                                              "P01,1,6,valid,P01\n"))
    (tmp_path / "members.csv").write_text(MEMBERS, encoding="utf-8")
    load_members(engine, tmp_path / "members.csv")
    out = tmp_path / "report.xlsx"
    assert main(["--db", db_url, "report", "--format", "xlsx", "--out", str(out)]) == 0
    capsys.readouterr()
    wb = openpyxl.load_workbook(out)
    ws = wb["Chỉ tiêu theo nơi giao"]
    assert [c.value for c in ws[1]] == ["Mã đơn vị", "Tên đơn vị", "Đợt", "Nơi giao", "Cơ sở tính chỉ tiêu",
                                        "Chỉ tiêu (tỷ lệ: %)", "Số đạt (tỷ lệ: %)", "Tỷ lệ hoàn thành"]
    rows = {(r[0], r[3], r[4]): r for r in ([c.value for c in row] for row in ws.iter_rows(min_row=2))}
    assert rows[("P01", "VGCL", "sáng kiến hợp lệ")][5:] == [4, valid_under("P01"), round(valid_under("P01") / 4, 4)]
    assert rows[("P01", "Tự đặt", "sáng kiến hợp lệ")][5:7] == [6, valid_under("P01")]
    share = round(100 * authors_under("P34-YTE") / 20, 2)
    assert rows[("P34-YTE", "Tự đặt", "tỷ lệ đoàn viên")][5:] == [10, share, round(share / 10, 4)]


def test_an_org_tree_without_a_quotas_assigner_or_a_clusters_unit_is_refused(engine, tmp_path):
    from sangkien.reference.clusters import load_clusters

    orgs, quotas, clusters = tmp_path / "orgs.csv", tmp_path / "quotas.csv", tmp_path / "clusters.csv"
    orgs.write_text(ORGS_CSV, encoding="utf-8")
    load_orgs(engine, orgs)
    quotas.write_text("unit_code,phase,target,basis,assigned_by\nG003,1,5,valid,P34-YTE\n", encoding="utf-8")
    load_quotas(engine, quotas)
    clusters.write_text("cluster_code,name,unit_code\nCUM1,Cụm 1,NGANHANG\n", encoding="utf-8")
    load_clusters(engine, clusters)
    smaller = tmp_path / "smaller.csv"
    smaller.write_text("".join(line + "\n" for line in ORGS_CSV.splitlines()
                               if not line.startswith(("P34-YTE,", "NGANHANG,")))
                       .replace("G003,Công đoàn cơ sở Bệnh viện Đa khoa tỉnh Thái Bình,grassroots,P34-YTE",
                                "G003,Công đoàn cơ sở Bệnh viện Đa khoa tỉnh Thái Bình,grassroots,P34")
                       .replace(",P01-D01,NGANHANG,", ",P01-D01,,"), encoding="utf-8")
    with pytest.raises(RejectedFile) as rejected:
        load_orgs(engine, smaller)
    assert rejected.value.problems == [
        "quota for G003 (phase 1) was assigned by P34-YTE, missing from this tree; keep the unit or reload quotas "
        "without it first",
        "cluster CUM1 holds NGANHANG, missing from this tree; keep the unit or reload clusters without it first"]


def test_a_share_summed_over_some_grassroots_units_names_the_ones_without_a_count(engine, world, db_url, capsys,
                                                                                   tmp_path):
    (world.root / "quotas.csv").write_text("unit_code,phase,target,basis,assigned_by\n"
                                           "P01-D01,1,10,share_of_members,P01\n", encoding="utf-8")
    rows = [row(i, title, unit=unit, author=author, status=status)
            for (i, unit, author, status), title in zip(initiatives(), TITLES, strict=True)]
    sync_world(engine, world, {"hanoi": rows}, orgs=UNITS_ORGS)
    (tmp_path / "members.csv").write_text("unit_code,as_of,members\nG001,2022-01-01,30\nG002,2022-01-01,10\n",
                                          encoding="utf-8")
    load_members(engine, tmp_path / "members.csv")
    [share] = quotas_of_unit(reconcile_json(db_url, capsys), "P01-D01")
    assert (share["taking_part"], share["out_of"]) == (authors_under("P01-D01"), 40)
    assert share["counted"] == round(100 * authors_under("P01-D01") / 40, 2)
    assert share["note"] == ("basis share_of_members: members summed over the counted units only: 1 grassroots "
                             "unit without a member count (Công đoàn cơ sở Trường Tiểu học Kim Đồng)")


def quotas_of_unit(parsed: dict, unit: str) -> list[dict]:  # type: ignore[type-arg]
    return [q for q in parsed["quotas"] if q["unit_code"] == unit]
