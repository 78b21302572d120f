"""The `sangkien` command line: the top-level parser and the entry point.

Each command group lives in a module of its own beside this one, with a ``register(sub)`` that
adds its parsers; sangkien.cli.common holds what they share (the parser class, --db and --debug,
errors as one line and an exit code)."""
from __future__ import annotations

import argparse
import sys

from sangkien.cli import common, connectors, deploy, match, matching, reference, reports, runs, sandbox, sync, tiers

# The groups in the order `sangkien --help` lists their commands: orgs quotas phases, connectors,
# sync resolve, match, explain review, node nodes push serve, deploy, report reconcile export, quarantine runs,
# sandbox demo.
GROUPS = (reference, connectors, sync, match, matching, tiers, deploy, reports, runs, sandbox)


def build_parser() -> argparse.ArgumentParser:
    parser = common.Parser(prog="sangkien", description="Sync, deduplicate, roll up and reconcile initiative records "
                           "between the tiers of the Vietnamese trade-union system.")
    common.add_global_options(parser)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=common.Parser)
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)  # --help and --version print here
    except BrokenPipeError:  # `sangkien --help | head`
        return common.closed_pipe()
    code = common.run(args)
    try:
        sys.stdout.flush()  # a pipe closed after the last write fails here, not in the interpreter's exit
    except BrokenPipeError:
        return common.closed_pipe()
    return code


if __name__ == "__main__":
    sys.exit(main())
