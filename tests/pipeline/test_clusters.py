"""Competition clusters and blocks (cụm, khối thi đua): loaded whole, and each unit ranked within its cluster per
phase and per quarter, in the report (--by cluster) and the workbook ("Xếp hạng cụm, khối")."""
from __future__ import annotations

import json

import openpyxl
import pytest
import sqlalchemy as sa

from sangkien import store
from sangkien.cli.main import main
from sangkien.errors import RejectedFile
from sangkien.reference.clusters import load_clusters
from sangkien.reference.orgs import load_orgs
from tests.conftest import ORGS_CSV
from tests.pipeline.test_programs import LINE, TITLES, vn
from tests.pipeline.test_reconcile import sync_world

# (id, unit, author, applied, submitted, status); every one in the national phase 1 (to 2022-05-31)
RECORDS = [
    ("C-1", "G002", "Nguyễn Văn An", "2021-10-01", "2021-11-01", "Hợp lệ"),  # Hà Nội, 2021-Q4
    ("C-2", "G002", "Trần Thị Bình", "2022-02-01", "2022-03-05", "Hợp lệ"),  # Hà Nội, 2022-Q1
    ("C-3", "G001", "Lê Văn Cường", "2022-04-01", "2022-05-10", "Hợp lệ"),  # Hà Nội and Banking, 2022-Q2
    ("C-4", "G003", "Đỗ Thị Hoa", "2021-09-15", "2021-10-01", "Hợp lệ"),  # Thái Bình, 2021-Q4
    ("C-5", "G003", "Hoàng Văn Em", "2022-01-10", "2022-02-01", "Hợp lệ"),  # Thái Bình, 2022-Q1
    ("C-6", "G003", "Phạm Thị Dung", "2022-03-01", "2022-04-01", "Chờ duyệt"),  # pending
]
UNDER = {"P01": {"G001", "G002"}, "P34": {"G003"}, "NGANHANG": {"G001"}}
TARGETS = {"P01": 6, "P34": 2, "NGANHANG": 1}
QUOTAS = "unit_code,phase,target,basis\n" + "".join(f"{u},1,{t},valid\n" for u, t in TARGETS.items())
CLUSTERS = ("cluster_code,name,unit_code,valid_from,valid_to\nCUM1,Cụm thi đua số 1,P01,,\n"
            "CUM1,Cụm thi đua số 1,P34,,\nCUM1,Cụm thi đua số 1,NGANHANG,,\n")
QUARTER_ENDS = {"2021-Q3": "2021-09-30", "2021-Q4": "2021-12-31", "2022-Q1": "2022-03-31", "2022-Q2": "2022-05-31"}


def valid(unit: str, until: str = "2022-05-31") -> int:
    return sum(1 for _, u, _, _, submitted, status in RECORDS
               if u in UNDER[unit] and status == "Hợp lệ" and submitted <= until)


def expected_ranks(until: str = "2022-05-31") -> dict[str, int]:
    """Rank 1 = highest completion, then the most valid; equal pairs share a rank."""
    score = {u: (valid(u, until) / TARGETS[u], valid(u, until)) for u in UNDER}
    return {u: 1 + sum(1 for other in score.values() if other > score[u]) for u in score}


@pytest.fixture
def clustered(engine, world, db_url, tmp_path, capsys):  # type: ignore[no-untyped-def]
    (world.root / "quotas.csv").write_text(QUOTAS, encoding="utf-8")
    rows = [LINE.format(id=i, title=t, author=a, unit=u, recognized=vn(s), applied=vn(ap), submitted=vn(s), status=st)
            for (i, u, a, ap, s, st), t in zip(RECORDS, TITLES, strict=True)]
    sync_world(engine, world, {"hanoi": rows})
    (tmp_path / "clusters.csv").write_text(CLUSTERS, encoding="utf-8")
    assert main(["--db", db_url, "clusters", "load", str(tmp_path / "clusters.csv")]) == 0
    capsys.readouterr()
    return db_url


def test_units_are_ranked_within_their_cluster_per_phase_and_per_quarter(clustered, capsys):
    assert main(["--db", clustered, "report", "--by", "cluster", "--format", "json", "--phase", "1"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    phase = {r["unit_code"]: r for r in rows if r["quarter"] is None}
    assert {u: r["rank"] for u, r in phase.items()} == expected_ranks()
    for unit, r in phase.items():
        assert (r["valid"], r["target"], r["of"], r["cluster_name"]) == (valid(unit), TARGETS[unit], 3,
                                                                          "Cụm thi đua số 1")
        assert r["completion"] == round(valid(unit) / TARGETS[unit], 4)
    for quarter, until in QUARTER_ENDS.items():
        ranked = {r["unit_code"]: r for r in rows if r["quarter"] == quarter}
        assert {u: r["valid"] for u, r in ranked.items()} == {u: valid(u, until) for u in UNDER}, quarter
        assert {u: r["rank"] for u, r in ranked.items()} == expected_ranks(until), quarter
    assert main(["--db", clustered, "report", "--by", "cluster", "--phase", "1"]) == 0
    table = capsys.readouterr().out
    assert "CUM1" in table and "2022-Q1" in table and "1/3" in table


def test_the_workbook_has_the_cluster_sheet_with_the_same_ranks(clustered, tmp_path, capsys):
    out = tmp_path / "report.xlsx"
    assert main(["--db", clustered, "report", "--format", "xlsx", "--out", str(out)]) == 0
    capsys.readouterr()
    wb = openpyxl.load_workbook(out)
    ws = wb["Xếp hạng cụm, khối"]
    header = [c.value for c in ws[1]]
    assert header[:6] == ["Mã cụm, khối", "Tên cụm, khối", "Đợt", "Quý", "Hạng", "Số đơn vị trong cụm"]
    body = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    whole = {r[6]: r[4] for r in body if r[3] == "Cả đợt" and str(r[2]).startswith("Giai đoạn 1")}
    assert whole == expected_ranks()
    notes = [c.value for row in wb["Tổng quan"].iter_rows() for c in row if isinstance(c.value, str)]
    assert any(n.startswith("Trang «Xếp hạng cụm, khối»") for n in notes)


def test_without_clusters_the_ranking_among_siblings_stays_and_says_so(engine, world, db_url, tmp_path, capsys):
    sync_world(engine, world, {})
    assert main(["--db", db_url, "report", "--by", "cluster"]) == 0
    assert "no competition clusters are loaded" in capsys.readouterr().out
    out = tmp_path / "report.xlsx"
    assert main(["--db", db_url, "report", "--format", "xlsx", "--out", str(out)]) == 0
    capsys.readouterr()
    wb = openpyxl.load_workbook(out)
    assert "Xếp hạng cụm, khối" not in wb.sheetnames
    notes = [c.value for row in wb["Tổng quan"].iter_rows() for c in row if isinstance(c.value, str)]
    assert any(n.startswith("Chưa nạp cụm, khối thi đua") for n in notes)


def test_a_bad_clusters_file_is_rejected_whole_naming_every_line(engine, tmp_path):
    orgs, clusters = tmp_path / "orgs.csv", tmp_path / "clusters.csv"
    orgs.write_text(ORGS_CSV, encoding="utf-8")
    load_orgs(engine, orgs)
    clusters.write_text("cluster_code,name,unit_code,valid_from,valid_to\n"
                        "CUM1,Cụm 1,P01,2022-01-01,\n"
                        "CUM1,Cụm một,P34,,\n"
                        "CUM2,Cụm 2,P99,,\n"
                        "CUM2,Cụm 2,NGANHANG,2022-12-31,2022-01-01\n"
                        "CUM2,Cụm 2,P01,2022-06-01,\n"
                        "KHOI1,Khối 1,P34-YTE,31/12/2022,\n", encoding="utf-8")
    with pytest.raises(RejectedFile) as rejected:
        load_clusters(engine, clusters)
    assert rejected.value.problems == [
        "line 3 (CUM1, P34): cluster CUM1 is named 'Cụm một' here but 'Cụm 1' on line 2",
        "line 4 (CUM2, P99): unknown unit 'P99'",
        "line 5 (CUM2, NGANHANG): ends before it starts: 2022-01-01 < 2022-12-31",
        "line 6 (CUM2, P01): P01 would be in CUM2 and in CUM1 (line 2) at once; a unit ranks in one cluster at a "
        "time",
        "line 7 (KHOI1, P34-YTE): valid_from '31/12/2022' is not an ISO date (YYYY-MM-DD)"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store.clusters)).scalar_one() == 0
