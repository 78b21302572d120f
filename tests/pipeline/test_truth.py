"""On a generated world with --noise none, the report equals what truth.csv implies, unit by unit."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from sandbox.generate import generate_world
from sangkien.reference.orgs import load_orgs
from sangkien.reference.quotas import load_quotas
from sangkien.store.registry import add_connector, read_config_file
from sangkien.present.report import report_rows
from sangkien.pipeline.run import run_sync


@pytest.fixture(scope="module")
def clean_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("truth") / "world"
    generate_world(root, 1500, seed=11, noise="none")
    return root


def ancestors_from(orgs: pd.DataFrame) -> dict[str, set[str]]:
    parents = {r.code: [p for p in (r.parent_code, r.sector_parent_code) if isinstance(p, str) and p]
               for r in orgs.itertuples()}
    out: dict[str, set[str]] = {}
    for code in parents:
        seen, todo = {code}, [code]
        while todo:
            for parent in parents[todo.pop()]:
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        out[code] = seen
    return out


def expected_counts(world: Path) -> dict[tuple[str, int], dict[str, int]]:
    truth = pd.read_csv(world / "truth.csv", dtype=str)
    up = ancestors_from(pd.read_csv(world / "orgs.csv", dtype=str, keep_default_na=False))
    expected: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in truth.itertuples():
        for unit in up[row.unit_code]:
            expected[(unit, int(row.phase))]["records"] += 1
    initiatives = truth[truth["eligible"] == "true"].drop_duplicates("initiative_id")
    for row in initiatives.itertuples():
        for unit in up[row.unit_code]:
            cell = expected[(unit, int(row.phase))]
            cell["initiatives"] += 1
            cell[row.status] += 1
    return expected


def sync_generated_world(engine, world: Path) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """Load a generated world's org tree, quotas and every source, sync, and return the report rows."""
    load_orgs(engine, world / "orgs.csv")
    load_quotas(engine, world / "quotas.csv")
    for config in sorted((world / "sources").glob("*.yaml")):
        add_connector(engine, config.stem, "files", read_config_file(config))
    _, results, _, status = run_sync(engine)
    assert status == "completed"
    assert sum(r.quarantined for r in results) == 0
    with engine.connect() as conn:
        return report_rows(conn)[1]


def test_report_totals_equal_truth_for_every_unit_and_phase(clean_world, engine):
    rows = sync_generated_world(engine, clean_world)
    got = {(r["unit_code"], r["phase"]): r for r in rows if r["records"] or r["initiatives"]}
    expected = expected_counts(clean_world)
    assert set(got) == set(expected)
    mismatches = []
    for key, want in expected.items():
        have = {name: got[key][name] for name in ("records", "initiatives", "valid", "pending", "rejected")}
        if have != {name: want.get(name, 0) for name in have}:
            mismatches.append((key, have, dict(want)))
    assert not mismatches, mismatches[:5]
    national = sum(1 for _ in pd.read_csv(clean_world / "truth.csv", dtype=str)
                   .query("eligible == 'true'")["initiative_id"].unique())
    assert sum(got[("VGCL", p)]["initiatives"] for p in (1, 2)) == national
