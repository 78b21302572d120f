"""A night's changes, additions and withdrawals give the report a full sync of the same files gives."""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from sandbox.generate import generate_world
from sandbox.generate.night import write_night
from sangkien import store
from sangkien.pipeline.run import run_sync
from sangkien.present.report import report_rows
from sangkien.reference.orgs import load_orgs
from sangkien.reference.quotas import load_quotas
from sangkien.store import open_store
from sangkien.store.registry import add_connector, read_config_file


def _store(url: str, world: Path) -> sa.Engine:
    engine = open_store(url)
    load_orgs(engine, world / "orgs.csv")
    load_quotas(engine, world / "quotas.csv")
    for config in sorted((world / "sources").glob("*.yaml")):
        add_connector(engine, config.stem, "files", read_config_file(config))
    return engine


def _report(engine: sa.Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return report_rows(conn)[1]


@pytest.mark.parametrize("share", [0.06])
def test_a_night_of_changes_gives_the_report_of_a_full_sync_of_the_same_files(tmp_path, share):
    world = tmp_path / "world"
    generate_world(world, 1500, seed=3, noise="light")
    nightly = _store(f"sqlite:///{tmp_path / 'nightly.db'}", world)
    run_sync(nightly)
    before = _report(nightly)
    written = write_night(world, share, seed=5)
    assert sum(w["changed"] for w in written.values()) >= 10
    night = run_sync(nightly)
    assert night.status == "completed" and night.resolved is not None and night.resolved.mode == "incremental"
    landed = {s.source: s.land for s in night.sources}
    for source, rows in written.items():  # every row delivered counted: changes and withdrawals as changed
        assert (landed[source].new, landed[source].changed) == (rows["added"], rows["changed"] + rows["withdrawn"])
    after = _report(nightly)
    assert after != before

    once = _store(f"sqlite:///{tmp_path / 'once.db'}", world)
    run_sync(once)
    assert after == _report(once)
    with nightly.connect() as a, once.connect() as b:
        count = sa.select(sa.func.count()).select_from(store.initiatives)
        assert a.scalar(count) == b.scalar(count)
