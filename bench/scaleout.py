"""Scale-out on this machine: Prefect's server on PostgreSQL, two process workers of the `sangkien`
pool, the store on PostgreSQL, and one nightly run whose per-source pulls are separate flow runs
spread over both workers. Prints which worker ran which pull. Not a test; nothing is asserted
beyond the run completing.

    .venv/bin/python bench/scaleout.py                       # postgres@127.0.0.1:5432, 2,000 initiatives
    .venv/bin/python bench/scaleout.py --pg postgresql://postgres@db:5432 --initiatives 20000 --keep

Two fresh databases are created (Prefect's and the store's) and dropped afterwards unless --keep.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.generate import generate_world
from sandbox.prefect_local import PrefectServer, Worker
from sangkien import store
from sangkien.reference.orgs import load_orgs
from sangkien.reference.quotas import load_quotas
from sangkien.store.registry import add_connector, read_config_file


def create_database(admin: sa.Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))


def drop_database(admin: sa.Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432", help="PostgreSQL server (no database)")
    parser.add_argument("--initiatives", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the databases and the Prefect home")
    outcome = scale_out(**vars(parser.parse_args(argv)))
    return 0 if outcome["completed"] and outcome["totals_hold"] else 1


def scale_out(pg: str, initiatives: int, workers: int = 2, keep: bool = False) -> dict[str, object]:
    """Run the demonstration; returns {"completed", "totals_hold", "ran_by": {pull flow run name: worker}}."""
    args = argparse.Namespace(pg=pg, initiatives=initiatives, workers=workers, keep=keep)
    tag = uuid.uuid4().hex[:8]
    prefect_db, store_db = f"prefect_scaleout_{tag}", f"sangkien_scaleout_{tag}"
    base = args.pg.split("://", 1)[1].rstrip("/")
    admin = sa.create_engine(f"postgresql+psycopg://{base}/postgres", isolation_level="AUTOCOMMIT")
    store_url = f"postgresql+psycopg://{base}/{store_db}"
    work = Path(tempfile.mkdtemp(prefix="sangkien-scaleout-"))
    started = time.perf_counter()
    create_database(admin, prefect_db)
    create_database(admin, store_db)
    try:
        world = work / "world"
        summary = generate_world(world, args.initiatives, seed=7, noise="light")
        engine = store.open_store(store_url)
        load_orgs(engine, world / "orgs.csv")
        load_quotas(engine, world / "quotas.csv")
        for config in sorted((world / "sources").glob("*.yaml")):
            add_connector(engine, config.stem, "files", read_config_file(config))
        print(f"world: {args.initiatives:,} initiatives, {summary.total_rows:,} rows in "
              f"{len(summary.source_configs)} sources; store {store_db}, Prefect database {prefect_db}")

        with PrefectServer(work / "prefect-home", database_url=f"postgresql+asyncpg://{base}/{prefect_db}") as server:
            print(f"Prefect server on PostgreSQL at {server.url} ({time.perf_counter() - started:.0f} s)")
            result = subprocess.run([sys.executable, "-m", "sangkien.cli.main", "deploy"],
                                    capture_output=True, text=True,
                                    env=server.env, cwd=ROOT)
            if result.returncode != 0:
                raise SystemExit(result.stderr)
            print(result.stdout.strip())
            workers = [Worker(server, f"worker-{i + 1}", limit=4, env={"SANGKIEN_DB_URL": store_url})
                       for i in range(args.workers)]
            try:
                from prefect.client.orchestration import get_client
                from prefect.settings import PREFECT_API_URL, temporary_settings

                with temporary_settings({PREFECT_API_URL: server.url}), get_client(sync_client=True) as client:
                    nightly = client.read_deployment_by_name("sangkien-nightly-sync/nightly")
                    run = client.create_flow_run_from_deployment(nightly.id, parameters={"fan_out": True})
                    t0 = time.perf_counter()
                    while not (run := client.read_flow_run(run.id)).state.is_final():
                        time.sleep(1)
                    seconds = time.perf_counter() - t0
                    children = [fr for fr in client.read_flow_runs() if fr.name.startswith("pull-")]
            finally:
                for worker in workers:
                    worker.stop()
            ran_by = {}
            for worker in workers:
                for flow_run_id in re.findall(r"submitting flow run '([0-9a-f-]+)'", worker.output()):
                    ran_by[flow_run_id] = worker.name
            print(f"nightly run (fan_out) ended {run.state.name} in {seconds:.0f} s; per-source pull flow runs:")
            for child in sorted(children, key=lambda c: c.name):
                print(f"  {child.name:32} {child.state.name:10} on {ran_by.get(str(child.id), '?')}")
            print(f"  parent run on {ran_by.get(str(run.id), '?')}")
            counts: dict[str, int] = {}
            for child in children:
                counts[ran_by.get(str(child.id), "?")] = counts.get(ran_by.get(str(child.id), "?"), 0) + 1
            print("pulls per worker: " + ", ".join(f"{name} {n}" for name, n in sorted(counts.items())))
        with engine.connect() as conn:
            totals = conn.execute(sa.select(store.sync_run_sources.c.source, store.sync_run_sources.c.received,
                                            store.sync_run_sources.c.accepted, store.sync_run_sources.c.ineligible,
                                            store.sync_run_sources.c.quarantined)).all()
        ok = all(r == a + i + q for _, r, a, i, q in totals)
        print(f"store: {len(totals)} sources, {sum(t[1] for t in totals):,} received, control totals "
              + ("hold for every source" if ok else "DO NOT HOLD"))
        engine.dispose()
        return {"completed": run.state.is_completed(), "totals_hold": ok and len(totals) == len(summary.source_configs),
                "ran_by": {c.name: ran_by.get(str(c.id)) for c in children}, "parent": ran_by.get(str(run.id))}
    finally:
        store.open_store.cache_clear()
        if args.keep:
            print(f"kept: {work}, databases {prefect_db} and {store_db}")
        else:
            drop_database(admin, prefect_db)
            drop_database(admin, store_db)
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
