"""How a sync reads its sources: incrementally (the default), from scratch, or a backfill window.

- incremental: each connector resumes from the state saved with its last landed batch;
- full refresh: every source is read from scratch, as if never synced (the state that
  results is saved, so the next incremental sync continues from there);
- backfill window: the records changed between ``start`` and ``end`` (inclusive dates) are
  read again, and the saved incremental state is left exactly as it was.
Re-landing is idempotent (upsert on source + record id, the content hash decides "changed"),
so a full refresh or a backfill only adds what was missed or changed.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.base import Batch, Connector
from sangkien.errors import UserError


class BackfillWindow(BaseModel):
    """Dates (inclusive) of the source change times to pull again, e.g. {"start": "2022-06-01", "end": "2022-06-30"}."""

    model_config = ConfigDict(extra="forbid")

    start: dt.date = Field(description="First day of the window (YYYY-MM-DD).")
    end: dt.date = Field(description="Last day of the window (YYYY-MM-DD), inclusive.")

    @model_validator(mode="after")
    def _ordered(self) -> BackfillWindow:
        if self.end < self.start:
            raise ValueError(f"window end {self.end} is before its start {self.start}")
        return self


@dataclass(frozen=True)
class PullMode:
    """Incremental by default; ``full_refresh`` or a backfill ``window`` (not both)."""

    full_refresh: bool = False
    window: BackfillWindow | None = None

    def __post_init__(self) -> None:
        if self.full_refresh and self.window is not None:
            raise UserError("a full refresh re-reads everything: give full_refresh or a backfill window, not both")

    @property
    def keeps_state(self) -> bool:
        """True when the saved incremental state must be left untouched (a backfill)."""
        return self.window is not None

    def describe(self) -> str:
        if self.window is not None:
            return f"backfill {self.window.start}..{self.window.end}"
        return "full refresh" if self.full_refresh else "incremental"

    def initial_state(self, connector: Connector, saved: dict[str, Any] | None) -> dict[str, Any]:
        """The state the connector's read starts from."""
        if self.window is not None:
            return connector.backfill_state(self.window.start)
        return {} if self.full_refresh else dict(saved or {})

    def select(self, connector: Connector, batch: Batch) -> Batch:
        """The batch's rows inside the window, by the mapped ``updated_at`` column when it has one.

        Rows whose change time cannot be read are kept (validation judges them); outside a
        backfill, or for a source without a change-time column, the batch is returned whole.
        """
        column = connector.columns.get("updated_at")
        if self.window is None or batch.rows is None or batch.rows.empty or column not in batch.rows.columns:
            return batch
        text = batch.rows[column].astype(str).str.strip()
        stamps = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
        if stamps.isna().all():
            stamps = pd.to_datetime(text, errors="coerce", format=connector.date_format, utc=True)
        start = pd.Timestamp(self.window.start, tz="UTC")
        end = pd.Timestamp(self.window.end + dt.timedelta(days=1), tz="UTC")
        keep = stamps.isna() | ((stamps >= start) & (stamps < end))
        if keep.all():
            return batch
        return Batch(batch.label, rows=batch.rows[keep.to_numpy()].reset_index(drop=True), headers=batch.headers,
                     state=batch.state, row_problems=batch.row_problems, problem=batch.problem)
