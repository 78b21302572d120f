"""The workbook prints: LibreOffice's PDF export of a demo-sized workbook, read back page by page.

Exported with `soffice --headless --convert-to pdf` (Debian's libreoffice-calc-nogui), read
with poppler's pdfinfo / pdftotext, the first pages rendered to PNG in test-artifacts/ (or
$SANGKIEN_TEST_ARTIFACTS) with pdftoppm. Without soffice or poppler the test is skipped with
the reason, and fails under CI=true (.ci/run installs both).
"""
from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa

from sandbox.generate import generate_world
from sangkien import store
from sangkien.pipeline.run import run_sync
from sangkien.present.workbook.book import write_workbook
from sangkien.reference.orgs import load_orgs
from sangkien.reference.quotas import load_quotas
from sangkien.store.registry import add_connector, read_config_file
from tests.conftest import IN_CI
from tests.present.test_workbook import synced as synced_fixture  # noqa: F401  (a fixture)

ARTIFACTS = Path(os.environ.get("SANGKIEN_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
DEMO_INITIATIVES = 3000  # `sangkien demo`'s default world
# A landscape A4 page at 100 % holds ~30 rows of 15 pt under the header and footer margins; fitting
# a sheet to the page width only shrinks it, so a page holds at least that many rows. A sheet of
# n rows thus prints on at most ceil(n / 30) pages (+1 for a tall wrapped header row).
ROWS_PER_PAGE_AT_LEAST = 30


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (in CI a missing tool is a failure: .ci/run installs it)")
    pytest.skip(reason)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo-sized world synced, its Vietnamese workbook exported to PDF and read back per page."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        _missing("soffice not found; install it with: apt-get install -y libreoffice-calc-nogui")
    for tool in ("pdfinfo", "pdftotext", "pdftoppm"):
        if shutil.which(tool) is None:
            _missing(f"{tool} not found; install it with: apt-get install -y poppler-utils")
    root = tmp_path_factory.mktemp("print")
    generate_world(root / "world", DEMO_INITIATIVES, seed=2022, noise="none")
    engine = store.open_store(f"sqlite:///{root / 'store.db'}")
    load_orgs(engine, root / "world" / "orgs.csv")
    load_quotas(engine, root / "world" / "quotas.csv")
    for config in sorted((root / "world" / "sources").glob("*.yaml")):
        add_connector(engine, config.stem, "files", read_config_file(config))
    assert run_sync(engine).status == "completed"
    with engine.connect() as conn:
        summary = write_workbook(conn, root / "tong-hop.xlsx")
        u = store.org_units
        national = conn.execute(sa.select(u.c.code).where(u.c.kind == "national")).scalars().all()
        children = conn.execute(sa.select(u.c.name).where(u.c.parent_code.in_(national))).scalars().all()
    profile = (root / "lo-profile").as_uri()  # a fresh profile: no first-run dialogs, no shared lock
    subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore", "--convert-to", "pdf",
                    "--outdir", str(root), str(summary.path)], check=True, capture_output=True, timeout=600)
    pdf = root / "tong-hop.pdf"
    assert pdf.exists(), "soffice wrote no PDF"
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+)", info, re.M)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in [*ARTIFACTS.glob("workbook-page-*.png"), *ARTIFACTS.glob("workbook-sheet-*.png")]:
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "80", "-f", "1", "-l", "4", "-png", str(pdf), str(ARTIFACTS / "workbook-page")],
                   check=True, timeout=300)
    pages_text = [_nfc(t) for t in text.split("\f")][:pages]
    for n, sheet in enumerate(summary.sheets[-3:], start=1):  # where the sources disagree (summary, detail), held
        first = next((i for i, page in enumerate(pages_text, start=1) if _sheet_of(page, summary.sheets) == sheet),
                     None)
        if first:
            subprocess.run(["pdftoppm", "-r", "80", "-f", str(first), "-l", str(first), "-singlefile", "-png",
                            str(pdf), str(ARTIFACTS / f"workbook-sheet-{n}")], check=True, timeout=300)
    shutil.copy(pdf, ARTIFACTS / "workbook.pdf")
    return {"summary": summary, "pages": pages, "size": size, "text": pages_text,
            "children": [_nfc(n) for n in children]}


def _sheet_of(page: str, sheets: list[str]) -> str:
    """The sheet a page belongs to: its header names it (centre, &A)."""
    head = "\n".join(page.splitlines()[:3])
    found = [s for s in sheets if s in head]
    assert found, f"no sheet name in the page header: {head!r}"
    return max(found, key=len)


def test_every_page_is_a4_landscape_and_the_page_count_is_bounded_by_the_rows(printed):
    width, height = float(printed["size"].group(1)), float(printed["size"].group(2))
    assert (round(width), round(height)) == (842, 595), "A4 landscape is 842 x 595 pt"
    rows = printed["summary"].rows
    bound = sum(math.ceil((n + 2) / ROWS_PER_PAGE_AT_LEAST) + 1 for n in rows.values())
    assert len(rows) <= printed["pages"] <= bound, (printed["pages"], rows)


def test_each_sheet_prints_one_page_wide_and_the_overview_on_at_most_two_pages(printed):
    sheets = printed["summary"].sheets
    by_sheet: dict[str, int] = {}
    for page in printed["text"]:
        sheet = _sheet_of(page, sheets)
        by_sheet[sheet] = by_sheet.get(sheet, 0) + 1
    assert set(by_sheet) == set(sheets), "every sheet prints (one page wide: no sheet runs over more columns)"
    assert by_sheet[sheets[0]] <= 2, by_sheet
    # one page wide: a sheet's pages are its rows divided, never its columns; a phase sheet has as many
    # pages as its rows need, not twice that
    for sheet, n in by_sheet.items():
        assert n <= math.ceil((printed["summary"].rows[sheet] + 2) / ROWS_PER_PAGE_AT_LEAST) + 1, (sheet, n)


def test_page_one_holds_the_unit_names_and_their_completion(printed):
    page1 = printed["text"][0]
    overview = "\n".join(printed["text"][:2])
    names = printed["children"]
    assert names, "the world has units under the confederation"
    on_page1 = [n for n in names if n in page1]
    assert len(on_page1) >= min(20, len(names)), f"only {len(on_page1)} unit names on page 1"
    assert all(n in overview for n in names), [n for n in names if n not in overview]
    assert "Tỷ lệ hoàn thành" in page1 and len(re.findall(r"\d+[.,]\d%", page1)) >= 10, page1[:2000]


def test_every_page_has_the_title_the_as_of_time_in_vietnam_time_and_its_number(printed):
    pages = printed["text"]
    for number, page in enumerate(pages, start=1):
        assert "01 triệu sáng kiến" in page
        assert re.search(r"Số liệu đến \d\d/\d\d/\d{4} \d\d:\d\d \(UTC\+7\)", page), page[:300]
        assert f"Trang {number} / {len(pages)}" in page


def test_the_header_row_repeats_on_every_page_of_a_phase_sheet(printed):
    first_phase = printed["summary"].sheets[1]  # the first phase's sheet, named after the phase
    phase_pages = [p for p in printed["text"] if _sheet_of(p, printed["summary"].sheets) == first_phase]
    assert len(phase_pages) >= 2, "the demo's phase sheet runs over several pages"
    for page in phase_pages:
        assert "Mã đơn vị" in page and "Tỷ lệ hoàn thành" in page


def test_the_page_setup_is_in_the_file_as_excel_reads_it(synced_fixture, tmp_path):  # noqa: F811  (no soffice)
    with store.open_store(synced_fixture).connect() as conn:
        summary = write_workbook(conn, tmp_path / "book.xlsx", lang="en")
    book = openpyxl.load_workbook(summary.path)
    for ws in book.worksheets:
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
        assert ws.page_setup.fitToHeight == (2 if ws.title == "Overview" else 0)
        assert ws.print_area and ws.print_area.startswith(f"'{ws.title}'!$A$1:")
        header_row = ws.freeze_panes and int(ws.freeze_panes[1:]) - 1
        assert ws.print_title_rows == f"${header_row}:${header_row}"
        assert ws.oddHeader.left.text == "One million initiatives: results against targets"
        assert ws.oddHeader.center.text == "&A" and re.fullmatch(
            r"Figures as of \d\d/\d\d/\d{4} \d\d:\d\d \(UTC\+7\)", ws.oddHeader.right.text)
        assert ws.oddFooter.center.text == "Page &P of &N"
