"""Validate landed rows: accepted, ineligible with a reason, or quarantined with reasons.

Works a source at a time on rows whose outcome is not yet decided (new or changed),
in chunks, vectorized. The pandera ``mapped_schema`` decides quarantine; the
program's phases decide eligibility. Nothing is dropped: every row gets an outcome.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from connectors.base import Batch, cell_text
from sangkien import store
from sangkien.errors import ControlTotalError
from sangkien.pipeline.rollup import mark_changed, mark_changed_codes
from sangkien.reference import tree
from sangkien.reference.phases import Phase
from sangkien.reference.programs import counting_phases
from sangkien.reference.units import UnitResolver
from sangkien.text.dates import parse_date_series
from sangkien.text.display import nfc_series
from sangkien.text.fold import nfc_and_fold_series
from sangkien.text.markup import strip_markup_series
from sangkien.text.names import author_keys_and_json_series, mark_line_breaks
from sangkien.text.numbers import parse_vn_number_series
from sangkien.text.series import STR_DTYPE
from sangkien.text.vocab import SOLUTION_TYPE, STATUS, map_field_series
from schemas.fields import CANONICAL_FIELDS, SourceMapping
from schemas.records import CANONICAL_SCHEMA, CHECK_MESSAGES, SCHEMA_VERSION, RecordChecks, mapped_schema

# HTML and control characters are stripped from these
TEXT_FIELDS = ("title", "authors", "submitted_by", "unit", "field", "solution_type", "status")
CHUNK_ROWS = 200_000
VALUE_SHOWN = 200  # characters of an offending value kept in the quarantine


@dataclass
class ValidationCounts:
    accepted: int = 0
    ineligible: int = 0
    quarantined: int = 0
    unknown_field_labels: int = 0

    def add(self, other: ValidationCounts) -> None:
        for name in ("accepted", "ineligible", "quarantined", "unknown_field_labels"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class ValidationContext:
    """What validating a source's rows depends on besides the rows themselves."""

    date_format: str
    authors_separator: str
    sync_date: dt.date
    resolver: UnitResolver
    phases: list[Phase]


@dataclass
class FrameResult:
    """``canonical``: typed records for rows that passed (same index as the input);
    ``failures``: one row per failed check (index, column, check, value, message)."""

    canonical: pd.DataFrame
    failures: pd.DataFrame
    unknown_field_labels: int


@dataclass
class _ParsedColumns:
    """Parse results shared by the schema's checks and the canonical conversion (parsed once)."""

    mapped: pd.DataFrame
    date_format: str
    sync_date: dt.date
    resolver: UnitResolver
    authors_separator: str
    cache: dict[str, tuple[pd.Series, ...]] = field(default_factory=dict)
    #: the columns of ``typed()`` known to hold strings only (no NaN), by name
    text_columns: dict[str, pd.Series] = field(default_factory=dict)
    blanks: dict[str, pd.Series] = field(default_factory=dict)  # their blank masks, made on demand
    #: per low-cardinality column: codes of its rows and its distinct values (see ``per_distinct``)
    distinct: dict[str, tuple[np.ndarray, pd.Series]] = field(default_factory=dict)

    def date(self, column: str) -> tuple[pd.Series, pd.Series]:
        if column not in self.cache:
            # change cursors are often ISO timestamps: what the source's format refuses is read as ISO
            fallback = "iso" if column == "updated_at" else None
            self.cache[column] = parse_date_series(self.mapped[column], self.date_format, fallback=fallback)
        return self.cache[column]

    def number(self) -> tuple[pd.Series, pd.Series]:
        if "benefit_vnd" not in self.cache:
            self.cache["benefit_vnd"] = parse_vn_number_series(self.mapped["benefit_vnd"])
        return self.cache["benefit_vnd"]

    def unit(self) -> tuple[pd.Series, pd.Series]:
        if "unit" not in self.cache:
            # resolved once per distinct text (units repeat on many rows), then spread to the rows
            self.cache["unit"] = self.per_distinct("unit", self.resolver.resolve_series)
        return self.cache["unit"]

    def per_distinct(self, column: str, fn: Callable[[pd.Series], Any]) -> Any:
        """``fn(self.mapped[column])`` for a row-by-row ``fn`` (a Series, or a tuple of them), computed on
        the column's distinct values, factorized once for every such call."""
        if column not in self.distinct:
            codes, uniques = pd.factorize(self.mapped[column], use_na_sentinel=False)
            self.distinct[column] = (codes, pd.Series(uniques, dtype=object))
        codes, uniques = self.distinct[column]
        result = fn(uniques)
        index = self.mapped.index
        if isinstance(result, tuple):
            return tuple(pd.Series(r.array.take(codes), index=index, name=column) for r in result)
        return pd.Series(result.array.take(codes), index=index, name=column)

    def _per_distinct_check(self, s: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
        """``fn(s)``, through ``per_distinct`` when ``s`` is a whole string-only column of ``typed()``."""
        return self.per_distinct(str(s.name), fn) if self._is_text_column(s) else fn(s)

    def authors(self) -> tuple[pd.Series, pd.Series, pd.Series]:
        """(author keys, blank-keys mask, authors as JSON text), the lists split once."""
        if "authors" not in self.cache:
            keys, as_json = author_keys_and_json_series(self.mapped["authors"], self.authors_separator)
            self.cache["authors"] = (keys, pd.Series(keys.to_numpy(dtype=object) == "", index=keys.index), as_json)
        return self.cache["authors"]

    def author_keys(self) -> pd.Series:
        return self.authors()[0]

    def subset(self, rows: pd.Series) -> _ParsedColumns:
        """The same parse results restricted to ``rows`` (a boolean mask over the mapped frame)."""
        if rows.all():  # the usual case: every row passed
            return self
        cache = {name: tuple(series[rows] for series in values) for name, values in self.cache.items()}
        distinct = {name: (codes[rows], uniques) for name, (codes, uniques) in self.distinct.items()}
        return _ParsedColumns(self.mapped[rows], self.date_format, self.sync_date, self.resolver,
                              self.authors_separator, cache, distinct=distinct)

    def typed(self) -> pd.DataFrame:
        """``mapped`` with each all-string column as ``STR_DTYPE``, which the schema's ``str`` dtype
        check accepts at once (on ``object`` columns it tests every value in Python).

        Notes those columns in ``text_columns``: their checks then share one blank mask each.
        """
        columns = {}
        for name, values in self.mapped.items():
            text = pd.api.types.infer_dtype(values, skipna=False) == "string"  # strings only, no NaN
            columns[name] = values.astype(STR_DTYPE) if text else values
        frame = pd.DataFrame(columns, index=self.mapped.index, copy=False)
        self.text_columns = {name: frame[name] for name in frame.columns if frame[name].dtype == STR_DTYPE}
        return frame

    def _is_text_column(self, s: pd.Series) -> bool:
        """True if ``s`` holds the very values of one of the string-only columns ``typed()`` made,
        all of them (pandera hands a check a new Series, from a shallow copy of the frame)."""
        known = self.text_columns.get(str(s.name))
        return (known is not None and len(s) == len(known) and s.index.equals(known.index)
                and np.may_share_memory(s.to_numpy(dtype=object), known.to_numpy(dtype=object)))

    def _known_blank(self, s: pd.Series) -> pd.Series | None:
        """The blank mask of a string-only column of ``typed()``, computed once; None for other series."""
        if not self._is_text_column(s):
            return None
        if str(s.name) not in self.blanks:
            self.blanks[str(s.name)] = pd.Series(s.to_numpy(dtype=object) == "", index=s.index)
        return self.blanks[str(s.name)]

    def checks(self) -> RecordChecks:
        end_of_sync_day = pd.Timestamp(self.sync_date) + pd.Timedelta(days=1)
        return RecordChecks(
            date_format=lambda s: ~self.date(s.name)[1],
            not_in_future=lambda s: ~(self.date(s.name)[0] >= end_of_sync_day),
            number_format=lambda s: ~self.number()[1],
            non_negative=lambda s: ~(self.number()[0] < 0),
            # a label must map to a value: "-" or "???" folds to nothing and is not a status either
            status_known=lambda s: ~self._per_distinct_check(s, lambda x: STATUS.map_series(x).isna()),
            solution_type_known=lambda s: ~self._per_distinct_check(s, lambda x: SOLUTION_TYPE.map_series(x).isna()),
            unit_known=lambda s: self.unit()[0].notna() | self.unit()[1],
            unit_unambiguous=lambda s: ~self.unit()[1],
            has_author=lambda s: ~self.authors()[1],
            known_blank=self._known_blank,
            known_nan_free=self._is_text_column,
        )


def map_payloads(payloads: pd.Series, columns: dict[str, str]) -> pd.DataFrame:
    """One string column per canonical field from the verbatim JSON payloads ("" where absent). A JSON
    source's record as received may hold lists, numbers and nulls: they read as its batch's text did
    (connectors.base.cell_text)."""
    return map_columns(pd.DataFrame.from_records([json.loads(p) for p in payloads], index=payloads.index), columns)


def map_columns(raw: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """One string column per canonical field from ``raw``'s source columns (a batch's, or decoded payloads')."""
    mapped = pd.DataFrame(index=raw.index)
    for name in CANONICAL_FIELDS:
        header = columns.get(name)
        if header and header in raw.columns:
            values = raw[header].astype(object)
            if pd.api.types.infer_dtype(values, skipna=False) != "string":
                values = values.map(cell_text)
            if name == "authors":  # markup stripping makes line breaks spaces: one between two names stays
                values = mark_line_breaks(values)
            cleaned = strip_markup_series(values) if name in TEXT_FIELDS else values.astype("str").str.strip()
            mapped[name] = cleaned.fillna("").astype(str)
        else:
            mapped[name] = ""
    return mapped.astype(object)


def _failures(schema: pa.DataFrameSchema, mapped: pd.DataFrame) -> pd.DataFrame:
    """Every failing (row, column, check, value) of ``mapped``; empty when all pass."""
    try:
        # inplace: nothing is coerced, so pandera need not copy the data; a shallow copy still, as
        # pandera attaches the schema to the object it validates in place (not to the caller's frame)
        schema.validate(mapped.copy(deep=False), lazy=True, inplace=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        cases = cases[cases["index"].notna()]
        return pd.DataFrame({"index": cases["index"].astype(np.int64).values,
                             "column": cases["column"].astype(str).values,
                             "check": cases["check"].astype(str).values})
    return pd.DataFrame({"index": pd.Series([], dtype=np.int64), "column": [], "check": []})


def _landing_failure(raw_id: int, source_record_id: str, problem: str) -> dict[str, int | str]:
    """A quarantine entry for a row that could not be landed cleanly (``column|check|message``)."""
    column, check, message = problem.split("|", 2)
    return {"raw_id": raw_id, "column": column, "check": check, "value": source_record_id[:VALUE_SHOWN],
            "message": message}


def _describe_failures(failures: pd.DataFrame, mapped: pd.DataFrame, date_format: str) -> pd.DataFrame:
    """The failures with the offending value (shortened) and a message for people."""
    rows, columns = failures["index"].to_numpy(), failures["column"].to_numpy()
    cells: np.ndarray | list[Any]
    if mapped.index.is_unique:  # look the values up a column at a time, not one .at per failure
        cells = np.empty(len(failures), dtype=object)
        for column in pd.unique(columns):
            at = np.flatnonzero(columns == column)
            cells[at] = mapped[column].loc[rows[at]].to_numpy(dtype=object)
    else:
        cells = [mapped.at[index, column] for index, column in zip(rows, columns, strict=False)]
    values, messages = [], []
    for column, check, cell in zip(columns, failures["check"], cells, strict=False):
        value = str(cell)[:VALUE_SHOWN]
        message = f"{column} {value!r} {CHECK_MESSAGES.get(check, 'fails ' + check)}"
        if check == "date_format":
            message += f" ({date_format})"
        values.append(value)
        messages.append(message)
    return failures.assign(value=values, message=messages)


def validate_frame(mapped: pd.DataFrame, ctx: ValidationContext) -> FrameResult:
    """Check mapped records against the schema and convert those that pass; no database involved."""
    parsed = _ParsedColumns(mapped, ctx.date_format, ctx.sync_date, ctx.resolver, ctx.authors_separator)
    typed = parsed.typed()  # the same values, typed for the schema's dtype checks
    failures = _describe_failures(_failures(mapped_schema(parsed.checks()), typed), mapped, ctx.date_format)
    passed = ~mapped.index.isin(failures["index"].unique())
    if not passed.any():
        return FrameResult(pd.DataFrame(), failures, 0)
    canonical, unknown_labels = _canonical(parsed.subset(passed), ctx.phases)
    return FrameResult(canonical, failures, unknown_labels)


def eligibility(applied: pd.Series, submitted: pd.Series, recognized: pd.Series,
                 phases: list[Phase]) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(phase, eligible, reason) per row: the phase from the submission date, then the program window.

    Phases are whole days: a submission at 15:29 on a phase's last day is inside it."""
    submitted, applied = submitted.dt.normalize(), applied.dt.normalize()
    phase = pd.Series(pd.NA, index=submitted.index, dtype="Int64")
    counts_from = pd.Series(pd.NaT, index=submitted.index, dtype=applied.dtype)
    ends_on = pd.Series(pd.NaT, index=submitted.index, dtype=applied.dtype)
    for p in phases:
        inside = (submitted >= pd.Timestamp(p.starts_on)) & (submitted <= pd.Timestamp(p.ends_on))
        phase[inside] = p.phase
        counts_from[inside] = pd.Timestamp(p.counts_from)
        ends_on[inside] = pd.Timestamp(p.ends_on)
    reason = pd.Series(None, index=submitted.index, dtype=object)
    fmt = "%Y-%m-%d"
    not_recognized = recognized.isna()
    reason[not_recognized] = "not recognized: no recognition date (ngày công nhận)"
    too_early = applied < counts_from
    reason[too_early] = "applied on " + applied[too_early].dt.strftime(fmt) + ", before the phase counts (from " \
        + counts_from[too_early].dt.strftime(fmt) + ")"
    too_late = applied > ends_on
    reason[too_late] = "applied on " + applied[too_late].dt.strftime(fmt) + ", after the phase ends (" \
        + ends_on[too_late].dt.strftime(fmt) + ")"
    outside = phase.isna()
    reason[outside] = "submitted on " + submitted[outside].dt.strftime(fmt) + ", outside every phase"
    return phase, reason.isna(), reason


def _canonical(parsed: _ParsedColumns, phases: list[Phase]) -> tuple[pd.DataFrame, int]:
    """Typed canonical records for rows that passed the schema; also the count of unknown field labels."""
    m = parsed.mapped
    unit_code = parsed.unit()[0]
    field_value, field_unknown = map_field_series(m["field"])
    applied, submitted, recognized = (parsed.date(c)[0] for c in ("applied_on", "submitted_at", "recognized_on"))
    phase, eligible, reason = eligibility(applied, submitted, recognized, phases)
    title, title_folded = nfc_and_fold_series(m["title"])
    try:  # strings only: what .str.strip() does, in one C-level pass
        portal_id = pd.Series(list(map(str.strip, m["portal_id"])), index=m.index, dtype=object)
    except TypeError:
        portal_id = m["portal_id"].str.strip()
    out = pd.DataFrame({
        "portal_id": portal_id.where(portal_id != "", None),
        "title": title,
        "title_folded": title_folded,
        "authors": parsed.authors()[2],
        "author_keys": parsed.author_keys(),
        "submitted_by": nfc_series(m["submitted_by"]).where(m["submitted_by"] != "", None),
        "unit_code": unit_code.astype(object),
        "unit_text": parsed.per_distinct("unit", nfc_series),
        "field": field_value.fillna("other").astype(object),
        "field_raw": m["field"].where(m["field"] != "", None),
        "solution_type": parsed.per_distinct("solution_type", SOLUTION_TYPE.map_series).astype(object),
        "recognized_on": recognized,
        "applied_on": applied,
        "submitted_at": submitted,
        "status": parsed.per_distinct("status", STATUS.map_series).astype(object),
        "status_raw": m["status"],
        "benefit_vnd": parsed.number()[0].astype(float),
        "updated_at": parsed.date("updated_at")[0],
        "phase": phase,
        "eligible": eligible.astype(bool),
        "ineligible_reason": reason,
        "schema_version": SCHEMA_VERSION,
    }, copy=False)  # the columns are fresh or read-only here (copy-on-write): no need to copy them again
    return out, int(field_unknown.sum())


def _insert_records(conn: Connection, frame: pd.DataFrame) -> None:
    """Bulk-insert canonical records: dates as ISO text, missing as NULL."""
    out = frame.copy()
    for name in ("recognized_on", "applied_on", "submitted_at"):
        out[name] = out[name].dt.strftime("%Y-%m-%d")
    out["updated_at"] = out["updated_at"].dt.strftime(store.sql_timestamp_text(conn, aware=False))
    store.bulk_insert(conn, store.records, list(out.columns), store.frame_rows(out))


def validation_context(conn: Connection, mapping: SourceMapping,
                       sync_date: dt.date | None = None) -> ValidationContext:
    """What validating a source's rows reads of the store: the org tree's units by name, the phases (the node's
    default program's, reference.programs.counting_phases)."""
    # the program's date, in Vietnam: after 17:00 UTC it is already tomorrow there
    return ValidationContext(mapping.date_format, mapping.authors_separator, sync_date or tree.today(),
                             UnitResolver.from_store(conn), counting_phases(conn))


def validate_source(engine: Engine, source: str, mapping: SourceMapping, run_id: int | None,
                    sync_date: dt.date | None = None, chunk_rows: int = CHUNK_ROWS) -> ValidationCounts:
    """Decide the outcome of every undecided landed row of ``source``, read through its ``mapping``
    (columns, date format, authors separator); returns the counts."""
    totals = ValidationCounts()
    ctx: ValidationContext | None = None  # read at the first undecided row: a night with nothing new needs none
    last_id = 0
    while True:
        with engine.begin() as conn:
            raw = store.read_frame(conn, (
                sa.select(store.raw_records.c.id, store.raw_records.c.source_record_id,
                          store.raw_records.c.payload, store.raw_records.c.landing_problem)
                .where(store.raw_records.c.source == source, store.raw_records.c.outcome.is_(None))
                .order_by(store.raw_records.c.id).limit(chunk_rows)),
                ["id", "source_record_id", "payload", "landing_problem"])
            if raw.empty:
                return totals
            if int(raw["id"].min()) <= last_id:  # a chunk left undecided would loop forever
                raise ControlTotalError(f"validation of {source} left row {int(raw['id'].min())} undecided")
            last_id = int(raw["id"].max())
            ctx = ctx or validation_context(conn, mapping, sync_date)
            counts = _validate_chunk(conn, raw, source, mapping, run_id, ctx)
            totals.add(counts)


@dataclass
class Judged:
    """The outcome of a chunk of landed rows, decided in memory (``judge_rows``).

    ``accepted``: canonical records of the rows that passed (eligible or not), with ``raw_id``;
    ``quarantine``: one dict per failure (raw_id, column, check, value, message);
    ``outcomes``: (outcome, reason, raw_id) for every row."""

    accepted: pd.DataFrame
    quarantine: list[dict[str, Any]]
    outcomes: list[tuple[Any, ...]]
    counts: ValidationCounts


def judge_rows(raw: pd.DataFrame, source: str, mapping: SourceMapping, ctx: ValidationContext,
               fields: pd.DataFrame | None = None) -> Judged:
    """Decide every row of ``raw`` (columns id, source_record_id, payload, landing_problem): accepted,
    ineligible with a reason, or quarantined with every failure. Writes nothing: the sync stores the result,
    ``connectors check`` and ``preview`` only show it. ``fields``: the source columns of the rows without a
    landing problem, on ``raw``'s index, already in memory (a batch just landed): the payloads are not decoded
    then, and ``raw`` needs none."""
    counts = ValidationCounts()
    landing_failed = raw["landing_problem"].notna()
    quarantine = [_landing_failure(int(r.id), r.source_record_id, r.landing_problem)
                  for r in raw[landing_failed].itertuples()]
    body = raw[~landing_failed]
    accepted = pd.DataFrame()
    if not body.empty:
        mapped = (map_columns(fields.loc[body.index], mapping.columns) if fields is not None
                  else map_payloads(body["payload"], mapping.columns))
        result = validate_frame(mapped, ctx)
        ids = body["id"].astype(np.int64)
        failures = result.failures.assign(raw_id=ids.loc[result.failures["index"]].values)
        quarantine += failures[["raw_id", "column", "check", "value", "message"]].to_dict("records")
        counts.unknown_field_labels = result.unknown_field_labels
        if not result.canonical.empty:
            kept = body.loc[result.canonical.index]
            accepted = result.canonical.assign(raw_id=kept["id"].astype(np.int64), source=source,
                                               source_record_id=kept["source_record_id"].astype(str))
            CANONICAL_SCHEMA.validate(accepted, lazy=True)
    outcomes: list[tuple[Any, ...]] = []
    if not accepted.empty:
        outcome = np.where(accepted["eligible"], "accepted", "ineligible").tolist()
        reason = accepted["ineligible_reason"].astype(object).where(accepted["ineligible_reason"].notna(), None)
        outcomes += list(zip(outcome, reason.tolist(), accepted["raw_id"].astype(int).tolist(), strict=False))
        counts.accepted = int(accepted["eligible"].sum())
        counts.ineligible = len(accepted) - counts.accepted
    reasons: dict[int, list[str]] = {}
    for row in quarantine:
        reasons.setdefault(int(row["raw_id"]), []).append(str(row["message"]))
    outcomes += [("quarantined", "; ".join(why), rid) for rid, why in reasons.items()]
    counts.quarantined = len(reasons)
    return Judged(accepted, quarantine, outcomes, counts)


def validate_landed(conn: Connection, source: str, mapping: SourceMapping, run_id: int, ctx: ValidationContext,
                    batch: Batch, id_column: str | None) -> ValidationCounts:
    """Decide, in the transaction that landed ``batch``, the rows this run landed from it, reading their values
    from the batch in memory rather than decoding the payloads just written (land and validate in one pass).
    Undecided rows of earlier runs are left to :func:`validate_source`."""
    t = store.raw_records.c
    raw = store.read_frame(conn, sa.select(t.id, t.source_record_id, t.landing_problem)
                           .where(t.source == source, t.outcome.is_(None), t.seen_run == run_id).order_by(t.id),
                           ["id", "source_record_id", "landing_problem"])
    if raw.empty:
        return ValidationCounts()
    rows = batch.rows
    ids = (rows[id_column].astype(str).str.strip() if id_column in rows.columns and not rows.empty
           else pd.Series([], dtype=object))
    first = pd.Series(range(len(ids)), index=ids.to_numpy())
    first = first[~first.index.duplicated()]  # a repeated id lands under a synthetic one, with a landing problem
    at = first.reindex(raw["source_record_id"].to_numpy()).to_numpy()
    known = ~np.isnan(at) | raw["landing_problem"].notna().to_numpy()
    raw = raw[known]
    if raw.empty:
        return ValidationCounts()
    body = raw["landing_problem"].isna().to_numpy()  # judge_rows reads the fields of these rows only
    fields = rows.iloc[at[known][body].astype(np.int64)][batch.headers].set_axis(raw.index[body])
    return _validate_chunk(conn, raw, source, mapping, run_id, ctx, fields)


def _validate_chunk(conn: Connection, raw: pd.DataFrame, source: str, mapping: SourceMapping,
                    run_id: int | None, ctx: ValidationContext, fields: pd.DataFrame | None = None
                    ) -> ValidationCounts:
    # the chunk is every undecided row of the source within its id range (a subquery, not a
    # parameter list: PostgreSQL takes at most 65,535 parameters); changed rows lose their old results
    t = store.raw_records
    chunk = sa.select(t.c.id).where(t.c.source == source, t.c.outcome.is_(None),
                                    t.c.id.between(int(raw["id"].min()), int(raw["id"].max())))
    mark_changed(conn, sa.select(store.records.c.unit_code).where(store.records.c.raw_id.in_(chunk)))
    conn.execute(store.records.delete().where(store.records.c.raw_id.in_(chunk)))
    conn.execute(store.quarantine.delete().where(store.quarantine.c.raw_id.in_(chunk)))
    judged = judge_rows(raw, source, mapping, ctx, fields)
    if not judged.accepted.empty:
        _insert_records(conn, judged.accepted)
        mark_changed_codes(conn, judged.accepted["unit_code"].dropna().unique())
    if judged.quarantine:
        columns = ("raw_id", "column", "check", "value", "message")
        store.bulk_insert(conn, store.quarantine, (*columns, "source", "run_id"),
                          [(*(row[c] for c in columns), source, run_id) for row in judged.quarantine])
    store.bulk_update(conn, store.raw_records, ("outcome", "reason"), ("id",), judged.outcomes)
    # the next resolution takes these up: new or changed records join, records no longer accepted leave
    store.bulk_insert(conn, store.resolve_queue, ("raw_id",), [(row[-1],) for row in judged.outcomes])
    return judged.counts
