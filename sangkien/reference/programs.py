"""Programs as configuration: a code, a name, an eligibility window, and their own phases and quotas.

The store always holds the program ``1trieu``, the 2022-2023 "01 triệu sáng kiến" (store.DEFAULT_PROGRAM). It is
the node's default program (what the nightly pipeline validates and counts, what every command shows unless
told otherwise) until `sangkien programs default CODE` names another (the ``default_program`` setting). Other
programs (a union's own emulation rounds, a program that follows it) count the same initiatives by their dates:
an initiative applied in 2022 counts for the national program and for the Public Employees' 2022 rounds
(sangkien.pipeline.programs)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sangkien import store
from sangkien.errors import UserError
from sangkien.store.settings import default_program

if TYPE_CHECKING:
    from sangkien.reference.phases import Phase

_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")


@dataclass(frozen=True)
class Program:
    code: str
    name: str
    starts_on: dt.date
    ends_on: dt.date
    is_default: bool = False  # the node's default program (store.settings.default_program)


def list_programs(conn: Connection) -> list[Program]:
    """Every program, the node's default one first."""
    p = store.programs.c
    default = default_program(conn)
    rows = conn.execute(sa.select(p.code, p.name, p.starts_on, p.ends_on).order_by(p.starts_on, p.code)).all()
    programs = [Program(code, name, starts, ends, code == default) for code, name, starts, ends in rows]
    return sorted(programs, key=lambda program: not program.is_default)


def unknown_program(code: str, known: list[str]) -> UserError:
    """The one-line error for a program code the store does not hold, naming the ones it does."""
    return UserError(f"unknown program {code!r}; known programs: {', '.join(known)} "
                     "(add one with `sangkien programs add`)")


def get_program(conn: Connection, code: str | None) -> Program:
    """The program ``code`` (the node's default program when None); UserError naming the known ones otherwise."""
    code = code or default_program(conn)
    programs = {program.code: program for program in list_programs(conn)}
    if code not in programs:
        raise unknown_program(code, list(programs))
    return programs[code]


def counting_phases(conn: Connection) -> list[Phase]:
    """The phases the nightly validation counts by: the node's default program's, none counting initiatives
    applied before its window starts (as another program is counted, sangkien.pipeline.programs). ``1trieu``'s
    are taken as they are, as before programs existed."""
    from sangkien.reference.phases import get_phases

    program = get_program(conn, None)
    phases = get_phases(conn, program.code)
    if program.code == store.DEFAULT_PROGRAM:
        return phases
    return [dataclasses.replace(p, counts_from=max(p.counts_from, program.starts_on)) for p in phases]


def edit_program(engine: Engine, code: str, name: str | None = None, starts_on: dt.date | None = None,
                 ends_on: dt.date | None = None) -> Program:
    """Change a program's name or window; UserError for an unknown program, an inverted window, or a window
    that would leave one of its phases outside."""
    from sangkien.reference.phases import get_phases

    with engine.begin() as conn:
        old = get_program(conn, code)
        new = Program(old.code, name or old.name, starts_on or old.starts_on, ends_on or old.ends_on, old.is_default)
        if new.ends_on < new.starts_on:
            raise UserError(f"program {code}: its window ends before it starts: {new.ends_on} < {new.starts_on}")
        outside = [p for p in get_phases(conn, code) if p.starts_on < new.starts_on or p.ends_on > new.ends_on]
        if outside and conn.execute(sa.select(store.phases.c.phase).where(store.phases.c.program == code)).first():
            raise UserError(f"program {code}: phase {outside[0].phase} ({outside[0].starts_on} – {outside[0].ends_on}) "
                            f"would lie outside {new.starts_on} – {new.ends_on}; load its phases again first")
        conn.execute(store.programs.update().where(store.programs.c.code == code).values(
            name=new.name, starts_on=new.starts_on, ends_on=new.ends_on))
    return new


def add_program(engine: Engine, code: str, name: str, starts_on: dt.date, ends_on: dt.date) -> Program:
    """Add a program; UserError for a malformed or taken code or an inverted window."""
    if not _CODE.fullmatch(code):
        raise UserError(f"program code {code!r} must be letters, digits, '-', '_' or '.', at most 32 (e.g. VC-2022)")
    if ends_on < starts_on:
        raise UserError(f"program {code}: its window ends before it starts: {ends_on} < {starts_on}")
    with engine.begin() as conn:
        if conn.execute(sa.select(store.programs.c.code).where(store.programs.c.code == code)).first():
            raise UserError(f"program {code!r} exists already; `sangkien programs show {code}` shows it")
        conn.execute(store.programs.insert().values(code=code, name=name, starts_on=starts_on, ends_on=ends_on))
    return Program(code, name, starts_on, ends_on)
