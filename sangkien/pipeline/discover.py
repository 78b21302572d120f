"""What a source offers, and a proposed mapping to the canonical fields (``connectors discover``).

A source's columns (a file's headers, an API's record fields, a table's columns) are matched to the
canonical fields by the names Vietnamese systems give them, with or without diacritics ("Ngày áp
dụng", "Ngay ap dung", "NGÀY ÁP DỤNG"); the date format and the authors separator are guessed from
the sample's values. Pure: it reads the rows it is given, nothing else.
"""
from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field

import pandas as pd

from sangkien.text.fold import fold
from schemas.fields import CANONICAL_FIELDS, REQUIRED_FIELDS

# Header names seen in Vietnamese systems, folded (no diacritics, lower case), the likeliest first.
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "source_record_id": ("ma ho so", "so ho so", "id", "ma sk", "ma sang kien", "ma so", "so hieu", "ma",
                         "record id", "source record id"),
    "portal_id": ("ma cong", "ma tren cong", "ma cong truc tuyen", "portal id"),
    "title": ("ten sang kien", "ten giai phap", "ten de tai", "tieu de", "ten", "title"),
    "authors": ("tac gia", "tac gia nhom tac gia", "nhom tac gia", "dong tac gia", "ho ten tac gia",
                "ho va ten tac gia", "nguoi thuc hien", "authors"),
    "submitted_by": ("nguoi gui", "nguoi nop", "nguoi dang ky", "submitted by"),
    "unit": ("don vi", "ma don vi", "ten don vi", "don vi cong tac", "noi cong tac", "ma cdcs", "cdcs",
             "cong doan co so", "workplace", "unit"),
    "field": ("linh vuc", "field"),
    "solution_type": ("loai giai phap", "loai hinh", "loai sang kien", "hinh thuc", "loai", "solution type"),
    "recognized_on": ("ngay cong nhan", "ngay duoc cong nhan", "cong nhan", "recognized on"),
    "applied_on": ("ngay ap dung", "ngay ap dung lan dau", "ap dung", "applied on"),
    "submitted_at": ("ngay nop", "ngay gui", "ngay dang ky", "submitted at"),
    "status": ("trang thai", "tinh trang", "ket qua", "status"),
    "benefit_vnd": ("gia tri lam loi", "gia tri lam loi dong", "lam loi", "lam loi vnd", "lam loi dong",
                    "hieu qua kinh te", "so tien lam loi", "benefit vnd"),
    "updated_at": ("cap nhat luc", "ngay cap nhat", "cap nhat", "thoi gian cap nhat", "modified at", "updated at"),
}
DATE_FIELDS = ("recognized_on", "applied_on", "submitted_at")
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%m/%d/%Y", "%Y/%m/%d", "%d/%m/%y")
SAMPLE_VALUES = 3


@dataclass(frozen=True)
class Column:
    """A column the source offers: its name, a few distinct sample values, how many sampled rows fill it."""

    name: str
    samples: tuple[str, ...]
    filled: int
    rows: int


@dataclass
class Proposal:
    """A mapping proposed for a source: canonical field → column, with how sure each match is (0..1)."""

    columns: dict[str, str] = field(default_factory=dict)
    certainty: dict[str, float] = field(default_factory=dict)
    date_format: str | None = None
    authors_separator: str | None = None

    @property
    def missing_required(self) -> list[str]:
        return [f for f in REQUIRED_FIELDS if f not in self.columns]


def columns_of(rows: pd.DataFrame, headers: list[str]) -> list[Column]:
    """Each header with its first distinct non-empty values and how many rows fill it."""
    found = []
    for name in headers:
        values = rows[name].astype(str).str.strip() if name in rows.columns else pd.Series([], dtype=str)
        filled = values[values != ""]
        found.append(Column(name, tuple(pd.unique(filled)[:SAMPLE_VALUES].tolist()), len(filled), len(values)))
    return found


def _score(header: str, names: tuple[str, ...]) -> float:
    """How well a folded header matches a field's names: exact (earlier names score higher), all the name's
    words in the header, or a close spelling."""
    best = 0.0
    words = header.split()
    for rank, name in enumerate(names):
        if header == name:
            best = max(best, 1.0 - 0.01 * rank)
        elif len(name) > 3 and (f" {name} " in f" {header} "):
            best = max(best, 0.8 - 0.01 * rank - 0.01 * (len(words) - len(name.split())))
        else:
            ratio = difflib.SequenceMatcher(None, header, name).ratio()
            if ratio >= 0.85:
                best = max(best, 0.7 * ratio)
    return best


def propose(columns: list[Column]) -> Proposal:
    """The best one-to-one mapping of canonical fields to ``columns`` by header name, then the date format and
    the authors separator read off the mapped columns' sample values."""
    candidates = []
    for column in columns:
        folded = fold(column.name) or ""
        for name in CANONICAL_FIELDS:
            score = _score(folded, HEADER_NAMES[name])
            if score > 0:
                candidates.append((score, CANONICAL_FIELDS.index(name), name, column.name))
    proposal = Proposal()
    taken: set[str] = set()
    for score, _, name, column_name in sorted(candidates, key=lambda c: (-c[0], c[1])):
        if name in proposal.columns or column_name in taken:
            continue
        proposal.columns[name] = column_name
        proposal.certainty[name] = round(score, 2)
        taken.add(column_name)
    proposal.columns = {f: proposal.columns[f] for f in CANONICAL_FIELDS if f in proposal.columns}
    by_name = {c.name: c for c in columns}
    dates = [v for f in DATE_FIELDS if f in proposal.columns for v in by_name[proposal.columns[f]].samples]
    proposal.date_format = guess_date_format(dates)
    if "authors" in proposal.columns:
        proposal.authors_separator = guess_separator(by_name[proposal.columns["authors"]].samples)
    return proposal


def guess_date_format(values: list[str]) -> str | None:
    """The format among DATE_FORMATS that reads the most of ``values`` (None when none reads any)."""
    best, best_read = None, 0
    for fmt in DATE_FORMATS:
        read = 0
        for value in values:
            try:
                dt.datetime.strptime(value.strip()[:10] if fmt == "%Y-%m-%d" else value.strip(), fmt)
                read += 1
            except ValueError:
                pass
        if read > best_read:
            best, best_read = fmt, read
    return best


def guess_separator(values: tuple[str, ...]) -> str | None:
    """What separates several authors in the sample: ';' or ',' (None when no value lists several)."""
    for separator in (";", ",", "|"):
        if any(separator in v for v in values):
            return separator
    return None
