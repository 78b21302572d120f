"""The bulk (many values at once) paths of sangkien.normalize and the schema plumbing give
exactly what the one-value functions and plain pandera checks give, on the edges those
paths treat specially: the blob separator inside a value, characters the tables decline,
chunk boundaries, NaN and non-string cells."""

from __future__ import annotations

import json
import re
import sys
import unicodedata

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from sangkien.text import dates, series
from sangkien.text.dates import parse_date_series
from sangkien.text.display import nfc, nfc_series
from sangkien.text.fold import fold, fold_series, nfc_and_fold_series
from sangkien.text.markup import strip_markup, strip_markup_series
from sangkien.text.names import (
    author_keys_and_json_series,
    author_keys_series,
    authors_json_series,
    name_key,
    name_key_series,
    split_authors,
)
from sangkien.text.numbers import parse_vn_number, parse_vn_number_series
from schemas.records import RecordChecks, mapped_schema

NFD = unicodedata.normalize("NFD", "Đặng Văn Đức")

# Values the bulk paths must not get wrong: the blob separator (\n) and other controls inside a
# value, characters the tables decline (astral, lone surrogate, multi-character folds, other
# scripts), NFD text, odd whitespace, markup, JSON escapes, blanks.
TRICKY = [
    "", " ", "  a  b ", "a\nb", "\n", "x\x1fy", "\x00", "a\tb", "\u00a0x\u00a0", "x\u3000y",
    "Hoà Bình", NFD, "a\u0301", "\u0301a", "e\u0302\u0323", "\u1100\u1161", "Ð", "ß", "İstanbul", "ǅ",
    "😀 emoji", "\ud800lone", "Привет мир", "ＡＢＣ", "①②", "K\u0301", "\u0345x",
    "<b>bold</b> &amp; x", "&lt;b&gt;", "a < b", "<p>a</p><p>b</p>", "\u200bzero\u200dwidth", "\ufeffbom",
    '\\back\\slash', 'quo"te', "a;b;;c", "a,b, ,c", " ; ", "a_b", "-", "x" * 600, "\u2028line", "a\r\nb",
]


def _series(values: list[object]) -> pd.Series:
    return pd.Series(values, dtype=object, index=range(100, 100 + len(values)), name="col")


def _missing_or(value: object) -> object:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else value


@pytest.mark.parametrize("series_fn, scalar_fn", [
    (nfc_series, nfc), (fold_series, fold), (strip_markup_series, strip_markup),
])
def test_bulk_text_functions_equal_the_scalar_ones(series_fn, scalar_fn):
    values = [*TRICKY, None, float("nan"), 12, 3.5]
    out = series_fn(_series(values))
    assert out.index.tolist() == list(range(100, 100 + len(values))) and out.name == "col"
    assert [_missing_or(v) for v in out.tolist()] == [scalar_fn(v) for v in values]


def test_name_key_series_equals_name_key():
    assert name_key_series(_series([*TRICKY, None])).tolist() == [name_key(v) for v in [*TRICKY, None]]


def test_nfc_and_fold_series_is_nfc_then_fold():
    shown, folded = nfc_and_fold_series(_series([*TRICKY, None]))
    assert [_missing_or(v) for v in shown.tolist()] == [nfc(v) for v in [*TRICKY, None]]
    assert [_missing_or(v) for v in folded.tolist()] == [fold(nfc(v)) for v in [*TRICKY, None]]


def test_every_bmp_character_folds_and_displays_like_the_scalar_functions():
    texts = [f"a{chr(cp)}b {chr(cp)}" for cp in range(0x10000)]
    assert fold_series(pd.Series(texts)).tolist() == [fold(t) for t in texts]
    assert nfc_series(pd.Series(texts)).tolist() == [nfc(t) for t in texts]


def test_decomposed_canonical_pairs_are_composed():
    pairs = []
    for cp in range(sys.maxunicode + 1):
        decomposition = unicodedata.decomposition(chr(cp))
        if decomposition and decomposition[0] != "<":
            pairs.append("x" + "".join(chr(int(part, 16)) for part in decomposition.split()))
    assert nfc_series(pd.Series(pairs)).tolist() == [nfc(t) for t in pairs]


def test_values_holding_the_separator_survive_across_chunks():
    n = 3 * series._CHUNK_VALUES + 7
    values = [f"Giải pháp {i}" if i % 997 else f"dòng\nmới {i}" for i in range(n)]
    values[series._CHUNK_VALUES - 1] = "cuối\n"  # the last value of a chunk
    assert fold_series(pd.Series(values)).tolist() == [fold(v) for v in values]
    assert nfc_series(pd.Series(values)).tolist() == [nfc(v) for v in values]


def _reference_author_keys(value: object, sep: str) -> str:
    """The per-value algorithm the bulk one replaced (a line break separates names too)."""
    if value is None:
        return ""
    keys = {name_key(p) for piece in str(value).split(sep) for p in re.split("\r\n|\r|\n", piece)} - {""}
    return "|".join(sorted(keys))


AUTHOR_LISTS = [
    "Nguyễn Văn An; Trần Thị Bình", "tran thi binh ; An Nguyen Van", "Nguyễn Văn An; NGUYEN VAN AN",
    "", " ; ", ";;", None, 'Lê "Tí" Hai; Võ \\ Ba', f"{NFD} ;  Hoà   Bình ", "A\nB; C", "x\x1fy; z\x00w",
    "😀 Mặt Cười; Ðỗ Ðức", "ǅemal; ß", "\tTab; \u00a0Nbsp\u00a0", "a;b;a;b", "one",
]


@pytest.mark.parametrize("sep", [";", ",", "\n", " / ", "\n\x1f\x1e\x00"])
def test_author_keys_and_json_equal_the_per_value_results(sep):
    values = [v.replace(";", sep) if isinstance(v, str) else v for v in AUTHOR_LISTS]
    s = _series(values)
    keys, as_json = author_keys_and_json_series(s, sep)
    assert keys.tolist() == [_reference_author_keys(v, sep) for v in values]
    assert as_json.tolist() == [json.dumps(names, ensure_ascii=False) for names in split_authors(s, sep)]
    assert author_keys_series(s, sep).tolist() == keys.tolist()
    assert authors_json_series(s, sep).tolist() == as_json.tolist()
    assert keys.index.equals(s.index) and as_json.name == "col"


def test_author_functions_stringify_non_string_cells():
    s = pd.Series([12, "An; Bình"], dtype=object)
    assert authors_json_series(s, ";").tolist() == ['["12"]', '["An", "Bình"]']
    assert author_keys_series(s, ";").tolist() == ["12", "an|binh"]


@pytest.mark.parametrize("fmt, values", [
    ("%d/%m/%Y", ["05/04/2022", "5/4/2022", "31/02/2022", "2022-04-05", "2021-10-03 08:14:34", "", "today", "x"]),
    ("%d.%m.%Y", ["05.04.2022", "05/04/2022", "2022-02-12T10:10:16", "-05.04.2022"]),
    ("%Y-%m-%d", ["2022-04-05", "2022-02-12T10:10:16", "+2022-04-05", "2022-4-5"]),
    ("%d/%m/%Y %H:%M", ["05/04/2022 10:30", "05/04/2022  10:30", "05/04/2022\t10:30"]),
])
def test_date_fallback_reads_what_the_format_refuses_like_a_second_pass(fmt, values):
    s = pd.Series(values * 3, dtype=object)
    values_fmt, bad_fmt = parse_date_series(s, fmt)
    iso_values, iso_bad = parse_date_series(s.where(bad_fmt, ""), "iso")
    values_both, bad_both = parse_date_series(s, fmt, fallback="iso")
    assert values_both.equals(values_fmt.where(~bad_fmt, iso_values))
    assert bad_both.equals(bad_fmt & iso_bad)


def test_iso_offsets_are_found_where_the_offset_pattern_says():
    texts = ["2022-04-05T10:30:00+07:00", "2022-04-05T03:30:00Z", "2022-04-05 10:30:00-0700", "2022-04-05",
             "2022-04-05T10:30:00", "2022-04-05T10:30:00 z", "10:30+07", "z", "", "+", "2022-04-05T10:30:00+07:00 x"]
    expected = [dates._ISO_TZ_RE.search(t) is not None for t in texts]
    assert dates._iso_aware(texts * 2).tolist() == expected * 2
    values, bad = parse_date_series(pd.Series(texts[:5]), "iso")
    assert not bad.any()
    assert values.dt.strftime("%Y-%m-%d %H:%M").tolist() == [
        "2022-04-05 10:30", "2022-04-05 10:30", "2022-04-06 00:30", "2022-04-05 00:00", "2022-04-05 10:30"]


def test_number_fast_paths_agree_with_the_scalar_parser():
    values = ["1500000", "1.500.000", " 1.500.000 ", "2.500,5", "01.500", "²", "٣٤", "1.5", "12.500.00",
              "1,500,000", "-1.500", "", None, 7, "1.500.000đ"]
    parsed, bad = parse_vn_number_series(pd.Series(values, dtype=object))
    expected = [parse_vn_number(v) for v in values]
    assert np.allclose(parsed.to_numpy(), [e[0] for e in expected], equal_nan=True)
    assert bad.tolist() == [e[1] for e in expected]


def _original_schema(checks: RecordChecks) -> pa.DataFrameSchema:
    """The schema as it was written before its plumbing was made faster (pandera's own NaN handling)."""
    def required(s: pd.Series) -> pd.Series:
        return s.str.len() > 0

    def optional(mask):
        return lambda s: (s.str.len() == 0) | mask(s)

    def title_length(s: pd.Series) -> pd.Series:
        n = s.str.len()
        return (n >= 3) & (n <= 500)

    return pa.DataFrameSchema({
        "title": pa.Column(str, [pa.Check(required, name="required"),
                                 pa.Check(optional(title_length), name="title_length")]),
        "unit": pa.Column(str, [pa.Check(required, name="required"),
                                pa.Check(optional(checks.unit_known), name="unit_known")]),
        "status": pa.Column(str, [pa.Check(required, name="required"),
                                  pa.Check(optional(checks.status_known), name="vocabulary")]),
    }, strict=False, coerce=False)


def _failure_rows(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> list[tuple[object, ...]]:
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        return sorted(tuple(map(str, row)) for row in cases[["index", "column", "check"]].itertuples(index=False))
    return []


@pytest.mark.parametrize("typed", [False, True])
@pytest.mark.parametrize("whole_column", [False, True])
def test_schema_plumbing_fails_the_rows_plain_pandera_checks_fail(typed, whole_column):
    frame = pd.DataFrame({
        "title": ["Giải pháp", "", "AB", None, float("nan"), 12, "x" * 501, "Ổn"],
        "unit": ["G1", "G2", "", "G1", None, "G9", "G1", "G1"],
        "status": ["Hợp lệ", "x", "", None, "valid", "Hop le", 3, "valid"],
    }, dtype=object)
    if typed:  # all-string columns the way validate_frame hands them over
        frame = frame.fillna("").astype(str).astype(series.STR_DTYPE)
    if whole_column:  # like the parsed-once checks, which answer for the whole column whatever they get
        unit_known = lambda s: frame["unit"].isin({"G1", "G2"})  # noqa: E731
    else:
        unit_known = lambda s: s.isin({"G1", "G2"})  # noqa: E731
    never = lambda s: pd.Series(True, index=s.index)  # noqa: E731 - the checks this schema does not use
    checks = RecordChecks(never, never, never, never, lambda s: s.isin(["Hợp lệ", "valid"]), never,
                          unit_known, never, never)
    full = mapped_schema(checks)
    subset = pa.DataFrameSchema({name: full.columns[name] for name in ("title", "unit", "status")},
                                strict=False, coerce=False)
    assert _failure_rows(subset, frame) == _failure_rows(_original_schema(checks), frame)


def test_typed_columns_and_shared_masks_fail_the_rows_the_plain_frame_fails():
    import datetime as dt

    from sangkien.pipeline.validate import ValidationContext, _failures, _ParsedColumns, validate_frame
    from sangkien.reference.phases import DEFAULT_PHASES
    from sangkien.reference.units import UnitResolver

    row = {"source_record_id": "r", "portal_id": "", "title": "Giải pháp số hoá", "authors": "An; Bình",
           "submitted_by": "", "unit": "G1", "field": "Y tế", "solution_type": "Kỹ thuật",
           "recognized_on": "01/05/2022", "applied_on": "02/05/2022", "submitted_at": "03/05/2022",
           "status": "Hợp lệ", "benefit_vnd": "1.500.000", "updated_at": "2022-05-04T10:00:00"}
    odd = {"title": ["", "AB", None, 7], "authors": [" ; ", "", None], "unit": ["", "Không có", "g1", None],
           "solution_type": ["", "Cải tiến", None], "applied_on": ["31/02/2022", "", "01/01/2099"],
           "status": ["", "x", 3.5], "benefit_vnd": ["-1", "1,5 tỷ", ""], "updated_at": ["x", "2022-05-04"]}
    rows = [dict(row, source_record_id=f"r{i}") for i in range(12)]
    for column, values in odd.items():
        for i, value in enumerate(values):
            rows[i + len(column) % 3][column] = value
    mapped = pd.DataFrame(rows, dtype=object)
    ctx = ValidationContext("%d/%m/%Y", ";", dt.date(2023, 6, 1), UnitResolver.from_names([("G1", "Đơn vị một")], []),
                            list(DEFAULT_PHASES))

    def failures(typed: bool) -> pd.DataFrame:
        parsed = _ParsedColumns(mapped, ctx.date_format, ctx.sync_date, ctx.resolver, ctx.authors_separator)
        frame = parsed.typed() if typed else mapped
        return _failures(mapped_schema(parsed.checks()), frame).sort_values(["index", "column", "check"],
                                                                            ignore_index=True)

    assert len(failures(True)) > 10
    pd.testing.assert_frame_equal(failures(True), failures(False))
    result = validate_frame(mapped, ctx)
    assert set(result.failures["index"]) | set(result.canonical.index) == set(mapped.index)
