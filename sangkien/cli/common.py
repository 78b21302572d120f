"""What every command group shares: the parser class, the global options (--db, --debug) and how an error
becomes one line and an exit code, opening the store, keeping Prefect quiet, printing a run's table."""
from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from sangkien.errors import ControlTotalError, UserError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from sangkien.pipeline.run import SourceResult

# The parsers' `add_subparsers()`: each group module's register(sub) adds its commands to one.
Subparsers = argparse._SubParsersAction

_INVALID_CHOICE = re.compile(r"argument (\S+): invalid choice: '([^']*)' \(choose from (.*)\)")


class Parser(argparse.ArgumentParser):
    """Every parser of the command line: the global options (--db, --debug) are accepted before or after the
    command, an error is one line, and a mistyped command gets a "did you mean"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)
        # SUPPRESS: an option given to a subcommand sets it; one not given leaves the top level's value alone
        self.add_argument("--db", default=argparse.SUPPRESS, metavar="URL",
                          help="the store's database URL (default: $SANGKIEN_DB_URL, else sqlite:///sangkien.db)")
        self.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                          help="show the traceback of an error")

    def error(self, message: str) -> NoReturn:  # one line instead of usage + error
        self.exit(2, f"{self.prog}: error: {_did_you_mean(message)} (see {self.prog} --help)\n")


def _did_you_mean(message: str) -> str:
    """argparse's "invalid choice" as "unknown command 'sycn'; did you mean 'sync'?"."""
    found = _INVALID_CHOICE.fullmatch(message)
    if not found:
        return message
    given, choices = found.group(2), re.findall(r"'([^']*)'", found.group(3))
    what = "command" if found.group(1) in ("command", "ACTION") else f"value for {found.group(1)}"
    close = difflib.get_close_matches(given, choices, 1, 0.7)
    hint = f"did you mean {close[0]!r}?" if close else f"one of {', '.join(choices)}"
    return f"unknown {what} {given!r}; {hint}"


def add_command(sub: Subparsers, name: str, func: Callable[[argparse.Namespace], int], help_text: str,
                examples: Sequence[str] = ()) -> argparse.ArgumentParser:
    """A command (`sangkien NAME ...` or `sangkien GROUP NAME ...`) that runs ``func``; ``examples`` are shown
    at the end of its --help."""
    epilog = "examples:\n" + "\n".join(f"  {e}" for e in examples) if examples else None
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text, epilog=epilog)
    parser.set_defaults(func=func)
    return parser


def add_group(sub: Subparsers, name: str, help_text: str, examples: Sequence[str] = ()) -> Subparsers:
    """A command with actions of its own (`sangkien NAME ACTION ...`): the subparsers its actions go in."""
    epilog = "examples:\n" + "\n".join(f"  {e}" for e in examples) if examples else None
    group = sub.add_parser(name, help=help_text, description=help_text, epilog=epilog)
    return group.add_subparsers(dest="action", required=True, parser_class=Parser, metavar="ACTION")


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """The top level's defaults for --db and --debug (every Parser accepts them), and --version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("sangkien-sync")
    except PackageNotFoundError:  # a source tree that is not installed
        release = "unknown (not installed)"
    parser.set_defaults(db=None, debug=False)
    parser.add_argument("--version", action="version", version=f"sangkien {release}")


def run(args: argparse.Namespace) -> int:
    """Run the parsed command: errors are one line on stderr (the traceback only with --debug).

    Exit codes: 0 done, 2 a user's error, 3 a control total that does not add up, 130 interrupted,
    141 the reader of the output went away (`sangkien runs | head`), 1 anything unexpected."""
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
    except BrokenPipeError:
        return closed_pipe()
    except Exception as exc:  # the last line of defence for people
        if args.debug:
            raise
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"sangkien: error: unexpected {type(exc).__name__}: {text} (run with --debug for the traceback)",
              file=sys.stderr)
        return 1


def closed_pipe() -> int:
    """The reader went away (`| head`): stop quietly, as cat does. stdout goes to /dev/null so that flushing it
    at exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 141  # 128 + SIGPIPE, what a shell reports for a command cut off by a closed pipe


def open_engine(args: argparse.Namespace) -> Engine:
    """The store named by --db (else $SANGKIEN_DB_URL, else sqlite:///sangkien.db), created or upgraded."""
    from sangkien.store import database_url, open_store  # lazy: the store imports pandas and SQLAlchemy

    return open_store(database_url(args.db))


def check_port_free(host: str, port: int) -> None:
    """Raise a one-line UserError when ``host:port`` cannot be listened on (busy, or not this machine's)."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
            probe.bind(address)
    except OSError as exc:
        why = (exc.strerror or str(exc)).lower()
        raise UserError(f"cannot listen on {host}:{port}: {why}; is another `sangkien serve` running there? "
                        "Stop it, or pick another --port") from None


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
    """A run's control totals, one row per source, fitted to the terminal; a source's notes (not errors) under it."""
    from sangkien.cli import console

    console.table(("source", "received", "new", "changed", "stale", "accepted", "ineligible", "quarantined",
                   "errors"),
                  [(r.source, r.received, r.land.new, r.land.changed, r.land.stale, r.accepted, r.ineligible,
                    r.quarantined, "; ".join(r.errors)) for r in results],
                  numeric=("received", "new", "changed", "stale", "accepted", "ineligible", "quarantined"),
                  wide=("errors",))
    for r in results:
        for note in r.notes:
            print(f"{r.source}: note: {note}")


def print_or_write(text: str, out: str | None) -> int:
    """Print ``text``, or write it to ``out`` and say so."""
    if out:
        Path(out).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        print(f"wrote {out}")
    else:
        print(text.removeprefix("\ufeff"))  # a CSV's byte-order mark is for the file Excel opens, not the terminal
    return 0
