"""Issue 16: matching that holds on data it was never tuned on.

Hand-made pairs (the issue's three examples, one per name and title variation) are joined;
hard negatives (the same people's second initiative, "giai đoạn 2", "(lần 2)") stay apart;
a store whose records vary differently learns different weights, and its decisions follow;
the learned model is stored, reused on nights, shown by `sangkien match model` and `explain`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from sangkien import store
from sangkien.pipeline import match
from sangkien.pipeline.match.learn import model_from_json, model_to_json
from sangkien.text.fold import fold
from sangkien.text.names import author_keys_series

DATES = ("2022-03-01", "2022-02-01", "2022-03-05")  # recognized, applied, submitted


def frame_of(*records: tuple[str, str], unit: str = "G002", dates: tuple[str, str, str] = DATES,
             dates_of: dict[int, tuple[str, str, str]] | None = None) -> pd.DataFrame:
    """Records (title, authors ";"-separated) as validation codes them, in one unit, on the same dates."""
    rows = []
    for k, (title, authors) in enumerate(records):
        rec, app, sub = (dates_of or {}).get(k, dates)
        rows.append({"portal_id": None, "title_folded": fold(title), "authors": authors, "unit_code": unit,
                     "recognized_on": rec, "applied_on": app, "submitted_at": sub})
    frame = pd.DataFrame(rows)
    frame["author_keys"] = author_keys_series(frame["authors"], ";")
    return frame


EXAMPLES = {
    "title in capitals with a full stop, CN. before the name": (
        ("Tự động hóa xử lý nước thải bệnh viện tại đơn vị", "CN. Phan Thanh Mai"),
        ("TỰ ĐỘNG HÓA XỬ LÝ NƯỚC THẢI BỆNH VIỆN TẠI ĐƠN VỊ.", "Phan Thanh Mai")),
    "a letter lost, the middle name left out": (
        ("Nâng cao hiệu quả tra soát giao dịch thẻ tại chi nhánh", "Võ Thùy Dũng"),
        ("Nâng cao hiệu quả tra soát giao dịch thẻ tại chi nhnh", "Võ Dũng")),
    "Sáng kiến: before the title, KS. and CN. before the names": (
        ("Sáng kiến: tối ưu hóa xử lý nước thải bệnh viện tại đơn vị", "KS. Trần Văn Hải; CN. Lê Thị Thu"),
        ("TỐI ƯU HÓA XỬ LÝ NƯỚC THẢI BỆNH VIỆN TẠI ĐƠN VỊ", "Trần Văn Hải; Lê Thị Thu")),
}
TITLE = "Ứng dụng công nghệ thông tin trong quản lý an toàn vệ sinh lao động tại phân xưởng"
AUTHORS = "Nguyễn Văn An; Trần Thị Bích Lan"
VARIATIONS = {
    "ThS. and PGS.TS. before names": (TITLE, "ThS. Nguyễn Văn An; PGS.TS. Trần Thị Bích Lan"),
    "BS.CKI, Đ/c without dots": (TITLE, "BS CKI Nguyễn Văn An; Đ/c Trần Thị Bích Lan"),
    "honorifics Ông / Bà": (TITLE, "Ông Nguyễn Văn An; Bà Trần Thị Bích Lan"),
    "without diacritics": (TITLE, "Nguyen Van An; Tran Thi Bich Lan"),
    "given name first": (TITLE, "An Nguyễn Văn; Lan Trần Thị Bích"),
    "family name last": (TITLE, "Văn An Nguyễn; Thị Bích Lan Trần"),
    "middle names left out": (TITLE, "Nguyễn An; Trần Lan"),
    "middle names as initials": (TITLE, "Nguyễn V. An; Trần T. B. Lan"),
    "Giải pháp: and quotes": ("Giải pháp: “" + TITLE + "”", AUTHORS),
    "Đề tài: in capitals, full stop": ("ĐỀ TÀI: " + TITLE.upper() + ".", AUTHORS),
    "abbreviations CNTT, ATVSLĐ": ("Ứng dụng CNTT trong quản lý ATVSLĐ tại phân xưởng", AUTHORS),
    "a misspelt form word": ("Sáng kềin: " + TITLE, AUTHORS),
    "roles in brackets, 'và cộng sự'": (TITLE, "Nguyễn Văn An (chủ nhiệm); Trần Thị Bích Lan và cộng sự"),
}


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_the_issues_examples_are_one_initiative(name):
    res = match.resolve_frame(frame_of(*EXAMPLES[name]))
    assert res.labels[0] == res.labels[1], (res.levels.to_dict("records"), res.weight)


@pytest.mark.parametrize("name", list(VARIATIONS))
def test_each_name_and_title_variation_is_joined(name):
    res = match.resolve_frame(frame_of((TITLE, AUTHORS), VARIATIONS[name]))
    assert res.labels[0] == res.labels[1], (res.levels.to_dict("records"), res.weight)
    assert res.levels.loc[0, "authors"] <= match.LEVELS["authors"].index("same but middle names")


@pytest.mark.parametrize("second", [TITLE + " giai đoạn 2", TITLE + " (lần 2)", TITLE + " giai đoạn II"])
def test_the_same_peoples_second_initiative_stays_apart(second):
    later = {1: ("2022-11-20", "2022-10-15", "2022-11-25")}  # months later, same unit, same people
    res = match.resolve_frame(frame_of((TITLE, AUTHORS), (second, AUTHORS), dates_of=later))
    assert res.labels[0] != res.labels[1]
    assert res.levels.loc[0, "title"] == match.LEVELS["title"].index("numbers differ")


def test_no_author_level_is_a_veto():
    weights = match.DEFAULT_WEIGHTS["authors"]
    assert min(weights) > match.DEFAULT_MODEL.split_below
    res = match.resolve_frame(frame_of((TITLE, AUTHORS), (TITLE, "Phạm Quốc Bảo")))  # a source listed someone else
    assert res.labels[0] == res.labels[1]


def _learned(tmp_path: Path, noise: str, check_cli: bool = False):  # type: ignore[no-untyped-def]
    from sandbox.generate import generate_world
    from sangkien.pipeline.match_models import latest_model
    from tests.pipeline.test_truth import sync_generated_world

    root = tmp_path / noise.replace(":", "-")
    generate_world(root / "world", 2500, seed=7, noise=noise)
    engine = store.open_store(f"sqlite:///{root / 'store.db'}")
    sync_generated_world(engine, root / "world")
    with engine.connect() as conn:
        latest = latest_model(conn)
        stored = conn.execute(sa.select(store.match_models.c.fitted_run, store.match_models.c.pairs)).all()
    engine.dispose()
    assert latest is not None and len(stored) == 1 and stored[0].pairs > 2000
    if check_cli:
        _check_cli(f"sqlite:///{root / 'store.db'}", latest[1])
    return latest[1]


def _check_cli(url: str, model: match.MatchModel) -> None:
    """`sangkien match model` prints the learned levels and weights; `explain` shows them on a link."""
    from tests.conftest import run_cli

    shown = run_cli("--db", url, "match", "model")
    assert shown.returncode == 0, shown.stderr
    assert "match model #1 (fitted by run" in shown.stdout and "fitted on" in shown.stdout
    middle = match.LEVELS["authors"].index("same but middle names")
    line = next(x for x in shown.stdout.splitlines() if x.strip().startswith("same but middle names"))
    assert f"{model.weights['authors'][middle]:+.2f}" in line and "m=" in line and "u=" in line
    engine = store.open_store(url)
    with engine.connect() as conn:
        joined = conn.execute(sa.select(store.match_links.c.raw_id_a, store.initiative_members.c.initiative_id)
                              .join(store.initiative_members,
                                    store.initiative_members.c.raw_id == store.match_links.c.raw_id_a)
                              .where(store.match_links.c.decided_by == "model").limit(1)).first()
    engine.dispose()
    assert joined is not None
    text = run_cli("--db", url, "explain", str(joined.initiative_id)).stdout
    assert "weights: match model #1, learned from" in text
    assert any(f"title={level}({w:+.1f})" in text for level, w in zip(match.LEVELS["title"], model.weights["title"]))


def test_a_store_with_another_mix_of_variations_learns_other_weights_and_decides_by_them(tmp_path):
    dropped = _learned(tmp_path, "real:middle_dropped", check_cli=True)  # copies often leave middle names out
    typos = _learned(tmp_path, "real:title_typo")        # copies have typos; names always whole
    for model in (dropped, typos):
        assert model.fitted and not model.fitted["fallback"]
    middle = match.LEVELS["authors"].index("same but middle names")
    near = match.LEVELS["title"].index("near")
    assert dropped.fitted["m"]["authors"][middle] > 10 * typos.fitted["m"]["authors"][middle]
    assert typos.fitted["m"]["title"][near] > 10 * dropped.fitted["m"]["title"][near]
    assert dropped.weights["authors"][middle] > typos.weights["authors"][middle] + 3
    assert typos.weights["title"][near] > dropped.weights["title"][near] + 3
    # the decisions follow: a copy without middle names scores higher where that is common,
    # a copy with a typo where typos are common
    shifted = {1: ("2022-03-01", "2022-02-01", "2022-03-07")}
    no_middle = frame_of((TITLE, AUTHORS), (TITLE, "Nguyễn An; Trần Lan"), dates_of=shifted)
    typo = frame_of((TITLE, AUTHORS), (TITLE.replace("quản lý", "quản ký"), AUTHORS), dates_of=shifted)
    score = {(k, m): match.resolve_frame(f, model).weight[0]
             for k, f in (("no middle", no_middle), ("typo", typo)) for m, model in (("d", dropped), ("t", typos))}
    assert score[("no middle", "d")] > score[("no middle", "t")]
    assert score[("typo", "t")] > score[("typo", "d")]
    assert score[("no middle", "d")] >= 0 and score[("typo", "t")] >= 0


def test_a_model_survives_its_json():
    model = match.DEFAULT_MODEL
    again = model_from_json(model_to_json(model))
    assert again is not None and again.weights == {f: tuple(map(float, w)) for f, w in model.weights.items()}
    assert np.isclose(again.prior, model.prior)


def test_a_copy_filed_under_the_units_parent_is_found_and_joined():
    # the portal's copy names the district federation (the unit's parent) and its author is
    # typed with a middle initial and a typo'd date: no same-unit block and no exact author set
    frame = pd.concat([frame_of((TITLE, AUTHORS)),
                       frame_of((TITLE + ".", "Nguyễn V. An; Trần Thị Bích Lan"), unit="D001",
                                dates=("2022-03-01", "2022-02-04", "2022-03-05"))], ignore_index=True)
    frame["author_keys"] = author_keys_series(frame["authors"], ";")
    parents = {"G002": ("D001", None), "D001": ("P01", None), "P01": (None, None)}
    res = match.resolve_frame(frame, parents=parents)
    assert res.labels[0] == res.labels[1], (res.levels.to_dict("records"), res.weight)
    assert match.resolve_frame(frame).labels[0] != match.resolve_frame(frame).labels[1]  # without the tree: apart


def test_an_abbreviation_the_store_spells_out_elsewhere_joins_the_copies():
    spelled = [(f"Giải pháp kiểm soát nhiễm khuẩn bệnh viện tại Khoa số {k}", f"Lê Văn Bình{k}") for k in range(8)]
    pair = [("Ứng dụng mã QR trong quản lý dụng cụ kiểm soát nhiễm khuẩn tại phòng mổ", AUTHORS),
            ("Ứng dụng mã QR trong quản lý dụng cụ KSNK tại phòng mổ", AUTHORS)]
    frame = frame_of(*pair, *spelled, ("Tập huấn KSNK cho điều dưỡng", "Hồ Thị Yến"),
                     ("Giám sát KSNK tại khoa sơ sinh", "Vũ An"), ("Quy trình KSNK mới", "Lý Nam"))
    learned = match.resolve_frame(frame, learn=True)
    assert learned.model.abbreviations == {"ksnk": "kiem soat nhiem khuan"}
    assert learned.labels[0] == learned.labels[1], (learned.levels.to_dict("records"), learned.weight)
    pair_of_copies = int(np.flatnonzero((learned.i == 0) & (learned.j == 1))[0])
    assert learned.levels.loc[pair_of_copies, "title"] == match.LEVELS["title"].index("exact")
    restored = model_from_json(model_to_json(learned.model))
    assert restored is not None and restored.abbreviations == learned.model.abbreviations
