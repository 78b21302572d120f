"""One source's pull and validation as its own flow run (the ``pull-source`` deployment).

The nightly flow with ``fan_out`` starts one of these per source, so the pulls of a run
spread over every worker of the work pool; they share the store (PostgreSQL) and report
through it (sync_run_sources), so nothing but the run id passes between processes.
"""
from __future__ import annotations

import os
import socket

from prefect import flow, get_run_logger

from sangkien.pipeline import run as sync
from sangkien.pipeline.pullmode import BackfillWindow, PullMode
from sangkien.store import open_store, resolve_store


@flow(name="sangkien-pull-source")
def pull_source(source: str, run_id: int, db_url: str | None = None, full_refresh: bool = False,
                window: BackfillWindow | None = None) -> dict[str, object]:
    """Pull, land and validate ``source`` for sync run ``run_id``; its control totals go to the store.

    A source error is recorded (the parent flow names it); it does not fail this flow run.
    """
    engine = open_store(resolve_store(db_url))  # a reference: its URL without the password (resolve_store)
    mode = PullMode(full_refresh=full_refresh, window=window)
    result = sync.validate_pulled(engine, sync.pull_source(engine, source, run_id, mode), run_id)
    # which machine and worker ran it: the process worker is this flow run's parent process
    get_run_logger().info("pulled %s for run %d on %s in pid %d (worker pid %d): received %d%s", source, run_id,
                          socket.gethostname(), os.getpid(), os.getppid(), result.received,
                          f", {result.error_type} error" if result.errors else "")
    return {**result.as_dict(), "host": socket.gethostname(), "pid": os.getpid(), "worker_pid": os.getppid()}
