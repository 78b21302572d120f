"""Benchmark: the dashboard's answers and `reconcile` on a national store (2 M initiatives by default).

    .venv/bin/python bench/dashboard.py [--initiatives 2000000] [--db URL] [--repeat 5]

The store is written as bench/reconcile.py writes it (the sandbox's national tree, its
initiatives and which sources hold each, straight into the tables), then rolled up and its
summary kept, as the nightly flow does. Timed, each in a process of its own so that nothing
is cached in Python (the operating system's file cache is warm, as on a server):

* ``cold``: the first ``GET /api/v1/dashboard`` of a fresh server process;
* ``warm``: the same request again (median of --repeat);
* drill-downs: ``/api/v1/dashboard/units/{code}`` for a province, the sector union with the
  most units directly under it, and a district; one page of the initiatives behind the
  biggest worklist row (unfiltered, by status, by words of the title);
* ``reconcile``: the command end to end (table, and CSV of the whole worklist);
* with ``--another-program``: a second program (two rounds over 2022) is added, and its page's data
  (``?program=``) timed: the first answer works its figures, targets and cluster ranks out from the
  records' dates and keeps them (summary.ensure_program), the later ones read what was kept.

Wall time and CPU time (every thread of the process) are both printed: on a shared machine
the CPU time is the steadier figure.

Not a test: it prints figures (and writes them as JSON with --json), it asserts nothing.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AS_OF = dt.date(2023, 6, 1)  # inside phase 2, as bench/reconcile.py

# Run in a fresh interpreter: open the store, build the app, time each request (ms) in order.
REQUESTS = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
from fastapi.testclient import TestClient
from sangkien import store
from sangkien.serve.api import create_app
client = TestClient(create_app(store.open_store(sys.argv[1]), public_reads=True))  # reads need a token otherwise
out = []
for path in json.loads(sys.argv[2]):
    started, cpu = time.perf_counter(), time.process_time()  # CPU of every thread: steadier on a busy machine
    reply = client.get(path)
    out.append({"path": path, "ms": (time.perf_counter() - started) * 1000, "status": reply.status_code,
                "cpu_ms": (time.process_time() - cpu) * 1000, "bytes": len(reply.content)})
print(json.dumps(out))
"""


def requests(url: str, paths: list[str]) -> list[dict[str, object]]:
    done = subprocess.run([sys.executable, "-c", REQUESTS, url, json.dumps(paths)], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def build(url: str, out: Path, initiatives: int) -> None:
    from bench.pipeline import Stages
    from bench.reconcile import write_history, write_store
    from sangkien import store
    from sangkien.pipeline import rollup, summary

    engine = store.open_store(url)
    stages = Stages()
    with stages.stage("write store (not timed work)") as info:
        n_inits, n_records = write_store(engine, out, initiatives, 1)
        info["note"] = f"{n_inits:,} initiatives, {n_records:,} records"
    with stages.stage("write count_history") as info:
        info["note"] = f"{write_history(engine, 28, AS_OF):,} rows"
    with stages.stage("roll_up") as info:
        info["note"] = f"{rollup.roll_up(engine, None, AS_OF):,} (unit, phase) rows"
    with stages.stage("summary.refresh (kept for serve)") as info:
        info["note"] = str(summary.refresh(engine, None, AS_OF))


def targets(url: str) -> dict[str, str]:
    """A province, the sector union with the most units directly under it, a district, the biggest row."""
    import sqlalchemy as sa

    from sangkien import store

    engine = store.open_store(url)
    u, w = store.org_units.c, store.worklist.c
    with engine.connect() as conn:
        sector = conn.execute(sa.select(u.sector_parent_code, sa.func.count()).where(u.sector_parent_code.is_not(None))
                              .group_by(u.sector_parent_code).order_by(sa.desc(sa.func.count())).limit(1)).first()
        district = conn.scalar(sa.select(u.code).where(u.kind == "district").order_by(u.code).limit(1))
        row = conn.execute(sa.select(w.unit_code, w.phase, w.kind, w.cause, w.source, w["items"])
                           .where(w.kind == "sources").order_by(sa.desc(w["items"])).limit(1)).mappings().one()
        title = conn.scalar(sa.select(store.initiatives.c.title).join(
            store.worklist_items, store.worklist_items.c.initiative_id == store.initiatives.c.id).where(
            store.worklist_items.c.source == row["source"]).limit(1))
    assert sector is not None
    query = (f"/api/v1/worklist/initiatives?unit={row['unit_code']}&phase={row['phase']}&kind={row['kind']}"
             f"&cause={row['cause']}&source={row['source']}")
    words = "%20".join((title or "giai phap").split()[1:3])
    return {"province": "P01", "sector": sector[0], "district": district or "P01", "items": query,
            "items_note": f"{row['items']:,} initiatives behind it", "words": words}


ROUNDS = "phase,name,starts_on,ends_on,counts_from\n1,Đợt 1,2022-01-01,2022-06-30,2021-09-01\n" \
         "2,Đợt 2,2022-07-01,2022-12-31,2021-09-01\n"


def another_program(url: str, out: Path, repeat: int) -> dict[str, float]:
    """Add the program VC-2022 (two rounds over 2022) and time its page's data: first, again, a drill-down."""
    from sangkien import store
    from sangkien.reference.phases import load_phases
    from sangkien.reference.programs import add_program, list_programs

    engine = store.open_store(url)
    with engine.connect() as conn:
        known = {p.code for p in list_programs(conn)}
    if "VC-2022" not in known:
        add_program(engine, "VC-2022", "Thi đua 2022", dt.date(2021, 9, 1), dt.date(2022, 12, 31))
        (out / "rounds.csv").write_text(ROUNDS, encoding="utf-8")
        load_phases(engine, out / "rounds.csv", program="VC-2022")
    with engine.begin() as conn:
        conn.execute(store.program_summaries.delete())  # the first request works them out
    timed = requests(url, ["/api/v1/dashboard?program=VC-2022"] * (1 + repeat) + ["/api/v1/dashboard/units/P01"
                                                                                  "?program=VC-2022"])
    assert all(r["status"] == 200 for r in timed), timed
    return {"another program: first ms": float(timed[0]["ms"]),  # type: ignore[arg-type]
            "another program: first cpu_ms": float(timed[0]["cpu_ms"]),  # type: ignore[arg-type]
            "another program: again ms": statistics.median(r["ms"] for r in timed[1:-1]),  # type: ignore[misc]
            "another program: drill-down ms": float(timed[-1]["ms"])}  # type: ignore[arg-type]


def cli_seconds(url: str, *args: str) -> tuple[float, float]:
    """Wall and CPU seconds of `sangkien reconcile` in a process of its own."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sangkien.cli.main", "--db", url, "reconcile", "--as-of", AS_OF.isoformat(),
                    *args], cwd=ROOT, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - started, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--initiatives", type=int, default=2_000_000)
    parser.add_argument("--db", help="a store already rolled up (default: a new SQLite file under bench/out/)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--another-program", action="store_true",
                        help="also time a second program's page data (worked out on its first request)")
    parser.add_argument("--only-another-program", action="store_true", help="time only that")
    args = parser.parse_args()
    url = args.db
    if not url:
        out = ROOT / "bench" / "out" / f"dashboard-{args.initiatives}"
        out.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(out / "store.db") + suffix).unlink(missing_ok=True)
        url = f"sqlite:///{out / 'store.db'}"
        build(url, out, args.initiatives)
    if args.only_another_program:
        work = ROOT / "bench" / "out"
        work.mkdir(parents=True, exist_ok=True)
        for key, value in another_program(url, work, args.repeat).items():
            print(f"  {key:40} {value:10.1f}")
        return
    t = targets(url)
    figures: dict[str, object] = {}
    cold = requests(url, ["/api/v1/dashboard"] * (1 + args.repeat))
    figures["cold_ms"] = cold[0]["ms"]
    figures["cold cpu_ms"] = cold[0]["cpu_ms"]
    figures["warm_ms"] = statistics.median(r["ms"] for r in cold[1:])  # type: ignore[misc]
    figures["warm cpu_ms"] = statistics.median(r["cpu_ms"] for r in cold[1:])  # type: ignore[misc]
    figures["dashboard_bytes"] = cold[0]["bytes"]
    drills = {"province": f"/api/v1/dashboard/units/{t['province']}",
              "sector union": f"/api/v1/dashboard/units/{t['sector']}",
              "district": f"/api/v1/dashboard/units/{t['district']}",
              "initiatives, first page": t["items"] + "&limit=50",
              "initiatives, page 10": t["items"] + "&limit=50&offset=450",
              "initiatives, by status": t["items"] + "&limit=50&status=pending",
              "initiatives, by words": t["items"] + f"&limit=50&q={t['words']}"}
    for name, path in drills.items():
        timed = requests(url, [path] * (1 + args.repeat))  # the first in a fresh process, then again
        figures[f"{name}: first ms"] = timed[0]["ms"]
        figures[f"{name}: again ms"] = statistics.median(r["ms"] for r in timed[1:])  # type: ignore[misc]
        figures[f"{name}: again cpu_ms"] = statistics.median(r["cpu_ms"] for r in timed[1:])  # type: ignore[misc]
        assert all(r["status"] == 200 for r in timed), timed
    figures["reconcile (table) s"], figures["reconcile (table) cpu_s"] = cli_seconds(url)
    figures["reconcile --format csv s"], figures["reconcile --format csv cpu_s"] = cli_seconds(
        url, "--format", "csv", "--out", "/dev/null")
    if args.another_program:
        figures.update(another_program(url, ROOT / "bench" / "out", args.repeat))
    print(f"dashboard bench on {url} ({t['items_note']} for the initiatives requests):")
    for key, value in figures.items():
        print(f"  {key:40} {value:10.1f}" if isinstance(value, float) else f"  {key:40} {value:>10}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
