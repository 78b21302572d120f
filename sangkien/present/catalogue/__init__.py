"""One catalogue of every text people read on the page and in the workbook, per language.

``texts(lang)`` is the whole catalogue of a language (``vi.py``, ``en.py``: the same keys);
``label(lang, group, key)`` one entry, falling back to the key itself for a value the
catalogue does not know (a check name added later, say), so nothing is ever blank.
Numbers, percentages and dates are written the language's way by ``number``, ``percent``
and ``day``. Phase names are not here: they are the phases' configured names.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sangkien.errors import UserError
from sangkien.present.catalogue import en, vi

CATALOGUES: dict[str, dict[str, Any]] = {"vi": vi.TEXTS, "en": en.TEXTS}
LANGUAGES = tuple(CATALOGUES)
DAY_FORMAT = {"vi": "%d/%m/%Y", "en": "%Y-%m-%d"}


def texts(lang: str) -> dict[str, Any]:
    """Every text of ``lang``; UserError for a language there is no catalogue for."""
    try:
        return CATALOGUES[lang]
    except KeyError:
        raise UserError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}") from None


def label(lang: str, group: str, key: Any) -> str:
    """The entry ``key`` of ``group`` (kinds, bases, statuses, checks, fields, causes, ...), else the key."""
    if key is None:
        return ""
    return str(texts(lang)[group].get(key, key))


def number(lang: str, value: Any) -> str:
    """A whole number with the language's thousands separator: 1.234.567 (vi), 1,234,567 (en)."""
    if value is None:
        return "–"
    return f"{int(value):,}".replace(",", texts(lang)["thousands"])


def percent(lang: str, value: float | None) -> str:
    """A share as a percentage with one decimal: 98,5% (vi), 98.5% (en)."""
    if value is None:
        return "–"
    return f"{value * 100:.1f}%".replace(".", texts(lang)["decimal"])


def day(lang: str, value: dt.date | str | None) -> str:
    """A date the language's way: 31/05/2022 (vi), 2022-05-31 (en)."""
    if not value:
        return ""
    date = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return date.strftime(DAY_FORMAT[lang])
