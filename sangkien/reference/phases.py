"""The program's phases: configuration, with the 2022-2023 program's as defaults."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sangkien import store
from sangkien.errors import RejectedFile
from sangkien.reference.csvfile import _date, _read_csv

PHASE_COLUMNS = ("phase", "name", "starts_on", "ends_on", "counts_from")
@dataclass(frozen=True)
class Phase:
    phase: int
    name: str
    starts_on: dt.date
    ends_on: dt.date
    counts_from: dt.date


# The 2022–2023 "01 triệu sáng kiến" program (Tổng Liên đoàn, 3259/CTr-TLĐ): phases are
# configuration, these are only the defaults until `sangkien phases load` replaces them.
DEFAULT_PHASES = (
    Phase(1, "Giai đoạn 1 (đến 31/5/2022)", dt.date(2021, 9, 1), dt.date(2022, 5, 31), dt.date(2021, 9, 1)),
    Phase(2, "Giai đoạn 2 (6/2022 – 9/2023)", dt.date(2022, 6, 1), dt.date(2023, 9, 1), dt.date(2021, 9, 1)),
)

def load_phases(engine: Engine, path: Path) -> int:
    """Replace the phases with ``path`` atomically; returns the number of phases."""
    problems: list[str] = []
    parsed: list[Phase] = []
    seen: dict[int, int] = {}
    for line, row in _read_csv(path, PHASE_COLUMNS):
        where = f"line {line}"
        if "__error__" in row:
            problems.append(f"{where}: {row['__error__']}")
            continue
        try:
            number = int(row["phase"])
        except ValueError:
            problems.append(f"{where}: phase {row['phase']!r} is not a whole number")
            continue
        where = f"line {line} (phase {number})"
        if number in seen:
            problems.append(f"{where}: duplicate phase, first on line {seen[number]}")
        seen[number] = line
        starts_on, ends_on, counts_from = [_date(row[c], c, problems, where)
                                           for c in ("starts_on", "ends_on", "counts_from")]
        if starts_on is None or ends_on is None or counts_from is None:
            if all(row[c] for c in ("starts_on", "ends_on", "counts_from")):
                continue
            problems.append(f"{where}: starts_on, ends_on and counts_from are all required")
            continue
        if ends_on < starts_on:
            problems.append(f"{where}: ends_on {ends_on} is before starts_on {starts_on}")
        parsed.append(Phase(number, row["name"] or f"Phase {number}", starts_on, ends_on, counts_from))
    ordered = sorted(parsed, key=lambda p: p.starts_on)
    for before, after in itertools.pairwise(ordered):
        if after.starts_on <= before.ends_on:
            problems.append(f"phase {after.phase} starts on {after.starts_on}, inside phase {before.phase} "
                            f"(to {before.ends_on}); phases must not overlap")
    if not parsed and not problems:
        problems.append("the file has a header but no phases")
    if problems:
        raise RejectedFile(str(path), problems)
    with engine.begin() as conn:
        conn.execute(store.phases.delete())
        conn.execute(store.phases.insert(), [p.__dict__ for p in parsed])
        conn.execute(store.summary_state.delete())  # what people read is worked out again with the new phases
    return len(parsed)


def get_phases(conn: Connection) -> list[Phase]:
    """The configured phases, or the program's defaults when none were loaded."""
    rows = conn.execute(sa.select(store.phases).order_by(store.phases.c.starts_on)).all()
    if not rows:
        return list(DEFAULT_PHASES)
    return [Phase(r.phase, r.name, r.starts_on, r.ends_on, r.counts_from) for r in rows]


