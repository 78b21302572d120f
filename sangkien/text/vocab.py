"""Controlled vocabularies: Vietnamese labels -> canonical values.

Sources send labels such as ``"Hợp lệ"``, ``"HOP LE"``, ``"hợp  lệ."`` or
``"Giáo dục - Đào tạo"`` / ``"giao duc dao tao"``. Matching is exact on the
*folded* form (:func:`sangkien.normalize.fold`: no diacritics, any case, any
punctuation/whitespace run equivalent to one space), never by substring, so
``"Không hợp lệ"`` can never match ``"Hợp lệ"``. The canonical English values
themselves (``"valid"``, ``"applied_technology"``, ``"applied technology"``)
are accepted labels too.

Pure data and pure functions: no I/O. Series methods do their work once per
distinct value, so they are fit for 2,000,000-row batches. Callers keep the raw
label next to the canonical value (data contract v1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from sangkien.text.fold import fold
from sangkien.text.series import STR_DTYPE

__all__ = [
    "FIELD",
    "FIELD_OTHER",
    "SOLUTION_TYPE",
    "STATUS",
    "Vocabulary",
    "map_field_series",
]


@dataclass(frozen=True)
class Vocabulary:
    """A closed set of canonical values, each with its accepted labels.

    Promises:

    * ``mapping`` is ``canonical value -> labels`` (display labels, Vietnamese
      with diacritics; the first one is the preferred label).
    * A label is known when its :func:`~sangkien.normalize.fold` equals the fold
      of one of the labels or of the canonical value itself.
    * Construction fails with ``ValueError`` if two canonical values would
      share a folded label, or a label folds to nothing.
    * A value whose fold is empty (``None``, NaN, ``""``, ``"  "``, ``"-"``)
      is *blank*: it maps to missing and is not "unknown".
    """

    name: str
    mapping: Mapping[str, tuple[str, ...]]
    _lookup: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        frozen = {k: tuple(v) for k, v in self.mapping.items()}
        lookup: dict[str, str] = {}
        for value, labels in frozen.items():
            for label in (value, *labels):
                key = fold(label)
                if not key:
                    raise ValueError(f"{self.name}: label {label!r} of {value!r} folds to nothing")
                other = lookup.setdefault(key, value)
                if other != value:
                    raise ValueError(
                        f"{self.name}: label {label!r} (folded {key!r}) is claimed by both {other!r} and {value!r}"
                    )
        object.__setattr__(self, "mapping", MappingProxyType(frozen))
        object.__setattr__(self, "_lookup", MappingProxyType(lookup))

    # -- scalars ---------------------------------------------------------

    @property
    def values(self) -> tuple[str, ...]:
        """The canonical values, in declaration order."""
        return tuple(self.mapping)

    def labels_for(self, value: str) -> tuple[str, ...]:
        """Accepted display labels of canonical ``value`` (``KeyError`` if not a value)."""
        try:
            return self.mapping[value]
        except KeyError:
            raise KeyError(f"{self.name}: {value!r} is not a canonical value; expected one of {self.values}") from None

    def lookup(self, label: object) -> str | None:
        """Canonical value of one label, or None when blank or unknown."""
        key = fold(label)
        if not key:
            return None
        return self._lookup.get(key)

    def is_unknown(self, label: object) -> bool:
        """True when ``label`` is non-blank and not an accepted label."""
        key = fold(label)
        return bool(key) and key not in self._lookup

    # -- series ----------------------------------------------------------

    def _per_unique(self, s: pd.Series) -> tuple[np.ndarray, list[str | None], list[bool]]:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        mapped: list[str | None] = []
        unknown: list[bool] = []
        for u in uniques:
            key = fold(u)
            if not key:
                mapped.append(None)
                unknown.append(False)
            else:
                v = self._lookup.get(key)
                mapped.append(v)
                unknown.append(v is None)
        return np.asarray(codes, dtype=np.intp), mapped, unknown

    def map_series(self, s: pd.Series) -> pd.Series:
        """Canonical value per row (``str`` dtype); missing where blank or unknown.

        Same index and name as ``s``. Use :meth:`unknown_mask` to tell unknown
        labels from blank ones.
        """
        codes, mapped, _ = self._per_unique(s)
        arr = pd.array(mapped, dtype=STR_DTYPE).take(codes, allow_fill=True)
        return pd.Series(arr, index=s.index, name=s.name, copy=False)

    def unknown_mask(self, s: pd.Series) -> pd.Series:
        """Bool Series: True where the label is non-blank and not known."""
        codes, _, unknown = self._per_unique(s)
        table = np.asarray([*unknown, False], dtype=bool)  # code -1 -> False
        return pd.Series(table[codes], index=s.index, name=s.name, copy=False)

    def map_and_unknown(self, s: pd.Series) -> tuple[pd.Series, pd.Series]:
        """``(map_series(s), unknown_mask(s))`` computed in a single pass."""
        codes, mapped, unknown = self._per_unique(s)
        arr = pd.array(mapped, dtype=STR_DTYPE).take(codes, allow_fill=True)
        table = np.asarray([*unknown, False], dtype=bool)
        return (
            pd.Series(arr, index=s.index, name=s.name, copy=False),
            pd.Series(table[codes], index=s.index, name=s.name, copy=False),
        )

    def __contains__(self, label: object) -> bool:
        return self.lookup(label) is not None


def _vocab(name: str, entries: Iterable[tuple[str, tuple[str, ...]]]) -> Vocabulary:
    return Vocabulary(name, dict(entries))


#: Review status. An unknown status cannot be counted: the caller quarantines.
STATUS = _vocab(
    "status",
    [
        ("valid", ("Hợp lệ", "Đã duyệt", "Được công nhận", "Đã được công nhận", "Đã công nhận")),
        ("pending", ("Chờ duyệt", "Đang xét duyệt", "Mới nộp", "Chưa duyệt", "Đang chờ duyệt")),
        (
            "rejected",
            ("Không hợp lệ", "Bị từ chối", "Không được công nhận", "Từ chối", "Không được duyệt"),
        ),
    ],
)

#: Solution type (loại giải pháp). Unknown types are the caller's to quarantine.
SOLUTION_TYPE = _vocab(
    "solution_type",
    [
        ("technical", ("Giải pháp kỹ thuật", "Kỹ thuật", "Giải pháp kĩ thuật", "Kĩ thuật")),
        ("management", ("Giải pháp quản lý", "Quản lý", "Giải pháp quản lí", "Quản lí")),
        ("operational", ("Giải pháp tác nghiệp", "Tác nghiệp")),
        (
            "applied_technology",
            (
                "Giải pháp ứng dụng tiến bộ kỹ thuật",
                "Ứng dụng tiến bộ kỹ thuật",
                "Giải pháp ứng dụng tiến bộ kĩ thuật",
                "Ứng dụng tiến bộ kĩ thuật",
            ),
        ),
        ("research", ("Đề tài nghiên cứu khoa học", "Nghiên cứu khoa học", "Đề tài NCKH", "NCKH")),
    ],
)

#: The catch-all field value.
FIELD_OTHER = "other"

#: Field (lĩnh vực). Descriptive: see :func:`map_field_series`.
FIELD = _vocab(
    "field",
    [
        ("health", ("Y tế",)),
        ("education", ("Giáo dục - Đào tạo", "Giáo dục", "Giáo dục và Đào tạo", "Đào tạo", "GD&ĐT")),
        ("it", ("Ứng dụng công nghệ thông tin", "Công nghệ thông tin", "Ứng dụng CNTT", "CNTT")),
        ("admin_reform", ("Cải cách hành chính", "CCHC")),
        ("productivity", ("Nâng cao năng suất lao động", "Năng suất lao động")),
        (
            "osh",
            ("An toàn vệ sinh lao động", "An toàn, vệ sinh lao động", "ATVSLĐ", "An toàn lao động"),
        ),
        ("production", ("Sản xuất kinh doanh", "Sản xuất, kinh doanh", "SXKD")),
        ("union_work", ("Hoạt động công đoàn", "Công tác công đoàn")),
        (FIELD_OTHER, ("Khác", "Lĩnh vực khác")),
    ],
)


def map_field_series(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Map field labels; unknown non-blank labels become ``"other"``.

    Returns ``(field, unknown_mask)``: ``field`` is ``str`` dtype, the
    canonical field for known labels, ``"other"`` for unknown non-blank labels,
    missing for blank ones; ``unknown_mask`` is True exactly where an unknown
    label was turned into ``"other"`` (so the caller keeps the raw label and
    counts a warning; it is not a quarantine). Same index and name as ``s``.
    """
    mapped, unknown = FIELD.map_and_unknown(s)
    mapped = mapped.mask(unknown, FIELD_OTHER)
    return mapped, unknown
