"""A source's own clock: the change time it gives each row, made comparable, so older never replaces newer.

A source has a clock when it maps ``updated_at``, declares a REST ``change_field`` or a SQL
``watermark`` (``Connector.clock_column``). Its values become text that orders:
- a time: ``YYYY-MM-DDTHH:MM:SS.ffffff``, read as validation reads ``updated_at`` (the source's date
  format, else ISO 8601; an offset is turned into Vietnam wall time);
- a number (a watermark that counts up): ``#`` and the number.
Two clocks order only when they are of the same kind; anything unreadable has no clock.
"""
from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd

from connectors.base import cell_text
from sangkien.text.dates import parse_date_series

_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"


def clocks(values: pd.Series, date_format: str) -> list[str | None]:
    """The clock of each value (None where there is none)."""
    if values.empty:
        return []
    text = values.astype(object).where(values.notna(), "").map(lambda v: str(v).strip())
    stamps, _ = parse_date_series(text, date_format, fallback="iso")
    out: list[str | None] = [None] * len(text)
    found = ~np.isnat(stamps.to_numpy())
    if found.any():
        shown = pd.Series(stamps.to_numpy()[found]).dt.strftime(_TIME_FORMAT).tolist()
        for position, clock in zip(np.flatnonzero(found).tolist(), shown, strict=True):
            out[position] = clock
    for position in np.flatnonzero(~found).tolist():
        value = text.iat[position]
        if _NUMBER.match(value):
            out[position] = "#" + value.lstrip("+")
    return out


def clock_of_payload(payload: str, column: str, date_format: str) -> str | None:
    """The clock of a stored row (its verbatim payload, JSON), for rows landed before clocks were kept."""
    try:
        value = cell_text(json.loads(payload).get(column))  # a JSON record as sent may hold a number
    except (ValueError, AttributeError):
        return None
    return clocks(pd.Series([value], dtype=object), date_format)[0] if value else None


def is_older(new: str | None, stored: str | None) -> bool:
    """True when ``new`` is strictly older than ``stored``; False when either is missing or they do not compare."""
    if not new or not stored or new.startswith("#") != stored.startswith("#"):
        return False
    if new.startswith("#"):
        try:
            return Decimal(new[1:]) < Decimal(stored[1:])
        except InvalidOperation:
            return False
    return new < stored
