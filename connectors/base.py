"""The connector contract: settings, check, and read(state) yielding batches.

A connector kind is a class with a pydantic ``Settings`` model, ``check()`` that
says in one line whether the source can be read, and ``read(state)`` that yields
``Batch`` objects. Each batch carries the state to commit in the same transaction
as its rows, so a sync killed at any moment resumes without loss or duplicates.
Kinds are found through the ``sangkien.connectors`` entry-point group (connectors/kinds.py);
this module names none of them.
"""
from __future__ import annotations

import datetime as dt
import difflib
import json
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, ClassVar

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from schemas.fields import CANONICAL_FIELDS, REQUIRED_FIELDS, SourceMapping


class MappedSourceSettings(BaseModel):
    """Settings every source with its own column names shares: the mapping, dates, authors."""

    model_config = ConfigDict(extra="forbid")

    date_format: str = Field("%d/%m/%Y", description="strptime format of every date column.")
    authors_separator: str = Field(";", min_length=1, description="What separates authors in the authors column.")
    columns: dict[str, str] = Field(description="Canonical field → the source's name for it.")

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, columns: dict[str, str]) -> dict[str, str]:
        unknown = [k for k in columns if k not in CANONICAL_FIELDS]
        if unknown:
            hints = [f"{k!r} (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(k, CANONICAL_FIELDS, 1))
                     else repr(k) for k in unknown]
            raise ValueError(f"unknown field(s) {', '.join(hints)}; fields are {', '.join(CANONICAL_FIELDS)}")
        missing = [k for k in REQUIRED_FIELDS if not columns.get(k)]
        if missing:
            raise ValueError(f"no column given for required field(s) {', '.join(missing)}")
        return columns

    @field_validator("date_format")
    @classmethod
    def _usable_format(cls, fmt: str) -> str:
        if "%" not in fmt:
            raise ValueError(f"{fmt!r} is not a strptime format (e.g. %d/%m/%Y)")
        sample = dt.date(2022, 5, 31).strftime(fmt)
        try:
            dt.datetime.strptime(sample, fmt)
        except ValueError as exc:
            raise ValueError(f"{fmt!r} cannot read its own output: {exc}") from None
        return fmt


class ErrorType(StrEnum):
    """What the operator does about a source that could not be read.

    The values are what the store (``sync_run_sources.error_type``), ``sangkien runs``
    and the reports show.
    """

    CONFIGURATION = "configuration"  # fix a setting
    SOURCE = "source"  # the data is bad
    TRANSIENT = "transient"  # wait and retry


class ConnectorError(Exception):
    """A source could not be read. ``error_type`` tells the operator what to do (see ErrorType).

    A kind may still pass the type's string value ("configuration", ...); anything else is a ValueError.
    """

    def __init__(self, message: str, error_type: ErrorType | str = ErrorType.SOURCE):
        super().__init__(message)
        self.error_type = ErrorType(error_type)


@dataclass
class RowProblem:
    """A row that could not be split into the file's columns; it is landed and quarantined."""
    origin: str
    message: str
    raw: str


@dataclass
class Batch:
    """Rows from one unit of reading (a file, a page), with the state that covers them.

    ``rows`` has one column per file header (strings), plus ``_origin`` (where the row
    came from, e.g. ``file.csv:17``); ``headers`` are the source's own column names. Rows
    made from JSON records (:func:`batch_from_records`) also carry ``_received``: each record
    as the source sent it, as JSON text (lists, numbers and nulls kept), which is what lands as
    its payload; the string columns are what is hashed and validated.
    """
    label: str
    rows: pd.DataFrame
    headers: list[str]
    state: dict[str, Any]
    row_problems: list[RowProblem] = field(default_factory=list)
    problem: ConnectorError | None = None  # the whole unit failed; no rows, state not advanced


class Connector(ABC):
    """Base class of every connector kind."""

    kind: ClassVar[str]
    description: ClassVar[str]
    Settings: ClassVar[type[BaseModel]]

    def __init__(self, name: str, settings: BaseModel):
        self.name = name
        self.settings = settings

    @classmethod
    def mapping_of(cls, settings: BaseModel) -> SourceMapping:
        """What validating this kind's rows reads of ``settings``: columns, date format, authors separator.

        The default reads the settings of the same names (``MappedSourceSettings``); a kind whose
        fields are fixed (the portal) overrides it. No connector is built, so a quarantine release
        re-validates held rows without one.
        """
        return SourceMapping(columns=dict(getattr(settings, "columns", {}) or {}),
                             date_format=getattr(settings, "date_format", "%d/%m/%Y"),
                             authors_separator=getattr(settings, "authors_separator", ";"))

    @property
    def mapping(self) -> SourceMapping:
        return self.mapping_of(self.settings)

    @property
    def columns(self) -> dict[str, str]:
        """Map canonical field → source column name."""
        return dict(self.mapping.columns)

    @property
    def clock_column(self) -> str | None:
        """The column holding the source's own change time of a row (its clock: older never replaces newer),
        or None when it has none. The default is the column mapped to ``updated_at``."""
        return self.columns.get("updated_at") or None

    @property
    def date_format(self) -> str:
        return self.mapping.date_format

    @property
    def authors_separator(self) -> str:
        return self.mapping.authors_separator

    @abstractmethod
    def check(self) -> str:
        """One line: what was found, or raise ConnectorError saying what is wrong."""

    @abstractmethod
    def read(self, state: dict[str, Any]) -> Iterator[Batch]:
        """Yield batches not yet delivered according to ``state``."""

    def sample(self, rows: int) -> Iterator[Batch]:
        """A few rows to judge the mapping by, read from scratch and landing nothing (``connectors check``,
        ``preview`` and ``discover``).

        The default takes the first ``rows`` rows ``read({})`` delivers (an API's first page, a database's first
        batch). A kind whose source has several parts overrides it to show some rows of each (a folder's files).
        """
        left = rows
        batches = self.read({})
        try:
            for batch in batches:
                if batch.problem is None and batch.rows is not None:
                    if len(batch.rows) > left:
                        batch = replace(batch, rows=batch.rows.iloc[:left].reset_index(drop=True))
                    left -= len(batch.rows)
                yield batch
                if left <= 0:
                    return
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()

    def discover(self, rows: int) -> Iterator[Batch]:
        """Rows showing every column or field the source offers, whatever the mapping says (``connectors
        discover``; the mapping may be a placeholder). The default is ``sample``; a kind whose reading checks the
        mapped columns overrides it."""
        return self.sample(rows)

    def backfill_state(self, start: dt.date) -> dict[str, Any]:
        """The state from which ``read`` delivers the records changed since ``start`` (a backfill).

        The default, an empty state, reads the whole source again; a kind that can ask its source
        for changes since a time overrides it.
        """
        return {}


RECEIVED = "_received"  # the column of a batch holding each JSON record as received (see Batch)


def cell_text(value: Any) -> str:
    """A JSON value as the text landed (and hashed): missing as '', lists joined with '; ', and a number in one
    canonical form, so 21665000, 21665000.0 and 2.1665e7 are the same content."""
    if isinstance(value, list):
        return "; ".join(map(cell_text, value))
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def batch_from_records(label: str, records: list[dict[str, Any]], state: dict[str, Any],
                       id_field: str | None = None) -> Batch:
    """A batch from JSON records: one string column per key (lists joined with '; ', missing as '').

    ``id_field``, when given, must be a key of the records (else a configuration error).
    """
    if not records:
        return Batch(label, rows=pd.DataFrame(), headers=[], state=state)
    # as objects: inferred dtypes would turn a page's integers into floats when another record lacks the field
    frame = pd.DataFrame(records, dtype=object)
    if id_field and id_field not in frame.columns:
        raise ConnectorError(f"records have no id field {id_field!r}; check columns.source_record_id",
                             ErrorType.CONFIGURATION)
    for column in frame.columns:
        frame[column] = frame[column].map(cell_text)
    headers = [str(c) for c in frame.columns]
    frame = frame.astype(object)
    frame["_origin"] = [f"{label}:{i + 1}" for i in range(len(frame))]
    frame[RECEIVED] = [json.dumps(record, ensure_ascii=False, default=str) for record in records]
    return Batch(label, rows=frame, headers=headers, state=state)


def format_validation_error(exc: ValidationError, model: type[BaseModel] | None = None) -> str:
    """Field-level messages from a pydantic error, in one line; a setting ``model`` does not know is named with
    the closest known one and the list of known settings (not pydantic's "Extra inputs are not permitted")."""
    parts = []
    known = list(model.model_fields) if model is not None else []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "settings"
        if err["type"] == "extra_forbidden" and known and len(err["loc"]) == 1:
            close = difflib.get_close_matches(where, known, 1, 0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            parts.append(f"unknown setting {where!r}{hint}; the settings are {', '.join(known)}")
        else:
            parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)
