"""Push this node's consolidated counts to the node above (the ``push`` deployment, and the nightly flow's last
step when an upstream is configured). The work is sangkien.pipeline.push.push; this flow only runs it under Prefect."""
from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State
from prefect.states import Completed

from sangkien.pipeline import push as core
from sangkien.store import open_store, resolve_store, store_reference
from sangkien.store.settings import get_setting


@task(name="push-upward", cache_policy=NO_CACHE)
def push_task(store_ref: str, run_id: int | None = None, force: bool = False) -> dict[str, object]:
    """Push for the store ``store_ref`` refers to (its URL without the password: see resolve_store)."""
    result = core.push(open_store(resolve_store(store_ref)), run_id=run_id, force=force)
    get_run_logger().info("push to %s: %s (%d unit rows, %d initiatives, as of %s)", result.upstream, result.status,
                          len(result.submission.units), len(result.submission.initiatives),
                          result.submission.as_of.isoformat())
    return {"status": result.status, "upstream": result.upstream, "units": len(result.submission.units),
            "initiatives": len(result.submission.initiatives), "receipt": result.receipt}


def upstream_configured(url: str) -> bool:
    with open_store(url).connect() as conn:
        return bool(get_setting(conn, "upstream_url"))


NO_UPSTREAM = "no upstream configured, nothing to push (`sangkien node set upstream_url=...` pushes to the node above)"


@flow(name="sangkien-push-upward")
def push_upward(db_url: str | None = None, force: bool = False) -> State:
    """Push this node's counts from the last roll-up to its upstream node. Unchanged counts are not sent again
    unless ``force``. A node without an upstream (the national office, or one not yet linked) sends nothing and
    the run completes saying so: a nightly push must not raise the failure alert where there is nowhere to push."""
    url = resolve_store(db_url)
    if not upstream_configured(url):
        get_run_logger().info(NO_UPSTREAM)
        return Completed(message=NO_UPSTREAM, data={"status": "skipped", "note": NO_UPSTREAM})
    result = push_task(store_reference(url), force=force)
    return Completed(message=f"push to {result['upstream']}: {result['status']}", data=result)
