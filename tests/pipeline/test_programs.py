"""Programs as configuration: the Public Employees' 2022 rounds (seed 004) beside the national program, on the
same records, each counted by its own phases and window; the default program stays what it was."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from sangkien.cli.main import main
from tests.conftest import one_line_error, run_cli
from tests.pipeline.test_reconcile import sync_world

LINE = "{id};;{title};{author};{unit};Giáo dục;Giải pháp quản lý;{recognized};{applied};{submitted};{status};"
# (id, unit, author, applied, submitted, status): the truth the tests count from
RECORDS = [
    ("V-1", "G002", "Nguyễn Văn An", "2021-10-01", "2021-11-01", "Hợp lệ"),  # before the 2022 rounds
    ("V-2", "G002", "Trần Thị Bình", "2022-02-01", "2022-03-05", "Hợp lệ"),  # round 1
    ("V-3", "G001", "Lê Văn Cường", "2022-04-01", "2022-05-10", "Hợp lệ"),  # round 1
    ("V-4", "G001", "Phạm Thị Dung", "2022-07-15", "2022-08-10", "Hợp lệ"),  # round 2
    ("V-5", "G003", "Đỗ Thị Hoa", "2022-09-01", "2022-10-01", "Chờ duyệt"),  # round 2, pending
    ("V-6", "G003", "Hoàng Văn Em", "2023-02-01", "2023-03-01", "Hợp lệ"),  # after the 2022 rounds
]
TITLES = ("Sổ theo dõi công văn điện tử", "Phần mềm xếp thời khoá biểu", "Quy trình kiểm kê thư viện",
          "Cải tiến máy bơm nước", "Bệnh án điện tử", "Quy trình tiếp đón người bệnh")
UNDER_P01 = {"G001", "G002"}
ROUNDS = {1: (dt.date(2022, 1, 1), dt.date(2022, 6, 30)), 2: (dt.date(2022, 7, 1), dt.date(2022, 12, 31))}
DEFAULT = {1: (dt.date(2021, 9, 1), dt.date(2022, 5, 31)), 2: (dt.date(2022, 6, 1), dt.date(2023, 9, 1))}


def vn(day: str) -> str:
    return dt.date.fromisoformat(day).strftime("%d/%m/%Y")


def valid_in(phases: dict[int, tuple[dt.date, dt.date]], phase: int, window: tuple[dt.date, dt.date],
             units: set[str]) -> int:
    start, end = phases[phase]
    return sum(1 for _, unit, _, applied, submitted, status in RECORDS
               if unit in units and status == "Hợp lệ" and start <= dt.date.fromisoformat(submitted) <= end
               and window[0] <= dt.date.fromisoformat(applied) <= window[1])


@pytest.fixture
def two_programs(engine, world, db_url, tmp_path, capsys):  # type: ignore[no-untyped-def]
    rows = [LINE.format(id=i, title=t, author=a, unit=u, recognized=vn(s), applied=vn(ap), submitted=vn(s), status=st)
            for (i, u, a, ap, s, st), t in zip(RECORDS, TITLES, strict=True)]
    sync_world(engine, world, {"hanoi": rows})
    cli = ["--db", db_url]
    assert main([*cli, "programs", "add", "VC-2022", "--name", "Thi đua 2022, Công đoàn Viên chức Việt Nam",
                 "--starts-on", "2022-01-01", "--ends-on", "2022-12-31"]) == 0
    (tmp_path / "rounds.csv").write_text(
        "phase,name,starts_on,ends_on,counts_from\n1,Đợt 1,2022-01-01,2022-06-30,2022-01-01\n"
        "2,Đợt 2,2022-07-01,2022-12-31,2022-01-01\n", encoding="utf-8")
    assert main([*cli, "phases", "load", str(tmp_path / "rounds.csv"), "--program", "VC-2022"]) == 0
    (tmp_path / "vc-quotas.csv").write_text("unit_code,phase,target,basis,assigned_by\nP01,1,4,valid,\n"
                                            "P01,2,2,valid,\nP01-D01,2,100,share_of_units:grassroots,\n",
                                            encoding="utf-8")
    assert main([*cli, "quotas", "load", str(tmp_path / "vc-quotas.csv"), "--program", "VC-2022"]) == 0
    capsys.readouterr()
    return cli


def test_one_store_counts_the_same_records_for_two_programs_each_by_its_own_phases(two_programs, capsys):
    cli = two_programs
    window = (dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    assert main([*cli, "report", "--format", "json", "--program", "VC-2022", "--unit", "P01"]) == 0
    rows = {r["phase"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    for phase in (1, 2):
        truth = valid_in(ROUNDS, phase, window, UNDER_P01)
        assert (rows[phase]["valid"], rows[phase]["completion"]) == (truth, round(truth / rows[phase]["target"], 4))
    # the default program (initiatives applied 2021-09-01 to 2023-09-01) counts the same records its own way
    assert main([*cli, "report", "--format", "json", "--unit", "P01"]) == 0
    default = {r["phase"]: r["valid"] for r in json.loads(capsys.readouterr().out)["rows"]}
    national = (dt.date(2021, 9, 1), dt.date(2023, 9, 1))
    assert default == {p: valid_in(DEFAULT, p, national, UNDER_P01) for p in (1, 2)}
    # V-1 (applied Oct 2021) counts nationally only; V-2 and V-3 in the national phase 1 and in round 1
    assert (default[1], rows[1]["valid"]) == (3, 2)


def test_reconcile_per_program_counts_its_quotas_and_its_share_of_units(two_programs, capsys):
    cli = two_programs
    assert main([*cli, "reconcile", "--format", "json", "--program", "VC-2022", "--as-of", "2022-12-31"]) == 0
    parsed = json.loads(capsys.readouterr().out)
    assert parsed["program"] == "VC-2022"
    # between sources, too, by the rounds: the initiatives (any status) each round holds under Hà Nội
    window = (dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    held = {r["phase"]: r["initiatives"] for r in parsed["sources"]["coverage"] if r["unit_code"] == "P01"}
    assert held == {p: sum(1 for _, unit, _, applied, submitted, _ in RECORDS if unit in UNDER_P01
                           and ROUNDS[p][0] <= dt.date.fromisoformat(submitted) <= ROUNDS[p][1]
                           and window[0] <= dt.date.fromisoformat(applied) <= window[1]) for p in (1, 2)}
    quotas = {(q["unit_code"], q["phase"]): q for q in parsed["quotas"]}
    grassroots = {"G001", "G002"}
    taking = sum(1 for g in grassroots if valid_in(ROUNDS, 2, (dt.date(2022, 1, 1), dt.date(2022, 12, 31)), {g}))
    share = quotas[("P01-D01", 2)]
    assert (share["taking_part"], share["out_of"], share["completion"]) == (taking, 2, round(taking / 2, 4))
    assert quotas[("P01", 2)]["ends_on"] == "2022-12-31"


def test_programs_are_listed_and_shown_and_the_default_program_holds_the_stores_phases(two_programs, capsys):
    cli = two_programs
    assert main([*cli, "programs", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].startswith("1trieu") and "default" in listed[0]
    assert "VC-2022" in listed[1] and "2 phases, 3 quotas" in listed[1]
    assert main([*cli, "programs", "show", "VC-2022"]) == 0
    assert "phase 2: submitted 2022-07-01 to 2022-12-31" in capsys.readouterr().out
    assert main([*cli, "phases", "list"]) == 0
    assert "phase 1: submitted 2021-09-01 to 2022-05-31" in capsys.readouterr().out


def test_a_phase_outside_the_programs_window_and_an_unknown_program_are_refused_in_one_line(two_programs,
                                                                                             tmp_path):
    db = two_programs
    (tmp_path / "slip.csv").write_text("phase,name,starts_on,ends_on,counts_from\n1,Đợt 1,2022-01-01,2022-06-30,"
                                       "2022-01-01\n2,Đợt 2,2021-07-01,2021-12-31,2021-07-01\n", encoding="utf-8")
    line = one_line_error(run_cli(*db, "phases", "load", str(tmp_path / "slip.csv"), "--program", "VC-2022"))
    assert "line 3 (phase 2): 2021-07-01 – 2021-12-31 is outside the program's window 2022-01-01 – 2022-12-31; " \
           "did you mean 2022?" in line
    line = one_line_error(run_cli(*db, "report", "--program", "VC-2023"))
    assert "unknown program 'VC-2023'; known programs: 1trieu, VC-2022" in line


def test_the_workbook_of_another_program_has_its_rounds_and_says_whose_worklist_it_lacks(two_programs, capsys,
                                                                                         tmp_path):
    import openpyxl

    out = tmp_path / "vc.xlsx"
    assert main([*two_programs, "report", "--format", "xlsx", "--out", str(out), "--program", "VC-2022"]) == 0
    capsys.readouterr()
    wb = openpyxl.load_workbook(out)
    assert {"Đợt 1", "Đợt 2"} <= set(wb.sheetnames) and "Xếp hạng cụm, khối" not in wb.sheetnames
    window = (dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    for phase in (1, 2):
        ws = wb[f"Đợt {phase}"]
        header = [c.value for c in ws[1]]
        rows = {r[header.index("Mã đơn vị")]: r for r in ([c.value for c in row] for row in ws.iter_rows(min_row=2))}
        assert rows["P01"][header.index("Hợp lệ")] == valid_in(ROUNDS, phase, window, UNDER_P01)
    notes = [c.value for row in wb["Tổng quan"].iter_rows() for c in row if isinstance(c.value, str)]
    assert any(n.startswith("Chương trình VC-2022:") for n in notes)


def test_a_programs_window_can_be_moved_to_take_phases_that_end_later_but_not_to_leave_one_out(two_programs,
                                                                                               tmp_path):
    db = two_programs
    (tmp_path / "later.csv").write_text("phase,name,starts_on,ends_on,counts_from\n1,GĐ 1,2021-09-01,2022-06-30,"
                                        "2021-09-01\n2,GĐ 2,2022-07-01,2023-09-30,2021-09-01\n", encoding="utf-8")
    line = one_line_error(run_cli(*db, "phases", "load", str(tmp_path / "later.csv")))
    assert "outside the program's window 2021-09-01 – 2023-09-01" in line
    assert run_cli(*db, "programs", "edit", "1trieu", "--ends-on", "2023-09-30").returncode == 0
    assert run_cli(*db, "phases", "load", str(tmp_path / "later.csv")).returncode == 0
    line = one_line_error(run_cli(*db, "programs", "edit", "VC-2022", "--ends-on", "2022-10-31"))
    assert "phase 2 (2022-07-01 – 2022-12-31) would lie outside 2022-01-01 – 2022-10-31" in line


def test_another_program_made_the_nodes_default_is_validated_counted_and_shown_by_every_command(two_programs,
                                                                                                capsys):
    cli = two_programs
    assert main([*cli, "report", "--format", "csv"]) == 0
    national_csv = capsys.readouterr().out
    assert main([*cli, "report", "--format", "json", "--program", "VC-2022"]) == 0
    by_dates = json.loads(capsys.readouterr().out)["rows"]
    assert main([*cli, "programs", "default", "VC-2022"]) == 0
    said = capsys.readouterr().out
    assert "default program: VC-2022" in said and f"validated {len(RECORDS)} landed row(s) again" in said
    # the nightly counts are now the rounds': what was counted by dates is what validation counted
    assert main([*cli, "report", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [(r["unit_code"], r["phase"], r["valid"], r["target"]) for r in rows] == [
        (r["unit_code"], r["phase"], r["valid"], r["target"]) for r in by_dates]
    window = (dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    p01 = {r["phase"]: r for r in rows if r["unit_code"] == "P01"}
    assert {p: p01[p]["valid"] for p in (1, 2)} == {p: valid_in(ROUNDS, p, window, UNDER_P01) for p in (1, 2)}
    assert main([*cli, "reconcile", "--format", "json", "--unit", "P01"]) == 0
    assert {(q["phase"], q["target"]) for q in json.loads(capsys.readouterr().out)["quotas"]
            if q["unit_code"] == "P01"} == {(1, 4), (2, 2)}
    assert main([*cli, "programs", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].startswith("VC-2022") and "default" in listed[0] and "default" not in listed[1]
    assert main([*cli, "node", "show"]) == 0
    assert "default_program = VC-2022" in capsys.readouterr().out
    assert main([*cli, "phases", "list"]) == 0
    assert "phase 2: submitted 2022-07-01 to 2022-12-31" in capsys.readouterr().out
    # and back: the national program's report is what it was, byte for byte
    assert main([*cli, "programs", "default", "1trieu"]) == 0
    capsys.readouterr()
    assert main([*cli, "report", "--format", "csv"]) == 0
    assert capsys.readouterr().out == national_csv


def test_an_unknown_program_or_one_without_phases_cannot_be_made_the_default(two_programs, capsys):
    db = two_programs
    line = one_line_error(run_cli(*db, "programs", "default", "VC-2023"))
    assert "unknown program 'VC-2023'; known programs: 1trieu, VC-2022" in line
    assert main([*db, "programs", "add", "TD-2024", "--name", "Thi đua 2024", "--starts-on", "2024-01-01",
                 "--ends-on", "2024-12-31"]) == 0
    line = one_line_error(run_cli(*db, "programs", "default", "TD-2024"))
    assert "program TD-2024 has no phases to count by; load them first" in line
    line = one_line_error(run_cli(*db, "node", "set", "default_program=VC-2022"))
    assert "sangkien programs default VC-2022" in line
    assert main([*db, "programs", "default"]) == 0
    assert "default program: 1trieu" in capsys.readouterr().out


def test_as_the_default_program_a_program_counts_nothing_applied_before_its_window_whatever_its_phases_say(
        engine, world, db_url, tmp_path, capsys):
    # applied 2021-12-01 (before the 2022 window), submitted in round 1; and one applied inside it
    records = [("W-1", "G002", "Nguyễn Văn An", "2021-12-01", "2022-02-01", "Hợp lệ"),
               ("W-2", "G001", "Trần Thị Bình", "2022-01-15", "2022-02-10", "Hợp lệ")]
    sync_world(engine, world, {"hanoi": [
        LINE.format(id=i, title=t, author=a, unit=u, recognized=vn(s), applied=vn(ap), submitted=vn(s), status=st)
        for (i, u, a, ap, s, st), t in zip(records, TITLES, strict=False)]})
    cli = ["--db", db_url]
    assert main([*cli, "programs", "add", "VC-2022", "--name", "Thi đua 2022", "--starts-on", "2022-01-01",
                 "--ends-on", "2022-12-31"]) == 0
    (tmp_path / "rounds.csv").write_text("phase,name,starts_on,ends_on,counts_from\n"
                                         "1,Đợt 1,2022-01-01,2022-06-30,2021-09-01\n", encoding="utf-8")
    assert main([*cli, "phases", "load", str(tmp_path / "rounds.csv"), "--program", "VC-2022"]) == 0
    capsys.readouterr()
    assert main([*cli, "report", "--format", "json", "--unit", "P01", "--program", "VC-2022"]) == 0
    by_dates = json.loads(capsys.readouterr().out)["rows"]
    assert main([*cli, "programs", "default", "VC-2022"]) == 0
    assert "1 accepted, 1 ineligible" in capsys.readouterr().out  # W-1: applied before the window
    assert main([*cli, "report", "--format", "json", "--unit", "P01"]) == 0
    validated = json.loads(capsys.readouterr().out)["rows"]
    assert [(r["phase"], r["valid"]) for r in validated] == [(r["phase"], r["valid"]) for r in by_dates] == [(1, 1)]
