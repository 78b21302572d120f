"""Acceptance 1 of issue 20: on the seed world (`sandbox generate --seeds`), each source document's target is
counted its own way, through `report --format json` and `reconcile --format json`, against truth worked out
here from the world's own files (seeds.csv, orgs.csv, members.csv), never from the store."""
from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sandbox.generate import generate_world
from sandbox.generate.text import fold_text
from sangkien.cli.demo import load_seeds
from sangkien.cli.main import main
from sangkien.pipeline.run import run_sync
from sangkien.reference.orgs import load_orgs
from sangkien.reference.quotas import load_quotas
from sangkien.store import open_store
from sangkien.store.registry import add_connector, read_config_file
from tests.pipeline.test_truth import ancestors_from

INITIATIVES = 2500
PHASE1_LAST = "2022-05-31"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    root = tmp_path_factory.mktemp("seeds")
    world = root / "world"
    generate_world(world, INITIATIVES, seed=20, noise="none", seeds=True)
    url = f"sqlite:///{root / 'store.db'}"
    engine = open_store(url)
    load_orgs(engine, world / "orgs.csv")
    load_quotas(engine, world / "quotas.csv")
    load_seeds(engine, world)
    for config in sorted((world / "sources").glob("*.yaml")):
        add_connector(engine, config.stem, "files", read_config_file(config))
    assert run_sync(engine).status == "completed"
    return url, world


def cli_json(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> dict[str, Any]:
    assert main(["--db", url, *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def truth(world: Path) -> pd.DataFrame:
    seeds = pd.read_csv(world / "seeds.csv", dtype=str, keep_default_na=False)
    return seeds.assign(phase=(seeds["submitted_on"] > PHASE1_LAST).astype(int) + 1)


def valid_under(world: Path) -> dict[tuple[str, int], int]:
    """Valid, eligible initiatives per (unit over its subtree, national phase)."""
    up = ancestors_from(pd.read_csv(world / "orgs.csv", dtype=str, keep_default_na=False))
    seeds = truth(world)
    out: dict[tuple[str, int], int] = defaultdict(int)
    for row in seeds[(seeds["status"] == "valid") & (seeds["eligible"] == "true")].itertuples():
        for unit in up[row.unit_code]:
            out[(unit, row.phase)] += 1
    return out


def quotas_of(parsed: dict[str, Any], unit: str) -> list[dict[str, Any]]:
    return [q for q in parsed["quotas"] if q["unit_code"] == unit]


def test_banking_union_500_and_1500_valid(seeded, capsys):
    url, world = seeded
    expected = valid_under(world)
    rows = [r for r in cli_json(capsys, url, "report", "--unit", "NGANHANG")["rows"]]
    assert [(r["phase"], r["target"], r["valid"]) for r in rows] == [
        (1, 500, expected[("NGANHANG", 1)]), (2, 1500, expected[("NGANHANG", 2)])]
    quotas = quotas_of(cli_json(capsys, url, "reconcile", "--unit", "NGANHANG"), "NGANHANG")
    assert [(q["counted"], q["completion"]) for q in quotas] == [
        (expected[("NGANHANG", p)], round(expected[("NGANHANG", p)] / t, 4)) for p, t in ((1, 500), (2, 1500))]


def test_national_300000_and_700000_scaled_to_the_world(seeded, capsys):
    url, world = seeded
    expected = valid_under(world)
    quotas = quotas_of(cli_json(capsys, url, "reconcile", "--section", "quotas"), "VGCL")
    targets = {1: round(0.3 * INITIATIVES), 2: round(0.7 * INITIATIVES)}  # 300,000 / 700,000 of 1,000,000
    assert [(q["phase"], q["target"], q["counted"], q["completion"]) for q in quotas] == [
        (p, targets[p], expected[("VGCL", p)], round(expected[("VGCL", p)] / targets[p], 4)) for p in (1, 2)]


def test_thai_binh_health_100_150_and_the_10_percent_of_members(seeded, capsys):
    url, world = seeded
    expected = valid_under(world)
    quotas = quotas_of(cli_json(capsys, url, "reconcile", "--unit", "P34-YTE"), "P34-YTE")
    valid = [(q["phase"], q["target"], q["counted"]) for q in quotas if q["basis"] == "valid"]
    assert valid == [(1, 100, expected[("P34-YTE", 1)]), (2, 150, expected[("P34-YTE", 2)])]
    members = pd.read_csv(world / "members.csv")
    seeds = truth(world)
    under = set(members["unit_code"])  # the health union's grassroots units, each with its count
    for q in (q for q in quotas if q["basis"] == "share_of_members"):
        phase = seeds[(seeds["phase"] == q["phase"]) & (seeds["eligible"] == "true") & seeds["unit_code"].isin(under)]
        people = {(r.unit_code, fold_text(name)) for r in phase.itertuples() for name in r.authors.split(" | ")}
        share = round(100 * len(people) / members["members"].sum(), 2)
        assert (q["target"], q["assigned_by"], q["taking_part"], q["out_of"], q["counted"]) == (
            10, "P34-YTE", len(people), members["members"].sum(), share)
        assert q["completion"] == round(share / 10, 4)


def test_hanoi_both_targets_with_their_assigners(seeded, capsys):
    url, world = seeded
    expected = valid_under(world)
    parsed = cli_json(capsys, url, "reconcile", "--unit", "P01")
    quotas = quotas_of(parsed, "P01")
    assert [(q["phase"], q["assigned_by"], q["target"], q["counted"]) for q in quotas] == [
        (1, "VGCL", 18_000, expected[("P01", 1)]), (1, "P01", 39_000, expected[("P01", 1)]),
        (2, "VGCL", 42_000, expected[("P01", 2)]), (2, "P01", 91_000, expected[("P01", 2)])]
    assert 60_000 == 18_000 + 42_000 and 130_000 == 39_000 + 91_000  # the whole program's, split 30 / 70
    # what Hà Nội assigned below adds up to what it set itself: no flag for it
    assert [f for f in parsed["target_flags"] if f["unit_code"] == "P01"] == []
    report = [r for r in cli_json(capsys, url, "report", "--unit", "P01", "--phase", "1")["rows"]]
    assert [(r["assigned_by"], r["target"]) for r in report] == [("VGCL", 18_000), ("P01", 39_000)]


def test_public_employees_two_rounds_and_every_affiliated_union_taking_part(seeded, capsys):
    url, world = seeded
    orgs = pd.read_csv(world / "orgs.csv", dtype=str, keep_default_na=False)
    up = ancestors_from(orgs)
    children = set(orgs.loc[(orgs["parent_code"] == "VIENCHUC") | (orgs["sector_parent_code"] == "VIENCHUC"), "code"])
    seeds = truth(world)
    rounds = {1: ("2022-01-01", "2022-06-30"), 2: ("2022-07-01", "2022-12-31")}
    parsed = cli_json(capsys, url, "reconcile", "--program", "VC-2022", "--as-of", "2022-12-31")
    shares = {q["phase"]: q for q in quotas_of(parsed, "VIENCHUC")}
    report = {r["phase"]: r for r in cli_json(capsys, url, "report", "--program", "VC-2022", "--unit", "VIENCHUC")
              ["rows"]}
    for phase, (start, end) in rounds.items():
        inside = seeds[(seeds["status"] == "valid") & (seeds["submitted_on"] >= start) & (seeds["submitted_on"] <= end)
                       & (seeds["applied_on"] >= "2022-01-01") & (seeds["applied_on"] <= "2022-12-31")]
        taking = {c for c in children if any(c in up[u] for u in inside["unit_code"])}
        assert (shares[phase]["taking_part"], shares[phase]["out_of"]) == (len(taking), len(children)), phase
        assert shares[phase]["completion"] == round(len(taking) / len(children), 4)
        assert report[phase]["valid"] == sum(1 for u in inside["unit_code"] if "VIENCHUC" in up[u])
    assert dt.date.fromisoformat(shares[2]["ends_on"]) == dt.date(2022, 12, 31)  # the slip corrected


def test_sandbox_generate_seeds_writes_the_documents_files_and_notes_the_corrected_slip(tmp_path, capsys):
    assert main(["sandbox", "generate", "--out", str(tmp_path / "w"), "--initiatives", "300", "--seeds"]) == 0
    out = capsys.readouterr().out
    for name in ("members.csv", "clusters.csv", "programs/VC-2022/phases.csv", "seeds.csv", "SEEDS.md"):
        assert str(tmp_path / "w" / name) in out
    notes = (tmp_path / "w" / "SEEDS.md").read_text(encoding="utf-8")
    assert '"01/7/2021 – 31/12/2021"' in notes and "2022-07-01 to 2022-12-31" in notes
    quotas = pd.read_csv(tmp_path / "w" / "quotas.csv")
    hanoi = quotas[quotas["unit_code"] == "P01"]
    assert sorted(zip(hanoi["assigned_by"], hanoi["target"])) == [("P01", 39_000), ("P01", 91_000),
                                                                   ("VGCL", 18_000), ("VGCL", 42_000)]
    below = quotas[(quotas["assigned_by"] == "P01") & (quotas["unit_code"] != "P01")]
    assert below.groupby("phase")["target"].sum().to_dict() == {1: 39_000, 2: 91_000}  # the 130,000 split below
