"""Every target the source documents set, counted its own way: several assigners (Hà Nội, seed 003), a share of
members (Thái Bình health, seed 002), a share of units (Public Employees, seed 004); and a store made before
assigners existed keeps its figures. On the store (SQLite and PostgreSQL), through the real commands."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from sangkien import store
from sangkien.cli.main import main
from sangkien.errors import RejectedFile
from sangkien.reference.orgs import load_orgs
from sangkien.reference.quotas import load_quotas
from tests.conftest import ORGS_CSV
from tests.pipeline.test_reconcile import row, sync_world

# under Hà Nội (P01): G001 and G002 (district P01-D01); under Thái Bình health (P34-YTE): G003
PARENT = {"G001": "P01-D01", "G002": "P01-D01", "G003": "P34-YTE"}
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
