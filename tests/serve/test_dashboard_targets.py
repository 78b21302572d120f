"""The page's data for every target of a unit (each assigner's, the members' share) and the cluster ranks around
it, read from what the last roll-up kept (issue 20, acceptance 4; the page's sections render from these)."""
from __future__ import annotations

from fastapi.testclient import TestClient

from sangkien.pipeline.summary import refresh
from sangkien.reference.clusters import load_clusters
from sangkien.reference.members import load_members
from sangkien.serve.api import create_app
from tests.pipeline.test_clusters import CLUSTERS
from tests.pipeline.test_targets import HANOI_QUOTAS, MEMBERS, authors_under, sync, valid_under

QUOTAS = HANOI_QUOTAS.replace("P34-YTE,1,1,valid,\n", "P34-YTE,1,2,valid,P34\nP34-YTE,1,10,share_of_members,P34-YTE\n"
                              "P34,1,3,valid,\nNGANHANG,1,1,valid,\n")


def test_the_page_data_carries_every_target_with_its_assigner_the_members_share_and_the_cluster_ranks(
        engine, world, tmp_path):
    sync(engine, world, QUOTAS)
    (tmp_path / "members.csv").write_text(MEMBERS, encoding="utf-8")
    load_members(engine, tmp_path / "members.csv")
    (tmp_path / "clusters.csv").write_text(CLUSTERS, encoding="utf-8")
    load_clusters(engine, tmp_path / "clusters.csv")
    refresh(engine)
    client = TestClient(create_app(engine, public_reads=True))
    hanoi = client.get("/api/v1/dashboard/units/P01").json()["targets"]
    assert [(t["phase"], t["assigned_by"], t["self_set"], t["target"], t["counted"]) for t in hanoi] == [
        (1, "VGCL", False, 4, valid_under("P01")), (1, "P01", True, 6, valid_under("P01"))]
    assert hanoi[0]["assigned_by_name"] == "Tổng Liên đoàn Lao động Việt Nam"
    health = {t["basis"]: t for t in client.get("/api/v1/dashboard/units/P34-YTE").json()["targets"]}
    share = round(100 * authors_under("P34-YTE") / 20, 2)
    assert (health["share_of_members"]["counted"], health["share_of_members"]["completion"]) == (
        share, round(share / 10, 4))
    national = client.get("/api/v1/dashboard").json()
    [cluster] = [c for c in national["clusters"] if c["phase"] == 1]
    completion = {u: valid_under({"P34": "P34-YTE"}.get(u, u)) / t for u, t in (("P01", 4), ("P34", 3),
                                                                                ("NGANHANG", 1))}
    assert [u["code"] for u in cluster["units"]] == sorted(completion, key=lambda u: -completion[u])
    assert cluster["name"] == "Cụm thi đua số 1" and {u["of"] for u in cluster["units"]} == {3}
    page = client.get("/").text
    assert 'id="targets-box"' in page and "Xếp hạng cụm, khối thi đua" in page


def test_without_clusters_or_extra_targets_the_page_data_adds_nothing(engine, world):
    from tests.conftest import QUOTAS_CSV

    sync(engine, world, QUOTAS_CSV)
    client = TestClient(create_app(engine, public_reads=True))
    view = client.get("/api/v1/dashboard").json()
    assert view["clusters"] == []
    assert [(t["phase"], t["target"]) for t in view["targets"]] == [(1, 10), (2, 20)]  # one target a phase
