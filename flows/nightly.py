"""The nightly sync as a Prefect flow: thin orchestration of sangkien.sync's stages.

Tasks are coarse (a source's pull, a source's validation, resolution + roll-up),
never per record. A failing source does not stop the others; the flow run ends
failed, naming the source and the error type, after the rest is synced and counted.
"""
from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from sangkien import sync
from sangkien.store import database_url, open_store


class SourcesFailed(RuntimeError):
    """One or more sources failed; their names and error types are in the message.

    ``summary`` holds the run's control totals (the other sources were synced and counted).
    """

    def __init__(self, message: str, summary: dict[str, object] | None = None):
        super().__init__(message)
        self.summary = summary or {}


@task(name="pull", cache_policy=NO_CACHE, task_run_name="pull-{name}")
def pull(db_url: str, name: str, run_id: int) -> sync.SourceResult:
    return sync.pull_source(open_store(db_url), name, run_id)


@task(name="validate", cache_policy=NO_CACHE, task_run_name="validate-{result.source}")
def validate(db_url: str, result: sync.SourceResult, run_id: int) -> sync.SourceResult:
    return sync.validate_pulled(open_store(db_url), result, run_id)


@task(name="resolve-and-roll-up", cache_policy=NO_CACHE)
def resolve_and_roll_up(db_url: str, run_id: int) -> dict[str, int]:
    counts, unit_rows = sync.resolve_and_roll_up(open_store(db_url), run_id)
    return {"records": counts.records, "initiatives": counts.initiatives, "merged": counts.merged,
            "unit_rows": unit_rows}


@flow(name="sangkien-nightly-sync")
def nightly_sync(db_url: str | None = None, connectors: list[str] | None = None) -> dict[str, object]:
    """Pull every registered source (or ``connectors``), validate, resolve, roll up.

    Returns the run id, per-source control totals and the resolution counts.
    """
    logger = get_run_logger()
    url = database_url(db_url)
    engine = open_store(url)
    names = sync.source_names(engine, connectors)
    run_id = sync.start_run(engine, flow_run_id=str(flow_run.get_id() or ""))
    results: list[sync.SourceResult] = []
    try:
        for name in names:
            results.append(validate(url, pull(url, name, run_id), run_id))
        resolved = resolve_and_roll_up(url, run_id)
    except Exception as exc:
        sync.finish_run(engine, run_id, results, error=f"{type(exc).__name__}: {exc}")
        raise
    status = sync.finish_run(engine, run_id, results)
    for r in results:
        logger.info("%s: received %d, accepted %d, ineligible %d, quarantined %d", r.source, r.received,
                    r.accepted, r.ineligible, r.quarantined)
    summary = {"run_id": run_id, "status": status, "sources": [r.as_dict() for r in results], "resolved": resolved}
    if status == "failed":
        failed = "; ".join(f"{r.source} ({r.error_type} error): {r.errors[0]}" for r in results if r.errors)
        raise SourcesFailed(f"run {run_id}: {failed}", summary)
    return summary
