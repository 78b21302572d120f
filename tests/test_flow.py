"""The nightly flow under Prefect's engine (one test harness for the whole session)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from sangkien import store
from sangkien.reference import load_orgs, load_quotas
from sangkien.registry import add_connector, read_config_file
from tests.test_sync_store import BANK_ROW, SCHOOL_ROW, counts

pytestmark = pytest.mark.flow


@pytest.fixture(scope="session")
def prefect_harness():  # type: ignore[no-untyped-def]
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def synced_world(engine, world):  # type: ignore[no-untyped-def]
    load_orgs(engine, world.root / "orgs.csv")
    load_quotas(engine, world.root / "quotas.csv")
    world.source("hanoi", BANK_ROW, SCHOOL_ROW)
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    return world


def test_nightly_flow_syncs_every_source_and_returns_control_totals(prefect_harness, db_url, engine, synced_world):
    from flows.nightly import nightly_sync

    summary = nightly_sync(db_url=db_url)
    assert summary["status"] == "completed"
    [source] = summary["sources"]
    assert (source["source"], source["received"], source["accepted"]) == ("hanoi", 2, 2)
    assert summary["resolved"]["initiatives"] == 2
    assert counts(engine, "P01")["initiatives"] == 2


def test_flow_run_fails_naming_the_failed_source_while_the_others_are_synced(prefect_harness, db_url, engine,
                                                                              synced_world):
    from flows.nightly import SourcesFailed, nightly_sync

    world = synced_world
    world.source("broken", SCHOOL_ROW)
    add_connector(engine, "broken", "files", read_config_file(world.config("broken")))
    (world.root / "broken" / "export.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00binary")
    with pytest.raises(SourcesFailed, match=r"broken \(source error\)"):
        nightly_sync(db_url=db_url)
    assert counts(engine, "P01")["initiatives"] == 2
    with engine.connect() as conn:
        run = conn.execute(sa.select(store.sync_runs)).mappings().one()
        per_source = {r.source: r for r in conn.execute(sa.select(store.sync_run_sources))}
    assert run["status"] == "failed" and "broken" in run["message"]
    assert per_source["hanoi"].accepted == 2 and per_source["broken"].error_type == "source"


def test_prefect_api_answers_the_filters_its_own_client_sends(prefect_harness):
    """Guards the fastapi pin: from fastapi 0.151 the server answers 422 to a null limit."""
    import asyncio

    from prefect.client.orchestration import get_client

    async def read() -> list[object]:
        async with get_client() as client:
            return await client.read_deployments()

    assert isinstance(asyncio.run(read()), list)
