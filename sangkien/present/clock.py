"""One clock for people: every time a person reads is Vietnam time, with its zone, in one format.

Machine formats (JSON, the API) keep ISO 8601 with the offset; this is only for what is shown:
the terminal tables, the CSV columns meant to be read, the workbook (where the cell stays a
date-time and its number format carries the zone). The store keeps UTC; a naive time from it
means UTC.
"""
from __future__ import annotations

import datetime as dt

VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")  # no daylight saving: a fixed offset is exact
ZONE = "UTC+7"
SHOWN_FORMAT = "%d/%m/%Y %H:%M"  # 04/12/2026 01:30 (UTC+7)
EXCEL_DATETIME_FORMAT = f'dd/mm/yyyy hh:mm "({ZONE})"'  # the same, as an Excel number format


def vietnam(stamp: dt.datetime | str) -> dt.datetime:
    """``stamp`` (aware, naive UTC, or ISO text) as an aware Vietnam time, to the second."""
    if isinstance(stamp, str):
        stamp = dt.datetime.fromisoformat(stamp)
    aware = stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
    return aware.astimezone(VIETNAM).replace(microsecond=0)


def vietnam_wall(stamp: dt.datetime | str) -> dt.datetime:
    """Vietnam wall-clock time without tzinfo, for a spreadsheet cell (Excel has no time zones)."""
    return vietnam(stamp).replace(tzinfo=None)


def shown(stamp: dt.datetime | str | None, missing: str = "") -> str:
    """``stamp`` as a person reads it: "04/12/2026 01:30 (UTC+7)"; ``missing`` when there is none."""
    if stamp is None or stamp == "":
        return missing
    return f"{vietnam(stamp):{SHOWN_FORMAT}} ({ZONE})"
