"""Command line: ``python -m sandbox.generate --out DIR --initiatives N [--seed S] [--noise LEVEL]``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sandbox.generate.world import _check_arguments, generate_world

DESCRIPTION = "Deterministic simulated world for sangkien-sync."


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``python -m sandbox.generate --out DIR --initiatives N [--seed S] [--noise LEVEL]``."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.generate", description=DESCRIPTION)
    parser.add_argument("--out", type=Path, required=True, help="folder to write the world into")
    parser.add_argument("--initiatives", type=int, default=2000, help="number of distinct initiatives (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--noise", default="none", help="none, light, hard, real, or real:KIND "
                        "(one kind of sandbox.generate.realnoise; default none)")
    args = parser.parse_args(argv)
    try:
        _check_arguments(args.initiatives, args.seed, args.noise)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    summary = generate_world(args.out, args.initiatives, args.seed, args.noise)
    elapsed = time.perf_counter() - started
    print(f"wrote {summary.initiatives:,} initiatives, {summary.units:,} org units "
          f"({summary.grassroots_units:,} grassroots) to {summary.out_dir} in {elapsed:.1f} s")
    for name, count in summary.rows_per_source.items():
        print(f"  {name:<13} {count:>9,} rows in {len(summary.source_files[name])} file(s)")
    return 0
