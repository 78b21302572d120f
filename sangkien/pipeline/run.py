"""The nightly sync's stages as plain functions (no Prefect): flows/ orchestrates them.

pull + land (per source) → validate (per source) → control totals (per source) →
resolve initiatives → roll up → reconcile (the report reads the result).
"""
from __future__ import annotations

import datetime as dt
import os
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from connectors.base import ConnectorError, ErrorType
from sangkien import store
from sangkien.errors import ControlTotalError, UserError
from sangkien.pipeline import progress, summary, verdict
from sangkien.pipeline.land import LandCounts, Landing, land_batch
from sangkien.pipeline.pullmode import PullMode
from sangkien.pipeline.resolve import ResolveCounts, resolve_initiatives
from sangkien.pipeline.rollup import roll_up
from sangkien.pipeline.stages import release_memory
from sangkien.pipeline.validate import (
    ValidationContext,
    ValidationCounts,
    validate_landed,
    validate_source,
    validation_context,
)
from sangkien.store import lock
from sangkien.store.registry import build_connector, get_connector_row, list_connectors, source_mapping
from schemas.fields import SourceMapping


@dataclass
class SourceResult:
    """One source's control totals for one run."""

    source: str
    files: int = 0
    land: LandCounts = field(default_factory=LandCounts)
    validation: ValidationCounts = field(default_factory=ValidationCounts)
    errors: list[str] = field(default_factory=list)
    error_type: str | None = None
    notes: list[str] = field(default_factory=list)  # not errors: re-dropped files, rows adopted from a killed run
    seconds: float = 0.0
    # outcomes of the rows received in this run (control totals), set by check_control_totals
    accepted: int = 0
    ineligible: int = 0
    quarantined: int = 0

    @property
    def received(self) -> int:
        return self.land.received

    def as_dict(self) -> dict[str, object]:
        return {"source": self.source, "files": self.files, **asdict(self.land),
                "accepted": self.accepted, "ineligible": self.ineligible, "quarantined": self.quarantined,
                "unknown_field_labels": self.validation.unknown_field_labels,
                "errors": self.errors, "notes": self.notes, "error_type": self.error_type,
                "seconds": round(self.seconds, 2)}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _owner() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


_OWNER = re.compile(r"^running in pid (\d+) on (\S+)$")
STALE_AFTER = dt.timedelta(hours=24)


def start_run(engine: Engine, flow_run_id: str | None = None, mode: str | None = None) -> int:
    """Open a sync run and return its id; runs left ``running`` by a killed process are marked abandoned first.

    While it runs, the run's message names its process ("running in pid N on HOST") so a later
    run can tell a live run from one whose process was killed.
    """
    mark_abandoned_runs(engine)
    with engine.begin() as conn:
        return int(conn.execute(store.sync_runs.insert().values(
            started_at=_now(), status="running", flow_run_id=flow_run_id, message=f"running in {_owner()}",
            mode=mode)
            .returning(store.sync_runs.c.id)).scalar_one())


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child nobody has reaped yet is a zombie: dead for our purpose
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def mark_abandoned_runs(engine: Engine, stale_after: dt.timedelta = STALE_AFTER) -> list[int]:
    """Mark ``abandoned`` every run still ``running`` whose process is gone; return their ids.

    A run's process is known gone when it ran on this host and its pid is no longer alive;
    a run from another host (or one that does not name its process) is abandoned once it is
    older than ``stale_after``. Its landed rows stay: the next run validates them and each
    connector resumes from the state committed with its last landed batch.
    """
    now, host = _now(), socket.gethostname()
    runs = store.sync_runs
    abandoned: list[tuple[int, str]] = []
    with engine.begin() as conn:
        for run in conn.execute(sa.select(runs.c.id, runs.c.started_at, runs.c.message)
                                .where(runs.c.status == "running")).mappings():
            owner = _OWNER.match(run["message"] or "")
            started = run["started_at"] if run["started_at"].tzinfo else run["started_at"].replace(tzinfo=dt.UTC)
            if owner and owner.group(2) == host:
                if _process_alive(int(owner.group(1))):
                    continue
                why = f"its process (pid {owner.group(1)} on {host}) ended without closing it: killed or crashed"
            elif now - started > stale_after:
                where = f"pid {owner.group(1)} on {owner.group(2)}" if owner else "an unknown process"
                why = f"still running after {stale_after} ({where}): presumed killed"
            else:
                continue
            abandoned.append((run["id"], f"abandoned: {why}; noticed {now:%Y-%m-%d %H:%M:%S} UTC. Landed rows are "
                              "kept; the next run validates them and resumes from the saved state"))
        for run_id, message in abandoned:
            conn.execute(runs.update().where(runs.c.id == run_id, runs.c.status == "running")
                         .values(status="abandoned", finished_at=now, message=message))
    return [run_id for run_id, _ in abandoned]


def source_names(engine: Engine, only: list[str] | None = None) -> list[str]:
    """Registered connector names (all, or the ``only`` subset, which must exist)."""
    with engine.connect() as conn:
        names = [row["name"] for row in list_connectors(conn)]
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise UserError(f"no connector named {', '.join(unknown)}; registered: {', '.join(names) or 'none'}")
        names = [n for n in names if n in only]
    return names


def pull_source(engine: Engine, name: str, run_id: int, mode: PullMode = PullMode()) -> SourceResult:
    """Read what is new from one source (or, per ``mode``, everything / a backfill window) and land it;
    a unit that fails is recorded, the others go on."""
    started = time.perf_counter()
    result = SourceResult(name)
    with engine.connect() as conn:
        row = get_connector_row(conn, name)
    progress.report(progress.PULL, name)
    try:
        connector = build_connector(row)
        landing = Landing(name, run_id, None, connector.columns.get("source_record_id"),
                          clock_column=connector.clock_column, date_format=connector.date_format,
                          save=not mode.keeps_state, notes=result.notes)
        mapping = _mapping_or_none(row)  # None: validate_pulled names the mapping's fault
        context: ValidationContext | None = None  # read at the first batch: a night with nothing new needs none
        for batch in connector.read(mode.initial_state(connector, row["state"])):
            if batch.problem is not None:
                result.errors.append(str(batch.problem))
                result.error_type = result.error_type or batch.problem.error_type
                continue
            batch = mode.select(connector, batch)
            with engine.begin() as conn:  # the batch lands and is decided in one transaction, with the state
                counts = land_batch(conn, landing, batch)
                result.land.add(counts)
                if mapping is not None and (counts.new or counts.changed):
                    context = context or validation_context(conn, mapping)
                    result.validation.add(validate_landed(conn, name, mapping, run_id, context, batch,
                                                          landing.id_column))
            result.files += 1
            progress.report(progress.PULL, name, result.received)
    except ConnectorError as exc:
        result.errors.append(str(exc))
        result.error_type = exc.error_type
    except UserError as exc:
        result.errors.append(str(exc))
        result.error_type = ErrorType.CONFIGURATION
    finally:
        release_memory()  # the batches' frames: the next source or stage starts from what is still held
    result.seconds = time.perf_counter() - started
    return result


def _mapping_or_none(row: dict[str, Any]) -> SourceMapping | None:
    try:
        return source_mapping(row)
    except UserError:
        return None


def validate_pulled(engine: Engine, result: SourceResult, run_id: int) -> SourceResult:
    """Validate every undecided row of the source (the pull decided the rows it landed; what is left is rows an
    earlier run landed and never decided), then check and store its control totals."""
    started = time.perf_counter()
    progress.report(progress.VALIDATE, result.source, result.received)
    with engine.connect() as conn:
        row = get_connector_row(conn, result.source)
    try:
        mapping = source_mapping(row)
    except UserError as exc:
        result.errors.append(str(exc))
        result.error_type = ErrorType.CONFIGURATION
    else:
        adopt_uncounted(engine, result, run_id)
        result.validation.add(validate_source(engine, result.source, mapping, run_id))
    result.seconds += time.perf_counter() - started
    check_control_totals(engine, result, run_id)
    flag_mostly_quarantined(engine, result, run_id)
    progress.report(progress.DONE, result.source, result.received, failed=bool(result.errors))
    return result


def flag_mostly_quarantined(engine: Engine, result: SourceResult, run_id: int) -> None:
    """Fail a source whose rows this run are quarantined above the node's ``quarantine_limit`` (a wrong mapping
    lands every row and quarantines it): its error names the top reason. The rows stay held for a release."""
    with engine.begin() as conn:
        why = verdict.verdict(result.quarantined, result.received, verdict.run_reasons(conn, result.source, run_id),
                              verdict.quarantine_limit(conn))
        if why is None:
            return
        result.errors.append(f"{why}; fix the mapping (`sangkien connectors check {result.source}`), then "
                             f"`sangkien quarantine release --source {result.source}`")
        result.error_type = result.error_type or ErrorType.CONFIGURATION
        s = store.sync_run_sources
        conn.execute(s.update().where(s.c.run_id == run_id, s.c.source == result.source)
                     .values(error_type=result.error_type, error="\n".join(result.errors)))


def adopt_uncounted(engine: Engine, result: SourceResult, run_id: int) -> None:
    """Count in this run the source's rows landed by a run that never counted them (killed mid-pull, or its pull's
    flow run crashed): this run validates those still undecided and counts them all as received (new, or changed
    when their landing replaced a content), so the received rows over all runs add up to the rows landed."""
    t, s, v = store.raw_records.c, store.sync_run_sources.c, store.record_versions.c
    counted = sa.select(s.run_id).where(s.source == result.source)
    # a killed run's rows: undecided, or already decided (a pull lands and decides each batch in one transaction)
    never_counted = sa.select(store.sync_runs.c.id).where(store.sync_runs.c.id != run_id,
                                                          store.sync_runs.c.id.not_in(counted))
    replaced = sa.exists().where(v.raw_id == t.id, v.status == "superseded", v.replaced_run == t.seen_run)
    total = changed = 0
    runs: set[int] = set()
    with engine.begin() as conn:
        # the runs first: there are none but after a killed run, and asking for the rows of none still reads every
        # row of the source (SQLite takes the source's index: 2.1 s of a quiet night at 2.4 M rows)
        killed = conn.scalars(never_counted).all()
        conditions = [sa.and_(t.source == result.source, t.outcome.is_(None), t.seen_run.is_(None))]  # landed
        if killed:                                                                        # before seen_run was kept
            conditions.append(sa.and_(t.source == result.source, t.seen_run.in_(killed)))
        for uncounted in conditions:
            found, replacing = conn.execute(sa.select(sa.func.count(), sa.func.count().filter(replaced))
                                            .where(uncounted)).one()
            if not found:
                continue
            total, changed = total + found, changed + replacing
            runs.update(r for r in conn.scalars(sa.select(t.seen_run).where(uncounted).distinct()) if r is not None)
            conn.execute(store.raw_records.update().where(uncounted).values(seen_run=run_id))
    if not total:
        return
    result.land.add(LandCounts(received=total, new=total - changed, changed=changed))
    result.notes.append(f"counted {total:,} row(s) landed by run {', '.join(map(str, sorted(runs))) or '(unknown)'}, "
                        "which ended before counting them")


def check_control_totals(engine: Engine, result: SourceResult, run_id: int) -> None:
    """received = accepted + ineligible + quarantined over this run's rows, or ControlTotalError."""
    t = store.raw_records
    with engine.begin() as conn:
        by_outcome: dict[str | None, int] = dict(
            conn.execute(sa.select(t.c.outcome, sa.func.count())
                         .where(t.c.source == result.source, t.c.seen_run == run_id)
                         .group_by(t.c.outcome)).tuples().all())
        accepted, ineligible, quarantined = (int(by_outcome.get(k, 0))
                                             for k in ("accepted", "ineligible", "quarantined"))
        conn.execute(store.sync_run_sources.insert().values(
            run_id=run_id, source=result.source, received=result.received, new=result.land.new,
            changed=result.land.changed, unchanged=result.land.unchanged, stale=result.land.stale, accepted=accepted,
            ineligible=ineligible, quarantined=quarantined, files=result.files, error_type=result.error_type,
            error="\n".join(result.errors) or None, notes="\n".join(result.notes) or None, seconds=result.seconds))
    result.accepted, result.ineligible, result.quarantined = accepted, ineligible, quarantined
    undecided = int(by_outcome.get(None, 0))
    if result.received != accepted + ineligible + quarantined or undecided:
        raise ControlTotalError(
            f"control totals do not hold for {result.source} in run {run_id}: received {result.received}, "
            f"accepted {accepted} + ineligible {ineligible} + quarantined {quarantined}, undecided {undecided}")


def resolve_and_roll_up(engine: Engine, run_id: int, full: bool = False,
                        refit: bool = False) -> tuple[ResolveCounts, int]:
    """Resolve initiatives across every source (only the night's delta unless ``full``; ``refit``: a full
    run that learns the match weights again), then recompute the per-unit counts and what people read from them
    (sangkien.pipeline.summary)."""
    progress.report(progress.RESOLVE)
    counts = resolve_initiatives(engine, run_id, full=full or refit, refit=refit)
    release_memory()
    progress.report(progress.ROLL_UP, rows=counts.initiatives)
    if counts.mode == "incremental" and not counts.compared and summary.carry_forward(engine, run_id):
        return counts, summary.counted_rows(engine)  # nothing changed: the counts stand, restamped for this run
    unit_rows = roll_up(engine, run_id, incremental=counts.mode == "incremental")
    summary.refresh(engine, run_id)  # what the dashboard, the API and the workbook read
    return counts, unit_rows


def finish_run(engine: Engine, run_id: int, results: list[SourceResult], error: str | None = None,
               note: str | None = None) -> str:
    """Close the run: failed on ``error`` or when a source failed (the others are still synced and counted);
    ``note`` describes a run that did something else than a sync (e.g. a quarantine release)."""
    failed = [r for r in results if r.errors]
    status = "failed" if failed or error else "completed"
    text = error or "; ".join(f"{r.source} ({r.error_type} error): {r.errors[0]}" for r in failed) or note
    with engine.begin() as conn:
        conn.execute(store.sync_runs.update().where(store.sync_runs.c.id == run_id)
                     .values(finished_at=_now(), status=status, message=text))
    return status


@dataclass(frozen=True)
class RunSummary:
    """What a run did: its id, each source's control totals, the resolution, its final status, and
    the push upward when one was made. Unpacks as ``run_id, sources, resolved, status``."""

    run_id: int
    sources: list[SourceResult]
    resolved: ResolveCounts | None
    status: str
    pushed: dict[str, object] | None = None

    def __iter__(self) -> Iterator[Any]:
        return iter((self.run_id, self.sources, self.resolved, self.status))


@dataclass
class Run:
    """One run in ``sync_runs``, from start to finish: the one place a run is opened and closed.

    ``with Run.start(engine) as run:`` opens it; leaving the block closes it ``completed`` (or
    ``failed`` when a source failed); an exception closes it ``failed`` with the error and goes on
    up, so no run is ever left ``running`` by a failure of ours. The CLI, the flows and the
    quarantine release all go through it.
    """

    engine: Engine
    run_id: int
    results: list[SourceResult] = field(default_factory=list)
    note: str | None = None  # what a run that is not a sync did (e.g. a quarantine release)
    status: str = "running"

    @classmethod
    def start(cls, engine: Engine, flow_run_id: str | None = None, wait: bool = False,
              mode: str | None = None) -> Run:
        """Hold the store (store/lock.py: StoreBusy when another process holds it, or wait for it), then open
        the run; the lock is let go when the run closes. ``mode`` says what kind of run (PullMode.describe(),
        "resolution", "quarantine release")."""
        lock.acquire(engine, wait=wait)
        try:
            run = cls(engine, start_run(engine, flow_run_id, mode))
            lock.set_run(engine, run.run_id)
        except BaseException:
            lock.release(engine)
            raise
        return run

    def __enter__(self) -> Run:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, _tb: object) -> None:
        try:
            if exc is not None:
                self.status = finish_run(self.engine, self.run_id, self.results,
                                         error=f"{type(exc).__name__}: {exc}")
            else:
                self.status = finish_run(self.engine, self.run_id, self.results, note=self.note)
        finally:
            lock.release(self.engine)

    def summary(self, resolved: ResolveCounts | None) -> RunSummary:
        return RunSummary(self.run_id, self.results, resolved, self.status)


def run_sync(engine: Engine, only: list[str] | None = None, mode: PullMode = PullMode(),
             wait: bool = False) -> RunSummary:
    """The whole sync in this process, stage by stage (the flow does the same under Prefect); ``wait``: for
    another process's sync to end rather than refuse to start (StoreBusy)."""
    names = source_names(engine, only)
    with Run.start(engine, wait=wait, mode=mode.describe()) as run:
        run.results = [validate_pulled(engine, pull_source(engine, name, run.run_id, mode), run.run_id)
                       for name in names]
        resolved, _ = resolve_and_roll_up(engine, run.run_id, full=mode.full_refresh)
    return run.summary(resolved)


def run_results(engine: Engine, run_id: int) -> list[SourceResult]:
    """The per-source control totals recorded for ``run_id`` (e.g. by pulls that ran in other processes)."""
    s = store.sync_run_sources
    with engine.connect() as conn:
        rows = conn.execute(sa.select(s).where(s.c.run_id == run_id).order_by(s.c.source)).mappings().all()
    return [SourceResult(r["source"], files=r["files"],
                         land=LandCounts(r["received"], r["new"], r["changed"], r["unchanged"], r["stale"]),
                         errors=r["error"].split("\n") if r["error"] else [], error_type=r["error_type"],
                         notes=r["notes"].split("\n") if r["notes"] else [],
                         seconds=r["seconds"] or 0.0, accepted=r["accepted"], ineligible=r["ineligible"],
                         quarantined=r["quarantined"]) for r in rows]


def run_resolution(engine: Engine, full: bool = False, refit: bool = False) -> tuple[int, ResolveCounts]:
    """Matching and the roll-up alone, on what is stored (no pull), recorded as a run."""
    with Run.start(engine, mode="resolution" + (" (refit)" if refit else " (full)" if full else "")) as run:
        counts, _ = resolve_and_roll_up(engine, run.run_id, full=full, refit=refit)
        run.note = f"resolution only ({counts.mode})"
    return run.run_id, counts
