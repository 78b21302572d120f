"""Command line: ``python -m sandbox.servers portal|rest --world DIR`` serves in the foreground."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sandbox.servers.rest import AUTH_MODES, STYLES
from sandbox.servers.running import KINDS, RunningServer, serve


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox.servers",
                                     description="Serve a simulated world over HTTP on 127.0.0.1 until Ctrl-C.")
    parser.add_argument("kind", choices=KINDS, help="portal: the national portal; rest: a provincial system")
    parser.add_argument("--world", type=Path, required=True, help="a folder written by `sangkien sandbox generate`")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default 0: any free port)")
    parser.add_argument("--faults", default="", help='e.g. "5xx=0.05,429=0.05,slow=0.02,truncated=0.03,'
                                                     'drop=0.02,shift=0.02,update=0.01,retry_after=1,slow_delay=3"')
    parser.add_argument("--token", default="demo-token", help="the bearer token / API key clients must send")
    parser.add_argument("--style", choices=STYLES, default="page", help="rest: pagination style (default page)")
    parser.add_argument("--source", default=None, help="world source to serve (default: portal / hanoi)")
    parser.add_argument("--auth", choices=AUTH_MODES, default="header", help="rest: how the key is sent")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one simulator in the foreground until Ctrl-C or SIGTERM, printing its URL first.

    Returns 0 on a clean stop, 2 (one line on stderr) for a bad argument, world or port.
    """
    args = _parser().parse_args(argv)
    stop = _stop_on_signals()
    try:
        running = serve(args.kind, args.world, args.port, args.faults, args.token, args.style, args.source,
                        auth=args.auth, verbose=args.verbose)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    system = running.system
    print(f"{args.kind} simulator at {running.url} (GET {system.data_path}): {len(system)} records, "
          f"faults: {system.faults}; Ctrl-C to stop", flush=True)
    return _until_stopped(running, stop)


def proxy_main(upstream: str, faults: str, port: int = 0) -> int:
    """Run the fault proxy in front of ``upstream`` until Ctrl-C or SIGTERM: its URL first, its counts last."""
    from sandbox.servers.proxy import fault_proxy

    stop = _stop_on_signals()
    try:
        running = fault_proxy(upstream, faults, port)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"fault proxy at {running.url} in front of {upstream}, faults: {running.system.faults}; Ctrl-C to stop",
          flush=True)
    status = _until_stopped(running, stop)
    counts = ", ".join(f"{name} {n}" for name, n in sorted(running.system.fault_counts.items())) or "none"
    print(f"{running.system.requests} request(s), {running.system.faults_injected} fault(s): {counts}", flush=True)
    return status


def _stop_on_signals() -> threading.Event:
    """An event set by Ctrl-C (SIGINT) or SIGTERM, installed before anything is served or printed: a signal at
    any moment then stops the server cleanly, where a KeyboardInterrupt raised between two lines could leave
    the process hanging at exit (seen once in CI, under load: 30 s without exiting)."""
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    return stop


def _until_stopped(running: RunningServer[Any], stop: threading.Event) -> int:
    try:
        while not stop.wait(0.2):
            pass
    finally:
        running.stop()
    return 0
