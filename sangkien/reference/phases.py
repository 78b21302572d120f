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
from sangkien.store.settings import default_program

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

def _year_fixing(day: dt.date, not_before: dt.date) -> int | None:
    """The year that, written in ``day`` instead of its own, puts it on or after ``not_before`` (the first such
    year from ``not_before``'s): the likely slip when a date was typed with last year's number."""
    for year in (not_before.year, not_before.year + 1):
        try:
            if day.replace(year=year) >= not_before and year != day.year:
                return year
        except ValueError:  # 29 February
            continue
    return None


def _order_problems(parsed: list[tuple[int, Phase]], window: tuple[dt.date, dt.date] | None) -> list[str]:
    """Phases out of their window, numbered out of date order, or overlapping, each named with its line."""
    problems = []
    for line, p in parsed:
        where = f"line {line} (phase {p.phase})"
        if window is not None and (p.starts_on < window[0] or p.ends_on > window[1]):
            year = _year_fixing(p.starts_on, window[0]) if p.starts_on < window[0] else None
            hint = f"; did you mean {year}?" if year else ""
            problems.append(f"{where}: {p.starts_on} – {p.ends_on} is outside the program's window "
                            f"{window[0]} – {window[1]}{hint}")
    by_number = sorted(parsed, key=lambda lp: lp[1].phase)
    for (_, before), (line, after) in itertools.pairwise(by_number):
        where = f"line {line} (phase {after.phase})"
        if after.ends_on < before.starts_on:  # wholly before the phase numbered ahead of it: a year typed wrong
            year = _year_fixing(after.starts_on, before.ends_on + dt.timedelta(days=1))
            hint = f"; did you mean {year}?" if year else ""
            problems.append(f"{where}: {after.starts_on} – {after.ends_on} comes before phase {before.phase} "
                            f"({before.starts_on} – {before.ends_on}), though numbered after it{hint}")
        elif after.starts_on <= before.ends_on:
            problems.append(f"{where}: phase {after.phase} starts on {after.starts_on}, inside phase {before.phase} "
                            f"(to {before.ends_on}); phases must not overlap")
    return problems


def _parse_phases(path: Path, problems: list[str]) -> list[tuple[int, Phase]]:
    """The phases of ``path`` with their lines; what is wrong within a line goes to ``problems``."""
    parsed: list[tuple[int, Phase]] = []
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
            year = _year_fixing(ends_on, starts_on)
            problems.append(f"{where}: ends before it starts: {ends_on} < {starts_on}"
                            + (f"; did you mean {year}?" if year else ""))
            continue
        if counts_from > ends_on:
            problems.append(f"{where}: counts initiatives from {counts_from}, after the phase ends ({ends_on})")
        parsed.append((line, Phase(number, row["name"] or f"Phase {number}", starts_on, ends_on, counts_from)))
    return parsed


def load_phases(engine: Engine, path: Path, window: tuple[dt.date, dt.date] | None = None,
                program: str | None = None) -> int:
    """Replace the phases of ``program`` (default: the node's default program) with ``path`` atomically; returns
    the number of phases.

    A file with a phase that ends before it starts, phases that overlap or are numbered out of
    date order, or (given ``window``) a phase outside it is rejected whole, each line named with
    the likely slip ("ends before it starts: 2021-12-31 < 2022-07-01; did you mean 2022?")."""
    problems: list[str] = []
    parsed = _parse_phases(path, problems)
    problems += _order_problems(parsed, window)
    if not parsed and not problems:
        problems.append("the file has a header but no phases")
    if problems:
        raise RejectedFile(str(path), problems)
    with engine.begin() as conn:
        program = program or default_program(conn)
        conn.execute(store.phases.delete().where(store.phases.c.program == program))
        conn.execute(store.phases.insert(), [p.__dict__ | {"program": program} for _, p in parsed])
        conn.execute(store.summary_state.delete())  # what people read is worked out again with the new phases
    return len(parsed)


def get_phases(conn: Connection, program: str | None = None) -> list[Phase]:
    """The phases configured for ``program`` (default: the node's default program); ``1trieu``'s are the 2022-2023
    program's built-in ones until a file is loaded; another program without phases has none."""
    program = program or default_program(conn)
    rows = conn.execute(sa.select(store.phases).where(store.phases.c.program == program)
                        .order_by(store.phases.c.starts_on)).all()
    if not rows:
        return list(DEFAULT_PHASES) if program == store.DEFAULT_PROGRAM else []
    return [Phase(r.phase, r.name, r.starts_on, r.ends_on, r.counts_from) for r in rows]


