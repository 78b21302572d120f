"""Quotas: targets per unit and phase on a counting basis, loaded from CSV and checked whole."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from sangkien import store
from sangkien.errors import RejectedFile, UserError
from sangkien.reference.csvfile import _read_csv
from sangkien.reference.phases import get_phases

#: The count column each counting basis is measured on (share_of_members has none: it needs member counts).
BASIS_COLUMN = {"valid": "valid", "submissions": "records", "registrants": "registrants"}
QUOTA_BASES = ("valid", "submissions", "registrants", "share_of_members")
QUOTA_COLUMNS = ("unit_code", "phase", "target", "basis")
_WHOLE = re.compile(r"\d+|\d{1,3}(?:\.\d{3})+|\d{1,3}(?:,\d{3})+|\d{1,3}(?: \d{3})+")


def whole_number(text: str) -> int | None:
    """A target as a whole number: digits, or digits grouped by thousands ("1.500", "1,500", "1 500");
    None for anything else, a fraction such as "1.5" or "2,5" included."""
    text = text.strip()
    return int(re.sub(r"[., ]", "", text)) if _WHOLE.fullmatch(text) else None


def load_quotas(engine: Engine, path: Path) -> int:
    """Replace the quotas with ``path`` atomically; returns the number of quotas."""
    problems: list[str] = []
    rows = _read_csv(path, QUOTA_COLUMNS[:3], QUOTA_COLUMNS[3:] + ("assigned_by",))
    with engine.connect() as conn:
        units = set(conn.scalars(sa.select(store.org_units.c.code)))
        phase_numbers = {p.phase for p in get_phases(conn)}
    if not units:
        raise UserError("no org tree is loaded; run `sangkien orgs load FILE.csv` before loading quotas")
    quotas: list[dict[str, object]] = []
    seen: dict[tuple[str, int], int] = {}
    for line, row in rows:
        where = f"line {line}"
        if "__error__" in row:
            problems.append(f"{where}: {row['__error__']}")
            continue
        code = row["unit_code"]
        where = f"line {line} ({code or 'no unit'})"
        if code not in units:
            problems.append(f"{where}: unknown unit {code!r}")
        try:
            phase = int(row["phase"])
        except ValueError:
            problems.append(f"{where}: phase {row['phase']!r} is not a whole number")
            continue
        if phase not in phase_numbers:
            problems.append(f"{where}: unknown phase {phase}; known phases: {sorted(phase_numbers)}")
        target = whole_number(row["target"])
        if target is None:
            problems.append(f"{where}: target {row['target']!r} is not a whole number ≥ 0 "
                            "(write 1500, or 1.500 with thousands separators)")
            continue
        basis = row.get("basis") or "valid"
        if basis not in QUOTA_BASES:
            problems.append(f"{where}: unknown basis {basis!r}; use one of {', '.join(QUOTA_BASES)}")
        if (code, phase) in seen:
            problems.append(f"{where}: second quota for phase {phase}, first on line {seen[(code, phase)]}")
        seen[(code, phase)] = line
        quotas.append({"unit_code": code, "phase": phase, "target": target, "basis": basis,
                       "assigned_by": row.get("assigned_by") or None})
    if not quotas and not problems:
        problems.append("the file has a header but no quotas")
    if problems:
        raise RejectedFile(str(path), problems)
    with engine.begin() as conn:
        conn.execute(store.quotas.delete())
        conn.execute(store.quotas.insert(), quotas)
        conn.execute(store.summary_state.delete())  # what people read is worked out again from the new targets
    return len(quotas)
