"""The nightly flow under Prefect's engine (one test harness for the whole session)."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from sangkien import store
from sangkien.reference.orgs import load_orgs
from sangkien.reference.quotas import load_quotas
from sangkien.store.registry import add_connector, read_config_file
from tests.pipeline.test_sync_store import BANK_ROW, SCHOOL_ROW, counts

pytestmark = pytest.mark.flow
REST_KEY = "rest-key-6d1f0a9e"


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
    assert summary.status == "completed"
    [source] = summary.sources
    assert (source.source, source.received, source.accepted) == ("hanoi", 2, 2)
    assert summary.resolved.initiatives == 2
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


def test_a_wrong_mapping_fails_the_prefect_run_naming_the_source_and_the_reason(prefect_harness, db_url, engine,
                                                                               synced_world):
    """Every row lands and is quarantined: the run is Failed, so the failure alert fires."""
    from flows.nightly import SourcesFailed
    from flows.nightly import nightly_sync as flow
    from sangkien.store.registry import edit_connector

    edit_connector(engine, "hanoi", {"date_format": "%Y-%m-%d"})
    state = flow(db_url=db_url, return_state=True)
    assert state.is_failed()
    with pytest.raises(SourcesFailed, match=r"hanoi \(configuration error\): 2 of 2 rows quarantined .*date_format"):
        state.result()
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(store.quarantine)) > 0  # held, not lost


def test_the_push_flow_without_an_upstream_completes_saying_nothing_was_pushed(prefect_harness, db_url, engine):
    from flows.push import push_upward

    state = push_upward(db_url=db_url, return_state=True)
    assert state.is_completed() and "no upstream configured, nothing to push" in state.message
    assert state.result()["status"] == "skipped"


def test_prefect_api_answers_the_filters_its_own_client_sends(prefect_harness):
    """Guards the fastapi pin: from fastapi 0.151 the server answers 422 to a null limit."""
    import asyncio

    from prefect.client.orchestration import get_client

    async def read() -> list[object]:
        async with get_client() as client:
            return await client.read_deployments()

    assert isinstance(asyncio.run(read()), list)


def _artifacts(flow_run_id):  # type: ignore[no-untyped-def]
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    async def read():  # type: ignore[no-untyped-def]
        async with get_client() as client:
            return await client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))

    return {a.key: a for a in asyncio.run(read()) if a.key}  # keyless ones are Prefect's result records


def test_a_run_with_a_rest_system_down_fails_naming_it_and_syncs_every_other_source(prefect_harness, db_url, engine,
                                                                                     tmp_path, monkeypatch):
    """Acceptance 3: one provincial REST simulator is down at sync time."""
    from flows.nightly import SourcesFailed, nightly_sync
    from sandbox.generate import generate_world
    from sandbox.servers import serve

    world = tmp_path / "w"
    generate_world(world, 200, seed=21, noise="none")
    load_orgs(engine, world / "orgs.csv")
    load_quotas(engine, world / "quotas.csv")
    files = sorted((world / "sources").glob("*.yaml"))[:3]
    for config in files:
        add_connector(engine, config.stem, "files", read_config_file(config))
    monkeypatch.setenv("SANGKIEN_TEST_REST_KEY", REST_KEY)
    with serve("rest", world, token=REST_KEY, source="hanoi") as server:
        down_url = server.url  # the simulator stops when the block ends: its address answers nothing
    columns = read_config_file(world / "sources" / "hanoi.yaml")
    add_connector(engine, "hanoi-api", "rest", {
        "base_url": down_url, "auth": "api_key_query", "token": "env:SANGKIEN_TEST_REST_KEY", "records_path": "items",
        "timeout": 0.5, "attempts": 2, "columns": columns["columns"], "date_format": columns["date_format"],
        "authors_separator": columns["authors_separator"]})
    state = nightly_sync(db_url=db_url, return_state=True)
    assert state.is_failed()
    with pytest.raises(SourcesFailed, match=r"hanoi-api \(transient error\)"):
        state.result()
    with engine.connect() as conn:
        per_source = {r.source: r for r in conn.execute(sa.select(store.sync_run_sources))}
        run = conn.execute(sa.select(store.sync_runs)).mappings().one()
    assert run["status"] == "failed" and "hanoi-api (transient error)" in run["message"]
    assert per_source["hanoi-api"].received == 0
    for config in files:
        synced = per_source[config.stem]
        assert synced.error is None and synced.received > 0
        assert synced.received == synced.accepted + synced.ineligible + synced.quarantined
    # the run's artifacts: the table names the failed source and its error type; the page lists it
    found = _artifacts(state.state_details.flow_run_id)
    assert set(found) == {"sangkien-sources", "sangkien-reconciliation", "sangkien-pull-progress"}
    table = json.loads(found["sangkien-sources"].data)
    assert {row["source"]: row["error_type"] for row in table}["hanoi-api"] == "transient"
    assert "source `hanoi-api` failed (transient error)" in found["sangkien-reconciliation"].data
    assert found["sangkien-pull-progress"].data == 100.0
    # the key travels in the query string here; nothing the run wrote carries it
    assert REST_KEY not in "".join(str(a.data) for a in found.values()) + (run["message"] or "")


def test_a_bad_parameter_is_rejected_before_anything_runs(prefect_harness, db_url, engine, synced_world):
    from flows.nightly import nightly_sync

    with pytest.raises(Exception, match="before its start"):
        nightly_sync(db_url=db_url, window={"start": "2022-06-30", "end": "2022-06-01"})
    with pytest.raises(Exception, match="full_refresh"):
        nightly_sync(db_url=db_url, full_refresh="sometimes")
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(store.sync_runs)) == 0


def test_fan_out_without_the_pull_source_deployment_says_to_deploy(prefect_harness, db_url, engine, synced_world):
    from flows.nightly import nightly_sync
    from sangkien.errors import UserError

    with pytest.raises(UserError, match="run `sangkien deploy`"):
        nightly_sync(db_url=db_url, fan_out=True)
    with engine.connect() as conn:
        run = conn.execute(sa.select(store.sync_runs)).mappings().one()
    assert run["status"] == "failed" and "sangkien-pull-source/pull-source" in run["message"]
