"""Quotas: targets per unit, phase, assigner and counting basis, loaded from CSV and checked whole.

A unit and phase may hold several targets from different assigners (Hà Nội was assigned 60,000
by the confederation and set itself 130,000): ``assigned_by`` names the unit that set a target,
the unit's parent when the file leaves it empty (the unit itself at the top of the tree)."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from sangkien import store
from sangkien.errors import RejectedFile, UserError
from sangkien.reference.csvfile import _read_csv
from sangkien.reference.phases import get_phases
from sangkien.store.settings import default_program

#: The count column each counting basis is measured on; the share bases are counted apart (members, units).
BASIS_COLUMN = {"valid": "valid", "submissions": "records", "registrants": "registrants"}
#: share_of_members: distinct registrants over members; share_of_units: units with a valid initiative over
#: the unit's direct children (":children", the default) or its grassroots units (":grassroots").
SHARE_BASES = ("share_of_members", "share_of_units", "share_of_units:children", "share_of_units:grassroots")
QUOTA_BASES = ("valid", "submissions", "registrants", *SHARE_BASES)
QUOTA_COLUMNS = ("unit_code", "phase", "target", "basis", "assigned_by")
_WHOLE = re.compile(r"\d+|\d{1,3}(?:\.\d{3})+|\d{1,3}(?:,\d{3})+|\d{1,3}(?: \d{3})+")


def whole_number(text: str) -> int | None:
    """A target as a whole number: digits, or digits grouped by thousands ("1.500", "1,500", "1 500");
    None for anything else, a fraction such as "1.5" or "2,5" included."""
    text = text.strip()
    return int(re.sub(r"[., ]", "", text)) if _WHOLE.fullmatch(text) else None


def _quota(row: dict[str, str], where: str, parents: dict[str, str | None], phase_numbers: set[int],
           problems: list[str]) -> dict[str, object] | None:
    """One row as a quota, or None (with its problems added) when it cannot be one."""
    code = row["unit_code"]
    if code not in parents:
        problems.append(f"{where}: unknown unit {code!r}")
    try:
        phase = int(row["phase"])
    except ValueError:
        problems.append(f"{where}: phase {row['phase']!r} is not a whole number")
        return None
    if phase not in phase_numbers:
        problems.append(f"{where}: unknown phase {phase}; known phases: {sorted(phase_numbers)}")
    target = whole_number(row["target"])
    if target is None:
        problems.append(f"{where}: target {row['target']!r} is not a whole number ≥ 0 "
                        "(write 1500, or 1.500 with thousands separators)")
        return None
    basis = row.get("basis") or "valid"
    if basis not in QUOTA_BASES:
        problems.append(f"{where}: unknown basis {basis!r}; use one of {', '.join(QUOTA_BASES)}")
    elif basis.startswith("share_of") and target > 100:
        problems.append(f"{where}: a {basis} target is a percentage (0 to 100), not {target}")
    assigned_by = row.get("assigned_by") or parents.get(code) or code
    if assigned_by not in parents:
        problems.append(f"{where}: assigned_by {assigned_by!r} is not a unit of the org tree")
    if basis == "share_of_units":
        basis = "share_of_units:children"
    return {"unit_code": code, "phase": phase, "target": target, "basis": basis, "assigned_by": assigned_by}


def load_quotas(engine: Engine, path: Path, program: str | None = None) -> int:
    """Replace the quotas of ``program`` (default: the node's default program) with ``path`` atomically (its phases
    are the ones a quota may name); returns the number of quotas."""
    problems: list[str] = []
    rows = _read_csv(path, QUOTA_COLUMNS[:3], QUOTA_COLUMNS[3:])
    o = store.org_units.c
    with engine.connect() as conn:
        program = program or default_program(conn)
        parents: dict[str, str | None] = dict(conn.execute(sa.select(o.code, o.parent_code)).tuples().all())
        phase_numbers = {p.phase for p in get_phases(conn, program)}
    if not parents:
        raise UserError("no org tree is loaded; run `sangkien orgs load FILE.csv` before loading quotas")
    quotas: list[dict[str, object]] = []
    seen: dict[tuple[object, ...], int] = {}
    for line, row in rows:
        if "__error__" in row:
            problems.append(f"line {line}: {row['__error__']}")
            continue
        where = f"line {line} ({row['unit_code'] or 'no unit'})"
        quota = _quota(row, where, parents, phase_numbers, problems)
        if quota is None:
            continue
        quota["program"] = program
        key = (quota["unit_code"], quota["phase"], quota["assigned_by"], quota["basis"])
        if key in seen:
            problems.append(f"{where}: second {quota['basis']} quota for phase {quota['phase']} assigned by "
                            f"{quota['assigned_by']}, first on line {seen[key]}")
        seen[key] = line
        quotas.append(quota)
    if not quotas and not problems:
        problems.append("the file has a header but no quotas")
    if problems:
        raise RejectedFile(str(path), problems)
    with engine.begin() as conn:
        conn.execute(store.quotas.delete().where(store.quotas.c.program == program))
        conn.execute(store.quotas.insert(), quotas)
        conn.execute(store.summary_state.delete())  # what people read is worked out again from the new targets
    return len(quotas)
