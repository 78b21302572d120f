"""The page's data per program (issue 20): ``?program=`` on /api/v1/dashboard*, another program's figures,
targets and cluster ranks worked out on its first request and kept until the next roll-up; an unknown program
named in a 404 with the known ones. Records and rounds: tests/pipeline/test_programs.py (seed 004's 2022 rounds
beside the national program)."""
from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from fastapi.testclient import TestClient

from sangkien import store
from sangkien.cli.main import main
from sangkien.pipeline.summary import refresh
from sangkien.serve.api import create_app
from tests.pipeline.test_clusters import CLUSTERS
from tests.pipeline.test_programs import DEFAULT, RECORDS, ROUNDS, UNDER_P01, two_programs, valid_in  # noqa: F401

WINDOW = (dt.date(2022, 1, 1), dt.date(2022, 12, 31))
NATIONAL = (dt.date(2021, 9, 1), dt.date(2023, 9, 1))


def _valid_until(units: set[str], until: str) -> int:
    """Valid initiatives of round 1 submitted up to ``until`` (the rounds' window), under ``units``."""
    start, end = ROUNDS[1]
    return sum(1 for _, unit, _, applied, submitted, status in RECORDS
               if unit in units and status == "Hợp lệ" and start <= dt.date.fromisoformat(submitted) <= end
               and submitted <= until and WINDOW[0] <= dt.date.fromisoformat(applied) <= WINDOW[1])


def test_the_page_data_of_another_program_has_its_rounds_targets_and_cluster_ranks(
        two_programs, engine, tmp_path, capsys):  # noqa: F811
    (tmp_path / "clusters.csv").write_text(CLUSTERS, encoding="utf-8")
    assert main([*two_programs, "clusters", "load", str(tmp_path / "clusters.csv")]) == 0
    capsys.readouterr()
    client = TestClient(create_app(engine, public_reads=True))
    national = client.get("/api/v1/dashboard").json()
    assert national["program"] == {"code": "1trieu", "name": "01 triệu sáng kiến (2022–2023)", "default": True}
    assert [p["code"] for p in national["programs"]] == ["1trieu", "VC-2022"]
    p01 = next(c for c in national["children"] if c["code"] == "P01")
    assert [f["counted"] for f in p01["phases"]] == [valid_in(DEFAULT, p, NATIONAL, UNDER_P01) for p in (1, 2)]

    view = client.get("/api/v1/dashboard", params={"program": "VC-2022", "phase": 1}).json()
    assert view["program"]["code"] == "VC-2022" and view["program"]["default"] is False
    assert [(p["phase"], p["name"], p["starts_on"]) for p in view["phases"]] == [
        (1, "Đợt 1", "2022-01-01"), (2, "Đợt 2", "2022-07-01")]
    p01 = next(c for c in view["children"] if c["code"] == "P01")
    assert [(f["counted"], f["target"]) for f in p01["phases"]] == [
        (valid_in(ROUNDS, p, WINDOW, UNDER_P01), t) for p, t in ((1, 4), (2, 2))]
    assert view["worklist"] is None and view["history"] == []  # the nightly's: the default program's only
    [cluster] = [c for c in view["clusters"] if c["phase"] == 1]
    assert [(u["code"], u["valid"], u["target"]) for u in cluster["units"]] == [
        ("P01", valid_in(ROUNDS, 1, WINDOW, UNDER_P01), 4), ("NGANHANG", valid_in(ROUNDS, 1, WINDOW, {"G001"}), None),
        ("P34", valid_in(ROUNDS, 1, WINDOW, {"G003"}), None)]
    district = client.get("/api/v1/dashboard/units/P01-D01", params={"program": "VC-2022"}).json()
    assert [(t["phase"], t["basis"], t["target"]) for t in district["targets"]] == [
        (2, "share_of_units:grassroots", 100)]
    # kept: the second answer reads what the first worked out, until the next roll-up clears it
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(store.program_summaries)) == 1
    refresh(engine)
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(store.program_summaries)) == 0
    again = client.get("/api/v1/dashboard", params={"program": "VC-2022", "phase": 1}).json()
    assert again["children"] == view["children"]


def test_the_cluster_ranks_of_another_program_per_quarter_count_its_own_rounds(
        two_programs, tmp_path, capsys):  # noqa: F811
    (tmp_path / "clusters.csv").write_text(CLUSTERS, encoding="utf-8")
    assert main([*two_programs, "clusters", "load", str(tmp_path / "clusters.csv")]) == 0
    capsys.readouterr()
    assert main([*two_programs, "report", "--by", "cluster", "--program", "VC-2022", "--phase", "1",
                 "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert {r["quarter"] for r in rows} == {None, "2022-Q1", "2022-Q2"}
    for quarter, until in (("2022-Q1", "2022-03-31"), ("2022-Q2", "2022-06-30")):
        got = {r["unit_code"]: r["valid"] for r in rows if r["quarter"] == quarter}
        assert got == {"P01": _valid_until(UNDER_P01, until), "NGANHANG": _valid_until({"G001"}, until),
                       "P34": _valid_until({"G003"}, until)}


def test_an_unknown_program_is_refused_naming_the_known_ones(two_programs, engine):  # noqa: F811
    client = TestClient(create_app(engine, public_reads=True))
    for path in ("/api/v1/dashboard", "/api/v1/dashboard/units/P01"):
        reply = client.get(path, params={"program": "VC-2023"})
        assert reply.status_code == 404
        assert reply.json()["detail"] == ("unknown program 'VC-2023'; known programs: 1trieu, VC-2022 (add one with "
                                          "`sangkien programs add`)")


def test_serving_works_every_other_program_out_when_it_starts(two_programs, engine):  # noqa: F811
    from sangkien.serve.dashboard import warm

    warm(engine)  # what `sangkien serve` runs in the background as it starts
    with engine.connect() as conn:
        kept = set(conn.scalars(sa.select(store.program_summaries.c.program)))
        figures = set(conn.scalars(sa.select(store.unit_figures.c.program).distinct()))
    assert kept == {"VC-2022"} and figures == {"1trieu", "VC-2022"}
