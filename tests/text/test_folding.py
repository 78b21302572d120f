"""The matching form of Vietnamese text, as the validation issue's acceptance lists it."""
from __future__ import annotations

import unicodedata

import pandas as pd

from sangkien.text.names import author_keys_series, name_key
from sangkien.text.fold import fold, fold_series


def test_nfc_and_nfd_fold_alike():
    text = "Sáng kiến cải tiến quy trình khám bệnh"
    assert fold(unicodedata.normalize("NFD", text)) == fold(text)


def test_old_and_new_tone_placement_fold_alike():
    assert fold("hoà") == fold("hòa") == "hoa"


def test_d_with_stroke_and_its_look_alikes_fold_to_d():
    assert fold("Đặng Văn Đức") == "dang van duc"
    assert fold("\u00d0ặng V\u0103n \u00d0\u1ee9c") == "dang van duc"  # Ð (U+00D0) typed for Đ
    assert fold("\u00f0ức") == "duc"  # ð


def test_all_capitals_fold_like_lower_case():
    assert fold("ĐẶNG VĂN ĐỨC") == fold("đặng văn đức") == "dang van duc"


def test_swapped_name_order_gives_the_same_author_key():
    assert name_key("Nguyễn Văn An") == name_key("An Nguyễn Văn") == name_key("NGUYEN VAN AN")
    keys = author_keys_series(pd.Series(["Nguyễn Văn An; Trần Thị Bình", "Binh Tran Thi;An Nguyen Van"]), ";")
    assert keys[0] == keys[1]


def test_series_fold_equals_scalar_fold():
    values = pd.Series(["Hoà Bình", "ĐẶNG VĂN ĐỨC", None, unicodedata.normalize("NFD", "Thái Bình")])
    assert fold_series(values).tolist()[:2] == [fold("Hoà Bình"), fold("ĐẶNG VĂN ĐỨC")]
    assert fold_series(values)[3] == "thai binh"
