"""Node settings: small named values kept in the store (``sangkien node show|set``).

Each known key has a parser that turns the text a user types into the stored value
and rejects anything else with a one-line message.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sangkien import store
from sangkien.errors import UserError


def _source_list(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if len(set(names)) != len(names):
        raise UserError(f"status_priority lists a source twice: {text!r}")
    return names


# key -> (parser of the typed text, description)
KNOWN: dict[str, tuple[Callable[[str], Any], str]] = {
    "status_priority": (_source_list,
                        "sources whose status wins when an initiative's copies disagree, most trusted first "
                        "(comma-separated connector names; unlisted sources come after, and among equals "
                        "valid beats pending beats rejected)"),
}


def get_setting(conn: Connection, key: str) -> Any:
    row = conn.execute(sa.select(store.node_settings.c.value).where(store.node_settings.c.key == key)).first()
    return row[0] if row else None


def all_settings(conn: Connection) -> dict[str, Any]:
    return {k: v for k, v in conn.execute(sa.select(store.node_settings.c.key, store.node_settings.c.value)).all()}


def set_setting(conn: Connection, key: str, text: str) -> Any:
    """Parse ``text`` for ``key`` and store it; returns the stored value."""
    if key not in KNOWN:
        raise UserError(f"unknown setting {key!r}; known: {', '.join(sorted(KNOWN))}")
    value = KNOWN[key][0](text)
    t = store.node_settings
    now = dt.datetime.now(dt.timezone.utc)
    if conn.execute(sa.select(t.c.key).where(t.c.key == key)).first():
        conn.execute(t.update().where(t.c.key == key).values(value=value, updated_at=now))
    else:
        conn.execute(t.insert().values(key=key, value=value, updated_at=now))
    return value
