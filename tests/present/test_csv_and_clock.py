"""Excel-ready CSV and one clock.

Every CSV the command writes to a file (report, export links, reconcile, quarantine export)
is UTF-8 with a byte-order mark, so Excel on Windows reads Vietnamese; the terminal gets the
same CSV without the mark. Every time a person reads (the terminal tables, the workbook) is
Vietnam time with its zone in one format, "04/12/2026 01:30 (UTC+7)"; JSON keeps ISO 8601
with the offset.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import openpyxl
import pytest

from sangkien.present.clock import shown, vietnam
from tests.present.test_workbook import cli
from tests.present.test_workbook import synced as synced_fixture  # noqa: F401  (a fixture)

BOM = b"\xef\xbb\xbf"
SHOWN = r"\d\d/\d\d/\d{4} \d\d:\d\d \(UTC\+7\)"


def test_a_time_is_shown_in_vietnam_time_with_its_zone_in_one_format():
    utc = dt.datetime(2026, 12, 3, 18, 30, 59, 123456, tzinfo=dt.UTC)
    assert shown(utc) == "04/12/2026 01:30 (UTC+7)"
    assert shown(utc.replace(tzinfo=None)) == "04/12/2026 01:30 (UTC+7)"  # naive, from the store: UTC
    assert shown("2026-12-03T18:30:59+00:00") == "04/12/2026 01:30 (UTC+7)"  # the report's ISO as_of
    assert shown(dt.datetime(2026, 12, 4, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))) == \
        "04/12/2026 01:30 (UTC+7)"
    assert shown(None, "never") == "never" and shown("", "never") == "never"
    assert vietnam(utc).utcoffset() == dt.timedelta(hours=7) and vietnam(utc).microsecond == 0


@pytest.mark.parametrize("command", [
    ("report", "--format", "csv"),
    ("export", "links"),
    ("reconcile", "--format", "csv"),
    ("reconcile", "--format", "csv", "--section", "quotas"),
    ("quarantine", "export"),
])
def test_every_csv_written_is_utf8_with_a_bom(synced_fixture, tmp_path, capsys, command):  # noqa: F811
    out = tmp_path / "out.csv"
    code, _, err = cli(capsys, "--db", synced_fixture, *command, "--out", str(out))
    assert code == 0, err
    raw = out.read_bytes()
    assert raw.startswith(BOM) and not raw.startswith(BOM * 2)
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] and not rows[0][0].startswith("\ufeff") and len(rows) > 1
    if command[0] in ("report", "quarantine"):
        assert re.search("[ạảấầẩậắằẳặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđ]", raw.decode("utf-8-sig")), \
            "Vietnamese survives the round trip"


def test_the_terminal_gets_csv_without_the_mark(synced_fixture, capsys):  # noqa: F811
    for command in (("report", "--format", "csv"), ("reconcile", "--format", "csv")):
        code, out, err = cli(capsys, "--db", synced_fixture, *command)
        assert code == 0, err
        assert not out.startswith("\ufeff") and out.split(",")[0] in ("unit_code", "rank")


def test_terminal_tables_show_vietnam_time_json_keeps_iso(synced_fixture, capsys):  # noqa: F811
    code, out, err = cli(capsys, "--db", synced_fixture, "report")
    assert code == 0, err
    assert re.search(rf"^As of {SHOWN}$", out, re.M), out[:200]
    assert re.search(rf"^run \d+ \(nightly, incremental\): completed, started {SHOWN}", out, re.M)
    code, out, err = cli(capsys, "--db", synced_fixture, "runs")
    assert code == 0 and re.search(rf"started {SHOWN}", out)
    code, out, err = cli(capsys, "--db", synced_fixture, "report", "--format", "json")
    as_of = json.loads(out)["as_of"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", as_of)
    assert abs(dt.datetime.fromisoformat(as_of) - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=10)


def test_quarantine_show_and_the_nodes_list_show_vietnam_time(synced_fixture, capsys):  # noqa: F811
    code, out, err = cli(capsys, "--db", synced_fixture, "quarantine", "list")
    assert code == 0, err
    first_id = re.search(r"^hanoi\s+\S+\s+\S+\s+\d+\s+(\d+)", out, re.M)
    assert first_id, out
    code, out, err = cli(capsys, "--db", synced_fixture, "quarantine", "show", first_id.group(1))
    assert code == 0 and re.search(rf", landed {SHOWN}, outcome quarantined", out), out
    assert cli(capsys, "--db", synced_fixture, "nodes", "add", "P01")[0] == 0
    assert cli(capsys, "--db", synced_fixture, "nodes", "revoke", "P01")[0] == 0
    code, out, err = cli(capsys, "--db", synced_fixture, "nodes", "list")
    assert code == 0 and re.search(rf"^P01\s+revoked {SHOWN}", out, re.M), out


@pytest.mark.parametrize("lang, sheet", [("vi", "Tổng quan"), ("en", "Overview")])
def test_the_workbooks_times_carry_the_zone(synced_fixture, tmp_path: Path, capsys, lang, sheet):  # noqa: F811
    out = tmp_path / "book.xlsx"
    code, _, err = cli(capsys, "--db", synced_fixture, "report", "--format", "xlsx", "--out", str(out), "--lang", lang)
    assert code == 0, err
    ws = openpyxl.load_workbook(out)[sheet]
    stamps = [c for row in ws.iter_rows(max_row=3) for c in row if isinstance(c.value, dt.datetime)]
    assert len(stamps) == 2  # as of, and written at
    for cell in stamps:
        assert cell.number_format == 'dd/mm/yyyy hh:mm "(UTC+7)"'
        assert abs(cell.value - dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=7)))
                   .replace(tzinfo=None)) < dt.timedelta(minutes=10)
