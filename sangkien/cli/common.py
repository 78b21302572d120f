"""What every command group shares: the parser class, the global options (--db, --debug) and how an error
becomes one line and an exit code, opening the store, keeping Prefect quiet, printing a run's table."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from sangkien.errors import ControlTotalError, UserError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from sangkien.pipeline.run import SourceResult

# The parsers' `add_subparsers()`: each group module's register(sub) adds its commands to one.
Subparsers = argparse._SubParsersAction


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line instead of usage + error
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def add_group(sub: Subparsers, name: str, help_text: str) -> Subparsers:
    """A command with actions of its own (`sangkien NAME ACTION ...`): the subparsers its actions go in."""
    return sub.add_parser(name, help=help_text).add_subparsers(dest="action", required=True, parser_class=Parser)


def add_global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="database URL (default: $SANGKIEN_DB_URL or sqlite:///sangkien.db)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")


def run(args: argparse.Namespace) -> int:
    """Run the parsed command: errors are one line on stderr (the traceback only with --debug).

    Exit codes: 0 done, 2 a user's error, 3 a control total that does not add up, 130 interrupted,
    1 anything unexpected."""
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        if args.debug:
            raise
        print(f"sangkien: error: {exc}", file=sys.stderr)
        return 2
    except ControlTotalError as exc:
        if args.debug:
            raise
        print(f"sangkien: error: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("sangkien: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence for people
        if args.debug:
            raise
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"sangkien: error: unexpected {type(exc).__name__}: {text} (run with --debug for the traceback)",
              file=sys.stderr)
        return 1


def open_engine(args: argparse.Namespace) -> Engine:
    """The store named by --db (else $SANGKIEN_DB_URL, else sqlite:///sangkien.db), created or upgraded."""
    from sangkien.store import database_url, open_store  # lazy: the store imports pandas and SQLAlchemy

    return open_store(database_url(args.db))


def quiet_prefect() -> None:
    """Keep Prefect's engine chatter off a person's terminal; the CLI prints its own one-line errors.

    Call before Prefect is imported (its settings are read then). ``--debug`` skips it.
    """
    if "--debug" in sys.argv:
        return
    # a failed source is reported by the CLI in one line; the flow's traceback stays for --debug
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "ERROR")
    os.environ.setdefault("PREFECT_LOGGING_LOG_PRINTS", "false")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def print_run(results: list[SourceResult]) -> None:
    """A run's control totals, one line per source."""
    print(f"{'source':16} {'received':>9} {'new':>8} {'changed':>8} {'stale':>6} {'accepted':>9} {'ineligible':>10} "
          f"{'quarantined':>11}  errors")
    for r in results:
        print(f"{r.source:16} {r.received:>9,} {r.land.new:>8,} {r.land.changed:>8,} {r.land.stale:>6,} "
              f"{r.accepted:>9,} {r.ineligible:>10,} {r.quarantined:>11,}  {'; '.join(r.errors)}")
        for note in r.notes:
            print(f"{'':16} note: {note}")


def print_or_write(text: str, out: str | None) -> int:
    """Print ``text``, or write it to ``out`` and say so."""
    if out:
        Path(out).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        print(f"wrote {out}")
    else:
        print(text.removeprefix("\ufeff"))  # a CSV's byte-order mark is for the file Excel opens, not the terminal
    return 0
