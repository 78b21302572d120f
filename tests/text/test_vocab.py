"""Behavioural tests for sangkien.text.vocab."""

from __future__ import annotations

import unicodedata

import pandas as pd
import pytest

from sangkien.text.vocab import FIELD, SOLUTION_TYPE, STATUS, Vocabulary, map_field_series


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Hợp lệ", "valid"),
        ("Đã duyệt", "valid"),
        ("Được công nhận", "valid"),
        ("Chờ duyệt", "pending"),
        ("Đang xét duyệt", "pending"),
        ("Mới nộp", "pending"),
        ("Không hợp lệ", "rejected"),
        ("Bị từ chối", "rejected"),
        ("Không được công nhận", "rejected"),
    ],
)
def test_status_labels_map_to_canonical_values(label, expected):
    assert STATUS.lookup(label) == expected


@pytest.mark.parametrize("label", ["hop le", "HOP LE", "Hop Le", " hợp   lệ. ", unicodedata.normalize("NFD", "Hợp lệ")])
def test_status_labels_match_without_diacritics_any_case_or_nfd(label):
    assert STATUS.lookup(label) == "valid"


def test_negated_status_never_matches_its_positive_label():
    assert STATUS.lookup("khong hop le") == "rejected"
    assert STATUS.lookup("Không được công nhận") == "rejected"


def test_canonical_values_are_accepted_as_labels():
    assert STATUS.lookup("valid") == "valid"
    assert STATUS.lookup("PENDING") == "pending"
    assert SOLUTION_TYPE.lookup("applied_technology") == "applied_technology"
    assert SOLUTION_TYPE.lookup("Applied Technology") == "applied_technology"


def test_status_label_with_eth_look_alike_matches():
    assert STATUS.lookup("\u00d0ã duyệt") == "valid"  # Ð (U+00D0) instead of Đ


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Giải pháp kỹ thuật", "technical"),
        ("ky thuat", "technical"),
        ("Giải pháp quản lý", "management"),
        ("QUAN LY", "management"),
        ("Giải pháp tác nghiệp", "operational"),
        ("Giải pháp ứng dụng tiến bộ kỹ thuật", "applied_technology"),
        ("ung dung tien bo ky thuat", "applied_technology"),
        ("Đề tài nghiên cứu khoa học", "research"),
        ("nghien cuu khoa hoc", "research"),
    ],
)
def test_solution_type_labels_map_to_canonical_values(label, expected):
    assert SOLUTION_TYPE.lookup(label) == expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Y tế", "health"),
        ("Giáo dục - Đào tạo", "education"),
        ("giao duc dao tao", "education"),
        ("Giáo dục và Đào tạo", "education"),
        ("Ứng dụng công nghệ thông tin", "it"),
        ("cong nghe thong tin", "it"),
        ("Cải cách hành chính", "admin_reform"),
        ("Nâng cao năng suất lao động", "productivity"),
        ("An toàn vệ sinh lao động", "osh"),
        ("An toàn, vệ sinh lao động", "osh"),
        ("Sản xuất, kinh doanh", "production"),
        ("Hoạt động công đoàn", "union_work"),
        ("Lĩnh vực khác", "other"),
    ],
)
def test_field_labels_map_to_canonical_values(label, expected):
    assert FIELD.lookup(label) == expected


def test_map_series_gives_missing_for_unknown_and_blank():
    s = pd.Series(["Hợp lệ", "xyz", None, "  ", "-"], index=list("abcde"), name="status")
    out = STATUS.map_series(s)
    assert out.iloc[0] == "valid"
    assert out.iloc[1:].isna().all()
    assert out.index.tolist() == list("abcde") and out.name == "status"


def test_unknown_mask_is_true_only_for_non_blank_unknown_labels():
    s = pd.Series(["Hợp lệ", "xyz", None, "  ", "-", "Chờ duyệt"])
    assert STATUS.unknown_mask(s).tolist() == [False, True, False, False, False, False]


def test_map_and_unknown_agree_with_separate_calls():
    s = pd.Series(["hop le", "??? foo", None])
    mapped, unknown = STATUS.map_and_unknown(s)
    pd.testing.assert_series_equal(mapped, STATUS.map_series(s))
    pd.testing.assert_series_equal(unknown, STATUS.unknown_mask(s))


def test_unknown_field_label_becomes_other_and_is_flagged():
    s = pd.Series(["Thể dục thể thao", "Y tế", None, "khac"])
    mapped, unknown = map_field_series(s)
    assert mapped.iloc[0] == "other" and bool(unknown.iloc[0])
    assert mapped.iloc[1] == "health" and not unknown.iloc[1]
    assert pd.isna(mapped.iloc[2]) and not unknown.iloc[2]
    assert mapped.iloc[3] == "other" and not unknown.iloc[3]  # a known "other" label is not a warning


def test_labels_for_returns_declared_labels():
    assert "Hợp lệ" in STATUS.labels_for("valid")
    with pytest.raises(KeyError):
        STATUS.labels_for("approved")


def test_vocabulary_rejects_a_label_claimed_by_two_values():
    with pytest.raises(ValueError, match="claimed by both"):
        Vocabulary("bad", {"a": ("Hòa",), "b": ("HOA",)})


def test_vocabulary_values_keep_declaration_order():
    assert STATUS.values == ("valid", "pending", "rejected")
    assert FIELD.values[-1] == "other"
