"""Validation reads a source's mapping, not a live connector: what a quarantine release relies on."""
from __future__ import annotations

import pytest

from connectors.base import Connector
from connectors.kinds import connector_kinds
from connectors.portal import PORTAL_COLUMNS
from sangkien.pipeline import quarantine
from sangkien.pipeline.run import run_sync
from sangkien.store.registry import add_connector, get_connector_row, read_config_file, source_mapping
from schemas.fields import SourceMapping
from tests.conftest import ORGS_CSV
from tests.pipeline.test_sync_store import BANK_ROW, setup_store


def test_a_registered_sources_mapping_is_read_from_its_settings(engine, world):
    world.source("hanoi", BANK_ROW)
    config = read_config_file(world.config("hanoi"))
    add_connector(engine, "hanoi", "files", config)
    add_connector(engine, "portal", "portal", {"base_url": "http://127.0.0.1:9", "token": "env:NOT_SET_HERE"})
    with engine.connect() as conn:
        hanoi, portal = (source_mapping(get_connector_row(conn, n)) for n in ("hanoi", "portal"))
    assert hanoi == SourceMapping(config["columns"], config["date_format"], config["authors_separator"])
    assert portal == SourceMapping(PORTAL_COLUMNS, "%Y-%m-%d", ";")  # the portal's fields are fixed
    assert connector_kinds()["portal"].mapping_of(None) == portal


def test_a_release_revalidates_held_rows_without_building_a_connector(engine, world, monkeypatch):
    setup_store(engine, world)
    world.source("hanoi", BANK_ROW.replace(";G001;", ";CĐCS Vietinbank BĐ;"))  # an alias the tree lacks yet
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    run_sync(engine)
    fixed = world.root / "orgs-fixed.csv"
    fixed.write_text(ORGS_CSV.replace("CĐCS Vietinbank Ba Đình", "CĐCS Vietinbank Ba Đình|CĐCS Vietinbank BĐ"),
                     encoding="utf-8")
    from sangkien.reference.orgs import load_orgs

    load_orgs(engine, fixed)

    def no_connector(self, *args, **kwargs):
        pytest.fail("a release built a connector")

    monkeypatch.setattr(Connector, "__init__", no_connector)
    released = quarantine.release(engine, reason="unit_known")
    assert (released.released, released.accepted, released.quarantined) == (1, 1, 0)
