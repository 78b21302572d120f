"""Abbreviations a store's titles spell out elsewhere are learned; typos and chance runs are not."""
from __future__ import annotations

from sangkien.text.fold import fold
from sangkien.text.titles import learn_abbreviations

SPELLED = [
    "Nâng cao hiệu quả kiểm soát nhiễm khuẩn tại Khoa Nội {}",
    "Giải pháp kiểm soát nhiễm khuẩn bệnh viện tại Khoa Ngoại {}",
    "Ứng dụng phần mềm trong đón tiếp người bệnh tại Khoa {}",
    "Chăm sóc người bệnh sau phẫu thuật tại Khoa {}",
    "Tuyên truyền pháp luật cho người lao động tại tổ {}",
    "Phổ biến pháp luật cho đoàn viên tại phân xưởng {}",
]
SHORT = [
    "Cải tiến quy trình KSNK tại Khoa {}",
    "Ứng dụng Zalo trong chăm sóc NB tại Khoa {}",
    "Lập trình PLC điều khiển băng tải số {}",
    "Cải tuhc quy trình tại tổ {}",  # a typo of "tiến"/"thực", not an abbreviation
]


def _titles() -> list[str]:
    return [fold(t.format(k)) for t in SPELLED + SHORT for k in range(6)]


def test_abbreviations_spelled_out_elsewhere_are_learned():
    learned = learn_abbreviations(_titles())
    assert learned["ksnk"] == "kiem soat nhiem khuan"
    assert learned["nb"] == "nguoi benh"


def test_typos_names_and_runs_around_function_words_are_not_abbreviations():
    learned = learn_abbreviations(_titles())
    assert "tuhc" not in learned              # a syllable with two letters swapped
    assert "plc" not in learned               # "phap luat cho" ends on a function word
    assert learn_abbreviations(_titles()[:12]) == {}  # spelled out, never abbreviated: nothing to learn


def test_a_known_abbreviation_is_left_to_the_table():
    assert "ksnk" not in learn_abbreviations(_titles(), known={"ksnk": "khong so nguy kich"})
