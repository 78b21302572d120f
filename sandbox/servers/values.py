"""Times, dates, numbers and labels as the servers read and write them; the edits a change makes."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from sandbox.generate.text import fold_text, strip_diacritics

DEFAULT_MODIFIED = "2023-09-30T00:00:00Z"  # for sources that keep no modification time
EDIT_MARK = " (đã chỉnh sửa)"
_ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_PENDING_TO_VALID = {"cho duyet": "Hợp lệ", "dang xet duyet": "Đã duyệt"}


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(_ISO_FORMAT)


def _parse_moment(text: str) -> datetime:
    """ISO 8601 (Z, offset, naive = UTC, bare date) -> aware UTC datetime; ValueError if it is none of these."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        if " " not in text.strip():
            raise
        moment = datetime.fromisoformat(text.strip().replace(" ", "+"))  # an unencoded "+07:00"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def _source_moment(text: str, date_format: str) -> str:
    """A source's modification time (ISO-like, or a date in its format) as UTC ISO; DEFAULT_MODIFIED if neither."""
    text = text.strip()
    if not text:
        return DEFAULT_MODIFIED
    try:
        return _iso(_parse_moment(text))
    except ValueError:
        pass
    try:
        return _iso(datetime.strptime(text, date_format).replace(tzinfo=timezone.utc))
    except ValueError:
        return DEFAULT_MODIFIED


def _iso_date(text: str, date_format: str) -> str:
    """A date in the source's format as YYYY-MM-DD; kept as typed when it does not parse."""
    try:
        return datetime.strptime(text.strip(), date_format).date().isoformat()
    except ValueError:
        return text


def _vn_number(text: str) -> int | float | str | None:
    """"1.500.000" / "2.500,5" / "1500000" -> number; "" -> None; anything else kept as typed."""
    raw = text.strip().replace(" ", "")
    if not raw:
        return None
    if re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d+)?", raw):
        raw = raw.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d+,\d+", raw):
        raw = raw.replace(",", ".")
    try:
        value = float(raw)
    except ValueError:
        return text
    return int(value) if value.is_integer() else value


def _approved(label: str) -> str | None:
    """The valid label matching a pending status label, in the same style; None if it is not pending."""
    new = _PENDING_TO_VALID.get(fold_text(label))
    if new is None:
        return None
    if label == strip_diacritics(label):
        new = strip_diacritics(new)
    if label.isupper():
        return new.upper()
    return new.lower() if label == label.lower() else new


def _edited(title: str) -> str:
    """Toggle a visible edit mark on a title, so repeated edits stay bounded."""
    return title[: -len(EDIT_MARK)] if title.endswith(EDIT_MARK) else title + EDIT_MARK
