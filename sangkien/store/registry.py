"""Registered connectors: add, list, show, remove, and build them from the store."""
from __future__ import annotations

import datetime as dt
import difflib
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import Connection, Engine

from connectors.base import Connector, format_validation_error
from connectors.kinds import connector_kinds
from sangkien import store
from sangkien.errors import UserError
from schemas.fields import REQUIRED_FIELDS, SourceMapping

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def read_config_file(path: Path) -> dict[str, Any]:
    """Settings from a YAML file; a relative ``path`` setting is made absolute against the file's folder."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise UserError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of settings (key: value), got {type(data).__name__}")
    data.pop("kind", None)
    if isinstance(data.get("path"), str) and not Path(data["path"]).is_absolute():
        data["path"] = str((Path(path).resolve().parent / data["path"]).resolve())
    return data


def parse_assignments(assignments: list[str]) -> dict[str, Any]:
    """``key=value`` settings (``columns.title=Tên`` for nested keys; values read as YAML scalars)."""
    config: dict[str, Any] = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--set {item!r}: expected key=value")
        try:
            parsed = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            parsed = value
        target = config
        *parents, leaf = key.strip().split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value if isinstance(parsed, (dict, list)) or parsed is None else parsed
    return config


def merge_settings(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated with ``changes``, nested mappings merged key by key."""
    merged = dict(base)
    for key, value in changes.items():
        merged[key] = merge_settings(merged[key], value) if isinstance(value, dict) and isinstance(
            merged.get(key), dict) else value
    return merged


def edit_connector(engine: Engine, name: str, changes: dict[str, Any]) -> None:
    """Change some settings of a registered connector, validated like on add."""
    with engine.begin() as conn:
        row = get_connector_row(conn, name)
        settings = validate_settings(row["kind"], merge_settings(row["config"], changes))
        conn.execute(store.connectors.update().where(store.connectors.c.name == name)
                     .values(config=settings.model_dump(mode="json"), updated_at=_now()))


def validate_settings(kind: str, config: dict[str, Any]) -> BaseModel:
    """The kind's settings model for ``config``; UserError with field-level messages otherwise."""
    kinds = connector_kinds()
    if kind not in kinds:
        raise UserError(f"unknown connector kind {kind!r}; installed kinds: {', '.join(sorted(kinds))}")
    try:
        return kinds[kind].Settings.model_validate(config)
    except ValidationError as exc:
        raise UserError(f"invalid settings for a {kind} connector: "
                        f"{format_validation_error(exc, kinds[kind].Settings)}") from None


def add_connector(engine: Engine, name: str, kind: str, config: dict[str, Any]) -> None:
    """Register a connector after validating its settings."""
    if not NAME_RE.match(name):
        raise UserError(f"connector name {name!r} must be lowercase letters, digits, '-' or '_' (max 64)")
    settings = validate_settings(kind, config)
    with engine.begin() as conn:
        if conn.execute(sa.select(store.connectors.c.name).where(store.connectors.c.name == name)).first():
            raise UserError(f"a connector named {name!r} already exists; remove it first or pick another name")
        now = _now()
        conn.execute(store.connectors.insert().values(
            name=name, kind=kind, config=settings.model_dump(mode="json"), created_at=now, updated_at=now))


def list_connectors(conn: Connection) -> list[dict[str, Any]]:
    """Every registered connector with its kind, settings and state."""
    rows = conn.execute(
        sa.select(store.connectors, store.connector_state.c.state)
        .join(store.connector_state, store.connector_state.c.connector == store.connectors.c.name, isouter=True)
        .order_by(store.connectors.c.name)).mappings().all()
    return [dict(r) for r in rows]


def get_connector_row(conn: Connection, name: str) -> dict[str, Any]:
    rows = list_connectors(conn)
    for row in rows:
        if row["name"] == name:
            return row
    close = difflib.get_close_matches(name, [r["name"] for r in rows], 1, 0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise UserError(f"no connector named {name!r}; {hint}`sangkien connectors list` shows the registered ones")


def remove_connector(engine: Engine, name: str) -> None:
    """Unregister a connector; its landed records stay in the store."""
    with engine.begin() as conn:
        get_connector_row(conn, name)
        conn.execute(store.connector_state.delete().where(store.connector_state.c.connector == name))
        conn.execute(store.connectors.delete().where(store.connectors.c.name == name))


def build_connector(row: dict[str, Any]) -> Connector:
    """A live connector from a registered row."""
    settings = validate_settings(row["kind"], row["config"])
    return connector_kinds()[row["kind"]](row["name"], settings)


def connector_for_discovery(name: str, kind: str, config: dict[str, Any]) -> Connector:
    """A connector to discover a source's columns with, before its mapping is known: a kind that takes
    ``columns`` gets a placeholder mapping when none is given (discovery reads no column by name)."""
    kinds = connector_kinds()
    if kind in kinds and "columns" in kinds[kind].Settings.model_fields and not config.get("columns"):
        config = {**config, "columns": {f: f"<{f}>" for f in REQUIRED_FIELDS}}
    settings = validate_settings(kind, config)  # an unknown kind: a one-line error naming the installed ones
    return kinds[kind](name, settings)


def source_mapping(row: dict[str, Any]) -> SourceMapping:
    """What validating a registered source's rows reads of its settings (no connector is built)."""
    settings = validate_settings(row["kind"], row["config"])
    return connector_kinds()[row["kind"]].mapping_of(settings)


def save_state(conn: Connection, name: str, state: dict[str, Any]) -> None:
    """Write a connector's state (inside the caller's transaction)."""
    updated = conn.execute(store.connector_state.update()
                           .where(store.connector_state.c.connector == name)
                           .values(state=state, updated_at=_now()))
    if updated.rowcount == 0:
        conn.execute(store.connector_state.insert().values(connector=name, state=state, updated_at=_now()))
