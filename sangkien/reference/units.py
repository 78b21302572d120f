"""Resolve the unit text a source sends (a code, a name or an alias) to a unit code."""
from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sangkien import store
from sangkien.text.fold import fold, fold_series

UNION_PREFIXES = ("cong doan co so ", "cdcs ", "cong doan ", "cd ")  # folded, longest first


def strip_union_prefix(folded: str | None) -> str | None:
    """A folded unit name without its leading union prefix ("cong doan co so", "cdcs", "cd"), or None."""
    if not isinstance(folded, str):
        return None
    for prefix in UNION_PREFIXES:
        if folded.startswith(prefix) and len(folded) > len(prefix):
            return folded[len(prefix):]
    return None


@dataclass
class UnitResolver:
    """Codes match exactly (ignoring case); names and aliases match after Vietnamese folding."""

    codes: dict[str, str]  # upper-cased code → code
    names: dict[str, str]  # folded name/alias → code, for names naming one unit only
    ambiguous: set[str]    # folded names/aliases shared by several units

    @classmethod
    def from_store(cls, conn: Connection) -> UnitResolver:
        """The resolver over the store's org tree. Reading the names is cheap, folding them is not (0.45 s for
        the national tree): a tree read as before gives back the resolver already built (every source of a
        run, and every run of a worker process, reads the same tree). Treat the result as read-only."""
        units = conn.execute(sa.select(store.org_units.c.code, store.org_units.c.name)
                             .order_by(store.org_units.c.code)).tuples().all()
        aliases = conn.execute(sa.select(store.org_aliases.c.unit_code, store.org_aliases.c.alias)
                               .order_by(store.org_aliases.c.unit_code, store.org_aliases.c.alias)).tuples().all()
        return _resolver_of(tuple(map(tuple, units)), tuple(map(tuple, aliases)))

    @classmethod
    def from_names(cls, units: list[tuple[str, str]], aliases: list[tuple[str, str]]) -> UnitResolver:
        """A resolver over (code, name) units and (code, alias) aliases.

        People type a grassroots union by its workplace: "CĐCS Trường X" or plain "Trường X"
        for "Công đoàn cơ sở Trường X". So each name also answers without its union prefix,
        where that shorter form names one unit only.
        """
        owners: dict[str, set[str]] = {}
        bare_owners: dict[str, set[str]] = {}
        for code, text in [*units, *aliases]:
            folded = fold(text)
            owners.setdefault(folded, set()).add(code)
            bare = strip_union_prefix(folded)
            if bare:
                bare_owners.setdefault(bare, set()).add(code)
        for bare, codes in bare_owners.items():  # an exact name beats a shortened one
            if bare not in owners:
                owners[bare] = codes
        names = {k: next(iter(v)) for k, v in owners.items() if len(v) == 1 and k}
        return cls({code.upper(): code for code, _ in units}, names, {k for k, v in owners.items() if len(v) > 1})

    def resolve_series(self, text: pd.Series) -> tuple[pd.Series, pd.Series]:
        """(unit code or missing, ambiguous mask) for each value of ``text``."""
        uniques = pd.Series(text.unique())
        by_code = uniques.str.strip().str.upper().map(self.codes)
        folded = fold_series(uniques)
        by_name = folded.map(self.names)
        bare = folded.map(strip_union_prefix)
        by_bare = bare.map(self.names)
        resolved = by_code.where(by_code.notna(), by_name.where(by_name.notna(), by_bare))
        unresolved = by_code.isna() & by_name.isna()
        ambiguous = unresolved & (folded.isin(self.ambiguous) | (by_bare.isna() & bare.isin(self.ambiguous)))
        lookup = pd.DataFrame({"code": resolved.values, "ambiguous": ambiguous.values}, index=uniques.values)
        return (text.map(lookup["code"]).astype(object), text.map(lookup["ambiguous"]).fillna(False).astype(bool))


@functools.lru_cache(maxsize=4)
def _resolver_of(units: tuple[tuple[str, str], ...], aliases: tuple[tuple[str, str], ...]) -> UnitResolver:
    return UnitResolver.from_names(list(units), list(aliases))
