"""A record's history in words, for `sangkien explain`: which run brought which content, and what changed."""
from __future__ import annotations

from typing import Any

from sangkien.present.clock import shown

_VALUE_SHOWN = 60


def _value(value: Any) -> str:
    text = "" if value is None else str(value)
    return repr(text if len(text) <= _VALUE_SHOWN else text[:_VALUE_SHOWN] + "…")


def format_history(ref: str, entries: list[dict[str, Any]]) -> list[str]:
    """Lines for one record (nothing when it has had one content only)."""
    if len(entries) < 2:
        return []
    lines = [f"  history of {ref}:"]
    for n, e in enumerate(entries):
        when = f"run {e['run']}" if e["run"] is not None else "an earlier run"
        head = f"    {when}, {shown(e['fetched_at'])}, from {e['origin'] or '?'}"
        if e["status"] == "stale":
            head += ": stale, older than the stored content, not applied"
        elif e["status"] == "superseded":
            head += f": replaced in run {e['replaced_run']}"
        else:
            head += ": current"
        lines.append(head)
        if n == 0:
            continue
        what = "differs in" if e["status"] == "stale" else "changed"
        for change in e["changes"]:
            lines.append(f"      {what} {change['field']}: {_value(change['before'])} → {_value(change['after'])}")
    return lines
