"""A night's changes, additions and withdrawals give the report a full sync of the same files gives."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from sandbox.generate import generate_world
from sandbox.generate.night import write_night
from sangkien import store
from sangkien.pipeline.rollup import COUNT_COLUMNS, per_unit_counts
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


def _own(counts: pd.DataFrame) -> pd.DataFrame:
    """Own counts in one order and dtype, to compare."""
    counts = counts.astype({c: float for c in COUNT_COLUMNS} | {"phase": int})
    return counts[["unit_code", "phase", *COUNT_COLUMNS]].sort_values(["unit_code", "phase"], ignore_index=True)


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

    with nightly.connect() as conn:  # the night counted again only the units it changed: the same as counting all
        assert conn.scalar(sa.select(sa.func.count()).select_from(store.rollup_dirty)) == 0
        kept = _own(store.read_frame(conn, sa.select(store.unit_own_counts),
                                     [c.name for c in store.unit_own_counts.columns]))
        assert kept.equals(_own(per_unit_counts(conn)))

    once = _store(f"sqlite:///{tmp_path / 'once.db'}", world)
    run_sync(once)
    assert after == _report(once)
    with nightly.connect() as a, once.connect() as b:
        count = sa.select(sa.func.count()).select_from(store.initiatives)
        assert a.scalar(count) == b.scalar(count)


def test_a_night_that_moves_records_to_another_unit_counts_both_units_again(tmp_path):
    """The unit a record left loses it and the unit it joined gains it, though only changed units are recounted."""
    world = tmp_path / "world"
    generate_world(world, 600, seed=4, noise="none")
    engine = _store(f"sqlite:///{tmp_path / 'moves.db'}", world)
    run_sync(engine)
    settings = yaml.safe_load((world / "sources" / "baocao_tinh.yaml").read_text(encoding="utf-8"))
    folder, columns = world / "sources" / settings["path"], settings["columns"]
    [first, *_] = sorted(folder.glob("*.csv"))
    rows = pd.read_csv(first, dtype=str, keep_default_na=False, encoding=settings["encoding"])
    units = rows[columns["unit"]].value_counts()
    left, joined = units.index[0], units.index[-1]
    moved = rows[rows[columns["unit"]] == left].head(5).copy()
    moved[columns["unit"]] = joined
    moved.to_csv(folder / "night-move.csv", index=False, encoding=settings["encoding"])
    with engine.connect() as conn:
        before = per_unit_counts(conn).groupby("unit_code")["records"].sum()

    night = run_sync(engine)
    assert night.status == "completed" and night.resolved is not None and night.resolved.mode == "incremental"
    with engine.connect() as conn:
        kept = _own(store.read_frame(conn, sa.select(store.unit_own_counts),
                                     [c.name for c in store.unit_own_counts.columns]))
        assert kept.equals(_own(per_unit_counts(conn)))
    after = kept.groupby("unit_code")["records"].sum()
    assert after[left] == before[left] - 5
    assert after[joined] == before.get(joined, 0) + 5
