"""The nightly sync as a Prefect flow: thin orchestration of sangkien.pipeline.run's stages.

Tasks are coarse (a source's pull, a source's validation, resolution + roll-up),
never per record. A failing source does not stop the others; the flow run ends
failed, naming the source and the error type, after the rest is synced and counted.
Parameters are checked by the signature (pydantic) before anything runs; every run
publishes its artifacts (flows/artifacts.py). With ``fan_out`` each source is pulled
in its own flow run of the ``pull-source`` deployment, so the pulls spread over the
work pool's workers.
"""
from __future__ import annotations

import time
from dataclasses import replace
from typing import cast

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from flows import artifacts
from flows.push import push_task, upstream_configured
from sangkien.errors import ControlTotalError, UserError
from sangkien.pipeline import progress as stages
from sangkien.pipeline import run as sync
from sangkien.pipeline.pullmode import BackfillWindow, PullMode
from sangkien.pipeline.resolve import ResolveCounts
from sangkien.store import open_store, resolve_store, store_reference

PULL_DEPLOYMENT = "sangkien-pull-source/pull-source"


class SourcesFailed(RuntimeError):
    """One or more sources failed; their names and error types are in the message.

    ``summary`` holds the run's control totals (the other sources were synced and counted).
    """

    def __init__(self, message: str, summary: sync.RunSummary | None = None):
        super().__init__(message)
        self.summary = summary


# Tasks and child flow runs receive the store's reference (its URL without the password), never the password:
# parameters are stored in Prefect's database and shown in its UI. resolve_store puts it back from the environment.

@task(name="pull", cache_policy=NO_CACHE, task_run_name="pull-{name}")
def pull(store_ref: str, name: str, run_id: int, mode: PullMode) -> sync.SourceResult:
    return sync.pull_source(open_store(resolve_store(store_ref)), name, run_id, mode)


@task(name="validate", cache_policy=NO_CACHE, task_run_name="validate-{result.source}")
def validate(store_ref: str, result: sync.SourceResult, run_id: int) -> sync.SourceResult:
    return sync.validate_pulled(open_store(resolve_store(store_ref)), result, run_id)


@task(name="resolve-and-roll-up", cache_policy=NO_CACHE)
def resolve_and_roll_up(store_ref: str, run_id: int, full: bool = False) -> ResolveCounts:
    counts, unit_rows = sync.resolve_and_roll_up(open_store(resolve_store(store_ref)), run_id, full=full)
    get_run_logger().info("resolved %d records into %d initiatives; %d unit rows counted",
                          counts.records, counts.initiatives, unit_rows)
    return counts


def _pull_everywhere(ref: str, names: list[str], run_id: int, mode: PullMode,
                     progress: artifacts.Progress) -> list[sync.SourceResult]:
    """One ``pull-source`` flow run per source, on whichever workers of the pool are free."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas import FlowRun
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    params = {"db_url": ref, "run_id": run_id, "full_refresh": mode.full_refresh,
              "window": mode.window.model_dump(mode="json") if mode.window else None}
    try:
        # called from sync code, prefect's async_dispatch returns the FlowRun itself, not a coroutine
        children = {name: cast(FlowRun, run_deployment(PULL_DEPLOYMENT, parameters={**params, "source": name},
                                                       timeout=0, flow_run_name=f"pull-{name}-run-{run_id}"))
                    for name in names}
    except ObjectNotFound:
        raise UserError(f"fan_out needs the {PULL_DEPLOYMENT} deployment on this Prefect server: "
                        "run `sangkien deploy`") from None
    pending = {name: child.id for name, child in children.items()}
    with get_client(sync_client=True) as client:
        while pending:
            for name, child_id in list(pending.items()):
                state = client.read_flow_run(child_id).state
                if state is not None and state.is_final():
                    del pending[name]
                    progress.source_done(name)
            time.sleep(1)
        final = {name: client.read_flow_run(child.id).state for name, child in children.items()}
    engine = open_store(resolve_store(ref))
    recorded = {r.source: r for r in sync.run_results(engine, run_id)}
    results = []
    for name in names:
        if name not in recorded:  # the pull's flow run died before counting (crashed, cancelled)
            ended = final[name]
            lost = sync.SourceResult(name, errors=[f"its pull flow run ended {ended.name if ended else 'unknown'}"
                                                   " before counting"], error_type="system")
            try:
                sync.check_control_totals(engine, lost, run_id)
            except ControlTotalError:
                pass  # rows it landed stay undecided until the next run validates them
            recorded[name] = lost
        results.append(recorded[name])
    return results


@flow(name="sangkien-nightly-sync")
def nightly_sync(db_url: str | None = None, connectors: list[str] | None = None, full_refresh: bool = False,
                 window: BackfillWindow | None = None, fan_out: bool = False) -> sync.RunSummary:
    """Pull every registered source (or ``connectors``), validate, resolve, roll up, and push the counts to the
    node above when this node has an upstream (a failed source skips the push: the upper node keeps the last
    complete figures).

    ``full_refresh`` re-reads every source from scratch; ``window`` ({"start": date, "end": date})
    re-reads the records changed in that window and leaves the incremental state untouched;
    ``fan_out`` pulls each source in its own ``pull-source`` flow run (across the pool's workers).
    ``db_url`` is the store's URL without its password (or ``env:VARIABLE``; default ``$SANGKIEN_DB_URL``): the
    password comes from the worker's environment (``$SANGKIEN_DB_PASSWORD``), never from a parameter.
    Returns the run id, per-source control totals and the resolution counts.
    """
    logger = get_run_logger()
    url = resolve_store(db_url)  # refuses a db_url that carries a password
    ref = store_reference(url)
    mode = PullMode(full_refresh=full_refresh, window=window)
    engine = open_store(url)
    names = sync.source_names(engine, connectors)
    run = sync.Run.start(engine, flow_run_id=str(flow_run.get_id() or ""), mode=mode.describe())
    logger.info("sync run %d (%s) of %d source(s): %s", run.run_id, mode.describe(), len(names), ", ".join(names))
    progress = artifacts.Progress(names)
    try:
        with run, stages.listening(progress):
            if fan_out:
                run.results = _pull_everywhere(ref, names, run.run_id, mode, progress)
            else:
                for name in names:
                    run.results.append(validate(ref, pull(ref, name, run.run_id, mode), run.run_id))
                    progress.source_done(name)
            resolved = resolve_and_roll_up(ref, run.run_id, full=mode.full_refresh)  # a full refresh re-matches all
    finally:
        artifacts.publish_run(engine, run.run_id)
    for r in run.results:
        logger.info("%s: received %d, accepted %d, ineligible %d, quarantined %d", r.source, r.received,
                    r.accepted, r.ineligible, r.quarantined)
    summary = run.summary(resolved)
    if run.status != "failed" and upstream_configured(url):  # the last step: counts go to the node above
        summary = replace(summary, pushed=push_task(ref, run.run_id))
    if run.status == "failed":
        failed = "; ".join(f"{r.source} ({r.error_type} error): {r.errors[0]}" for r in run.results if r.errors)
        raise SourcesFailed(f"run {run.run_id}: {failed}", summary)
    return summary
