"""`sangkien sandbox` and `demo`: the simulated world, its servers, and the demo that syncs one.

sandbox/ is imported inside each command: the generator and the servers load numpy, pandas and
the web stack (the demo imports them, and Prefect, when it runs)."""
from __future__ import annotations

import argparse
from pathlib import Path

from sangkien.cli.common import Subparsers, add_command, add_group
from sangkien.cli.demo import run_demo
from sangkien.errors import UserError


def cmd_sandbox_generate(args: argparse.Namespace) -> int:
    from sandbox.generate import generate_world

    try:
        summary = generate_world(Path(args.out), args.initiatives, seed=args.seed, noise=args.noise,
                                 seeds=args.seeds)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    print(f"wrote a world of {args.initiatives:,} initiatives ({summary.total_rows:,} source rows, "
          f"{summary.units:,} units) to {args.out}")
    print(f"  orgs: {summary.orgs_path}\n  quotas: {summary.quotas_path}\n  truth: {summary.truth_path}")
    for name, config in sorted(summary.source_configs.items()):
        print(f"  source {name}: {config} ({summary.rows_per_source[name]:,} rows)")
    for name, path in (summary.seed_files or {}).items():
        print(f"  seeds {name}: {path}")
    return 0


def cmd_sandbox_serve(args: argparse.Namespace) -> int:
    from sandbox.servers.cli import main as serve_main

    argv = [args.kind, "--world", args.world, "--port", str(args.port), "--faults", args.faults or "",
            "--token", args.token, "--style", args.style]
    if args.source:
        argv += ["--source", args.source]
    return serve_main(argv)


def cmd_sandbox_proxy(args: argparse.Namespace) -> int:
    from sandbox.servers.cli import proxy_main

    return proxy_main(args.upstream, args.faults, args.port)


def cmd_demo(args: argparse.Namespace) -> int:
    return run_demo(Path(args.dir), args.initiatives, args.seed, args.db, args.seeds)


def _add_sandbox(sub: Subparsers) -> None:
    sandbox = add_group(sub, "sandbox", "the simulated world",
                        examples=("sangkien sandbox generate --out world --initiatives 5000",
                                  "sangkien sandbox serve portal --world world"))
    p = add_command(sandbox, "generate", cmd_sandbox_generate,
                    "write a simulated world (org tree, quotas, sources, truth)",
                    examples=("sangkien sandbox generate --out world --initiatives 5000 --seed 1 --noise light",))
    p.add_argument("--out", required=True, metavar="FOLDER", help="where to write the world")
    p.add_argument("--initiatives", type=int, default=2000, help="how many distinct initiatives (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same world (default 0)")
    p.add_argument("--noise", default="none",
                   help="none, light, hard, real, or real:KIND (one kind of sandbox/generate/realnoise.py)")
    p.add_argument("--seeds", action="store_true",
                   help="the targets, rounds, member counts and clusters of the five source documents (SEEDS.md)")

    p = add_command(sandbox, "serve", cmd_sandbox_serve, "serve a world's portal or a provincial REST system on "
                    "127.0.0.1", examples=("sangkien sandbox serve portal --world world",
                                           "sangkien sandbox serve rest --world world --style cursor "
                                           "--faults 5xx=0.05,429=0.05"))
    p.add_argument("kind", choices=("portal", "rest"), help="portal, or rest (a provincial system)")
    p.add_argument("--world", required=True, help="a folder written by `sandbox generate`")
    p.add_argument("--port", type=int, default=0, help="default: any free port (printed)")
    p.add_argument("--faults",
                   help='e.g. "5xx=0.05,429=0.05,slow=0.02,truncated=0.03,drop=0.02,shift=0.02,update=0.01"')
    p.add_argument("--token", default="demo-token", help="the token / API key clients must send")
    p.add_argument("--style", choices=("page", "offset", "cursor", "link"), default="page", help="rest paging style")
    p.add_argument("--source", help="rest: which world source to serve (default hanoi)")

    p = add_command(sandbox, "proxy", cmd_sandbox_proxy, "put any HTTP source behind injected faults on 127.0.0.1 "
                    "(5xx, 429, slow, truncated and dropped answers)",
                    examples=("sangkien sandbox proxy http://127.0.0.1:8001 --faults 5xx=0.1,429=0.05,drop=0.05",))
    p.add_argument("upstream", help="the source's base URL; every GET is forwarded there (path, query, headers)")
    p.add_argument("--faults", default="5xx=0.06,429=0.03,slow=0.02,truncated=0.05,drop=0.04",
                   help="as for serve, without shift and update (default: 20%% of requests, mixed)")
    p.add_argument("--port", type=int, default=0, help="default: any free port (printed)")


def register(sub: Subparsers) -> None:
    _add_sandbox(sub)
    p = add_command(sub, "demo", cmd_demo, "generate a small world, sync it through Prefect, print the report",
                    examples=("sangkien demo", "sangkien demo --dir /tmp/demo --initiatives 500"))
    p.add_argument("--dir", default="sangkien-demo", help="work folder (default ./sangkien-demo)")
    p.add_argument("--initiatives", type=int, default=3000, help="the world's size (default 3000)")
    p.add_argument("--seed", type=int, default=2022, help="the same seed gives the same world (default 2022)")
    p.add_argument("--seeds", action="store_true", help="the seed world: the five source documents' targets, "
                   "members, clusters and the Public Employees' program (SEEDS.md)")
