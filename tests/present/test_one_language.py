"""One language per output: every word of the Vietnamese workbook comes from the catalogue.

The page is scanned the same way in the browser (tests/serve/test_dashboard.py); both use
tests/present/words.py."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa

from sandbox.generate import generate_world
from sangkien import store
from sangkien.pipeline import worklist
from sangkien.pipeline.run import run_sync
from sangkien.present import catalogue, runreport
from sangkien.present.explain import Explainer
from sangkien.present.workbook.book import write_workbook
from sangkien.reference.orgs import load_orgs
from sangkien.reference.quotas import load_quotas
from sangkien.store.registry import add_connector, read_config_file
from schemas.fields import CANONICAL_FIELDS
from schemas.records import CHECK_MESSAGES
from tests.pipeline.test_reconcile import planted_world
from tests.present.words import untranslated


def _keys(tree: Any, prefix: str = "") -> set[str]:
    if isinstance(tree, dict):
        return {k for key, value in tree.items() for k in _keys(value, f"{prefix}{key}.")} | {prefix}
    return {prefix}


def test_the_catalogues_have_the_same_entries_in_every_language():
    vi, en = catalogue.texts("vi"), catalogue.texts("en")
    assert _keys(vi) == _keys(en)
    assert len(vi["workbook"]["notes"]) == len(en["workbook"]["notes"])
    for lang in catalogue.LANGUAGES:
        words = catalogue.texts(lang)
        assert set(CHECK_MESSAGES) <= set(words["checks"])  # every check has a name people read
        assert set(CANONICAL_FIELDS) | {"_row"} <= set(words["fields"])
        assert set(words["causes"]) == set(words["explain"])  # every cause has its sentence


CAUSES = {"short_projected", "short_no_trend", "ended_short", "uncountable_basis", "no_units", "merged", "not_yet_unit",
          "targets_differ", "not_on_portal", "not_in_source", "pushed_count_valid", "pushed_count_initiatives",
          "pushed_not_here", "pushed_elsewhere_here", "pushed_missing", "pushed_by_other", "pushed_twice"}


def test_every_cause_the_worklist_can_give_has_words():
    assert set(catalogue.texts("vi")["causes"]) == CAUSES
    with pytest.raises(Exception, match="unknown language 'fr'"):
        catalogue.texts("fr")


def test_a_row_is_explained_in_each_language_with_its_effect_on_the_target():
    row = {"kind": "sources", "cause": "not_in_source", "unit_code": "P01", "unit_name": "LĐLĐ thành phố Hà Nội",
           "phase": 2, "source": "hanoi", "items": 1200, "target": 60_000, "standing": 58_900, "effect": 1150,
           "crosses": True, "params": {"n": 1200, "holders": ["portal", "nganhang"], "holders_more": 0}}
    vi, en = Explainer("vi").shown(row), Explainer("en").shown(row)
    assert vi["explanation"] == ("1.200 sáng kiến đã có trên Cổng và nganhang nhưng chưa có trong hanoi: "
                                 "đề nghị kiểm tra dữ liệu xuất của hanoi.")
    assert vi["effect_text"] == "Bổ sung đủ: số trong hanoi đạt 60.050/60.000, đạt chỉ tiêu."
    assert en["explanation"] == ("1,200 initiatives are on the portal and nganhang but not in hanoi: "
                                 "have hanoi's export checked.")
    assert en["effect_text"] == "Once added: the count in hanoi reaches 60,050 of 60,000, the target is met."
    short = {**row, "effect": 100, "crosses": False}
    assert Explainer("vi").effect(short) == "Bổ sung đủ: số trong hanoi đạt 98,3% chỉ tiêu (nay 98,2%)."
    assert Explainer("vi").effect({**row, "target": None}) == "Đơn vị chưa được giao chỉ tiêu đợt này."


@pytest.fixture(scope="module")
def world_store(tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    """A generated world (every province and sector union, every source) synced once."""
    root = tmp_path_factory.mktemp("language")
    generate_world(root / "world", 600, seed=7)
    engine = store.open_store(f"sqlite:///{root / 'store.db'}")
    load_orgs(engine, root / "world" / "orgs.csv")
    load_quotas(engine, root / "world" / "quotas.csv")
    for config in sorted((root / "world" / "sources").glob("*.yaml")):
        add_connector(engine, config.stem, "files", read_config_file(config))
    assert run_sync(engine).status == "completed"
    with engine.begin() as conn:  # rows held back, as a source with a bad date and an unknown unit leaves them
        raw = conn.execute(store.raw_records.insert().values(
            source="hanoi", source_record_id="HN-BAD-1", payload="{}", content_hash="-",
            fetched_at=dt.datetime.now(dt.UTC), outcome="quarantined")).inserted_primary_key[0]
        conn.execute(store.quarantine.insert(), [
            {"raw_id": raw, "source": "hanoi", "column": "applied_on", "check": "date_format", "value": "31/02/2022",
             "message": "applied_on '31/02/2022' is not a real date in the source's date format"},
            {"raw_id": raw, "source": "hanoi", "column": "unit", "check": "unit_known", "value": "CĐ Nhà máy X",
             "message": "unit 'CĐ Nhà máy X' does not match any unit code, name or alias"}])
    return engine


def _data_names(conn: sa.Connection) -> set[str]:
    """What the data names itself: sources, unit codes, record ids (not words of the output)."""
    names = set(conn.scalars(sa.select(store.connectors.c.name)))
    names |= set(conn.scalars(sa.select(store.org_units.c.code)))
    return names | set(conn.scalars(sa.select(store.raw_records.c.source_record_id)))


def test_the_vietnamese_workbook_carries_no_identifier_and_no_english(world_store: sa.Engine, tmp_path: Path):
    with world_store.connect() as conn:
        write_workbook(conn, tmp_path / "tong-hop.xlsx")
        data = _data_names(conn)
        held = conn.scalar(sa.select(sa.func.count()).select_from(store.quarantine))
    book = openpyxl.load_workbook(tmp_path / "tong-hop.xlsx")
    cells = [str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)]
    texts = [*cells, *book.sheetnames, *(ws.oddHeader.left.text or "" for ws in book.worksheets)]
    assert held and len(book["Nguồn chưa khớp"]["A"]) > 1, "the world has held rows and disagreements to show"
    assert untranslated(texts, data) == []


def test_the_scan_finds_what_it_is_for():
    assert untranslated(["initiatives on baocao_tinh", "Nguồn: unit_known", "Giai đoạn 1"], {"baocao_tinh"}) == [
        "'initiatives' in 'initiatives on  '", "'unit_known' in 'Nguồn: unit_known'"]


def test_the_run_report_names_held_rows_and_disagreements_apart(engine, world):
    planted_world(engine, world)
    with engine.connect() as conn:
        run_id = conn.scalar(sa.select(sa.func.max(store.sync_runs.c.id)))
        page = runreport.reconciliation_markdown(conn, run_id)
        rows = worklist.discrepancies(conn, unit="P01", phase=1, kinds=("sources",))
    disagree = page[page.index("## Where the sources disagree"):]
    assert "3 initiatives are on hanoi but not yet on the portal: ask the unit to upload them." in disagree
    assert "the portal's count reaches 4 of 4, the target is met" in disagree
    assert "## Rows this run lost or held back" in page and "None: every source synced" in page
    assert rows[0]["cause"] == "not_on_portal"
