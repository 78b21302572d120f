"""A worklist row in words: what the discrepancy is, what to do, and what fixing it does to the target.

The row is the pipeline's (sangkien.pipeline.worklist: kind, cause, unit, source, items,
expected, actual, target, standing, effect, crosses, params); every word comes from the
catalogue of the language asked for, so a Vietnamese page or workbook carries no English
and no identifiers. A source whose connector is of kind ``portal`` (or is named so) is
called the portal ("Cổng").
"""
from __future__ import annotations

import string
from collections.abc import Collection, Mapping
from functools import cache
from typing import Any

from sangkien.present import catalogue


class Explainer:
    """Explains worklist rows in ``lang``; ``portals`` are the source names that are the national portal."""

    def __init__(self, lang: str, portals: Collection[str] = ("portal",)):
        self.lang = lang
        self.texts = catalogue.texts(lang)
        self.portals = set(portals) | {"portal"}

    def source(self, name: str | None) -> str:
        """A source as people call it: the portal by its name in the language, others by their own name."""
        if not name:
            return ""
        return str(self.texts["portal_name"]) if name in self.portals else name

    def _number(self, value: Any) -> str:
        return catalogue.number(self.lang, value)

    def _holders(self, params: Mapping[str, Any]) -> str:
        names = [self.source(h) for h in params.get("holders") or []]
        if not names:
            return str(self.texts["holders_other"])
        more = int(params.get("holders_more") or 0)
        joiner = str(self.texts["and"])
        if more:
            return str(self.texts["holders_more"]).format(first=", ".join(names), more=more)
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + joiner + names[-1]

    def explanation(self, row: Mapping[str, Any]) -> str:
        """One sentence: the cause, its size, and what to do."""
        params = row.get("params") or {}
        template = self.texts["explain"].get(row["cause"])
        if template is None:
            return catalogue.label(self.lang, "causes", row["cause"])
        fields = _fields(str(template))  # only what this sentence names: a national CSV has 100,000 rows
        words = {"n": lambda: self._number(params.get("n", row.get("items"))),
                 "source": lambda: self.source(row.get("source")),
                 "holders": lambda: self._holders(params),
                 "unit": lambda: row.get("unit_name") or row.get("unit_code") or "",
                 "ends_on": lambda: catalogue.day(self.lang, params.get("ends_on")),
                 "as_of": lambda: catalogue.day(self.lang, params.get("as_of")),
                 "basis": lambda: catalogue.label(self.lang, "bases", params.get("basis")),
                 "successor": lambda: params.get("successor") or ""}
        values = {name: words[name]() if name in words else self._number(params.get(name)) for name in fields}
        return str(template).format(**values)

    def effect_code(self, row: Mapping[str, Any]) -> str:
        """crosses, narrows, at_target, no_target or none: what resolving the row does to the unit's target."""
        target, standing, effect = row.get("target"), row.get("standing"), row.get("effect") or 0
        if row.get("kind") == "quota" or standing is None:
            return "none" if target else "no_target"
        if not target:
            return "no_target"
        if standing >= target:
            return "at_target"
        if row.get("crosses"):
            return "crosses"
        return "narrows" if effect > 0 else "none"

    def effect(self, row: Mapping[str, Any]) -> str:
        """One sentence on the target, in the row's view (the portal's count, a source's, a child's push)."""
        code = self.effect_code(row)
        target, standing, effect = row.get("target"), row.get("standing"), row.get("effect") or 0
        if code == "none":
            return ""
        after = (standing or 0) + effect
        return str(self.texts["effects"][code]).format(
            view=self.view(row), after=self._number(after), target=self._number(target),
            after_pct=catalogue.percent(self.lang, after / target if target else None),
            now_pct=catalogue.percent(self.lang, (standing or 0) / target if target else None))

    def view(self, row: Mapping[str, Any]) -> str:
        views = self.texts["views"]
        if row.get("kind") == "sources":
            if row.get("source") in self.portals:
                return str(views["portal"])
            return str(views["source"]).format(source=self.source(row.get("source")))
        if row.get("kind") == "pushed":
            return str(views["pushed"]).format(unit=row.get("unit_name") or row.get("unit_code"))
        return str(views["counted"])

    def shown(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """The row with its words: kind and cause labels, the source as people call it, explanation, effect."""
        kind, cause = row.get("kind"), row.get("cause")
        return {**row, "kind_label": self.texts["discrepancy_kinds"].get(kind, kind or ""),
                "cause_label": self.texts["causes"].get(cause, cause or ""),
                "source_label": self.source(row.get("source")) if kind == "sources" else "",
                "explanation": self.explanation(row), "effect_code": self.effect_code(row),
                "effect_text": self.effect(row)}


@cache
def _fields(template: str) -> tuple[str, ...]:
    """The names a template fills in ("{n} sáng kiến ... {source}" -> n, source)."""
    return tuple(name for _, name, _, _ in string.Formatter().parse(template) if name)
