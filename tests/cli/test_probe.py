"""Provincial IT looks at a source before it is synced: check, discover, preview (nothing is written)."""
from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import openpyxl
import yaml

from tests.conftest import HEADER, World, one_line_error, run_cli
from tests.pipeline.test_sync_store import BAD_DATE_ROW, BANK_ROW, SCHOOL_ROW


def _registered(tmp_path: Path, world: World, *rows: str) -> list[str]:
    db = ["--db", f"sqlite:///{tmp_path / 's.db'}"]
    world.source("hanoi", *rows)
    assert run_cli(*db, "orgs", "load", str(world.root / "orgs.csv"), cwd=tmp_path).returncode == 0
    added = run_cli(*db, "connectors", "add", "hanoi", "--kind", "files", "--config", str(world.config("hanoi")),
                    cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    return db


def _workbook(path: Path, rows: list[list[object]], title: str | None = "BÁO CÁO SÁNG KIẾN QUÝ 3/2022") -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    if title:
        sheet.append([title])
        sheet.append(["Đơn vị báo cáo: LĐLĐ thành phố Hà Nội"])
        sheet.append([])
    for row in rows:
        sheet.append(row)
    book.save(path)


def test_check_flags_a_wrong_date_format_naming_the_column_the_value_and_the_format(tmp_path, world):
    db = _registered(tmp_path, world, BANK_ROW, SCHOOL_ROW)
    assert run_cli(*db, "connectors", "edit", "hanoi", "--set", "date_format=%Y-%m-%d", cwd=tmp_path).returncode == 0
    result = run_cli(*db, "connectors", "check", "hanoi", cwd=tmp_path)
    line = one_line_error(result)
    assert result.returncode == 2
    assert "2 of 2 sampled rows quarantined (100%, above the limit of 50%)" in line
    assert "applied_on '15/01/2022' is not a real date in the source's date format (%Y-%m-%d)" in line
    assert "0 accepted (0%), 0 ineligible (0%), 2 quarantined (100%)" in result.stdout


def test_check_of_a_good_mapping_shows_the_shares_and_the_top_reason(tmp_path, world):
    db = _registered(tmp_path, world, BANK_ROW, SCHOOL_ROW, BAD_DATE_ROW)
    result = run_cli(*db, "connectors", "check", "hanoi", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "sample of 3 row(s)" in result.stdout and "2 accepted (67%)" in result.stdout
    assert "applied_on '31/02/2022' is not a real date" in result.stdout


def test_check_reads_every_file_the_pattern_and_the_xlsx_rule_pick(tmp_path, world):
    db = _registered(tmp_path, world, BANK_ROW)
    folder = world.root / "hanoi"
    _workbook(folder / "quy3.xlsx", [HEADER.split(";"), SCHOOL_ROW.split(";")])
    _workbook(folder / "quy4.xlsx", [HEADER.replace("Đơn vị", "Đơn vị công tác").split(";")])
    result = run_cli(*db, "connectors", "check", "hanoi", cwd=tmp_path)
    line = one_line_error(result)
    assert "quy4.xlsx: column(s) not found: 'Đơn vị' for unit" in line and "'Đơn vị công tác'" in line
    (folder / "quy4.xlsx").unlink()
    result = run_cli(*db, "connectors", "check", "hanoi", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2 file(s) match '*.csv' (csv, xlsx)" in result.stdout
    assert "sample of 2 row(s) from 2 part(s) (export.csv, quy3.xlsx): 2 accepted" in result.stdout


def test_xlsx_with_titles_merged_header_and_serial_dates_lands_every_row(tmp_path, world):
    db = _registered(tmp_path, world, BANK_ROW)
    header = HEADER.split(";")
    top = [*header[:7], "Ngày", None, None, *header[10:]]  # "Ngày" over "công nhận", "áp dụng", "nộp"
    sub = [None] * 7 + ["công nhận", "áp dụng", "nộp"] + [None] * 2
    serial = (dt.date(2022, 3, 5) - dt.date(1899, 12, 30)).days  # Excel's date serial, a cell formatted General
    row: list[object] = SCHOOL_ROW.split(";")
    row[9] = serial
    path = world.root / "hanoi" / "quy3.xlsx"
    _workbook(path, [top, sub, row])
    book = openpyxl.load_workbook(path)
    sheet = book.active
    sheet.merge_cells("A1:L1")
    sheet.merge_cells("H4:J4")
    for column in "ABCDEFGKL":
        sheet.merge_cells(f"{column}4:{column}5")
    book.save(path)
    synced = run_cli(*db, "sync", "--in-process", cwd=tmp_path)
    assert synced.returncode == 0, synced.stderr
    runs = run_cli(*db, "runs", "--last", "1", cwd=tmp_path)
    assert "= accepted 2 + ineligible 0 + quarantined 0 [ok]" in runs.stdout


def test_a_workbook_of_several_sheets_is_read_sheet_by_sheet_when_asked(tmp_path, world):
    db = _registered(tmp_path, world, BANK_ROW)
    path = world.root / "hanoi" / "quy34.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Quý 3"
    book.active.append(HEADER.split(";"))
    book.active.append(SCHOOL_ROW.split(";"))
    book.create_sheet("Quý 4").append(HEADER.split(";"))
    book["Quý 4"].append(SCHOOL_ROW.replace("HN-2", "HN-4").split(";"))
    book.save(path)
    assert run_cli(*db, "connectors", "edit", "hanoi", "--set", "sheets=*", cwd=tmp_path).returncode == 0
    checked = run_cli(*db, "connectors", "check", "hanoi", cwd=tmp_path)
    assert "(export.csv, quy34.xlsx[Quý 3], quy34.xlsx[Quý 4]): 3 accepted" in checked.stdout, checked.stderr
    synced = run_cli(*db, "sync", "--in-process", cwd=tmp_path)
    assert synced.returncode == 0, synced.stderr
    assert "= accepted 3 + ineligible 0 + quarantined 0 [ok]" in run_cli(*db, "runs", cwd=tmp_path).stdout


def test_preview_shows_the_rows_judged_and_writes_nothing(tmp_path, world):
    db = _registered(tmp_path, world, BANK_ROW, BAD_DATE_ROW)
    store_file = tmp_path / "s.db"
    before = hashlib.sha256(store_file.read_bytes()).hexdigest()
    result = run_cli(*db, "connectors", "preview", "hanoi", cwd=tmp_path, env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("export.csv:2") and "accepted" in line for line in lines)
    assert any(line.startswith("export.csv:3") and "quarantined" in line and "31/02/2022" in line for line in lines)
    assert hashlib.sha256(store_file.read_bytes()).hexdigest() == before


def test_discover_proposes_a_mapping_that_connectors_add_accepts_as_is(tmp_path, world):
    db = ["--db", f"sqlite:///{tmp_path / 's.db'}"]
    world.source("hanoi", BANK_ROW, SCHOOL_ROW)
    folder = world.root / "hanoi"
    result = run_cli(*db, "connectors", "discover", "--kind", "files", "--set", f"path={folder}",
                     "--write", "hanoi.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Tên sáng kiến" in result.stdout and "Giải pháp số hoá hồ sơ tín dụng" in result.stdout
    proposed = yaml.safe_load((tmp_path / "hanoi.yaml").read_text(encoding="utf-8"))
    expected = yaml.safe_load(world.config("hanoi").read_text(encoding="utf-8"))
    assert proposed["columns"] == expected["columns"]
    assert (proposed["date_format"], proposed["authors_separator"]) == ("%d/%m/%Y", ",")
    assert run_cli(*db, "orgs", "load", str(world.root / "orgs.csv"), cwd=tmp_path).returncode == 0
    added = run_cli(*db, "connectors", "add", "hanoi", "--kind", "files", "--config", "hanoi.yaml", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    checked = run_cli(*db, "connectors", "check", "hanoi", cwd=tmp_path)
    assert checked.returncode == 0 and "2 accepted (100%)" in checked.stdout


def test_discover_on_a_simulated_rest_system_proposes_a_mapping_add_accepts(tmp_path, monkeypatch):
    from sandbox.generate import generate_world
    from sandbox.servers import serve

    world = tmp_path / "w"
    generate_world(world, 60, seed=3, noise="none")
    db = ["--db", f"sqlite:///{tmp_path / 's.db'}"]
    env = {"SANGKIEN_TEST_REST_KEY": "k-1"}
    with serve("rest", world, token="k-1", source="hanoi") as server:
        settings = ["--set", f"base_url={server.url}", "--set", "token=env:SANGKIEN_TEST_REST_KEY",
                    "--set", "records_path=items"]
        result = run_cli(*db, "connectors", "discover", "--kind", "rest", *settings, "--write", "rest.yaml",
                         cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stderr
        proposed = yaml.safe_load((tmp_path / "rest.yaml").read_text(encoding="utf-8"))
        truth = yaml.safe_load((world / "sources" / "hanoi.yaml").read_text(encoding="utf-8"))
        assert proposed["columns"] == truth["columns"]
        assert run_cli(*db, "orgs", "load", str(world / "orgs.csv"), cwd=tmp_path).returncode == 0
        added = run_cli(*db, "connectors", "add", "hanoi", "--kind", "rest", "--config", "rest.yaml", cwd=tmp_path)
        assert added.returncode == 0, added.stderr
        checked = run_cli(*db, "connectors", "check", "hanoi", cwd=tmp_path, env=env)
        assert checked.returncode == 0, checked.stderr
