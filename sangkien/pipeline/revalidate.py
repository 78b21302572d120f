"""Validating landed rows again from their stored payloads (no new pull), in one run that then resolves and
rolls up: the held rows after a fix (``quarantine release``), or every row after the node's default program
changed (``programs default``: its phases and window decide each record's phase and eligibility)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from sangkien import store
from sangkien.errors import UserError
from sangkien.pipeline.run import Run, resolve_and_roll_up
from sangkien.pipeline.validate import validate_source
from sangkien.reference.phases import get_phases
from sangkien.reference.programs import Program, get_program
from sangkien.store.registry import list_connectors, source_mapping
from sangkien.store.settings import DEFAULT_PROGRAM_KEY, default_program, put_setting


@dataclass
class Released:
    """What a release did: rows re-validated and where they went."""

    released: int = 0
    accepted: int = 0
    ineligible: int = 0
    quarantined: int = 0
    skipped_sources: list[str] = field(default_factory=list)  # sources no longer registered


def revalidate_every_row(engine: Engine, why: str) -> Released:
    """Validate every landed row of every registered source again from its stored payload (no new pull), then
    resolve and roll up: after the default program changed, its phases and window decide each record's phase and
    eligibility. ``why`` names the run ("default program VC-2022")."""
    with engine.connect() as conn:
        connectors = {row["name"]: row for row in list_connectors(conn)}
        r = store.raw_records.c
        landed = set(conn.scalars(sa.select(r.source).where(r.outcome.is_not(None)).distinct()))
    result = Released(skipped_sources=sorted(landed - set(connectors)))
    return revalidate(engine, sorted(landed & set(connectors)), connectors, result, why,
                       lambda name: sa.select(store.raw_records.c.id.label("raw_id")).where(
                           store.raw_records.c.source == name, store.raw_records.c.outcome.is_not(None)))


def revalidate(engine: Engine, sources: list[str], connectors: dict[str, Any], result: Released, why: str,
                rows: Callable[[str], sa.Select]) -> Released:
    """In one run (noted ``why``): clear the outcome of each source's ``rows`` (a select of raw_id), validate them
    again, then resolve and roll up."""
    if not sources:
        return result
    with Run.start(engine, mode=why) as run:
        for name in sources:
            result.released += _unhold(engine, rows(name))
            counts = validate_source(engine, name, source_mapping(connectors[name]), run.run_id)
            result.accepted += counts.accepted
            result.ineligible += counts.ineligible
            result.quarantined += counts.quarantined
        resolve_and_roll_up(engine, run.run_id)
        run.note = f"{why}: {result.released} row(s) re-validated"
    return result


def _unhold(engine: Engine, rows: sa.Select) -> int:
    """Clear the outcome of ``rows`` (a select of raw_id), so validation decides them again."""
    r = store.raw_records
    with engine.begin() as conn:
        ids = rows.subquery()
        return int(conn.execute(
            r.update().where(r.c.id.in_(sa.select(ids.c.raw_id))).values(outcome=None, reason=None)).rowcount)


def make_default(engine: Engine, code: str) -> tuple[Program, Released | None]:
    """Make ``code`` the node's default program and validate every landed row again by its phases (None: it was
    the default already, nothing done); UserError for an unknown program or one without phases."""
    with engine.begin() as conn:
        program = get_program(conn, code)
        if default_program(conn) == program.code:
            return program, None
        if not get_phases(conn, program.code):
            raise UserError(f"program {program.code} has no phases to count by; load them first: "
                            f"`sangkien phases load FILE.csv --program {program.code}`")
        put_setting(conn, DEFAULT_PROGRAM_KEY, program.code)
        conn.execute(store.summary_state.delete())  # what people read is worked out again for this program
    return program, revalidate_every_row(engine, f"default program {program.code}")
