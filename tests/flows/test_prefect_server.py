"""Against a real local Prefect server (started here, on loopback, with its own PREFECT_HOME):
`sangkien deploy`, deployments read back through the API, a worker running the nightly
deployment with its artifacts, the push deployment failing plainly without an upstream, and a worker killed
mid-run (acceptance 1, 2 and 4 of issue 7). One server for the module; ~1-2 minutes."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sandbox.generate import generate_world
from sandbox.prefect_local import PrefectServer, Worker
from sandbox.servers import serve
from sangkien import store
from sangkien.reference.orgs import load_orgs
from sangkien.reference.quotas import load_quotas
from sangkien.store.registry import add_connector, read_config_file
from tests.conftest import run_cli

pytestmark = pytest.mark.prefect_server

EXPECTED = {  # deployment → (flow, cron, parameters)
    "nightly": ("sangkien-nightly-sync", "30 1 * * *", {}),
    "push": ("sangkien-push-upward", "30 3 * * *", {}),
    "full-refresh": ("sangkien-nightly-sync", "30 4 * * 0", {"full_refresh": True}),
    "backfill": ("sangkien-nightly-sync", None, {}),
    "pull-source": ("sangkien-pull-source", None, {}),
}
KILL_TOKEN = "kill-worker-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    with PrefectServer(tmp_path_factory.mktemp("prefect-home")) as running:
        yield running


@pytest.fixture(scope="module")
def deployed(server: PrefectServer) -> str:
    result = run_cli("deploy", env=server.env)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def api(server: PrefectServer):  # type: ignore[no-untyped-def]
    yield from prefect_api(server)


def prefect_api(server: PrefectServer):  # type: ignore[no-untyped-def]
    """A client of ``server`` itself: settings given explicitly, since Prefect reads them once per process
    (set through the environment after the first import, a client would start a temporary in-process server)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    with temporary_settings({PREFECT_API_URL: server.url, PREFECT_HOME: server.home}):
        with get_client(sync_client=True) as client:
            assert str(client.api_url).rstrip("/") == server.url
            yield client


def run_deployment_and_wait(api, name: str, parameters: dict[str, Any] | None = None,  # type: ignore[no-untyped-def]
                            timeout: float = 240):
    deployment = api.read_deployment_by_name(name)
    flow_run = api.create_flow_run_from_deployment(deployment.id, parameters=parameters or {})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        flow_run = api.read_flow_run(flow_run.id)
        if flow_run.state and flow_run.state.is_final():
            return flow_run
        time.sleep(1)
    raise AssertionError(f"{name} did not finish within {timeout} s; state {flow_run.state}")


def small_store(tmp_path: Path, initiatives: int = 200) -> tuple[str, Path]:
    world = tmp_path / "world"
    generate_world(world, initiatives, seed=31, noise="light")
    url = f"sqlite:///{tmp_path / 'node.db'}"
    engine = store.open_store(url)
    load_orgs(engine, world / "orgs.csv")
    load_quotas(engine, world / "quotas.csv")
    for config in sorted((world / "sources").glob("*.yaml")):
        add_connector(engine, config.stem, "files", read_config_file(config))
    return url, world


def test_deploy_creates_every_deployment_with_its_schedule_concurrency_and_pool(deployed, api):
    assert "deployed nightly, push, full-refresh, backfill, pull-source to work pool 'sangkien'" in deployed
    assert api.read_work_pool("sangkien").type == "process"
    found = {d.name: d for d in api.read_deployments()}
    assert set(found) == set(EXPECTED)
    for name, (flow_name, cron, parameters) in EXPECTED.items():
        d = found[name]
        assert api.read_flow(d.flow_id).name == flow_name, name
        assert d.work_pool_name == "sangkien", name
        assert d.parameters == parameters, name
        if cron:
            [schedule] = d.schedules
            assert (schedule.schedule.cron, schedule.schedule.timezone, schedule.active) == (
                cron, "Asia/Ho_Chi_Minh", True), name
        else:
            assert d.schedules == [], name
        limit, strategy = d.global_concurrency_limit.limit, d.concurrency_options.collision_strategy.value
        assert (limit, strategy) == ((8, "ENQUEUE") if name == "pull-source" else (1, "CANCEL_NEW")), name
    # the flow's signature is the parameter schema Prefect enforces
    schema = found["backfill"].parameter_openapi_schema
    assert {"db_url", "connectors", "full_refresh", "window", "fan_out"} <= set(schema["properties"])


def test_the_server_schedules_the_nightly_run_at_0130_vietnam_time(deployed, api):
    """Guards the SQLAlchemy pin: with SQLAlchemy 2.1 Prefect 3.8's scheduler fails to insert runs."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )

    scheduled = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not scheduled:
        scheduled = api.read_flow_runs(
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["nightly"])),
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=["SCHEDULED"]))))
        time.sleep(1)
    assert scheduled, "the scheduler created no run for the nightly deployment"
    local = {r.expected_start_time.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).time() for r in scheduled}
    assert local == {dt.time(1, 30)}


def test_deploy_again_is_harmless_and_a_missing_server_is_one_line(deployed, server, tmp_path):
    again = run_cli("deploy", env=server.env)
    assert again.returncode == 0, again.stderr
    nowhere = run_cli("deploy", env={"PREFECT_API_URL": "http://127.0.0.1:9/api", "PREFECT_HOME": str(tmp_path)})
    lines = nowhere.stderr.strip().splitlines()
    assert nowhere.returncode == 2 and len(lines) == 1, nowhere.stderr
    assert lines[0].startswith("sangkien: error: cannot reach the Prefect server at http://127.0.0.1:9/api")
    missing = run_cli("deploy", "--prefect-file", str(tmp_path / "nope.yaml"), env=server.env)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    assert "nope.yaml: no such file" in missing.stderr
    bad_hook = run_cli("deploy", "--notify-webhook", "chat.example/hooks", env=server.env)
    assert bad_hook.returncode == 2 and "give an http(s) URL" in bad_hook.stderr


def test_a_worker_runs_the_nightly_deployment_and_its_artifacts_are_written(deployed, server, api, tmp_path):
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    url, _ = small_store(tmp_path)
    with Worker(server, "w-nightly", env={"SANGKIEN_DB_URL": url}):
        flow_run = run_deployment_and_wait(api, "sangkien-nightly-sync/nightly")
        pushed = run_deployment_and_wait(api, "sangkien-push-upward/push")
    assert flow_run.state.is_completed(), flow_run.state.message
    artifacts = {a.key: a for a in api.read_artifacts(
        artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run.id]))) if a.key}
    assert set(artifacts) == {"sangkien-sources", "sangkien-reconciliation", "sangkien-pull-progress"}
    table = json.loads(artifacts["sangkien-sources"].data)
    assert len(table) == 7 and all(r["received"] == r["accepted"] + r["ineligible"] + r["quarantined"] for r in table)
    assert "## Units furthest behind target" in artifacts["sangkien-reconciliation"].data
    assert artifacts["sangkien-pull-progress"].data == 100
    with store.open_store(url).connect() as conn:
        run = conn.execute(sa.select(store.sync_runs)).mappings().one()
    assert run["status"] == "completed" and run["flow_run_id"] == str(flow_run.id)
    # this node has no upstream: the push deployment sends nothing and completes saying so (no nightly alert)
    assert pushed.state.is_completed() and "no upstream configured, nothing to push" in pushed.state.message


def test_a_bad_parameter_is_refused_by_the_server(deployed, api):
    from prefect.exceptions import PrefectHTTPStatusError

    deployment = api.read_deployment_by_name("sangkien-nightly-sync/backfill")
    with pytest.raises(PrefectHTTPStatusError) as refused:
        api.create_flow_run_from_deployment(deployment.id, parameters={"full_refresh": "sometimes"})
    assert refused.value.response.status_code == 409
    assert "sometimes" in refused.value.response.text and "boolean" in refused.value.response.text


def _landed(url: str) -> int:
    with store.open_store(url).connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(store.raw_records)))


def test_a_worker_killed_mid_run_leaves_a_consistent_store_and_the_next_run_completes(deployed, server, api,
                                                                                        tmp_path, record_property):
    """Acceptance 4: SIGKILL the worker (and its flow run) mid-pull, restart it, run again."""
    world = tmp_path / "world"
    generate_world(world, 500, seed=9, noise="none")
    url = f"sqlite:///{tmp_path / 'node.db'}"
    engine = store.open_store(url)
    load_orgs(engine, world / "orgs.csv")
    env = {"SANGKIEN_DB_URL": url, "SANGKIEN_KILL_TOKEN": KILL_TOKEN}
    with serve("portal", world, faults="slow=0.5,slow_delay=0.15,seed=5", token=KILL_TOKEN) as portal:
        add_connector(engine, "portal", "portal", {"base_url": portal.url, "token": "env:SANGKIEN_KILL_TOKEN",
                                                   "page_size": 10, "timeout": 5.0})
        total = len(portal.system.ids())
        worker = Worker(server, "w-killed", env=env)
        deployment = api.read_deployment_by_name("sangkien-nightly-sync/nightly")
        victim = api.create_flow_run_from_deployment(deployment.id)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and _landed(url) < 60:
            time.sleep(0.1)
        worker.kill()
        landed_at_kill = _landed(url)
        assert 0 < landed_at_kill < total
        # the killed flow run stays Running in Prefect: the operator (here the test) marks it crashed,
        # which frees the deployment's concurrency slot (else the next run would be cancelled)
        from prefect.states import Crashed

        api.set_flow_run_state(victim.id, Crashed(message="worker killed"), force=True)
        with Worker(server, "w-restarted", env=env):
            following = run_deployment_and_wait(api, "sangkien-nightly-sync/nightly")
    with engine.connect() as conn:
        runs = conn.execute(sa.select(store.sync_runs).order_by(store.sync_runs.c.id)).mappings().all()
        per_source = conn.execute(sa.select(store.sync_run_sources)).mappings().all()
        undecided = conn.scalar(sa.select(sa.func.count()).select_from(store.raw_records)
                                .where(store.raw_records.c.outcome.is_(None)))
        ids = list(conn.scalars(sa.select(store.raw_records.c.source_record_id)))
    assert following.state.is_completed(), following.state.message
    assert [r["status"] for r in runs] == ["abandoned", "completed"]
    assert "ended without closing it" in runs[0]["message"]
    assert all(s["received"] == s["accepted"] + s["ineligible"] + s["quarantined"] for s in per_source)
    assert undecided == 0 and len(ids) == len(set(ids)) == total
    record_property("landed_at_kill", landed_at_kill)
    record_property("received_after_restart", per_source[0]["received"])
    print(f"killed after {landed_at_kill} of {total} records landed; the next run received "
          f"{per_source[0]['received']} and completed; store holds {len(ids)} distinct records")


@pytest.mark.postgres
def test_pulls_fan_out_as_flow_runs_over_two_workers_with_prefect_and_the_store_on_postgresql(pg_admin):
    """Prefect's server on PostgreSQL, two process workers, the store on PostgreSQL (bench/scaleout.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("scaleout", Path(__file__).resolve().parents[2] / "bench" / "scaleout.py")
    scaleout = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scaleout)
    base = pg_admin.url.render_as_string(hide_password=False).rsplit("/", 1)[0]  # the server, no database
    outcome = scaleout.scale_out(base, 300, workers=2)
    assert outcome["completed"] and outcome["totals_hold"]
    ran_by = outcome["ran_by"]
    assert len(ran_by) == 7 and all(name.startswith("pull-") for name in ran_by)  # one flow run per source
    assert set(ran_by.values()) <= {"worker-1", "worker-2"} and None not in ran_by.values()
