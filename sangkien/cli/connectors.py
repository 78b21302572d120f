"""`sangkien connectors`: register, inspect, check and remove sources.

The connector kinds and the store are imported inside each command: they load pydantic,
pandas and SQLAlchemy, which `sangkien --help` and the other commands need not wait for."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from sangkien.cli import console, probe
from sangkien.cli.common import Subparsers, add_command, add_group, open_engine
from sangkien.errors import UserError


def cmd_connectors_kinds(args: argparse.Namespace) -> int:
    from connectors.kinds import connector_kinds

    for name, kind in sorted(connector_kinds().items()):
        print(f"{name}: {kind.description}")
        for field, info in kind.Settings.model_fields.items():
            notes = [] if info.is_required() else [f"default {info.default!r}"]
            allowed = _allowed_values(info.annotation)
            if allowed:
                notes.append("one of " + ", ".join(allowed))
            note = f" ({'; '.join(notes)})" if notes else " (required)"
            print(f"  {field}{note}: {info.description or ''}")
    return 0


def _allowed_values(annotation: Any) -> list[str]:
    """The values a Literal setting allows (also inside ``X | None``), else []."""
    if get_origin(annotation) is Literal:
        return [str(v) for v in get_args(annotation)]
    return [v for arg in get_args(annotation) for v in _allowed_values(arg)]


def cmd_connectors_add(args: argparse.Namespace) -> int:
    from sangkien.store.registry import add_connector, merge_settings, parse_assignments, read_config_file

    if not args.config and not args.set:
        raise UserError("give the settings with --config FILE.yaml or --set key=value "
                        "(see `sangkien connectors kinds`)")
    config = read_config_file(Path(args.config)) if args.config else {}
    config = merge_settings(config, parse_assignments(args.set or []))
    add_connector(open_engine(args), args.name, args.kind, config)
    print(f"registered {args.kind} connector {args.name!r}")
    return 0


def cmd_connectors_edit(args: argparse.Namespace) -> int:
    from sangkien.store.registry import edit_connector, parse_assignments

    edit_connector(open_engine(args), args.name, parse_assignments(args.set))
    print(f"updated connector {args.name!r}")
    return 0


def cmd_connectors_list(args: argparse.Namespace) -> int:
    from sangkien.store.registry import list_connectors

    with open_engine(args).connect() as conn:
        rows = list_connectors(conn)
    if not rows:
        print("no connectors registered; add one with `sangkien connectors add NAME --kind files --config FILE.yaml`")
        return 0
    console.table(("name", "kind", "where", "state"),
                  [(row["name"], row["kind"], row["config"].get("base_url") or row["config"].get("path")
                    or row["config"].get("url") or "", synced_to(row["state"] or {})) for row in rows],
                  wide=("where", "state"))
    return 0


def _when(cursor: str) -> str:
    """A source's change cursor as people read times, when it is one (a time with or without its offset)."""
    from sangkien.present.clock import shown

    try:
        return shown(cursor)
    except (TypeError, ValueError):
        return str(cursor)


def synced_to(state: dict[str, Any]) -> str:
    """Where a source's saved state says the next sync resumes, in words (each kind keeps its own keys)."""
    if "files" in state:
        return f"{len(state['files'])} file(s) read"
    if state.get("next") or state.get("cursor"):
        return "a sync stopped mid-way; the next one resumes there"
    for key in ("since", "updated_since"):  # rest, portal: the change time of the newest record landed
        if state.get(key):
            return f"synced up to {_when(state[key])}"
    if state.get("after"):  # sql: the last (watermark, key) landed
        watermark, key = state["after"]
        return f"read up to {watermark or ''} key {key}".replace("  ", " ")
    return "not synced yet"


def cmd_connectors_show(args: argparse.Namespace) -> int:
    from sangkien.store.registry import get_connector_row

    with open_engine(args).connect() as conn:
        row = get_connector_row(conn, args.name)
    print(json.dumps({"name": row["name"], "kind": row["kind"], "settings": row["config"],
                      "state": row["state"] or {}}, ensure_ascii=False, indent=2, default=str))
    return 0


def cmd_connectors_remove(args: argparse.Namespace) -> int:
    from sangkien.store.registry import remove_connector

    remove_connector(open_engine(args), args.name)
    print(f"removed connector {args.name!r} (its landed records stay in the store)")
    return 0


def register(sub: Subparsers) -> None:
    conns = add_group(sub, "connectors", "register, inspect, check and remove sources",
                      examples=("sangkien connectors kinds",
                                "sangkien connectors discover --kind files --set path=drop/hanoi --write hanoi.yaml",
                                "sangkien connectors add hanoi --kind files --config hanoi.yaml",
                                "sangkien connectors check hanoi"))
    add_command(conns, "kinds", cmd_connectors_kinds, "installed connector kinds, their settings and allowed values",
                examples=("sangkien connectors kinds",))
    p = add_command(conns, "add", cmd_connectors_add, "register a source",
                    examples=("sangkien connectors add hanoi --kind files --config hanoi.yaml",
                              "sangkien connectors add portal --kind portal --set base_url=https://portal.example "
                              "--set token=env:PORTAL_TOKEN"))
    p.add_argument("name", help="a name for the source: lowercase letters, digits, '-' or '_'")
    p.add_argument("--kind", required=True, help="files, portal, rest or sql (`sangkien connectors kinds`)")
    p.add_argument("--config", metavar="FILE.yaml", help="YAML file of settings")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="a setting (repeatable; columns.title=Tên for nested ones; secrets as env:VAR)")
    p = add_command(conns, "edit", cmd_connectors_edit, "change settings of a registered source",
                    examples=("sangkien connectors edit hanoi --set date_format=%d/%m/%Y",
                              "sangkien connectors edit hanoi --set 'columns.title=Tên giải pháp'"))
    p.add_argument("name", help="a registered source")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", required=True, help="a setting (repeatable)")
    add_command(conns, "list", cmd_connectors_list, "registered sources and where each sync resumes",
                examples=("sangkien connectors list",))
    for action, func, text in (("show", cmd_connectors_show, "settings and state of a source (secrets are references)"),
                               ("remove", cmd_connectors_remove, "unregister a source (its records stay)")):
        p = add_command(conns, action, func, text, examples=(f"sangkien connectors {action} hanoi",))
        p.add_argument("name", help="a registered source")
    probe.register(conns)
