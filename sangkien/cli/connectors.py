"""`sangkien connectors`: register, inspect, check and remove sources.

The connector kinds and the store are imported inside each command: they load pydantic,
pandas and SQLAlchemy, which `sangkien --help` and the other commands need not wait for."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from sangkien.cli.common import Subparsers, add_group, open_engine
from sangkien.errors import UserError


def cmd_connectors_kinds(args: argparse.Namespace) -> int:
    from connectors.kinds import connector_kinds

    for name, kind in sorted(connector_kinds().items()):
        print(f"{name}: {kind.description}")
        for field, info in kind.Settings.model_fields.items():
            default = "" if info.is_required() else f" (default {info.default!r})"
            print(f"  {field}{default}: {info.description or ''}")
    return 0


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
    from sangkien.present.clock import shown
    from sangkien.store.registry import list_connectors

    def when(cursor: str) -> str:
        """A source's change cursor as people read times, when it is one (a time with or without its offset)."""
        try:
            return shown(cursor)
        except (TypeError, ValueError):
            return str(cursor)

    with open_engine(args).connect() as conn:
        rows = list_connectors(conn)
    if not rows:
        print("no connectors registered; add one with `sangkien connectors add NAME --kind files --config FILE.yaml`")
    for row in rows:
        state = row["state"] or {}
        where = row["config"].get("path") or row["config"].get("base_url") or ""
        progress = (f"{len(state['files'])} file(s) read" if "files" in state
                    else f"synced up to {when(state['updated_since'])}" if state.get("updated_since")
                    else "not synced yet")
        print(f"{row['name']:20} {row['kind']:8} {where}  ({progress})")
    return 0


def cmd_connectors_show(args: argparse.Namespace) -> int:
    from sangkien.store.registry import get_connector_row

    with open_engine(args).connect() as conn:
        row = get_connector_row(conn, args.name)
    print(json.dumps({"name": row["name"], "kind": row["kind"], "settings": row["config"],
                      "state": row["state"] or {}}, ensure_ascii=False, indent=2, default=str))
    return 0


def cmd_connectors_check(args: argparse.Namespace) -> int:
    from connectors.base import ConnectorError
    from sangkien.store.registry import build_connector, get_connector_row

    with open_engine(args).connect() as conn:
        row = get_connector_row(conn, args.name)
    try:
        print(f"{args.name}: ok: {build_connector(row).check()}")
    except ConnectorError as exc:
        raise UserError(f"{args.name}: {exc.error_type} error: {exc}") from None
    return 0


def cmd_connectors_remove(args: argparse.Namespace) -> int:
    from sangkien.store.registry import remove_connector

    remove_connector(open_engine(args), args.name)
    print(f"removed connector {args.name!r} (its landed records stay in the store)")
    return 0


def register(sub: Subparsers) -> None:
    conns = add_group(sub, "connectors", "registered sources")
    conns.add_parser("kinds", help="installed connector kinds and their settings").set_defaults(
        func=cmd_connectors_kinds)
    p = conns.add_parser("add", help="register a source")
    p.add_argument("name")
    p.add_argument("--kind", required=True)
    p.add_argument("--config", help="YAML file of settings")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="a setting (repeatable; columns.title=Tên for nested ones; secrets as env:VAR)")
    p.set_defaults(func=cmd_connectors_add)
    p = conns.add_parser("edit", help="change settings of a registered source")
    p.add_argument("name")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", required=True)
    p.set_defaults(func=cmd_connectors_edit)
    conns.add_parser("list", help="registered sources").set_defaults(func=cmd_connectors_list)
    for action, func, text in (("show", cmd_connectors_show, "settings and state of a source"),
                               ("check", cmd_connectors_check, "test that a source can be read"),
                               ("remove", cmd_connectors_remove, "unregister a source (its records stay)")):
        p = conns.add_parser(action, help=text)
        p.add_argument("name")
        p.set_defaults(func=func)
