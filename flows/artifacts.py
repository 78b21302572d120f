"""Prefect artifacts of a sync run: the per-source table, the reconciliation page, pull progress.

The content comes from sangkien.present.runreport (plain data, tested without the engine); this
module only hands it to Prefect. An artifact that cannot be written is logged, never fatal:
the run's data and its control totals are in the store either way.
"""
from __future__ import annotations

from typing import cast
from uuid import UUID

from prefect import get_run_logger
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from sqlalchemy.engine import Engine

from sangkien.pipeline import progress as stages
from sangkien.present import runreport

SOURCES_KEY = "sangkien-sources"
RECONCILIATION_KEY = "sangkien-reconciliation"
PROGRESS_KEY = "sangkien-pull-progress"


def publish_run(engine: Engine, run_id: int) -> None:
    """A table with one row per source and a markdown reconciliation summary, attached to this flow run."""
    try:
        with engine.connect() as conn:
            rows = runreport.source_rows(conn, run_id)
            page = runreport.reconciliation_markdown(conn, run_id)
        create_table_artifact(rows or [dict.fromkeys(runreport.SOURCE_COLUMNS)], key=SOURCES_KEY,
                              description=f"Sync run {run_id}: per source, received = accepted + ineligible + "
                                          "quarantined; pushed is empty per source (a push carries the whole "
                                          "node's counts: `sangkien runs` lists pushes)")
        create_markdown_artifact(page, key=RECONCILIATION_KEY, description=f"Sync run {run_id}: reconciliation")
    except Exception as exc:  # reporting must not turn a synced run into a failed one
        get_run_logger().warning("could not write the run's artifacts: %s: %s", type(exc).__name__, exc)


class Progress:
    """A progress artifact advanced as each source's pull ends, its description following the stages (validating
    a source, resolving, rolling up) when it listens to them (sangkien.pipeline.progress)."""

    def __init__(self, names: list[str]):
        self.total, self.done = len(names), 0
        self.artifact_id: UUID | None = None
        try:
            # called from sync code, prefect's async_dispatch returns the UUID itself, not a coroutine
            self.artifact_id = cast(UUID, create_progress_artifact(0.0 if names else 100.0, key=PROGRESS_KEY,
                                                                   description=f"sources pulled: 0 of {self.total}"))
        except Exception as exc:  # an artifact is never fatal
            get_run_logger().warning("could not create the progress artifact: %s", exc)

    def source_done(self, name: str) -> None:
        self.done += 1
        self._show(f"sources pulled: {self.done} of {self.total} (last: {name})")

    def __call__(self, event: stages.Progress) -> None:
        """The stages the CLI's bars show, as the artifact's description (not every batch: each is an API call)."""
        if event.stage == stages.VALIDATE:
            self._show(f"sources pulled: {self.done} of {self.total}; validating {event.source} "
                       f"({event.rows:,} rows)")
        elif event.stage in (stages.RESOLVE, stages.ROLL_UP):
            what = "resolving initiatives" if event.stage == stages.RESOLVE else "rolling up the counts"
            self._show(f"sources pulled: {self.done} of {self.total}; {what}")

    def _show(self, description: str) -> None:
        if self.artifact_id is None:
            return
        try:
            update_progress_artifact(self.artifact_id, 100.0 * self.done / max(self.total, 1),
                                     description=description)
        except Exception as exc:  # an artifact is never fatal
            get_run_logger().warning("could not update the progress artifact: %s", exc)
