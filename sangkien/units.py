"""Resolve the unit text a source sends (a code, a name or an alias) to a unit code."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sangkien import store
from sangkien.normalize import fold, fold_series


@dataclass
class UnitResolver:
    """Codes match exactly (ignoring case); names and aliases match after Vietnamese folding."""

    codes: dict[str, str]  # upper-cased code → code
    names: dict[str, str]  # folded name/alias → code, for names naming one unit only
    ambiguous: set[str]    # folded names/aliases shared by several units

    @classmethod
    def from_store(cls, conn: Connection) -> "UnitResolver":
        units = conn.execute(sa.select(store.org_units.c.code, store.org_units.c.name)).all()
        aliases = conn.execute(sa.select(store.org_aliases.c.unit_code, store.org_aliases.c.alias)).all()
        return cls.from_names([(code, name) for code, name in units], [(code, alias) for code, alias in aliases])

    @classmethod
    def from_names(cls, units: list[tuple[str, str]], aliases: list[tuple[str, str]]) -> "UnitResolver":
        """A resolver over (code, name) units and (code, alias) aliases."""
        owners: dict[str, set[str]] = {}
        for code, text in [*units, *aliases]:
            owners.setdefault(fold(text), set()).add(code)
        names = {k: next(iter(v)) for k, v in owners.items() if len(v) == 1 and k}
        return cls({code.upper(): code for code, _ in units}, names, {k for k, v in owners.items() if len(v) > 1})

    def resolve_series(self, text: pd.Series) -> tuple[pd.Series, pd.Series]:
        """(unit code or missing, ambiguous mask) for each value of ``text``."""
        uniques = pd.Series(text.unique())
        by_code = uniques.str.strip().str.upper().map(self.codes)
        folded = fold_series(uniques)
        by_name = folded.map(self.names)
        resolved = by_code.where(by_code.notna(), by_name)
        ambiguous = by_code.isna() & folded.isin(self.ambiguous)
        lookup = pd.DataFrame({"code": resolved.values, "ambiguous": ambiguous.values}, index=uniques.values)
        return (text.map(lookup["code"]).astype(object), text.map(lookup["ambiguous"]).fillna(False).astype(bool))
