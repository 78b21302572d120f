"""Numbers are canonicalised before hashing: a JSON source that renders a number differently from one page
(or sync) to the next does not make its record "changed"."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.base import batch_from_records, cell_text
from sandbox.servers.proxy import serve_json
from sangkien.pipeline.run import run_sync
from sangkien.reference.orgs import load_orgs
from sangkien.store.registry import add_connector

RECORD = {"id": "HN-7", "title": "Giải pháp tiết kiệm điện", "authors": ["Nguyễn Văn An", "Lê Thị Hoa"],
          "unit": "G001", "type": "Giải pháp kỹ thuật", "recognized": "2022-02-01", "applied": "2022-01-15",
          "submitted": "2022-02-20", "status": "Hợp lệ", "benefit": 21665000}
COLUMNS = {"source_record_id": "id", "title": "title", "authors": "authors", "unit": "unit",
           "solution_type": "type", "recognized_on": "recognized", "applied_on": "applied",
           "submitted_at": "submitted", "status": "status", "benefit_vnd": "benefit"}


class JsonSource:
    """A provincial REST system on loopback answering whatever list ``records`` holds at the time."""

    def __init__(self) -> None:
        self.records: list[dict[str, object]] = []
        self.server = serve_json(lambda path, query: self.records)
        self.url = self.server.url


@pytest.fixture
def json_source() -> Iterator[JsonSource]:
    source = JsonSource()
    yield source
    source.server.stop()


def test_an_unchanged_record_on_a_page_with_a_missing_number_is_not_changed(engine, world, json_source):
    load_orgs(engine, world.root / "orgs.csv")
    add_connector(engine, "hanoi-api", "rest", {"base_url": json_source.url, "auth": "none", "pagination": "none",
                                                "date_format": "%Y-%m-%d", "columns": COLUMNS})
    json_source.records = [RECORD]
    run_sync(engine)
    # the next answer carries a record without a benefit beside it, and renders the same benefit as a float
    json_source.records = [{**RECORD, "benefit": 21665000.0},
                           {**RECORD, "id": "HN-8", "title": "Cải tiến băng tải", "benefit": None}]
    _, [again], _, _ = run_sync(engine)
    assert (again.received, again.land.new, again.land.changed, again.land.unchanged) == (2, 1, 0, 1)


def test_numbers_land_in_one_form_whatever_their_neighbours():
    alone = batch_from_records("page 1", [RECORD], {})
    beside_a_gap = batch_from_records("page 2", [RECORD, {"id": "HN-8"}], {})
    assert alone.rows.loc[0, "benefit"] == beside_a_gap.rows.loc[0, "benefit"] == "21665000"
    assert beside_a_gap.rows.loc[1, "benefit"] == ""
    assert [cell_text(v) for v in (21665000.0, 2.1665e7, 2500.5, 0.1, True, None, [1.0, "a"])] == \
        ["21665000", "21665000", "2500.5", "0.1", "True", "", "1; a"]
