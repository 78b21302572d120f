"""The declarative REST connector against the simulated provincial system, every paging style."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from sandbox.generate import generate_world
from sandbox.servers import serve
from sangkien import store
from sangkien.pipeline.run import run_sync
from sangkien.reference.orgs import load_orgs
from sangkien.store.registry import add_connector

KEY = "hanoi-api-key-9f8e7d"
FAULTS = "5xx=0.04,429=0.03,slow=0.02,truncated=0.04,drop=0.03,shift=0.02,update=0.02,slow_delay=1.5,seed=11"
STYLE_SETTINGS = {
    "page": {"pagination": "page", "records_path": "items"},
    "offset": {"pagination": "offset", "records_path": "results"},
    "cursor": {"pagination": "cursor", "records_path": "data.records", "next_cursor_path": "next"},
    "link": {"pagination": "link", "records_path": ""},
}


@pytest.fixture(scope="module")
def rest_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rest") / "world"
    generate_world(root, 4000, seed=4, noise="none")
    return root


def hanoi_settings(world: Path, url: str, style: str) -> dict[str, object]:
    files = yaml.safe_load((world / "sources" / "hanoi.yaml").read_text(encoding="utf-8"))
    return {"base_url": url, "path": "/api/records", "auth": "api_key_header", "token": "env:SANGKIEN_TEST_REST_KEY",
            "page_size": 3, "timeout": 1.0, "attempts": 12, "incremental_param": "modified_after",
            "change_field": files["columns"]["updated_at"], "date_format": files["date_format"],
            "authors_separator": files["authors_separator"], "columns": files["columns"], **STYLE_SETTINGS[style]}


@pytest.mark.parametrize("style", sorted(STYLE_SETTINGS))
def test_every_paging_style_lands_each_record_once_through_faults(style, rest_world, tmp_path, monkeypatch):
    monkeypatch.setenv("SANGKIEN_TEST_REST_KEY", KEY)
    engine = store.open_store(f"sqlite:///{tmp_path / 's.db'}")
    load_orgs(engine, rest_world / "orgs.csv")
    truth = pd.read_csv(rest_world / "truth.csv", dtype=str).query("source == 'hanoi'")
    with serve("rest", rest_world, faults=FAULTS, token=KEY, style=style, source="hanoi") as server:
        add_connector(engine, "hanoi", "rest", hanoi_settings(rest_world, server.url, style))
        _, [result], _, status = run_sync(engine)
        faults = sum(server.system.fault_counts.values())
    with engine.connect() as conn:
        ids = list(conn.scalars(sa.select(store.raw_records.c.source_record_id)))
    assert status == "completed", result.errors
    assert len(ids) == len(set(ids)) and set(ids) == set(truth["source_record_id"])
    assert result.received == len(truth) == result.accepted + result.ineligible + result.quarantined
    assert result.quarantined == 0
    assert faults >= 2  # the faults did happen


def test_a_second_rest_sync_fetches_only_the_changed_records(rest_world, tmp_path, monkeypatch):
    monkeypatch.setenv("SANGKIEN_TEST_REST_KEY", KEY)
    engine = store.open_store(f"sqlite:///{tmp_path / 's.db'}")
    load_orgs(engine, rest_world / "orgs.csv")
    with serve("rest", rest_world, token=KEY, style="page", source="hanoi") as server:
        add_connector(engine, "hanoi", "rest", hanoi_settings(rest_world, server.url, "page"))
        run_sync(engine)
        before = server.system.requests
        changed = server.system.change_records(0.01, seed=2)
        _, [again], _, _ = run_sync(engine)
        requests_made = server.system.requests - before
    assert again.land.changed == len(changed) and again.received <= len(changed) + 1
    assert requests_made <= 2  # the changed ones fit one page (a second only if a page boundary falls there)


@pytest.mark.parametrize("kind, base", [
    ("rest", {"base_url": "http://127.0.0.1:1", "auth": "none"}),
    ("sql", {"url": "sqlite://", "table": "t", "primary_key": "id"}),
    ("files", {"path": "."}),
])
def test_every_mapped_kind_names_an_unknown_field_and_a_bad_date_format(kind, base, engine):
    from sangkien.errors import UserError

    columns = {"source_record_id": "a", "title": "b", "authors": "c", "unit": "d", "solution_type": "e",
               "applied_on": "f", "submitted_at": "g", "status": "h", "tittle": "x"}
    with pytest.raises(UserError) as caught:
        add_connector(engine, "x", kind, {**base, "columns": columns, "date_format": "dd/mm/yyyy"})
    assert "'tittle' (did you mean 'title'?)" in str(caught.value)
    assert "'dd/mm/yyyy' is not a strptime format" in str(caught.value)
