"""Three tiers over real HTTP on loopback, each node with its own store.

Two district nodes (P01-D01, P01-D03) and a local union of Hà Nội push to the Hà Nội
node (P01), which pulls the rest of Hà Nội's system itself; P01 and the Banking Union
node (NGANHANG) push to the national node (VGCL), which pulls the simulated portal over
HTTP. The national totals must equal the world's truth, counting an initiative that
reaches it through Hà Nội, the Banking Union and the portal once.
"""
from __future__ import annotations

import unicodedata
from pathlib import Path

import pandas as pd
import pytest
import requests
import sqlalchemy as sa
import yaml

from sandbox.generate import generate_world
from sandbox.servers import serve
from sangkien import store
from sangkien.pipeline.push import build_submission, push
from sangkien.pipeline.run import run_sync
from sangkien.reference.orgs import load_orgs
from sangkien.reference.quotas import load_quotas
from sangkien.serve.api import create_app, serve_in_thread
from sangkien.store import open_store
from sangkien.store.nodes import add_child
from sangkien.store.registry import add_connector, read_config_file
from sangkien.store.settings import set_setting

KEY_ENV = "SANGKIEN_TEST_PROGRAM_KEY"


def _split_source(world: Path, source: str, folder: Path, keep) -> Path:  # type: ignore[no-untyped-def]
    """A copy of ``source``'s file drop holding only the rows whose unit ``keep`` accepts; returns its config."""
    config = yaml.safe_load((world / "sources" / f"{source}.yaml").read_text(encoding="utf-8"))
    folder.mkdir(parents=True)
    unit_header = config["columns"]["unit"]
    for path in sorted((world / "sources" / source).glob(config["pattern"])):
        frame = pd.read_csv(path, sep=config["delimiter"], encoding=config["encoding"], dtype=str, keep_default_na=False)
        column = next(c for c in frame.columns if unicodedata.normalize("NFC", c) == unit_header)
        frame[frame[column].map(keep)].to_csv(folder / path.name, sep=config["delimiter"],
                                                   encoding=config["encoding"], index=False)
    config["path"] = str(folder)
    out = folder.parent / f"{folder.name}.yaml"
    out.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return out


class Node:
    def __init__(self, root: Path, code: str, world: Path):
        self.code = code
        self.engine = open_store(f"sqlite:///{root / (code + '.db')}")
        load_orgs(self.engine, world / "orgs.csv")
        load_quotas(self.engine, world / "quotas.csv")
        with self.engine.begin() as conn:
            set_setting(conn, "code", code)
            set_setting(conn, "program_key", f"env:{KEY_ENV}")

    def source(self, name: str, config: Path) -> None:
        add_connector(self.engine, name, "files", read_config_file(config))

    def child(self, code: str) -> str:
        with self.engine.begin() as conn:
            return add_child(conn, code)

    def upstream(self, url: str, token: str, monkeypatch: pytest.MonkeyPatch) -> None:
        variable = f"SANGKIEN_TOKEN_{self.code.replace('-', '_')}"
        monkeypatch.setenv(variable, token)
        with self.engine.begin() as conn:
            set_setting(conn, "upstream_url", url)
            set_setting(conn, "upstream_token", f"env:{variable}")

    def sync(self) -> None:
        _, results, _, status = run_sync(self.engine)
        assert status == "completed", [r.errors for r in results]

    def counts(self, unit: str) -> pd.DataFrame:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(store.unit_counts).where(store.unit_counts.c.unit_code == unit)).mappings()
            return pd.DataFrame(rows).set_index("phase").sort_index()


@pytest.fixture(scope="module")
def three_tiers(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv(KEY_ENV, "program-key-for-tests")
    root = tmp_path_factory.mktemp("tiers")
    world = root / "world"
    generate_world(world, 3000, seed=3, noise="none")
    orgs = pd.read_csv(world / "orgs.csv", dtype=str, keep_default_na=False)
    parent = dict(zip(orgs["code"], orgs["parent_code"]))

    def under(unit: str, top: str) -> bool:
        while unit:
            if unit == top:
                return True
            unit = parent.get(unit, "")
        return False

    children = ("P01-D01", "P01-D03", "P01-KCN1")
    national, hanoi, bank = (Node(root, c, world) for c in ("VGCL", "P01", "NGANHANG"))
    lower = {c: Node(root, c, world) for c in children}
    for code, node in lower.items():
        node.source("hanoi", _split_source(world, "hanoi", root / "drops" / code, lambda u, c=code: under(u, c)))
    hanoi.source("hanoi", _split_source(world, "hanoi", root / "drops" / "P01",
                                        lambda u: not any(under(u, c) for c in children)))
    bank.source("nganhang", world / "sources" / "nganhang.yaml")
    with serve_in_thread(create_app(hanoi.engine)) as hanoi_url, \
            serve_in_thread(create_app(national.engine, public_reads=True)) as national_url, \
            serve("portal", world, token="portal-token") as portal:
        for code, node in lower.items():
            node.upstream(hanoi_url, hanoi.child(code), monkeypatch)
            node.sync()
            assert push(node.engine).status == "accepted"
        hanoi.sync()  # its own records, and the three children's submissions
        bank.sync()
        for node in (hanoi, bank):
            node.upstream(national_url, national.child(node.code), monkeypatch)
            assert push(node.engine).status == "accepted"
        monkeypatch.setenv("SANGKIEN_TEST_PORTAL_TOKEN", "portal-token")
        add_connector(national.engine, "portal", "portal", {"base_url": portal.url,
                                                            "token": "env:SANGKIEN_TEST_PORTAL_TOKEN",
                                                            "page_size": 200})
        national.sync()
        yield {"world": world, "national": national, "hanoi": hanoi, "bank": bank, "lower": lower,
               "national_url": national_url, "hanoi_url": hanoi_url}
    monkeypatch.undo()


def _truth(world: Path, sources: set[str]) -> pd.DataFrame:
    """Per phase, the distinct eligible initiatives the given sources hold, by status."""
    truth = pd.read_csv(world / "truth.csv", dtype=str)
    truth = truth[truth["source"].isin(sources) & (truth["eligible"] == "true")].drop_duplicates("initiative_id")
    table = pd.crosstab(truth["phase"].astype(int), truth["status"])
    table["initiatives"] = table.sum(axis=1)
    return table


def test_national_totals_equal_the_worlds_truth(three_tiers) -> None:  # type: ignore[no-untyped-def]
    truth = _truth(three_tiers["world"], {"portal", "hanoi", "nganhang"})
    counted = three_tiers["national"].counts("VGCL")
    for phase, row in truth.iterrows():
        for basis in ("initiatives", "valid", "pending", "rejected"):
            assert counted.loc[phase, basis] == row.get(basis, 0), (phase, basis)


def test_an_initiative_reported_by_province_and_sector_counts_once(three_tiers) -> None:  # type: ignore[no-untyped-def]
    world = three_tiers["world"]
    truth = pd.read_csv(world / "truth.csv", dtype=str)
    truth = truth[truth["eligible"] == "true"]
    both = set(truth.loc[truth["source"] == "hanoi", "initiative_id"]) & set(
        truth.loc[truth["source"] == "nganhang", "initiative_id"])
    assert both, "the world must hold initiatives listed by both Hà Nội and the Banking Union"
    p01, bank = three_tiers["hanoi"].counts("P01"), three_tiers["bank"].counts("NGANHANG")
    national = three_tiers["national"].counts("VGCL")
    without_portal = _truth(world, {"hanoi", "nganhang"})
    # what the two children pushed adds up to more than there is: the shared initiatives are in both
    assert p01["initiatives"].sum() + bank["initiatives"].sum() > without_portal["initiatives"].sum()
    assert national["initiatives"].sum() == _truth(world, {"portal", "hanoi", "nganhang"})["initiatives"].sum()
    # the province's own totals include its children's pushes: Hà Nội's truth, counted once
    assert p01["initiatives"].sum() == _truth_under(world, "hanoi")


def _truth_under(world: Path, source: str) -> int:
    truth = pd.read_csv(world / "truth.csv", dtype=str)
    return truth[(truth["source"] == source) & (truth["eligible"] == "true")]["initiative_id"].nunique()


def test_the_totals_api_serves_what_the_node_counted(three_tiers) -> None:  # type: ignore[no-untyped-def]
    reply = requests.get(three_tiers["national_url"] + "/api/v1/totals", params={"unit": "VGCL"}, timeout=30)
    assert reply.status_code == 200
    rows = {r["phase"]: r for r in reply.json()["rows"]}
    counted = three_tiers["national"].counts("VGCL")
    assert {p: rows[p]["valid"] for p in rows} == {int(p): int(v) for p, v in counted["valid"].items()}
    assert requests.get(three_tiers["national_url"] + "/api/v1/totals", params={"unit": "NOPE"},
                        timeout=30).status_code == 404


def test_pushing_unchanged_counts_again_sends_nothing(three_tiers) -> None:  # type: ignore[no-untyped-def]
    node = three_tiers["lower"]["P01-D01"]
    result = push(node.engine)
    assert result.status == "unchanged"
    with three_tiers["hanoi"].engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(store.submissions)
                           .where(store.submissions.c.node == "P01-D01")) == 1


def test_the_payload_carries_no_names(three_tiers) -> None:  # type: ignore[no-untyped-def]
    node = three_tiers["lower"]["P01-D01"]
    with node.engine.connect() as conn:
        submission = build_submission(conn)
        titles = [t for (t,) in conn.execute(sa.select(store.records.c.title))]
        authors = [a for (a,) in conn.execute(sa.select(store.records.c.authors))]
    text = submission.model_dump_json()
    assert submission.initiatives and titles
    assert not any(t in text for t in titles)
    assert not any(name in text for a in authors for name in yaml.safe_load(a))


def test_the_nightly_flow_pushes_at_its_end(prefect_harness, three_tiers, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A district node whose upstream is set: the nightly flow syncs, then pushes; Hà Nội holds its submission."""
    from flows.nightly import nightly_sync

    world, hanoi = three_tiers["world"], three_tiers["hanoi"]
    node = Node(tmp_path, "P01-D02", world)
    node.source("hanoi", _split_source(world, "hanoi", tmp_path / "drop", lambda u: u.startswith("G") and
                                       _under(world, u, "P01-D02")))
    mp = pytest.MonkeyPatch()
    try:
        node.upstream(three_tiers["hanoi_url"], hanoi.child("P01-D02"), mp)
        summary = nightly_sync(db_url=str(node.engine.url))
    finally:
        mp.undo()
    assert summary.pushed["status"] == "accepted" and summary.pushed["initiatives"] > 0
    with hanoi.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(store.submissions)
                           .where(store.submissions.c.node == "P01-D02")) == 1
    with node.engine.connect() as conn:
        assert conn.scalar(sa.select(store.pushes.c.run_id)) == summary.run_id


def _under(world: Path, unit: str, top: str) -> bool:
    orgs = pd.read_csv(world / "orgs.csv", dtype=str, keep_default_na=False)
    parent = dict(zip(orgs["code"], orgs["parent_code"]))
    while unit:
        if unit == top:
            return True
        unit = parent.get(unit, "")
    return False


def test_reconciling_pushes_names_each_difference_and_its_cause(three_tiers) -> None:  # type: ignore[no-untyped-def]
    """At the national node: the Banking Union pushed initiatives the portal lacks; Hà Nội and the Banking Union
    both pushed the shared ones."""
    from sangkien.pipeline.tiers import against_pushes

    world = three_tiers["world"]
    with three_tiers["national"].engine.connect() as conn:
        rows = against_pushes(conn)
    truth = pd.read_csv(world / "truth.csv", dtype=str)
    truth = truth[truth["eligible"] == "true"]
    portal = set(truth.loc[truth["source"] == "portal", "initiative_id"])
    bank_only = set(truth.loc[truth["source"] == "nganhang", "initiative_id"]) - portal
    missing = [r for r in rows if r["unit_code"] == "NGANHANG" and r["measure"] == "initiative"
               and r["cause"].startswith("not in this node's sources")]
    assert len(missing) == len(bank_only) > 0
    shared = [r for r in rows if "duplicate across two parents" in r["cause"]]
    assert shared and {r["unit_code"] for r in shared} <= {"P01", "NGANHANG"}
    summary = [r for r in rows if r["unit_code"] == "NGANHANG" and r["measure"] == "initiatives"]
    assert summary and all(r["actual"] - r["expected"] == r["difference"] for r in summary)
