"""`sangkien demo`: a small simulated world, loaded, registered, synced and reported.

The world's national portal and Hà Nội's system run as simulated HTTP servers on
loopback for the demo's duration, Hồ Chí Minh City's records sit in a SQL database,
and the other sources are file drops: every connector kind takes part.

sandbox/, the flows and the core are imported when the demo runs, not when `sangkien` starts:
they load Prefect, pandas and SQLAlchemy (and Prefect must be quieted before its import).
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from sangkien.cli import watch
from sangkien.cli.common import print_run, quiet_prefect
from sangkien.cli.prefect_server import prefect_api
from sangkien.cli.reference import TOP_KINDS
from sangkien.errors import UserError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

DEMO_TOKEN_ENV = "SANGKIEN_DEMO_TOKEN"


def _rest_settings(world: Path, source: str, url: str) -> dict[str, Any]:
    """REST connector settings for a world source served by the simulator (page style, API key header)."""
    files = yaml.safe_load((world / "sources" / f"{source}.yaml").read_text(encoding="utf-8"))
    return {"base_url": url, "path": "/api/records", "auth": "api_key_header", "token": f"env:{DEMO_TOKEN_ENV}",
            "pagination": "page", "records_path": "items", "page_size": 200, "incremental_param": "modified_after",
            "change_field": files["columns"]["updated_at"], "date_format": files["date_format"],
            "authors_separator": files["authors_separator"], "columns": files["columns"]}


def load_seeds(engine: Engine, world: Path) -> str:
    """Load what a seed world adds to its org tree and quotas (SEEDS.md): member counts, clusters, and the
    Public Employees' program with its rounds and targets. Returns what was loaded, in words."""
    from sandbox.generate.seeds import PROGRAM
    from sangkien.reference.clusters import load_clusters
    from sangkien.reference.members import load_members
    from sangkien.reference.phases import load_phases
    from sangkien.reference.programs import add_program
    from sangkien.reference.quotas import load_quotas

    members = load_members(engine, world / "members.csv")
    clusters = load_clusters(engine, world / "clusters.csv")
    code, name, starts, ends = PROGRAM
    program = add_program(engine, code, name, dt.date.fromisoformat(starts), dt.date.fromisoformat(ends))
    rounds = load_phases(engine, world / "programs" / code / "phases.csv", (program.starts_on, program.ends_on), code)
    quotas = load_quotas(engine, world / "programs" / code / "quotas.csv", code)
    return (f"{members:,} member counts, {clusters:,} cluster memberships, program {code} with {rounds} rounds and "
            f"{quotas} quotas")


def run_demo(folder: Path, initiatives: int, seed: int, db_url: str | None, seeds: bool = False) -> int:
    """Generate, load, register, sync (the Prefect flow) and print the top of the report."""
    quiet_prefect()  # before Prefect is imported: its settings are read then
    from flows.nightly import nightly_sync
    from sandbox.generate import generate_world
    from sandbox.servers import serve
    from sandbox.sqldb import write_source_db
    from sangkien.reference.orgs import load_orgs
    from sangkien.reference.quotas import load_quotas
    from sangkien.store import open_store
    from sangkien.store.registry import add_connector, read_config_file

    started = time.perf_counter()
    folder = folder.resolve()
    world = folder / "world"
    if world.exists():
        shutil.rmtree(world)
    db_file = folder / "sangkien.db"
    for stale in (db_file, folder / "sangkien.db-wal", folder / "sangkien.db-shm"):
        stale.unlink(missing_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    url = db_url or f"sqlite:///{db_file}"
    print(f"1. generating a world of {initiatives:,} initiatives in {world}", flush=True)
    generate_world(world, initiatives, seed=seed, noise="none", seeds=seeds)
    engine = open_store(url)
    print(f"2. loading {load_orgs(engine, world / 'orgs.csv'):,} org units and "
          f"{load_quotas(engine, world / 'quotas.csv'):,} quotas"
          + (f", and the source documents' {load_seeds(engine, world)} (SEEDS.md)" if seeds else ""))
    configs = sorted((world / "sources").glob("*.yaml"))
    if not configs:
        raise UserError(f"the generated world has no sources in {world / 'sources'}")
    os.environ[DEMO_TOKEN_ENV] = "demo-token"  # secrets are referenced (env:...), never stored
    with serve("portal", world, token="demo-token") as portal, \
            serve("rest", world, token="demo-token", style="page", source="hanoi") as hanoi:
        add_connector(engine, "portal", "portal", {"base_url": portal.url, "token": f"env:{DEMO_TOKEN_ENV}",
                                                   "page_size": 200})
        add_connector(engine, "hanoi", "rest", _rest_settings(world, "hanoi", hanoi.url))
        add_connector(engine, "hcm", "sql", write_source_db(world, "hcm", f"sqlite:///{folder / 'hcm-system.db'}"))
        drops = [c for c in configs if c.stem not in ("portal", "hanoi", "hcm")]
        for config in drops:
            add_connector(engine, config.stem, "files", read_config_file(config))
        print(f"3. registered sources: portal (simulated portal at {portal.url}), hanoi (REST at {hanoi.url}), "
              f"hcm (SQL database), and file drops {', '.join(c.stem for c in drops)}")
        print("4. running the nightly sync (Prefect flow) ...", flush=True)
        with prefect_api(), watch.watching():
            summary = nightly_sync(db_url=url)
    print_run(summary.sources)
    if summary.resolved is not None:
        print(f"   {summary.resolved.records:,} accepted records resolved into "
              f"{summary.resolved.initiatives:,} initiatives")
    workbook = _report(engine, folder)
    print(f"\nDone in {time.perf_counter() - started:.0f} s. Files:")
    print(f"  workbook (overview, a sheet per phase, where the sources disagree, rows held back): {workbook}")
    print(f"  world (org tree, quotas, source files, truth.csv): {world}")
    print(f"  store: {url}")
    print("  the simulated portal and Hà Nội system ran for the demo only: `sangkien sandbox serve portal --world "
          f"{world}` starts one again (the demo's connectors point at ports that are now closed)")
    print(f"The dashboard: run `sangkien --db {url} serve --public-reads` and open http://127.0.0.1:8700/ "
          "(the intake API's docs are at /docs)")
    print(f"Try: sangkien --db {url} report --unit VGCL     sangkien --db {url} reconcile --unit P01")
    return 0


def _report(engine: Engine, folder: Path) -> Path:
    """Print the report's top-level units; write the workbook into ``folder`` and return its path."""
    import sqlalchemy as sa

    from sangkien import store
    from sangkien.cli.reports import print_report_table
    from sangkien.pipeline.summary import ensure_current
    from sangkien.present.report import report_rows
    from sangkien.present.workbook.book import write_workbook

    with engine.connect() as conn:
        as_of, rows = report_rows(conn)
        top = {code for code, kind in conn.execute(sa.select(store.org_units.c.code, store.org_units.c.kind))
               if kind in TOP_KINDS}
    print("5. report (national, provinces and sector unions; `sangkien report` shows every unit):\n")
    print_report_table([r for r in rows if r["unit_code"] in top and (r["records"] or r["target"])], as_of)
    workbook = folder / "sangkien-report.xlsx"
    ensure_current(engine)
    with engine.connect() as conn:
        write_workbook(conn, workbook)
    return workbook
