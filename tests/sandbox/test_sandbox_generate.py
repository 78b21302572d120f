"""Tests for sandbox.generate: a deterministic simulated world whose sources agree with its truth."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

from sandbox.generate import WorldSummary, generate_world
from sandbox.generate.constants import NOISE_LEVELS, ORG_COLUMNS
from sandbox.generate.text import fold_text, strip_diacritics, to_cp1258_form

SMALL = 1500
STATUS_BY_LABEL = {
    fold_text(label): canonical
    for canonical, labels in {
        "valid": ("Hợp lệ", "Đã duyệt"),
        "pending": ("Chờ duyệt", "Đang xét duyệt"),
        "rejected": ("Không hợp lệ", "Bị từ chối"),
    }.items()
    for label in labels
}


@pytest.fixture(scope="session")
def world_none(tmp_path_factory: pytest.TempPathFactory) -> WorldSummary:
    return generate_world(tmp_path_factory.mktemp("none"), SMALL, seed=7, noise="none")


@pytest.fixture(scope="session")
def world_hard(tmp_path_factory: pytest.TempPathFactory) -> WorldSummary:
    return generate_world(tmp_path_factory.mktemp("hard"), SMALL, seed=7, noise="hard")


def _config(summary: WorldSummary, source: str) -> dict:
    return yaml.safe_load(summary.source_configs[source].read_text(encoding="utf-8"))


def _files(summary: WorldSummary, source: str) -> list[Path]:
    config = _config(summary, source)
    folder = summary.source_configs[source].parent / config["path"]
    return sorted(folder.glob(config["pattern"]))


def _read_source(summary: WorldSummary, source: str) -> pd.DataFrame:
    """A minimal file-drop reader: canonical columns, NFC text, dates as datetime.date."""
    config = _config(summary, source)
    frames = []
    for path in _files(summary, source):
        if path.suffix == ".xlsx":
            rows = list(openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True))
            frame = pd.DataFrame(rows[1:], columns=rows[0], dtype=object)
        else:
            frame = pd.read_csv(path, sep=config["delimiter"], encoding=config["encoding"], dtype=str,
                                keep_default_na=False)
        frame.columns = [unicodedata.normalize("NFC", c) for c in frame.columns]
        frames.append(frame)
    raw = pd.concat(frames, ignore_index=True)
    out = pd.DataFrame()
    for field, header in config["columns"].items():
        values = raw[header]
        if field in ("recognized_on", "applied_on", "submitted_at"):
            values = values.map(lambda v: v.date() if isinstance(v, datetime) else
                                v if isinstance(v, date) else datetime.strptime(v, config["date_format"]).date())
        elif isinstance(values.iloc[0] if len(values) else "", str):
            values = values.map(lambda v: unicodedata.normalize("NFC", v) if isinstance(v, str) else v)
        out[field] = values
    out["source_record_id"] = out["source_record_id"].astype(str)
    return out


def _truth(summary: WorldSummary) -> pd.DataFrame:
    return pd.read_csv(summary.truth_path, dtype=str, keep_default_na=False)


def test_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    first = generate_world(tmp_path / "a", 400, seed=3, noise="hard")
    second = generate_world(tmp_path / "b", 400, seed=3, noise="hard")
    files_a = sorted(p.relative_to(first.out_dir) for p in first.out_dir.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(second.out_dir) for p in second.out_dir.rglob("*") if p.is_file())
    assert files_a == files_b
    assert any(p.suffix == ".xlsx" for p in files_a)
    for rel in files_a:
        assert (first.out_dir / rel).read_bytes() == (second.out_dir / rel).read_bytes(), rel


def test_another_seed_gives_another_world(tmp_path: Path) -> None:
    first = generate_world(tmp_path / "a", 400, seed=3)
    second = generate_world(tmp_path / "b", 400, seed=4)
    assert first.truth_path.read_bytes() != second.truth_path.read_bytes()


@pytest.mark.parametrize("kwargs", [{"noise": "medium"}, {"noise": "None"}, {"initiatives": 0}, {"seed": -1}])
def test_bad_arguments_raise_value_error_naming_the_value(tmp_path: Path, kwargs: dict) -> None:
    args = {"initiatives": 100, "seed": 0, "noise": "none"} | kwargs
    with pytest.raises(ValueError, match=r"noise|initiatives|seed"):
        generate_world(tmp_path, **args)
    assert NOISE_LEVELS == ("none", "light", "hard", "real")


def test_orgs_have_unique_codes_known_parents_and_no_cycles(world_none: WorldSummary) -> None:
    orgs = pd.read_csv(world_none.orgs_path, dtype=str, keep_default_na=False)
    assert tuple(orgs.columns) == ORG_COLUMNS
    assert orgs["code"].is_unique
    codes = set(orgs["code"])
    assert set(orgs["parent_code"]) - {""} <= codes
    assert set(orgs["sector_parent_code"]) - {""} <= codes
    assert set(orgs["kind"]) == {"national", "province", "national_sector", "corporation", "district",
                                 "local_sector", "zone", "grassroots"}
    assert orgs.loc[orgs["parent_code"] == "", "code"].tolist() == ["VGCL"]
    parent = dict(zip(orgs["code"], orgs["parent_code"]))
    sector = dict(zip(orgs["code"], orgs["sector_parent_code"]))
    for start in orgs["code"]:
        seen, stack = set(), [start]
        while stack:  # every path upward, through both kinds of parent, ends at VGCL without a loop
            code = stack.pop()
            assert code not in seen or code == "VGCL", f"cycle through {code}"
            seen.add(code)
            stack += [p for p in (parent[code], sector[code]) if p]
        assert "VGCL" in seen


def test_tree_has_the_units_the_sources_rely_on(world_none: WorldSummary) -> None:
    orgs = pd.read_csv(world_none.orgs_path, dtype=str, keep_default_na=False).set_index("code")
    assert orgs.loc["P01", "name"] == "LĐLĐ thành phố Hà Nội"
    assert orgs.loc["P34", "name"] == "LĐLĐ tỉnh Thái Bình"
    assert orgs.loc["P34-YTE", "kind"] == "local_sector"
    assert orgs.loc["NGANHANG", "kind"] == "national_sector"
    grassroots = orgs[orgs["kind"] == "grassroots"]
    assert ((grassroots["parent_code"].str.startswith("P01-"))
            & (grassroots["sector_parent_code"] == "NGANHANG")).any()
    provincial = grassroots[grassroots["parent_code"].str.startswith("P")]
    share = (provincial["sector_parent_code"] != "").mean()
    assert 0.08 <= share <= 0.25
    assert (grassroots["parent_code"] == "P34-YTE").sum() >= 2
    assert (grassroots["aliases"] != "").any()


def test_grassroots_names_and_aliases_are_unique_after_folding(world_none: WorldSummary) -> None:
    orgs = pd.read_csv(world_none.orgs_path, dtype=str, keep_default_na=False)
    grassroots = orgs[orgs["kind"] == "grassroots"]
    keys = [fold_text(n) for n in grassroots["name"]]
    keys += [fold_text(a) for aliases in grassroots["aliases"] for a in aliases.split("|") if a]
    assert len(keys) == len(set(keys))
    assert 150 <= len(grassroots) == world_none.grassroots_units


def test_quotas_cover_the_cascade_in_both_phases(world_none: WorldSummary) -> None:
    quotas = pd.read_csv(world_none.quotas_path, dtype={"unit_code": str}, keep_default_na=False)
    orgs = pd.read_csv(world_none.orgs_path, dtype=str, keep_default_na=False).set_index("code")
    assert list(quotas.columns) == ["unit_code", "phase", "target", "basis"]
    assert set(quotas["phase"]) == {1, 2} and set(quotas["basis"]) == {"valid"}
    assert (quotas["target"] > 0).all()
    kinds = set(orgs.loc[quotas["unit_code"], "kind"])
    assert {"national", "province", "national_sector", "corporation", "district", "local_sector"} <= kinds
    assert "grassroots" not in kinds
    vgcl = quotas[quotas["unit_code"] == "VGCL"].set_index("phase")["target"]
    assert vgcl[1] == round(0.3 * SMALL) and vgcl[2] == round(0.7 * SMALL)


def test_every_truth_row_is_a_record_in_its_source(world_hard: WorldSummary) -> None:
    truth = _truth(world_hard)
    assert list(truth.columns) == ["source", "source_record_id", "initiative_id", "unit_code", "phase", "status",
                                   "eligible"]
    assert set(truth["source"]) == set(world_hard.source_configs)
    for source, rows in truth.groupby("source"):
        records = _read_source(world_hard, source)
        assert records["source_record_id"].is_unique
        assert set(records["source_record_id"]) == set(rows["source_record_id"]), source
        assert len(records) == len(rows) == world_hard.rows_per_source[source]
    assert not truth.duplicated(["source", "initiative_id"]).any()


def test_every_initiative_is_somewhere_and_some_in_one_source_only(world_hard: WorldSummary) -> None:
    truth = _truth(world_hard)
    copies = truth.groupby("initiative_id").size()
    assert len(copies) == SMALL
    assert (copies == 1).any() and (copies >= 2).any()
    portal_share = (truth["source"] == "portal").sum() / SMALL
    assert 0.6 <= portal_share <= 0.85


def test_truth_is_the_same_whatever_the_noise(world_none: WorldSummary, world_hard: WorldSummary) -> None:
    assert world_none.truth_path.read_bytes() == world_hard.truth_path.read_bytes()
    assert world_none.orgs_path.read_bytes() == world_hard.orgs_path.read_bytes()
    portal_none = _read_source(world_none, "portal")
    portal_hard = _read_source(world_hard, "portal")
    assert (portal_none["title"] != portal_hard["title"]).any()


def test_each_declared_encoding_decodes_every_file(world_none: WorldSummary) -> None:
    encodings = set()
    for source in world_none.source_configs:
        config = _config(world_none, source)
        files = _files(world_none, source)
        assert files, source
        assert 1 <= len(files) <= 3
        for path in files:
            if path.suffix == ".xlsx":
                continue
            encodings.add(config["encoding"])
            text = path.read_bytes().decode(config["encoding"])  # strict: raises on a wrong declaration
            if config["encoding"] == "utf-8":
                assert not text.startswith("\ufeff")
            nfc = unicodedata.normalize("NFC", text)
            header = nfc.splitlines()[0].split(config["delimiter"])
            assert set(config["columns"].values()) <= set(header), path
    assert {"utf-8", "utf-8-sig", "utf-16", "cp1258"} <= encodings


def test_cp1258_source_round_trips_vietnamese(world_none: WorldSummary) -> None:
    text = "Nguyễn Thị Ánh Tuyết; Đặng Văn Hưởng; Trường THCS Quỳnh Phụ"
    assert unicodedata.normalize("NFC", to_cp1258_form(text).encode("cp1258").decode("cp1258")) == text
    hanoi = _read_source(world_none, "hanoi")
    assert hanoi["title"].str.contains("ệ|ạ|ả|ố").any()
    assert hanoi["unit"].str.fullmatch(r"G\d{6}").all()
    assert 0.2 <= (hanoi["portal_id"] != "").mean() <= 0.8


def test_copies_agree_when_there_is_no_noise(world_none: WorldSummary) -> None:
    truth = _truth(world_none)
    frames = []
    for source in world_none.source_configs:
        records = _read_source(world_none, source)
        records["source"] = source
        frames.append(records)
    rows = pd.concat(frames, ignore_index=True).merge(truth, on=["source", "source_record_id"])
    assert len(rows) == len(truth)
    rows["title_key"] = rows["title"].map(fold_text)
    rows["status_key"] = rows["status_x"].map(lambda s: STATUS_BY_LABEL[fold_text(s)])
    assert (rows["status_key"] == rows["status_y"]).all()
    shared = rows.groupby("initiative_id").filter(lambda g: len(g) > 1)
    assert len(shared) > 0
    for column in ("title_key", "recognized_on", "applied_on", "submitted_at", "status_key"):
        assert (shared.groupby("initiative_id")[column].nunique() == 1).all(), column
    phase = rows["submitted_at"].map(lambda d: "1" if d <= date(2022, 5, 31) else "2")
    assert (phase == rows["phase"]).all()
    eligible = rows["applied_on"].map(lambda d: "true" if d >= date(2021, 9, 1) else "false")
    assert (eligible == rows["eligible"]).all()
    assert (rows["submitted_at"] > rows["applied_on"]).all()


def test_hard_noise_changes_some_duplicate_copies(world_hard: WorldSummary) -> None:
    truth = _truth(world_hard)
    hanoi = _read_source(world_hard, "hanoi").merge(truth[truth["source"] == "hanoi"], on="source_record_id")
    typed_by_name = hanoi["unit"] != hanoi["unit_code"]
    assert typed_by_name.any() and not typed_by_name.all()


def test_one_source_is_an_xlsx_with_real_date_cells(world_none: WorldSummary) -> None:
    xlsx = [p for files in world_none.source_files.values() for p in files if p.suffix == ".xlsx"]
    assert xlsx
    sheet = openpyxl.load_workbook(xlsx[0], read_only=True).active
    header, first = list(sheet.iter_rows(min_row=1, max_row=2, values_only=True))
    dates = [v for h, v in zip(header, first) if h and str(h).startswith("Ngày")]
    assert dates and all(isinstance(v, datetime) for v in dates)


def test_folding_helpers_strip_vietnamese_marks() -> None:
    assert fold_text("  Công  đoàn  ĐƯỜNG sắt ") == "cong doan duong sat"
    assert fold_text(unicodedata.normalize("NFD", "Nguyễn Thị Ánh")) == "nguyen thi anh"
    assert strip_diacritics("Hợp lệ") == "Hop le"
