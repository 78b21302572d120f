"""Benchmark: pull throughput from the loopback portal simulator, without and with faults.

    python bench/pull.py --initiatives 100000 [--faults "5xx=0.04,429=0.03,..."]

Lands every portal record into a fresh SQLite store through the portal connector
(pull + land only; validation is benchmarked by bench/validate.py). Prints records/s.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TWENTY_PERCENT = "5xx=0.04,429=0.03,slow=0.02,truncated=0.04,drop=0.03,shift=0.02,update=0.02,slow_delay=2,seed=1"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--initiatives", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--world", type=Path, default=ROOT / "bench" / "out" / "world-pull")
    args = parser.parse_args()

    from sandbox.generate import generate_world
    from sandbox.servers import serve
    from sangkien.pipeline import run as sync
    from sangkien.store import open_store
    from sangkien.store.registry import add_connector

    if not (args.world / "truth.csv").exists():
        generate_world(args.world, args.initiatives, seed=1, noise="none")
    os.environ["SANGKIEN_BENCH_TOKEN"] = "bench-token"
    for label, faults in (("no faults", ""), ("20% faults, every kind", TWENTY_PERCENT)):
        with tempfile.TemporaryDirectory() as tmp, serve("portal", args.world, faults=faults,
                                                         token="bench-token") as server:
            engine = open_store(f"sqlite:///{tmp}/pull.db")
            add_connector(engine, "portal", "portal", {"base_url": server.url, "token": "env:SANGKIEN_BENCH_TOKEN",
                                                       "page_size": args.page_size, "timeout": 1.0, "attempts": 20})
            run_id = sync.start_run(engine)
            started = time.perf_counter()
            result = sync.pull_source(engine, "portal", run_id)
            seconds = time.perf_counter() - started
            engine.dispose()
            held = len(server.system.ids())
            print(f"{label:24} {result.received:,} of {held:,} records landed in {seconds:.1f} s = "
                  f"{result.received / seconds:,.0f} records/s; {server.system.requests:,} requests, "
                  f"faults {dict(server.system.fault_counts)}; errors: {result.errors or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
