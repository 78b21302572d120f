"""Pandera schemas of the initiative record at each stage (data contract v1).

* ``mapped_schema``: a record as mapped from a source, every field a string as the
  source sent it. Its checks decide accept vs. quarantine; each failure names the
  column, the check and the raw value. The checks' implementations (date parsing
  under the source's format, Vietnamese vocabularies, unit resolution) come from
  the core as ``RecordChecks``, so this module stays free of our other packages.
* ``CANONICAL_SCHEMA``: the typed record stored after validation.

Field by field, see schemas/README.md.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

SCHEMA_VERSION = 1

Mask = Callable[[pd.Series], pd.Series]

# What each check means, for people reading the quarantine (check name → message).
CHECK_MESSAGES = {
    "required": "is empty but required",
    "date_format": "is not a real date in the source's date format",
    "not_in_future": "is after the sync date",
    "number_format": "is not a number in a Vietnamese or plain format",
    "non_negative": "is negative",
    "vocabulary": "is not a known label",
    "unit_known": "does not match any unit code, name or alias",
    "unit_unambiguous": "matches several units; use the unit code",
    "title_length": "is shorter than 3 or longer than 500 characters",
    "has_author": "names no author",
    "unique_in_batch": "repeats a record id already in this delivery",
    "field_count": "could not be split into the file's columns",
}


@dataclass
class RecordChecks:
    """Vectorized check implementations: each takes a column, returns True where the value passes.

    ``known_blank`` and ``known_nan_free`` are not checks: they let a caller that already knows a
    column's blank values, or that it holds no NaN, share that with every check of the column
    instead of each check scanning it again (None / False: not known, so computed).
    """

    date_format: Mask
    not_in_future: Mask
    number_format: Mask
    non_negative: Mask
    status_known: Mask
    solution_type_known: Mask
    unit_known: Mask
    unit_unambiguous: Mask
    has_author: Mask
    known_blank: Callable[[pd.Series], pd.Series | None] = lambda s: None
    known_nan_free: Callable[[pd.Series], bool] = lambda s: False


# The masks below say what ``s.str.len()`` comparisons say; on a ``str``-dtype column (strings
# or NaN only) they compare the object array directly, which is several times faster.

def _is_text(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "python"


def _blank(s: pd.Series) -> pd.Series:
    """True where the value is the empty string (``s.str.len() == 0``)."""
    if _is_text(s):
        return pd.Series(s.to_numpy(dtype=object) == "", index=s.index)
    return s.str.len() == 0


def _filled(s: pd.Series, blank: pd.Series) -> pd.Series:
    """True where the value is a non-empty string (``s.str.len() > 0``), given ``s`` has no NaN."""
    return ~blank if _is_text(s) else s.str.len() > 0


def _lengths(s: pd.Series) -> pd.Series:
    """``s.str.len()``; one C-level pass when every value is a string."""
    if _is_text(s):
        try:
            return pd.Series(np.fromiter(map(len, s.to_numpy(dtype=object)), dtype=np.int64, count=len(s)),
                             index=s.index)
        except TypeError:  # NaN
            pass
    return s.str.len()


def _title_length(s: pd.Series) -> pd.Series:
    n = _lengths(s)
    return (n >= 3) & (n <= 500)


def _skipping_nans(fn: Mask, nan_free: Callable[[pd.Series], bool]) -> Mask:
    """``fn`` run the way pandera's ``ignore_na=True`` runs a check (NaN values are dropped first and
    pass), asking ``nan_free`` before scanning the column for NaN (pandera scans once per check)."""

    def run(s: pd.Series) -> pd.Series | bool:
        if nan_free(s) or not s.hasnans:
            return fn(s)
        present = s.notna().to_numpy()
        kept = s[present]
        passed = fn(kept)
        if not passed.index.equals(kept.index):
            return bool(passed.all())  # pandera cannot tell failing rows then: the check fails as a whole
        everywhere = np.ones(len(s), dtype=bool)
        everywhere[present] = passed.astype(bool).to_numpy()
        return pd.Series(everywhere, index=s.index)

    return run


def mapped_schema(checks: RecordChecks) -> pa.DataFrameSchema:
    """The schema of a mapped record (all strings, blank = ""), with the core's check implementations."""

    def blank(s: pd.Series) -> pd.Series:
        known = checks.known_blank(s)
        return _blank(s) if known is None else known

    def check(fn: Mask, name: str) -> pa.Check:
        # NaN handled by _skipping_nans as pandera would, without its per-check NaN scan
        return pa.Check(_skipping_nans(fn, checks.known_nan_free), name=name, ignore_na=False)

    def optional(fn: Mask, name: str) -> pa.Check:
        """A check that passes blank values (their presence is not required)."""
        return check(lambda s: blank(s) | fn(s), name)

    required = check(lambda s: _filled(s, blank(s)), "required")
    dates_required = [required, optional(checks.date_format, "date_format"),
                      optional(checks.not_in_future, "not_in_future")]
    dates_optional = [optional(checks.date_format, "date_format"),
                      optional(checks.not_in_future, "not_in_future")]
    return pa.DataFrameSchema(
        {
            "source_record_id": pa.Column(str, [required]),
            "portal_id": pa.Column(str),
            "title": pa.Column(str, [required, optional(_title_length, "title_length")]),
            "authors": pa.Column(str, [required, optional(checks.has_author, "has_author")]),
            "submitted_by": pa.Column(str),  # a person or a union unit; descriptive
            "unit": pa.Column(str, [required, optional(checks.unit_known, "unit_known"),
                                    optional(checks.unit_unambiguous, "unit_unambiguous")]),
            "field": pa.Column(str),  # descriptive: an unknown label becomes "other", never a quarantine
            "solution_type": pa.Column(str, [required, optional(checks.solution_type_known, "vocabulary")]),
            "recognized_on": pa.Column(str, dates_optional),
            "applied_on": pa.Column(str, dates_required),
            "submitted_at": pa.Column(str, dates_required),
            "status": pa.Column(str, [required, optional(checks.status_known, "vocabulary")]),
            "benefit_vnd": pa.Column(str, [optional(checks.number_format, "number_format"),
                                           optional(checks.non_negative, "non_negative")]),
            "updated_at": pa.Column(str, dates_optional),
        },
        strict=False,
        coerce=False,
    )


STATUSES = ("valid", "pending", "rejected")
SOLUTION_TYPES = ("technical", "management", "operational", "applied_technology", "research")
FIELDS = ("health", "education", "it", "admin_reform", "productivity", "osh", "production", "union_work", "other")

CANONICAL_SCHEMA = pa.DataFrameSchema(
    {
        "source": pa.Column(str),
        "source_record_id": pa.Column(str, pa.Check.str_length(min_value=1)),
        "portal_id": pa.Column(str, nullable=True),
        "title": pa.Column(str, pa.Check.str_length(3, 500)),
        "title_folded": pa.Column(str),
        "authors": pa.Column(str),
        "author_keys": pa.Column(str, pa.Check.str_length(min_value=1)),
        "unit_code": pa.Column(str, pa.Check.str_length(min_value=1)),
        "field": pa.Column(str, pa.Check.isin(FIELDS)),
        "solution_type": pa.Column(str, pa.Check.isin(SOLUTION_TYPES)),
        "status": pa.Column(str, pa.Check.isin(STATUSES)),
        "recognized_on": pa.Column(pa.DateTime, nullable=True),
        "applied_on": pa.Column(pa.DateTime),
        "submitted_at": pa.Column(pa.DateTime),
        "benefit_vnd": pa.Column(float, pa.Check.ge(0), nullable=True),
        "eligible": pa.Column(bool),
    },
    strict=False,
)
