"""Node settings: small named values kept in the store (``sangkien node show|set``).

Each known key has a parser that turns the text a user types into the stored value
and rejects anything else with a one-line message.
"""
from __future__ import annotations

import datetime as dt
import re
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


def _unit_code(text: str) -> str:
    code = text.strip()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", code):
        raise UserError(f"code must be an org unit code (letters, digits, _ . -), got {text!r}")
    return code


def _url(text: str) -> str:
    url = text.strip()
    if not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", url):
        raise UserError(f"upstream_url must be an http(s) URL such as https://vgcl.example.vn, got {text!r}")
    if re.match(r"https?://[^/@]*@", url):
        raise UserError("upstream_url must not carry credentials; set upstream_token=env:VARIABLE instead")
    return url.rstrip("/")


def _secret_ref(name: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip()
        if not re.fullmatch(r"env:[A-Za-z_][A-Za-z0-9_]*|prefect-secret:[a-z0-9][a-z0-9-]*", value):
            raise UserError(f"{name} must reference a secret, not hold it: env:VARIABLE_NAME or "
                            "prefect-secret:block-name (the value itself is never stored)")
        return value
    return parse


def _size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*([kKmM]?)[bB]?\s*", text)
    if not match:
        raise UserError(f"intake_max_bytes must be a size such as 64M or 500k, got {text!r}")
    value = int(match.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[match.group(2).lower()]
    if value < 1024:
        raise UserError(f"intake_max_bytes must be at least 1k, got {text!r}")
    return value


def _share(text: str) -> float:
    value = text.strip()
    try:
        share = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError:
        share = -1.0
    if not 0 <= share <= 1:
        raise UserError(f"quarantine_limit must be a share such as 50% or 0.5 (100% never fails a source), "
                        f"got {text!r}")
    return share


def _yes_no(name: str) -> Callable[[str], bool]:
    def parse(text: str) -> bool:
        value = text.strip().lower()
        if value not in {"yes", "no", "true", "false", "on", "off"}:
            raise UserError(f"{name} must be yes or no, got {text!r}")
        return value in {"yes", "true", "on"}
    return parse


# key -> (parser of the typed text, description)
KNOWN: dict[str, tuple[Callable[[str], Any], str]] = {
    "code": (_unit_code, "this node's org unit (e.g. P01 for Hà Nội, VGCL for the national office); "
                         "what it pushes covers this unit's subtree"),
    "upstream_url": (_url, "the intake of the node above (its `sangkien serve` address), where `sangkien push` "
                           "sends this node's counts"),
    "upstream_token": (_secret_ref("upstream_token"),
                       "the token the node above issued with `sangkien nodes add` (env:VAR or prefect-secret:block)"),
    "program_key": (_secret_ref("program_key"),
                    "the program's shared key for hashing match keys (env:VAR or prefect-secret:block); every node "
                    "of a program uses the same key, so an initiative reaching the top twice is counted once"),
    "push_dates": (_yes_no("push_dates"),
                   "yes: each pushed initiative carries the day it was first submitted, so that the node above "
                   "ranks competition clusters per quarter with it (default no: a node above older than issue 20 "
                   "refuses the field; turn it on once the node above runs this version)"),
    "intake_max_bytes": (_size, "the largest submission `sangkien serve` accepts (default 64M); larger gets 413"),
    "quarantine_limit": (_share, "the share of a source's rows that may be quarantined before the sync counts "
                                 "the source as failed (default 50%; 100% never fails one); `connectors check` "
                                 "uses it too"),
    "status_priority": (_source_list,
                        "sources whose status wins when an initiative's copies disagree, most trusted first "
                        "(comma-separated connector names; unlisted sources come after, and among equals "
                        "valid beats pending beats rejected)"),
}


DEFAULT_PROGRAM_KEY = "default_program"  # set only by `sangkien programs default` (it validates the rows again)


def default_program(conn: Connection) -> str:
    """The program this node counts when none is named: the nightly sync validates by its phases, and report,
    reconcile, the workbook, the page and the push use it (``sangkien programs default``; else ``1trieu``)."""
    code = get_setting(conn, DEFAULT_PROGRAM_KEY)
    return str(code) if code else store.DEFAULT_PROGRAM


def get_setting(conn: Connection, key: str) -> Any:
    row = conn.execute(sa.select(store.node_settings.c.value).where(store.node_settings.c.key == key)).first()
    return row[0] if row else None


def all_settings(conn: Connection) -> dict[str, Any]:
    return {k: v for k, v in conn.execute(sa.select(store.node_settings.c.key, store.node_settings.c.value)).all()}


def set_setting(conn: Connection, key: str, text: str) -> Any:
    """Parse ``text`` for ``key`` and store it; returns the stored value."""
    if key == DEFAULT_PROGRAM_KEY:
        raise UserError(f"set the default program with `sangkien programs default {text.strip() or 'CODE'}` "
                        "(it validates the landed rows again by that program's phases)")
    if key not in KNOWN:
        raise UserError(f"unknown setting {key!r}; known: {', '.join(sorted(KNOWN))}")
    value = KNOWN[key][0](text)
    put_setting(conn, key, value)
    return value


def put_setting(conn: Connection, key: str, value: Any) -> None:
    """Store ``value`` under ``key`` as it is (callers check it first)."""
    t = store.node_settings
    now = dt.datetime.now(dt.UTC)
    if conn.execute(sa.select(t.c.key).where(t.c.key == key)).first():
        conn.execute(t.update().where(t.c.key == key).values(value=value, updated_at=now))
    else:
        conn.execute(t.insert().values(key=key, value=value, updated_at=now))
