"""Behavioural tests for sangkien.normalize (pure functions, no engine)."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import unicodedata

import numpy as np
import pandas as pd
import pytest

from sangkien.text.dates import parse_date_series
from sangkien.text.display import nfc, nfc_series
from sangkien.text.fold import fold, fold_series
from sangkien.text.markup import strip_markup, strip_markup_series
from sangkien.text.names import author_keys_series, name_key, name_key_series, split_authors
from sangkien.text.numbers import parse_vn_number, parse_vn_number_series

NFD_HOA_BINH = unicodedata.normalize("NFD", "Hoà Bình")


# ---------------------------------------------------------------- nfc


def test_nfc_composes_decomposed_input():
    assert NFD_HOA_BINH != "Hoà Bình"
    assert nfc(NFD_HOA_BINH) == "Hoà Bình"


def test_nfc_collapses_whitespace_runs_and_strips_ends():
    assert nfc("  Sáng \t kiến\n\nmới\u00a0 ") == "Sáng kiến mới"


def test_nfc_removes_control_and_zero_width_characters():
    assert nfc("Sáng\x00 kiến\x07\u200b\ufeff\x7f") == "Sáng kiến"


def test_nfc_removes_invisible_bidi_marks_and_soft_hyphens():
    assert nfc("Hoà\u200e Bình\u00ad") == "Hoà Bình"


def test_nfc_keeps_case_and_diacritics():
    assert nfc("ĐẮK LẮK") == "ĐẮK LẮK"


def test_nfc_keeps_missing_as_none():
    assert nfc(None) is None
    assert nfc(float("nan")) is None  # type: ignore[arg-type]


def test_nfc_series_keeps_missing_index_and_name():
    s = pd.Series([NFD_HOA_BINH, None, "  a  b "], index=[10, 20, 30], name="unit")
    out = nfc_series(s)
    assert out.index.tolist() == [10, 20, 30]
    assert out.name == "unit"
    assert out.iloc[0] == "Hoà Bình"
    assert pd.isna(out.iloc[1])
    assert out.iloc[2] == "a b"


def test_nfc_series_stringifies_non_string_cells():
    out = nfc_series(pd.Series([12, "x"], dtype=object))
    assert out.tolist() == ["12", "x"]


# ---------------------------------------------------------------- fold


@pytest.mark.parametrize("text", ["Hoà Bình", "Hòa Bình", "HOA BINH", "hoa-binh", " hoa   binh. ", NFD_HOA_BINH])
def test_fold_agrees_on_old_and_new_tone_placement_case_and_punctuation(text):
    assert fold(text) == "hoa binh"


def test_fold_maps_d_with_stroke_to_d():
    assert fold("Đắk Lắk") == "dak lak"
    assert fold("đồng") == "dong"


def test_fold_maps_eth_look_alike_to_d():
    assert fold("\u00d0ắk L\u1eafk") == "dak lak"  # Ð (U+00D0), not Đ (U+0110)
    assert fold("\u00f0ồng") == "dong"  # ð (U+00F0)


def test_fold_of_nfd_input_equals_fold_of_nfc_input():
    text = "Thành phố Hồ Chí Minh - Đà Nẵng"
    assert fold(unicodedata.normalize("NFD", text)) == fold(text) == "thanh pho ho chi minh da nang"


def test_fold_replaces_underscore_and_symbols_with_space():
    assert fold("applied_technology") == "applied technology"
    assert fold("GD&ĐT/2022") == "gd dt 2022"


def test_fold_is_idempotent():
    once = fold("Công đoàn Ngân hàng Việt Nam (CĐ NHVN)")
    assert fold(once) == once


def test_fold_of_only_punctuation_is_empty():
    assert fold(" - / . ") == ""


def test_fold_keeps_missing_as_none():
    assert fold(None) is None


def test_fold_series_matches_scalar_fold_and_keeps_missing():
    s = pd.Series(["Hoà Bình", None, "Đắk Lắk", "Hoà Bình"])
    out = fold_series(s)
    assert out.iloc[0] == out.iloc[3] == "hoa binh"
    assert pd.isna(out.iloc[1])
    assert out.iloc[2] == "dak lak"


# ---------------------------------------------------------------- names / authors


def test_name_key_is_insensitive_to_word_order():
    assert name_key("Nguyễn Văn An") == name_key("An Nguyễn Văn") == "nguyen van an"  # family name first


def test_name_key_is_insensitive_to_case_and_diacritics():
    assert name_key("NGUYEN VAN AN") == name_key("nguyễn văn an")


def test_name_key_of_missing_is_empty():
    assert name_key(None) == ""
    assert name_key("   ") == ""


def test_name_key_series_matches_scalar():
    out = name_key_series(pd.Series(["An Nguyễn Văn", None]))
    assert out.tolist() == ["nguyen van an", ""]


def test_split_authors_trims_normalizes_and_drops_empties():
    s = pd.Series([f" Nguyễn Văn An ;; Trần  Thị Bình;{NFD_HOA_BINH} ; "])
    assert split_authors(s, ";").iloc[0] == ["Nguyễn Văn An", "Trần Thị Bình", "Hoà Bình"]


def test_split_authors_gives_empty_list_for_missing_or_blank():
    out = split_authors(pd.Series([None, "", " ; "], dtype=object), ";")
    assert out.tolist() == [[], [], []]


def test_split_authors_splits_on_newline_before_collapsing_whitespace():
    out = split_authors(pd.Series(["Nguyễn Văn An\nTrần Thị Bình"]), "\n")
    assert out.iloc[0] == ["Nguyễn Văn An", "Trần Thị Bình"]


def test_split_authors_rows_do_not_share_list_objects():
    out = split_authors(pd.Series(["A; B", "A; B"]), ";")
    out.iloc[0].append("C")
    assert out.iloc[1] == ["A", "B"]


def test_author_keys_agree_on_swapped_names_and_order():
    s = pd.Series(["Nguyễn Văn An; Trần Thị Bình", "tran thi binh ; An Nguyen Van"])
    keys = author_keys_series(s, ";")
    assert keys.iloc[0] == keys.iloc[1] == "nguyen van an|tran thi binh"


def test_author_keys_remove_duplicate_authors():
    keys = author_keys_series(pd.Series(["Nguyễn Văn An; NGUYEN VAN AN"]), ";")
    assert keys.iloc[0] == "nguyen van an"


def test_author_keys_empty_when_no_authors():
    keys = author_keys_series(pd.Series([None, "", " ; "], dtype=object), ";")
    assert keys.tolist() == ["", "", ""]


# ---------------------------------------------------------------- numbers


def _parse_one(value):
    vals, bad = parse_vn_number_series(pd.Series([value], dtype=object))
    return vals.iloc[0], bool(bad.iloc[0])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.500.000", 1_500_000.0),
        ("2.500,5", 2500.5),
        ("1500000", 1_500_000.0),
        ("1,500,000", 1_500_000.0),
        ("2,5", 2.5),
        ("  1.500.000 đ", 1_500_000.0),
        ("1.500.000 VNĐ", 1_500_000.0),
        ("1.500.000đ", 1_500_000.0),
        ("1.500.000 vnd", 1_500_000.0),
        ("1.500.000,00", 1_500_000.0),
        ("1.500", 1500.0),
        ("1 500 000", 1_500_000.0),
        ("0,5", 0.5),
        ("12.5", 12.5),
    ],
)
def test_vietnamese_formatted_amount_parses(text, expected):
    value, bad = _parse_one(text)
    assert not bad
    assert value == expected


def test_single_comma_group_of_three_digits_is_read_as_thousands():
    assert _parse_one("1,500") == (1500.0, False)


def test_decimal_cell_from_sql_is_taken_as_it_is():
    assert _parse_one(decimal.Decimal("1500000.50")) == (1_500_000.5, False)


def test_comma_groups_not_of_three_digits_are_a_decimal_comma():
    assert _parse_one("2,50") == (2.5, False)


def test_billion_word_amount_is_bad():
    value, bad = _parse_one("1,5 tỷ")
    assert bad and math.isnan(value)


@pytest.mark.parametrize("text", ["abc", "1.5.0,0,1", "1,500,000.50", "1.50.000", "--5", "1e6"])
def test_unparseable_amount_is_bad(text):
    value, bad = _parse_one(text)
    assert bad and math.isnan(value)


@pytest.mark.parametrize("value", [None, "", "   ", float("nan")])
def test_missing_or_blank_amount_is_missing_not_bad(value):
    parsed, bad = _parse_one(value)
    assert math.isnan(parsed) and not bad


def test_negative_amount_parses_as_negative():
    assert _parse_one("-1.500.000") == (-1_500_000.0, False)


def test_numeric_cells_are_taken_as_they_are():
    assert _parse_one(2500) == (2500.0, False)
    assert _parse_one(2.5) == (2.5, False)


def test_boolean_cell_is_not_an_amount():
    assert _parse_one(True)[1] is True


def test_number_series_keeps_index_and_dtypes():
    s = pd.Series(["1.000", None, "x"], index=["a", "b", "c"])
    vals, bad = parse_vn_number_series(s)
    assert vals.dtype == np.float64 and bad.dtype == bool
    assert vals.index.tolist() == bad.index.tolist() == ["a", "b", "c"]
    assert bad.tolist() == [False, False, True]


def test_scalar_number_parser_agrees_with_series():
    assert parse_vn_number("2.500,5") == (2500.5, False)
    assert parse_vn_number(None)[1] is False


# ---------------------------------------------------------------- dates


def _dates(values, fmt):
    return parse_date_series(pd.Series(values, dtype=object), fmt)


def test_invalid_calendar_date_is_bad_not_missing():
    vals, bad = _dates(["31/02/2022"], "%d/%m/%Y")
    assert pd.isna(vals.iloc[0]) and bool(bad.iloc[0])


def test_ambiguous_day_month_is_read_as_declared():
    vals, _ = _dates(["05/04/2022"], "%d/%m/%Y")
    assert vals.iloc[0] == pd.Timestamp("2022-04-05")
    vals, _ = _dates(["05/04/2022"], "%m/%d/%Y")
    assert vals.iloc[0] == pd.Timestamp("2022-05-04")


def test_blank_date_is_missing_not_bad():
    vals, bad = _dates([None, "", "  ", float("nan")], "%d/%m/%Y")
    assert vals.isna().all()
    assert not bad.any()


@pytest.mark.parametrize("text", ["2022-04-05", "05/04/22", "05-04-2022", "05/04/2022 10:00", "abc", "today", "now"])
def test_date_in_another_format_is_bad(text):
    vals, bad = _dates([text], "%d/%m/%Y")
    assert pd.isna(vals.iloc[0]) and bool(bad.iloc[0])


def test_date_with_surrounding_whitespace_parses():
    vals, bad = _dates([" 01/09/2021 "], "%d/%m/%Y")
    assert vals.iloc[0] == pd.Timestamp("2021-09-01") and not bad.iloc[0]


def test_date_format_with_time_parses_time():
    vals, bad = _dates(["2022-06-01 13:45:10", "2022-06-01"], "%Y-%m-%d %H:%M:%S")
    assert vals.iloc[0] == pd.Timestamp("2022-06-01 13:45:10")
    assert bad.tolist() == [False, True]


def test_datetime_cells_are_accepted_as_they_are():
    values = [dt.datetime(2022, 5, 31, 8, 0), pd.Timestamp("2022-06-01"), dt.date(2021, 9, 1)]
    vals, bad = _dates(values, "%d/%m/%Y")
    assert not bad.any()
    assert vals.tolist() == [pd.Timestamp("2022-05-31 08:00"), pd.Timestamp("2022-06-01"), pd.Timestamp("2021-09-01")]


def test_datetime_typed_series_passes_through_as_naive_vietnam_time():
    s = pd.Series(pd.to_datetime(["2022-04-05 03:00", None]).tz_localize("UTC"))
    vals, bad = parse_date_series(s, "%d/%m/%Y")
    assert vals.iloc[0] == pd.Timestamp("2022-04-05 10:00") and pd.isna(vals.iloc[1])
    assert vals.dtype == np.dtype("datetime64[us]") and not bad.any()


def test_numeric_cell_is_a_bad_date():
    _, bad = _dates([44652], "%d/%m/%Y")
    assert bool(bad.iloc[0])


def test_iso_format_accepts_dates_and_datetimes():
    vals, bad = _dates(["2022-04-05", "2022-04-05T10:30:00", "2022-04-05 10:30:00.5"], "iso")
    assert not bad.any()
    assert vals.tolist() == [
        pd.Timestamp("2022-04-05"),
        pd.Timestamp("2022-04-05 10:30:00"),
        pd.Timestamp("2022-04-05 10:30:00.5"),
    ]


def test_iso_invalid_date_is_bad():
    _, bad = _dates(["2022-02-30", "2022-04-05 junk"], "iso")
    assert bad.all()


def test_timezone_aware_values_become_naive_vietnam_time():
    vals, bad = _dates(["2022-04-05T03:00:00Z", "2022-04-05T10:00:00+07:00", "2022-04-05T10:00:00"], "iso")
    assert not bad.any()
    assert vals.tolist() == [pd.Timestamp("2022-04-05 10:00")] * 3
    vals, _ = _dates([pd.Timestamp("2022-04-05 03:00", tz="UTC")], "%d/%m/%Y")
    assert vals.iloc[0] == pd.Timestamp("2022-04-05 10:00")


def test_date_series_is_naive_datetime64_with_input_index():
    s = pd.Series(["01/09/2021", None], index=[5, 7], name="applied_on")
    vals, bad = parse_date_series(s, "%d/%m/%Y")
    assert vals.dtype == np.dtype("datetime64[us]") and bad.dtype == bool
    assert vals.index.tolist() == [5, 7] and vals.name == "applied_on"


# ---------------------------------------------------------------- markup


def test_strip_markup_removes_tags_and_decodes_entities():
    assert strip_markup("<p>Sáng&nbsp;kiến <b>mới</b></p>") == "Sáng kiến mới"


def test_strip_markup_keeps_words_apart_across_block_tags():
    assert strip_markup("dòng một<br>dòng hai</p><p>đoạn ba") == "dòng một dòng hai đoạn ba"


def test_strip_markup_drops_script_content_and_comments():
    assert strip_markup("a<script>alert(1)</script><!-- note -->b") == "a b"


def test_strip_markup_keeps_a_lone_less_than_sign_and_escaped_tags_as_text():
    assert strip_markup("a < b &lt;i&gt;") == "a < b <i>"


def test_strip_markup_removes_control_chars_and_turns_tabs_into_spaces():
    assert strip_markup("Sáng\tkiến\x00\x1f\x85x\x9f") == "Sáng kiến x"


def test_strip_markup_output_is_nfc():
    assert strip_markup(f"<i>{NFD_HOA_BINH}</i>") == "Hoà Bình"


def test_strip_markup_series_keeps_missing():
    out = strip_markup_series(pd.Series(["<b>x</b>", None]))
    assert out.iloc[0] == "x" and pd.isna(out.iloc[1])
