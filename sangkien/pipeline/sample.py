"""A source's first rows judged as a sync would judge them, writing nothing.

``connectors check`` reads a sample of every file (or the first page of an API, the first batch of a
database) through the real landing rules and the real validation, and says what share would be
accepted, ineligible and quarantined, with the top reasons; ``connectors preview`` shows the rows
themselves, mapped and judged. The store is only read (the org tree and the phases).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy.engine import Engine

from connectors.base import Connector, ConnectorError
from sangkien.pipeline.land import landing_rows
from sangkien.pipeline.validate import judge_rows, map_payloads, validation_context
from sangkien.pipeline.verdict import Reason, quarantine_limit, top_reasons, verdict

SAMPLE_ROWS = 200  # per file, or in all from an API or a database


@dataclass
class SampledUnit:
    """A file or page looked at: how many rows it gave to the sample, or why it could not be read."""

    label: str
    rows: int
    problem: ConnectorError | None = None


@dataclass
class SampleReport:
    """A sample's outcome. ``rows``: one per sampled row (origin, record_id, outcome, reason) with the mapped
    canonical fields beside them (empty for a row that could not be landed cleanly), in the order read."""

    source: str
    units: list[SampledUnit]
    rows: pd.DataFrame
    reasons: list[Reason]
    limit: float
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.rows)

    def share(self, outcome: str) -> float:
        return self.counts.get(outcome, 0) / self.total if self.total else 0.0

    @property
    def failure(self) -> str | None:
        """One line when the sample's quarantined share is above the limit (the mapping is likely wrong)."""
        return verdict(self.counts.get("quarantined", 0), self.total, self.reasons, self.limit, rows="sampled rows")

    @property
    def unreadable(self) -> list[SampledUnit]:
        return [u for u in self.units if u.problem is not None]


def sample_source(engine: Engine, connector: Connector, rows: int = SAMPLE_ROWS) -> SampleReport:
    """Read ``rows`` rows of each part of the source (``Connector.sample``) and judge them in memory."""
    units: list[SampledUnit] = []
    parts: list[pd.DataFrame] = []
    id_column = connector.columns.get("source_record_id")
    for batch in connector.sample(rows):
        if batch.problem is not None:
            units.append(SampledUnit(batch.label, 0, batch.problem))
            continue
        landing = landing_rows(batch, id_column)
        units.append(SampledUnit(batch.label, len(landing.ids)))
        parts.append(pd.DataFrame({"source_record_id": landing.ids, "payload": landing.payloads,
                                   "landing_problem": landing.problems, "origin": landing.origins}, dtype=object))
    raw = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["source_record_id", "payload", "landing_problem", "origin"], dtype=object)
    raw.insert(0, "id", range(1, len(raw) + 1))
    raw.index = raw["id"].to_numpy()
    with engine.connect() as conn:
        ctx = validation_context(conn, connector.mapping)
        limit = quarantine_limit(conn)
    rows_out = raw[["origin", "source_record_id"]].rename(columns={"source_record_id": "record_id"})
    rows_out = rows_out.assign(outcome="", reason="")
    counts = {"accepted": 0, "ineligible": 0, "quarantined": 0}
    reasons: list[Reason] = []
    if len(raw):
        judged = judge_rows(raw, connector.name, connector.mapping, ctx)
        decided = pd.DataFrame(judged.outcomes, columns=["outcome", "reason", "id"]).set_index("id")
        rows_out["outcome"] = decided["outcome"].reindex(rows_out.index).fillna("")
        rows_out["reason"] = decided["reason"].reindex(rows_out.index).fillna("")
        counts.update(decided["outcome"].value_counts().to_dict())
        reasons = top_reasons((int(f["raw_id"]), str(f["column"]), str(f["check"]), str(f["message"]))
                              for f in judged.quarantine)
        clean = raw[raw["landing_problem"].isna()]
        if len(clean):
            rows_out = rows_out.join(map_payloads(clean["payload"], connector.mapping.columns))
    return SampleReport(connector.name, units, rows_out.reset_index(drop=True), reasons, limit, counts)
