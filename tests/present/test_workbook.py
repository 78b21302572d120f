"""The national office's workbook, opened with openpyxl as Excel would read it."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa

from sangkien import store
from sangkien.cli.main import main
from sangkien.pipeline.run import run_sync
from sangkien.present.catalogue import texts
from sangkien.present.workbook.book import workbook_labels, write_workbook
from sangkien.present.workbook.sheets import DETAIL_KEYS, SUMMARY_KEYS
from sangkien.store import open_store
from sangkien.store.registry import add_connector, read_config_file
from tests.conftest import ORGS_CSV, QUOTAS_CSV
from tests.pipeline.test_reconcile import PLANTED, planted_world
from tests.pipeline.test_sync_store import BAD_DATE_ROW, BANK_ROW, SCHOOL_ROW, setup_store

LABELS = {lang: workbook_labels(lang) for lang in ("vi", "en")}
# the phases' configured names (the program's defaults) as sheet names: Excel forbids "/" in them
PHASE_SHEETS = {1: "Giai đoạn 1 (đến 31-5-2022)", 2: "Giai đoạn 2 (6-2022 – 9-2023)"}
SHEETS_VI = ["Tổng quan", PHASE_SHEETS[1], PHASE_SHEETS[2], "Nguồn chưa khớp", "Nguồn chưa khớp - chi tiết",
             "Dòng bị giữ lại"]

COUNTS = ("records", "initiatives", "valid", "pending", "rejected", "registrants")
PHASE_HEADERS_VI = ["Mã đơn vị", "Tên đơn vị", "Loại đơn vị", "Đơn vị cấp trên", "Lượt gửi (bản ghi)", "Sáng kiến",
                    "Hợp lệ", "Chờ duyệt", "Không hợp lệ", "Không đủ điều kiện", "Người đăng ký",
                    "Giá trị làm lợi (đồng)", "Chỉ tiêu", "Cơ sở tính chỉ tiêu", "Tỷ lệ hoàn thành",
                    "Hạng trong nhóm", "Số đơn vị trong nhóm"]
PHASE_HEADERS_EN = ["Unit code", "Unit name", "Kind", "Parent unit", "Records (submissions)", "Initiatives", "Valid",
                    "Pending", "Rejected", "Ineligible", "Registrants", "Benefit (VND)", "Target", "Target basis",
                    "Completion", "Rank in group", "Units in group"]
# units whose names a spreadsheet would run as formulas if written as they are
FORMULA_UNITS = ("G004,=1+2,grassroots,P01-D01,,,,\n"
                 "G005,@SUM(A1:A9),grassroots,P01-D01,,,,\n"
                 "G006,-2+3 Trường,grassroots,P01-D01,,,,\n")


@pytest.fixture
def synced(db_url: str, world) -> str:  # type: ignore[no-untyped-def]
    """A store after one sync: the bank branch twice (Hà Nội and Banking), a school, a quarantined row."""
    (world.root / "orgs.csv").write_text(ORGS_CSV + FORMULA_UNITS, encoding="utf-8")
    extra_quotas = "G001,1,2,valid\nG004,1,3,valid\nG005,1,3,valid\nG006,1,2,valid\nP01-D01,2,5,valid\n"
    (world.root / "quotas.csv").write_text(QUOTAS_CSV + extra_quotas, encoding="utf-8")
    engine = open_store(db_url)
    setup_store(engine, world)
    world.source("hanoi", BANK_ROW, SCHOOL_ROW, BAD_DATE_ROW)
    world.source("nganhang", "NH-9;CONG-77;GIAI PHAP SO HOA HO SO TIN DUNG;Nguyen Van An, Tran Thi Binh;G001;"
                             "Cong nghe thong tin;Giai phap ky thuat;01/02/2022;15/01/2022;20/02/2022;Da duyet;",
                 "NH-10;;Sáng kiến thiếu tác giả;;G001;Y tế;Giải pháp kỹ thuật;01/02/2022;15/01/2022;20/02/2022;"
                 "Trạng thái lạ;")
    for name in ("hanoi", "nganhang"):
        add_connector(engine, name, "files", read_config_file(world.config(name)))
    run_sync(engine)
    return db_url


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def report_json(db_url: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, err = cli(capsys, "--db", db_url, "report", "--format", "json")
    assert code == 0, err
    return json.loads(out)


def workbook_via_cli(db_url: str, out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> openpyxl.Workbook:
    code, stdout, err = cli(capsys, "--db", db_url, "report", "--format", "xlsx", "--out", str(out), *extra)
    assert code == 0, err
    assert stdout.startswith(f"wrote {out}")
    return openpyxl.load_workbook(out)


def table(ws: Any, header_row: int = 1) -> tuple[list[Any], list[list[Any]]]:
    """The header and the data rows of the table whose header is on ``header_row`` (up to a blank row)."""
    rows = list(ws.iter_rows(min_row=header_row))
    header = [c.value for c in rows[0] if c.value is not None]
    body = []
    for row in rows[1:]:
        if all(c.value is None for c in row):
            break
        body.append(list(row)[:len(header)])
    return header, body


def test_sheets_headers_and_totals_agree_with_report_json(synced: str, tmp_path: Path, capsys) -> None:
    report = report_json(synced, capsys)
    wb = workbook_via_cli(synced, tmp_path / "report.xlsx", capsys)
    assert wb.sheetnames == SHEETS_VI
    for phase in (1, 2):
        header, body = table(wb[PHASE_SHEETS[phase]])
        assert header == PHASE_HEADERS_VI
        col = {key: header.index(LABELS["vi"]["columns"][key]) for key in (*COUNTS, "unit_code", "target",
                                                                            "completion")}
        expected = {r["unit_code"]: r for r in report["rows"] if r["phase"] == phase}
        shown = {row[col["unit_code"]].value: row for row in body}
        assert set(shown) == set(expected)
        for code, row in shown.items():
            for key in COUNTS:
                cell = row[col[key]]
                assert cell.data_type == "n" and isinstance(cell.value, int), (code, key, cell.value)
                assert cell.value == expected[code][key], (code, key)
            assert row[col["target"]].value == expected[code]["target"]
            completion = row[col["completion"]]
            assert completion.value == expected[code]["completion"]
            if completion.value is not None:
                assert isinstance(completion.value, float) and completion.number_format == "0.0%"
    national = {r["phase"]: r for r in report["rows"] if r["unit_code"] == "VGCL"}
    overview = wb["Tổng quan"]
    header, body = table(overview, header_row=3)
    assert header[:4] == ["Đợt", "Tên đợt", "Từ ngày", "Đến ngày"]
    for row in body:
        phase = row[0].value
        for key in (*COUNTS, "target", "completion"):
            assert row[header.index(LABELS["vi"]["columns"][key])].value == national[phase][key], (phase, key)
    assert national[1]["valid"] == 1 and national[1]["records"] == 3  # the bank branch's initiative, once


def test_units_directly_under_the_confederation_are_on_the_overview(synced: str, tmp_path: Path, capsys) -> None:
    report = report_json(synced, capsys)
    overview = workbook_via_cli(synced, tmp_path / "report.xlsx", capsys)["Tổng quan"]
    header_row = int(overview.freeze_panes[1:]) - 1
    header, body = table(overview, header_row=header_row)
    assert overview.auto_filter.ref.startswith(f"A{header_row}:")
    hanoi = next(row for row in body if row[0].value == "P01")
    p01 = next(r for r in report["rows"] if r["unit_code"] == "P01" and r["phase"] == 1)
    phase1 = "Giai đoạn 1 (đến 31/5/2022)"  # the phase's configured name, as on the page
    assert hanoi[header.index(f"{phase1}: Hợp lệ")].value == p01["valid"]
    assert hanoi[header.index(f"{phase1}: Tỷ lệ hoàn thành")].value == p01["completion"]
    assert {row[0].value for row in body} <= {"P01", "P34", "NGANHANG"}


def test_english_headers_with_lang_en(synced: str, tmp_path: Path, capsys) -> None:
    wb = workbook_via_cli(synced, tmp_path / "report.xlsx", capsys, "--lang", "en")
    # the phases keep their configured names in every language
    assert wb.sheetnames == ["Overview", PHASE_SHEETS[1], PHASE_SHEETS[2], "Sources disagree",
                             "Sources disagree - detail", "Rows held back"]
    assert table(wb[PHASE_SHEETS[1]])[0] == PHASE_HEADERS_EN
    assert table(wb["Sources disagree"])[0] == [LABELS["en"]["worklist_columns"][k] for k in SUMMARY_KEYS]
    assert table(wb["Sources disagree - detail"])[0][:4] == ["Province / sector", "Unit code", "Unit name", "Phase"]
    assert table(wb["Rows held back"])[0][:4] == ["Source", "Column", "Failed check", "Rows held"]


def test_header_is_frozen_and_filtered_and_columns_are_sized(synced: str, tmp_path: Path, capsys) -> None:
    wb = workbook_via_cli(synced, tmp_path / "report.xlsx", capsys)
    for name in SHEETS_VI[1:]:
        assert wb[name].freeze_panes == "A2", name
        assert wb[name].auto_filter.ref.startswith("A1:"), name
    ws = wb[PHASE_SHEETS[1]]
    widths = {letter: dim.width for letter, dim in ws.column_dimensions.items()}
    longest_name = max(len(r[1].value) for r in table(ws)[1])
    assert widths["B"] == min(longest_name + 2, 60)
    assert all(6 <= w <= 60 for w in widths.values())
    rules = [rule.type for cf in ws.conditional_formatting for rule in cf.rules]
    assert rules == ["colorScale"]


def test_dates_are_dates(synced: str, tmp_path: Path, capsys) -> None:
    overview = workbook_via_cli(synced, tmp_path / "report.xlsx", capsys)["Tổng quan"]
    as_of = overview["B2"]
    assert isinstance(as_of.value, dt.datetime) and as_of.number_format == 'dd/mm/yyyy hh:mm "(UTC+7)"'
    assert abs(as_of.value - dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).replace(tzinfo=None)) \
        < dt.timedelta(minutes=10)  # Vietnam time
    starts = overview["C4"]
    assert starts.value == dt.datetime(2021, 9, 1) and starts.number_format == "dd/mm/yyyy"


def test_names_that_look_like_formulas_stay_text(synced: str, tmp_path: Path) -> None:
    with open_store(synced).connect() as conn:
        write_workbook(conn, tmp_path / "report.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "report.xlsx")
    names = {row[0].value: row[1] for row in table(wb[PHASE_SHEETS[1]])[1]}
    for code, name in (("G004", "=1+2"), ("G005", "@SUM(A1:A9)"), ("G006", "-2+3 Trường")):
        assert names[code].data_type == "s" and names[code].value == "'" + name


@pytest.fixture
def planted(db_url: str, world) -> str:  # type: ignore[no-untyped-def]
    """Hà Nội's system holds four initiatives, the portal one of them: three are not yet on the portal."""
    planted_world(open_store(db_url), world)
    return db_url


def test_where_sources_disagree_is_a_ranked_summary_and_one_detail_sheet(planted: str, tmp_path: Path) -> None:
    with open_store(planted).connect() as conn:
        summary = write_workbook(conn, tmp_path / "report.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "report.xlsx")
    header, body = table(wb["Nguồn chưa khớp"])
    assert header == [LABELS["vi"]["worklist_columns"][k] for k in SUMMARY_KEYS]
    col = {k: header.index(LABELS["vi"]["worklist_columns"][k]) for k in SUMMARY_KEYS}
    rows = [{k: row[i].value for k, i in col.items()} for row in body]
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    hanoi = next(r for r in rows if r["unit_code"] == "P01" and r["phase"] == "Giai đoạn 1 (đến 31/5/2022)")
    assert (hanoi["cause"], hanoi["source"], hanoi["items"], hanoi["crosses"]) == ("Chưa có trên Cổng", "Cổng", 3, "Có")
    assert hanoi["explanation"] == "3 sáng kiến có trên hanoi nhưng chưa có trên Cổng: đề nghị đơn vị cập nhật lên Cổng."
    assert hanoi["effect"] == "Bổ sung đủ: số trên Cổng đạt 4/4, đạt chỉ tiêu."
    assert rows.index(hanoi) < next(i for i, r in enumerate(rows) if r["unit_code"] == "VGCL")  # it meets its target
    detail = wb["Nguồn chưa khớp - chi tiết"]
    header, body = table(detail)
    assert header == [LABELS["vi"]["detail_columns"][k] for k in DETAIL_KEYS]
    assert detail.auto_filter.ref == f"A1:J{len(body) + 1}" and detail.freeze_panes == "A2"
    titles = [row[DETAIL_KEYS.index("title")].value for row in body]
    assert sorted(titles) == sorted(PLANTED)  # one initiative a row, never a cell of titles
    tops = {row[1].value: row[0].value for row in body}  # the province (and sector) to filter by
    assert tops == {"G001": "Công đoàn Ngân hàng Việt Nam; LĐLĐ thành phố Hà Nội", "G002": "LĐLĐ thành phố Hà Nội"}
    assert {row[DETAIL_KEYS.index("status")].value for row in body} == {"Hợp lệ"}
    assert all(row[DETAIL_KEYS.index("held_by")].value.startswith("hanoi: HN-") for row in body)
    assert summary.rows["Nguồn chưa khớp - chi tiết"] == 3


def test_without_the_worklist_its_sheets_are_empty_and_the_overview_says_why(synced: str, tmp_path: Path) -> None:
    with open_store(synced).connect() as conn:
        summary = write_workbook(conn, tmp_path / "report.xlsx", worklist=False)
    wb = openpyxl.load_workbook(tmp_path / "report.xlsx")
    assert summary.rows["Nguồn chưa khớp"] == 0 and table(wb["Nguồn chưa khớp"])[1] == []
    assert table(wb["Nguồn chưa khớp - chi tiết"])[1] == []
    notes = [c.value for row in wb["Tổng quan"].iter_rows() for c in row if isinstance(c.value, str)]
    assert LABELS["vi"]["note_no_worklist"] in notes


def test_quarantine_sheet_counts_held_rows_by_source_and_check(synced: str, tmp_path: Path) -> None:
    engine = open_store(synced)
    with engine.connect() as conn:
        write_workbook(conn, tmp_path / "report.xlsx")
        q, r = store.quarantine, store.raw_records
        held = dict(conn.execute(sa.select(q.c.source, sa.func.count(sa.distinct(q.c.raw_id)))
                                 .join(r, r.c.id == q.c.raw_id).where(r.c.outcome == "quarantined")
                                 .group_by(q.c.source)).all())
        checks = {(s, c, k): n for s, c, k, n in conn.execute(
            sa.select(q.c.source, q.c.column, q.c.check, sa.func.count(sa.distinct(q.c.raw_id)))
            .group_by(q.c.source, q.c.column, q.c.check)).all()}
    assert held == {"hanoi": 1, "nganhang": 1}
    ws = openpyxl.load_workbook(tmp_path / "report.xlsx")["Dòng bị giữ lại"]
    _, detail = table(ws)
    vi = texts("vi")  # columns and checks in words, never identifiers such as applied_on / date_format
    assert {(row[0].value, row[1].value, row[2].value): row[3].value for row in detail} == {
        (s, vi["fields"][c], vi["checks"][k]): n for (s, c, k), n in checks.items()}
    by_source_header = next(c.row for c in ws["A"] if c.value == "Theo nguồn") + 1
    _, by_source = table(ws, header_row=by_source_header)
    assert {row[0].value: row[1].value for row in by_source} == held


def test_rank_is_within_siblings_of_the_same_kind(synced: str, tmp_path: Path) -> None:
    with open_store(synced).connect() as conn:
        write_workbook(conn, tmp_path / "report.xlsx")
    header, body = table(openpyxl.load_workbook(tmp_path / "report.xlsx")[PHASE_SHEETS[1]])
    rank, size = header.index("Hạng trong nhóm"), header.index("Số đơn vị trong nhóm")
    ranks = {row[0].value: (row[rank].value, row[size].value) for row in body}
    # P01 (1 valid of 4) and NGANHANG (1 of 2) are both under VGCL but of different kinds
    assert ranks["P01"] == (1, 1) and ranks["NGANHANG"] == (1, 1)
    # the grassroots units under Ba Đình: G001 (1 valid of 2) first, then three at 0 % sharing rank 2;
    # G002 has no target, so no completion and no rank
    assert ranks["G001"] == (1, 4)
    assert ranks["G004"] == ranks["G005"] == ranks["G006"] == (2, 4)
    assert ranks["G002"] == (None, None)


@pytest.mark.parametrize("args, expected", [
    (["--format", "xlsx"], "give its path with --out FILE.xlsx"),
    (["--format", "xlsx", "--out", "report.csv"], "must end in .xlsx"),
    (["--format", "xlsx", "--out", "no/such/folder/report.xlsx"], "cannot write the workbook"),
    (["--format", "xlsx", "--out", "r.xlsx", "--phase", "1"], "holds every unit and phase"),
])
def test_workbook_errors_are_one_line(tmp_path: Path, capsys, args: list[str], expected: str,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, "--db", f"sqlite:///{tmp_path / 's.db'}", "report", *args)
    assert code == 2 and expected in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not list(tmp_path.rglob("*.part"))
