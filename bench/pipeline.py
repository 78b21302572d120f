"""Benchmark: the nightly pipeline's stages on a generated world, time and peak memory per stage.

    python bench/pipeline.py --initiatives 1000000 [--db URL] [--world DIR] [--noise none]

Stages run in this process through sangkien.pipeline.run (the same functions the Prefect flow
calls). Peak memory is the process's resident set, sampled every 20 ms during the stage.
Not a test: it prints figures, it asserts nothing about speed.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Stages:
    """Times stages and samples peak RSS within each."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float, str]] = []
        self.cpu: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str, note: str = ""):  # type: ignore[no-untyped-def]
        peak = [rss_mb()]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.02):
                peak[0] = max(peak[0], rss_mb())

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        cpu_started = time.process_time()  # CPU seconds of every thread: steadier than wall time on a busy machine
        info = {"note": note}
        try:
            yield info
        finally:
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            stop.set()
            sampler.join()
            peak[0] = max(peak[0], rss_mb())
            self.rows.append((name, seconds, peak[0], info["note"]))
            self.cpu[name] = cpu
            print(f"  {name:28} {seconds:8.1f} s  cpu {cpu:8.1f} s   peak {peak[0]:8.0f} MB   {info['note']}",
                  flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--initiatives", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--noise", default="none", choices=("none", "light", "hard"))
    parser.add_argument("--world", type=Path, default=ROOT / "bench" / "out" / "world")
    parser.add_argument("--db", default=None, help="store URL (default: a fresh SQLite file under bench/out)")
    parser.add_argument("--reuse-world", action="store_true", help="skip generation if the world exists")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--night", type=float, default=0.0, metavar="SHARE",
                        help="then time a night delivering SHARE of each CSV source's rows changed, added and "
                             "withdrawn in thirds (sandbox.generate.night), e.g. 0.02")
    args = parser.parse_args()

    from sandbox.generate import generate_world
    from sangkien.pipeline import run as sync
    from sangkien.present.report import report_rows
    from sangkien.reference.orgs import load_orgs
    from sangkien.reference.quotas import load_quotas
    from sangkien.store import open_store
    from sangkien.store.registry import add_connector, read_config_file

    stages = Stages()
    print(f"bench: {args.initiatives:,} initiatives, noise {args.noise}, {dt.datetime.now():%Y-%m-%d %H:%M}")
    if not (args.reuse_world and (args.world / "truth.csv").exists()):
        if args.world.exists():
            shutil.rmtree(args.world)
        with stages.stage("generate world") as info:
            generate_world(args.world, args.initiatives, seed=args.seed, noise=args.noise)
            info["note"] = f"{sum(f.stat().st_size for f in args.world.rglob('*') if f.is_file()) / 1e6:.0f} MB on disk"
    for folder in (args.world / "sources").iterdir():  # a reused world: the last bench's night files go
        for old in folder.glob("night-1.*") if folder.is_dir() else []:
            old.unlink()
    db_path = ROOT / "bench" / "out" / "bench.db"
    db_path.parent.mkdir(parents=True, exist_ok=True)  # a fresh clone has no bench/out yet
    if args.db is None:
        for suffix in ("", "-wal", "-shm"):
            Path(str(db_path) + suffix).unlink(missing_ok=True)
    url = args.db or f"sqlite:///{db_path}"
    engine = open_store(url)
    with stages.stage("load orgs + quotas") as info:
        units = load_orgs(engine, args.world / "orgs.csv")
        quotas = load_quotas(engine, args.world / "quotas.csv")
        info["note"] = f"{units:,} units, {quotas:,} quotas"
    for config in sorted((args.world / "sources").glob("*.yaml")):
        add_connector(engine, config.stem, "files", read_config_file(config))
    run_id = sync.start_run(engine)
    results = []
    total_rows = 0
    for name in sync.source_names(engine):
        with stages.stage(f"pull+land+validate {name}") as info:  # one pass per batch
            result = sync.pull_source(engine, name, run_id)
            info["note"] = f"{result.received:,} rows, {result.files} files"
            total_rows += result.received
        with stages.stage(f"  left over, totals {name}") as info:  # rows of killed runs; control totals
            sync.validate_pulled(engine, result, run_id)
            info["note"] = (f"{result.accepted:,} accepted, {result.ineligible:,} ineligible, "
                            f"{result.quarantined:,} quarantined")
        results.append(result)
    from sangkien.pipeline import summary
    from sangkien.pipeline.resolve import resolve_initiatives
    from sangkien.pipeline.rollup import roll_up

    with stages.stage("resolve initiatives") as info:
        resolved = resolve_initiatives(engine, run_id)
        info["note"] = f"{resolved.records:,} records -> {resolved.initiatives:,} initiatives"
    with stages.stage("roll up") as info:  # and what people read from it, as the flow does (resolve_and_roll_up)
        info["note"] = f"{roll_up(engine, run_id):,} unit x phase rows"
        summary.refresh(engine, run_id)
    sync.finish_run(engine, run_id, results)
    with stages.stage("report (json rows)") as info, engine.connect() as conn:
        info["note"] = f"{len(report_rows(conn)[1]):,} rows"
    with stages.stage("second night, nothing new") as info:
        _, again, resolved_again, status = sync.run_sync(engine)
        info["note"] = (f"{sum(r.received for r in again):,} rows received, {resolved_again.initiatives:,} "
                        f"initiatives, run {status}")
    if args.night:
        from sandbox.generate.night import write_night

        written = write_night(args.world, args.night, seed=args.seed)
        with stages.stage(f"night, {args.night:.0%} changed") as info:
            _, again, resolved_again, status = sync.run_sync(engine)
            info["note"] = (f"{sum(r.received for r in again):,} rows received "
                            f"({sum(sum(w.values()) for w in written.values()):,} written), "
                            f"{resolved_again.compared:,} records compared, run {status}")
    nights = ("generate world", "second night, nothing new", f"night, {args.night:.0%} changed")
    pipeline = [r for r in stages.rows if r[0] not in nights]
    total = sum(r[1] for r in pipeline)
    print(f"  {'pipeline total':28} {total:8.1f} s   peak {max(r[2] for r in stages.rows):8.0f} MB   "
          f"{total_rows:,} source rows")
    if args.json:
        args.json.write_text(json.dumps({"initiatives": args.initiatives, "rows": total_rows, "stages": [
            {"stage": n, "seconds": round(s, 2), "cpu_seconds": round(stages.cpu.get(n, 0.0), 2), "peak_mb": round(p),
             "note": note} for n, s, p, note in stages.rows]},
            indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
