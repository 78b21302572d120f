"""Calendar: dates are int32 day numbers since 1970-01-01; lookup tables that write them as text."""

from __future__ import annotations

import functools
from datetime import date, timedelta

import numpy as np

_DAY0 = date(1970, 1, 1)


def _day(y: int, m: int, d: int) -> int:
    return (date(y, m, d) - _DAY0).days


PROGRAM_START = _day(2021, 9, 1)   # first eligible application date
PHASE1_LAST = _day(2022, 5, 31)    # last submission day counted in phase 1
_SUBMIT_FIRST, _SUBMIT_LAST = _day(2021, 10, 1), _day(2023, 8, 31)
_UPDATED_LAST = _day(2023, 9, 30)
_TABLE_FIRST, _TABLE_LAST = _day(2020, 12, 1), _day(2024, 1, 31)  # range of any written date


@functools.cache
def _date_strings(fmt: str) -> np.ndarray:
    first = date.fromordinal(_DAY0.toordinal() + _TABLE_FIRST)
    return np.array([(first + timedelta(days=i)).strftime(fmt) for i in range(_TABLE_LAST - _TABLE_FIRST + 1)],
                    dtype=object)


@functools.cache
def _date_objects() -> np.ndarray:
    first = date.fromordinal(_DAY0.toordinal() + _TABLE_FIRST)
    out = np.empty(_TABLE_LAST - _TABLE_FIRST + 1, dtype=object)
    out[:] = [first + timedelta(days=i) for i in range(len(out))]
    return out


@functools.cache
def _times_of_day() -> np.ndarray:
    return np.array([f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)], dtype=object)


def _format_dates(days: np.ndarray, fmt: str) -> np.ndarray:
    return _date_strings(fmt)[days - _TABLE_FIRST]


def _format_datetimes(seconds: np.ndarray, fmt: str) -> np.ndarray:
    date_fmt, sep, time_fmt = fmt.partition("T") if "T" in fmt else fmt.partition(" ")
    if time_fmt != "%H:%M:%S":
        raise ValueError(f"unsupported datetime format {fmt!r}")
    return _format_dates(seconds // 86400, date_fmt) + sep + _times_of_day()[seconds % 86400]
