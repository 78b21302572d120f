"""Loading the org tree, quotas and phases: whole files accepted or rejected, rows named."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from sangkien import store
from sangkien.errors import RejectedFile, UserError
from sangkien.reference.orgs import load_orgs
from sangkien.reference.phases import DEFAULT_PHASES, get_phases, load_phases
from sangkien.reference.quotas import load_quotas
from tests.conftest import ORGS_CSV

HEADER = "code,name,kind,parent_code,sector_parent_code,valid_from,valid_to,aliases\n"


def unit_codes(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.scalars(sa.select(store.org_units.c.code)))


def test_org_file_with_every_kind_of_error_is_rejected_whole_naming_each_row(engine, tmp_path):
    bad = tmp_path / "orgs.csv"
    bad.write_text(HEADER + "\n".join([
        "VGCL,Tổng Liên đoàn,national,,,,,",
        "P01,Hà Nội,province,VGCL,,,,",
        "P01,Hà Nội lần hai,province,VGCL,,,,",          # line 4: duplicate code
        "D1,Quận 1,district,P99,,,,",                     # line 5: unknown parent
        "A,Đơn vị A,district,B,,,,",                      # line 6: cycle A -> B -> A
        "B,Đơn vị B,district,A,,,,",                      # line 7
        "G1,CĐCS 1,grasroots,P01,,,,",                    # line 8: unknown kind
        "G2,CĐCS 2,grassroots,P01,NOPE,,,",               # line 9: unknown sector parent
    ]) + "\n", encoding="utf-8")
    with pytest.raises(RejectedFile) as caught:
        load_orgs(engine, bad)
    message = str(caught.value)
    for expected in ("line 4 (P01): duplicate code", "line 5 (D1): unknown parent_code 'P99'",
                     "line 6 (A): part of a cycle", "line 7 (B): part of a cycle", "line 8 (G1): unknown kind 'grasroots'",
                     "line 9 (G2): unknown sector_parent_code 'NOPE'"):
        assert expected in message
    assert unit_codes(engine) == set()


def test_loading_orgs_again_replaces_the_tree_and_a_bad_file_keeps_the_old_one(engine, tmp_path):
    good = tmp_path / "orgs.csv"
    good.write_text(ORGS_CSV, encoding="utf-8")
    assert load_orgs(engine, good) == 9
    smaller = tmp_path / "orgs2.csv"
    smaller.write_text(HEADER + "VGCL,Tổng Liên đoàn,national,,,,,\nP01,Hà Nội,province,VGCL,,,,HN\n", encoding="utf-8")
    load_orgs(engine, smaller)
    assert unit_codes(engine) == {"VGCL", "P01"}
    broken = tmp_path / "orgs3.csv"
    broken.write_text(HEADER + "VGCL,Tổng Liên đoàn,national,,,,,\nX,Đơn vị,province,NOWHERE,,,,\n", encoding="utf-8")
    with pytest.raises(RejectedFile):
        load_orgs(engine, broken)
    assert unit_codes(engine) == {"VGCL", "P01"}


def test_quota_file_with_unknown_unit_or_phase_is_rejected_whole(engine, tmp_path):
    orgs = tmp_path / "orgs.csv"
    orgs.write_text(ORGS_CSV, encoding="utf-8")
    load_orgs(engine, orgs)
    quotas = tmp_path / "quotas.csv"
    quotas.write_text("unit_code,phase,target,basis\nVGCL,1,300000,valid\nP77,1,10,valid\nP01,3,10,\n"
                      "P01,1,lots,\n", encoding="utf-8")
    with pytest.raises(RejectedFile) as caught:
        load_quotas(engine, quotas)
    message = str(caught.value)
    assert "line 3 (P77): unknown unit 'P77'" in message
    assert "line 4 (P01): unknown phase 3" in message
    assert "line 5 (P01): target 'lots'" in message
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(store.quotas)) == 0


def test_a_quota_target_that_is_not_a_whole_number_is_refused_in_one_line(engine, tmp_path):
    orgs = tmp_path / "orgs.csv"
    orgs.write_text(ORGS_CSV, encoding="utf-8")
    load_orgs(engine, orgs)
    quotas = tmp_path / "quotas.csv"
    quotas.write_text('unit_code,phase,target\nVGCL,1,1.5\nP01,1,"2,5"\nVGCL,2,1.500\nP01,2,-3\n', encoding="utf-8")
    with pytest.raises(RejectedFile) as caught:
        load_quotas(engine, quotas)
    message = str(caught.value)
    assert "\n" not in message
    assert "line 2 (VGCL): target '1.5' is not a whole number" in message
    assert "line 3 (P01): target '2,5' is not a whole number" in message
    assert "line 5 (P01): target '-3' is not a whole number" in message
    assert "line 4" not in message  # 1.500: one thousand five hundred, in Vietnamese grouping
    quotas.write_text('unit_code,phase,target\nVGCL,1,"300.000"\nVGCL,2,"700,000"\nP01,1,60 000\n', encoding="utf-8")
    load_quotas(engine, quotas)
    with engine.connect() as conn:
        targets = dict(conn.execute(sa.select(store.quotas.c.unit_code + ":" + sa.cast(store.quotas.c.phase, sa.String),
                                              store.quotas.c.target)).all())
    assert targets == {"VGCL:1": 300_000, "VGCL:2": 700_000, "P01:1": 60_000}


def test_quota_basis_defaults_to_valid(engine, tmp_path):
    orgs = tmp_path / "orgs.csv"
    orgs.write_text(ORGS_CSV, encoding="utf-8")
    load_orgs(engine, orgs)
    quotas = tmp_path / "quotas.csv"
    quotas.write_text("unit_code,phase,target\nVGCL,1,300000\n", encoding="utf-8")
    load_quotas(engine, quotas)
    with engine.connect() as conn:
        assert conn.execute(sa.select(store.quotas.c.basis)).scalar_one() == "valid"


def test_builtin_phases_apply_until_a_phase_file_overrides_them(engine, tmp_path):
    with engine.connect() as conn:
        assert get_phases(conn) == list(DEFAULT_PHASES)
    phases = tmp_path / "phases.csv"
    phases.write_text("phase,name,starts_on,ends_on,counts_from\n1,Đợt 1,2021-09-01,2022-06-30,2021-09-01\n"
                      "2,Đợt 2,2022-07-01,2023-09-30,2021-09-01\n", encoding="utf-8")
    assert load_phases(engine, phases) == 2
    with engine.connect() as conn:
        assert str(get_phases(conn)[0].ends_on) == "2022-06-30"


def test_overlapping_phases_are_rejected(engine, tmp_path):
    phases = tmp_path / "phases.csv"
    phases.write_text("phase,name,starts_on,ends_on,counts_from\n1,A,2021-09-01,2022-06-30,2021-09-01\n"
                      "2,B,2022-06-01,2023-09-30,2021-09-01\n", encoding="utf-8")
    with pytest.raises(RejectedFile, match="phase 2 starts on 2022-06-01, inside phase 1"):
        load_phases(engine, phases)


def test_quotas_need_an_org_tree_first(engine, tmp_path):
    quotas = tmp_path / "quotas.csv"
    quotas.write_text("unit_code,phase,target\nVGCL,1,1\n", encoding="utf-8")
    with pytest.raises(UserError, match="no org tree is loaded"):
        load_quotas(engine, quotas)


def test_a_round_typed_with_last_years_number_is_rejected_naming_the_line_and_the_likely_year(engine, tmp_path):
    # seed 004 gives the Public Employees' second round as "01/7/2021 – 31/12/2021", a slip for 2022
    phases = tmp_path / "phases.csv"
    phases.write_text("phase,name,starts_on,ends_on,counts_from\n1,Đợt 1,2022-01-01,2022-06-30,2022-01-01\n"
                      "2,Đợt 2,2021-07-01,2021-12-31,2021-07-01\n3,Đợt 3,2023-07-01,2022-12-31,2023-07-01\n",
                      encoding="utf-8")
    with pytest.raises(RejectedFile) as rejected:
        load_phases(engine, phases)
    assert rejected.value.problems == [
        "line 4 (phase 3): ends before it starts: 2022-12-31 < 2023-07-01; did you mean 2023?",
        "line 3 (phase 2): 2021-07-01 – 2021-12-31 comes before phase 1 (2022-01-01 – 2022-06-30), though numbered "
        "after it; did you mean 2022?"]
    with engine.connect() as conn:
        assert get_phases(conn) == list(DEFAULT_PHASES)  # nothing loaded


def test_phases_outside_the_programs_window_are_rejected(engine, tmp_path):
    import datetime as dt

    phases = tmp_path / "phases.csv"
    phases.write_text("phase,name,starts_on,ends_on,counts_from\n1,Đợt 1,2021-01-01,2021-06-30,2021-01-01\n"
                      "2,Đợt 2,2022-07-01,2022-12-31,2022-01-01\n", encoding="utf-8")
    with pytest.raises(RejectedFile) as rejected:
        load_phases(engine, phases, window=(dt.date(2022, 1, 1), dt.date(2022, 12, 31)))
    assert rejected.value.problems == [
        "line 2 (phase 1): 2021-01-01 – 2021-06-30 is outside the program's window 2022-01-01 – 2022-12-31; "
        "did you mean 2022?"]
