"""At an upper node: the child nodes allowed to push here, and their tokens.

``sangkien nodes add CODE`` issues a token once: it is printed a single time and only
its SHA-256 is stored (a token is 32 random bytes, so a plain digest cannot be guessed
back). A request's bearer token is looked up by its digest and compared in constant
time. A revoked token stops working at once; adding the node again issues a new one.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sangkien import store
from sangkien.errors import UserError

TOKEN_PREFIX = "sk_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChildNode:
    code: str
    token_hint: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def add_child(conn: Connection, code: str) -> str:
    """Register ``code`` (a unit of the org tree) as a child node; returns its new token, shown once."""
    unit = conn.execute(sa.select(store.org_units.c.code).where(store.org_units.c.code == code)).first()
    if unit is None:
        raise UserError(f"unknown unit {code!r}: a child node is an org unit (`sangkien orgs list`)")
    t = store.child_nodes
    existing = conn.execute(sa.select(t.c.revoked_at).where(t.c.code == code)).first()
    if existing is not None and existing.revoked_at is None:
        raise UserError(f"node {code} already has a token; `sangkien nodes revoke {code}` first to issue a new one")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    values = {"token_hash": _digest(token), "token_hint": token[:10], "created_at": dt.datetime.now(dt.UTC),
              "revoked_at": None}
    if existing is None:
        conn.execute(t.insert().values(code=code, **values))
    else:
        conn.execute(t.update().where(t.c.code == code).values(**values))
    return token


def revoke_child(conn: Connection, code: str) -> None:
    t = store.child_nodes
    row = conn.execute(sa.select(t.c.revoked_at).where(t.c.code == code)).first()
    if row is None:
        raise UserError(f"no child node {code!r}; `sangkien nodes list` shows them")
    if row.revoked_at is not None:
        raise UserError(f"node {code}'s token was already revoked at {row.revoked_at:%Y-%m-%d %H:%M}")
    conn.execute(t.update().where(t.c.code == code).values(revoked_at=dt.datetime.now(dt.UTC)))


def list_children(conn: Connection) -> list[ChildNode]:
    t = store.child_nodes
    return [ChildNode(r.code, r.token_hint, r.created_at, r.revoked_at)
            for r in conn.execute(sa.select(t).order_by(t.c.code))]


def authenticate(conn: Connection, token: str) -> str | None:
    """The child node's code for a live ``token``, else None."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = _digest(token)
    t = store.child_nodes
    row = conn.execute(sa.select(t.c.code, t.c.token_hash).where(t.c.token_hash == digest,
                                                                  t.c.revoked_at.is_(None))).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return row.code


def submissions_by_node(conn: Connection) -> dict[str, list[tuple[str, int, dt.datetime]]]:
    """Per child node and program: how many submissions it made and the latest as-of (program order)."""
    s = store.submissions.c
    found: dict[str, list[tuple[str, int, dt.datetime]]] = {}
    for node, program, n, as_of in conn.execute(
            sa.select(s.node, s.program, sa.func.count(), sa.func.max(s.as_of)).group_by(s.node, s.program)
            .order_by(s.node, s.program)).all():
        found.setdefault(node, []).append((program, n, as_of))
    return found
