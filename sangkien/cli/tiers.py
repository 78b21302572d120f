"""`sangkien node`, `nodes`, `push`, `serve`: this node's settings, the child nodes allowed to push here,
pushing upward, and serving the intake, the totals and the dashboard.

The store, the push and the API (uvicorn, FastAPI) are imported inside each command: they load
pandas, SQLAlchemy and the web stack, which `sangkien --help` and the other commands need not wait for."""
from __future__ import annotations

import argparse
import logging
import threading
from pathlib import Path

from sangkien.cli.common import Subparsers, add_command, add_group, check_port_free, open_engine
from sangkien.errors import UserError


def cmd_node_show(args: argparse.Namespace) -> int:
    from sangkien.store.settings import DEFAULT_PROGRAM_KEY, KNOWN, all_settings, default_program

    with open_engine(args).connect() as conn:
        values = all_settings(conn)
        program = default_program(conn)
    for key, (_, text) in sorted(KNOWN.items()):
        value = values.get(key)
        shown = ", ".join(value) if isinstance(value, list) else ("(not set)" if value is None else str(value))
        print(f"{key} = {shown}\n    {text}")
    print(f"{DEFAULT_PROGRAM_KEY} = {program}\n    the program this node validates, counts, reports and pushes "
          "unless told otherwise (set it with `sangkien programs default CODE`)")
    return 0


def cmd_node_set(args: argparse.Namespace) -> int:
    from sangkien.store.settings import set_setting

    key, sep, text = args.assignment.partition("=")
    if not sep:
        raise UserError(f"write KEY=VALUE, e.g. status_priority=portal,hanoi; got {args.assignment!r}")
    with open_engine(args).begin() as conn:
        value = set_setting(conn, key.strip(), text)
    print(f"{key.strip()} = {', '.join(value) if isinstance(value, list) else value}")
    return 0


def cmd_nodes_add(args: argparse.Namespace) -> int:
    from sangkien.store.nodes import add_child

    with open_engine(args).begin() as conn:
        token = add_child(conn, args.code)
    print(f"node {args.code} may now push here. Its token (shown this once; only its hash is kept):\n\n  {token}\n\n"
          f"On node {args.code}: put the token in an environment variable, e.g. SANGKIEN_UPSTREAM_TOKEN, then\n"
          f"  sangkien node set upstream_url=<this node's address>\n"
          f"  sangkien node set upstream_token=env:SANGKIEN_UPSTREAM_TOKEN")
    return 0


def cmd_nodes_list(args: argparse.Namespace) -> int:
    from sangkien.present.clock import shown
    from sangkien.store.nodes import list_children, submissions_by_node

    with open_engine(args).connect() as conn:
        children = list_children(conn)
        latest = submissions_by_node(conn)
    if not children:
        print("no child nodes; `sangkien nodes add CODE` issues a token for one")
    for c in children:
        state = f"revoked {shown(c.revoked_at)}" if c.revoked_at else "active"
        pushed = "; ".join(f"{n} submission(s) for {program}, latest as of {shown(as_of)}"
                           for program, n, as_of in latest.get(c.code, [])) or "nothing pushed yet"
        print(f"{c.code:16} {state:32} token {c.token_hint}…  {pushed}")
    return 0


def cmd_nodes_revoke(args: argparse.Namespace) -> int:
    from sangkien.store.nodes import revoke_child

    with open_engine(args).begin() as conn:
        revoke_child(conn, args.code)
    print(f"node {args.code}'s token is revoked; its submissions are kept")
    return 0


def cmd_push(args: argparse.Namespace) -> int:
    from sangkien import store
    from sangkien.pipeline.push import build_submission, payload_json, push
    from sangkien.present.clock import shown

    engine = open_engine(args)
    if args.dry_run:
        with engine.connect() as conn:
            submission = build_submission(conn)
        if args.out:
            Path(args.out).write_text(payload_json(submission, indent=1), encoding="utf-8")
        print(f"would push {len(submission.units):,} unit rows and {len(submission.initiatives):,} initiatives "
              f"for program {submission.program or store.DEFAULT_PROGRAM}"
              f"as of {shown(submission.as_of)} (key {submission.idempotency_key})"
              + (f"; payload written to {args.out}" if args.out else ""))
        return 0
    result = push(engine, force=args.force)
    receipt = result.receipt or {}
    text = {"accepted": "pushed", "replayed": "already received (the first receipt came back)",
            "unchanged": "unchanged since the last accepted push: nothing sent"}[result.status]
    print(f"{text}: {len(result.submission.units):,} unit rows, {len(result.submission.initiatives):,} initiatives "
          f"for program {result.submission.program or store.DEFAULT_PROGRAM}, "
          f"as of {shown(result.submission.as_of)} to {result.upstream}; receipt "
          f"{receipt.get('submission_id')} received {shown(receipt.get('received_at'), '(no time)')}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from sangkien.serve.api import create_app
    from sangkien.serve.dashboard import warm

    engine = open_engine(args)  # before logging is set up: the store's upgrade has nothing to tell the operator
    check_port_free(args.host, args.port)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    app = create_app(engine, max_bytes=args.max_bytes, public_reads=args.public_reads)
    threading.Thread(target=warm, args=(engine,), daemon=True).start()  # the first viewer need not wait
    reads = ("reads are open to anyone who can reach this address (--public-reads)" if args.public_reads else
             "reading the figures and the dashboard needs a node token (--public-reads opens them)")
    print(f"serving on http://{args.host}:{args.port}: the dashboard at /, the intake API's docs at /docs; "
          f"{reads}; Ctrl-C stops", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning" if not args.debug else "info")
    return 0


def _add_node(sub: Subparsers) -> None:
    node = add_group(sub, "node", "this node's settings", examples=("sangkien node show", "sangkien node set code=P01"))
    add_command(node, "show", cmd_node_show, "every setting, its value and what it does",
                examples=("sangkien node show",))
    p = add_command(node, "set", cmd_node_set, "change a setting (`sangkien node show` lists them)",
                    examples=("sangkien node set code=P01", "sangkien node set status_priority=portal,hanoi",
                              "sangkien node set quarantine_limit=30%"))
    p.add_argument("assignment", metavar="KEY=VALUE", help="a setting and its value")


def _add_nodes(sub: Subparsers) -> None:
    nodes = add_group(sub, "nodes", "at an upper node: the child nodes allowed to push here",
                      examples=("sangkien nodes add P01", "sangkien nodes list"))
    p = add_command(nodes, "add", cmd_nodes_add, "issue a token for a child node (shown once)",
                    examples=("sangkien nodes add P01",))
    p.add_argument("code", help="the child's org unit code")
    add_command(nodes, "list", cmd_nodes_list, "child nodes, their token state and their latest push",
                examples=("sangkien nodes list",))
    p = add_command(nodes, "revoke", cmd_nodes_revoke, "stop a child's token from working",
                    examples=("sangkien nodes revoke P01",))
    p.add_argument("code", help="the child's org unit code")


def _add_push_and_serve(sub: Subparsers) -> None:
    p = add_command(sub, "push", cmd_push, "push this node's counts to the node above (upstream_url)",
                    examples=("sangkien push", "sangkien push --dry-run --out payload.json"))
    p.add_argument("--dry-run", action="store_true", help="build the payload and say what would be sent")
    p.add_argument("--out", metavar="FILE.json", help="with --dry-run: write the payload (JSON) here")
    p.add_argument("--force", action="store_true", help="send even when nothing changed since the last push")

    p = add_command(sub, "serve", cmd_serve, "serve the dashboard, the intake API for child nodes and the totals",
                    examples=("sangkien serve", "sangkien serve --host 0.0.0.0 --port 8700"))
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8700, help="port to listen on (default 8700)")
    p.add_argument("--max-bytes", type=int, help="largest submission accepted (default: intake_max_bytes, 64M)")
    p.add_argument("--public-reads", action="store_true",
                   help="the totals, the reconciliation and the dashboard need no token (default: a node token)")


def register(sub: Subparsers) -> None:
    _add_node(sub)
    _add_nodes(sub)
    _add_push_and_serve(sub)
