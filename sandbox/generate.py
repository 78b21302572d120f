"""Deterministic simulated world for sangkien-sync.

``generate_world(out_dir, initiatives, seed, noise)`` writes under ``out_dir``:

* ``orgs.csv``: the union tree (VGCL, 63 provinces, the national sector and
  corporation unions, districts, provincial sector unions, industrial-zone
  unions, grassroots units), some grassroots units with a sector parent too;
* ``quotas.csv``: cascaded phase-1/phase-2 targets scaled to the world;
* ``sources/<name>/...``: the same initiatives as several systems export them
  (encodings, delimiters, date formats, headers, labels, NFC/NFD, one xlsx),
  and ``sources/<name>.yaml``: a file-drop connector config for each source;
* ``truth.csv``: for every source row, the true initiative, unit, phase, status
  and eligibility.

Every random draw comes from a numpy generator seeded by ``(seed, stage)``, so the
same arguments give the same bytes, and the noise level never changes which
initiatives exist or where they appear; it only changes how duplicate copies are
typed. Work on initiatives is vectorized (numpy object arrays, lookup tables for
dates and names); only the org tree (at most 25,000 grassroots units) and the
noisy typos are built one record at a time.

Run ``python -m sandbox.generate --out DIR --initiatives N`` for a manual world.
"""

from __future__ import annotations

import argparse
import functools
import io
import re
import sys
import time
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REFERENCE_DIR = Path(__file__).parent / "reference"
_T = TypeVar("_T")
NOISE_LEVELS: tuple[str, ...] = ("none", "light", "hard")
ORG_COLUMNS: tuple[str, ...] = (
    "code", "name", "kind", "parent_code", "sector_parent_code", "valid_from", "valid_to", "aliases",
)
QUOTA_COLUMNS: tuple[str, ...] = ("unit_code", "phase", "target", "basis")
TRUTH_COLUMNS: tuple[str, ...] = (
    "source", "source_record_id", "initiative_id", "unit_code", "phase", "status", "eligible",
)

# Canonical vocabularies, in the order the generator indexes them.
STATUSES: tuple[str, ...] = ("valid", "pending", "rejected")
FIELDS: tuple[str, ...] = (
    "health", "education", "it", "admin_reform", "productivity", "osh", "production", "union_work", "other",
)
SOLUTION_TYPES: tuple[str, ...] = ("technical", "management", "operational", "applied_technology", "research")

_NOISE_SHARE = {"none": 0.0, "light": 0.10, "hard": 0.35}
_MIN_GRASSROOTS, _MAX_GRASSROOTS, _INITIATIVES_PER_UNIT = 150, 25_000, 40

# ---------------------------------------------------------------------------
# Calendar: dates are int32 day numbers since 1970-01-01.
# ---------------------------------------------------------------------------
_DAY0 = date(1970, 1, 1)


def _day(y: int, m: int, d: int) -> int:
    return (date(y, m, d) - _DAY0).days


PROGRAM_START = _day(2021, 9, 1)   # first eligible application date
PHASE1_LAST = _day(2022, 5, 31)    # last submission day counted in phase 1
_SUBMIT_FIRST, _SUBMIT_LAST = _day(2021, 10, 1), _day(2023, 8, 31)
_UPDATED_LAST = _day(2023, 9, 30)
_TABLE_FIRST, _TABLE_LAST = _day(2020, 12, 1), _day(2024, 1, 31)  # range of any written date
_FROZEN_ZIP_TIME = (2023, 9, 30, 0, 0, 0)

# ---------------------------------------------------------------------------
# Vietnamese text helpers.
# ---------------------------------------------------------------------------
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")


@functools.cache
def _strip_table() -> dict[int, str | None]:
    """str.translate table: precomposed Latin letters -> base letter, đ/Đ -> d/D, combining marks -> ''."""
    table: dict[int, str | None] = {ord("đ"): "d", ord("Đ"): "D", ord("Ð"): "D"}
    for cp in range(0x00C0, 0x1F00):
        parts = unicodedata.normalize("NFD", chr(cp))
        if len(parts) > 1 and parts[0].isascii() and all(unicodedata.combining(c) for c in parts[1:]):
            table[cp] = parts[0]
    for cp in range(0x0300, 0x0370):
        table[cp] = None
    return table


def strip_diacritics(text: str) -> str:
    """Return ``text`` without Vietnamese diacritics (đ -> d), keeping case; NFC or NFD input."""
    return unicodedata.normalize("NFC", text).translate(_strip_table())


def fold_text(text: str) -> str:
    """Fold Vietnamese text for comparison: no diacritics, đ -> d, lowercase, single spaces."""
    return " ".join(strip_diacritics(text).lower().split())


@functools.cache
def _cp1258_table() -> dict[int, str]:
    """str.translate table for letters cp1258 lacks: base (with circumflex/breve/horn) + combining tone mark."""
    table: dict[int, str] = {}
    for cp in range(0x00C0, 0x1F00):
        ch = chr(cp)
        try:
            ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        nfd = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in nfd if c in _TONE_MARKS)
        base = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in _TONE_MARKS))
        candidate = base + tones
        try:
            candidate.encode("cp1258")
        except UnicodeEncodeError:
            continue
        if unicodedata.normalize("NFC", candidate) == ch:
            table[cp] = candidate
    return table


def to_cp1258_form(text: str) -> str:
    """Rewrite NFC Vietnamese ``text`` so that it encodes in cp1258; NFC of the result equals the input.

    cp1258 holds â ê ô ơ ư ă đ and a few toned vowels precomposed, and the five tone
    marks as combining characters, so e.g. "ễ" is written as "ê" + U+0303 (what
    Windows-1258 software produces).
    """
    return unicodedata.normalize("NFC", text).translate(_cp1258_table())


def _map_text(fn: Callable[[str], str], values: np.ndarray) -> np.ndarray:
    return np.array([fn(v) for v in values], dtype=object)


# ---------------------------------------------------------------------------
# Vocabularies.
# ---------------------------------------------------------------------------
_CITY_CODES = frozenset({"01", "31", "48", "79", "92"})
_PROVINCE_WEIGHT = {
    "01": 9.0, "79": 10.0, "38": 5.0, "74": 5.0, "75": 4.0, "40": 3.0, "31": 3.0, "22": 2.0, "27": 2.0,
    "24": 2.0, "30": 2.0, "34": 2.0, "36": 2.0, "48": 2.0, "80": 2.0, "26": 2.0, "33": 1.5, "92": 1.5,
    "56": 1.5, "52": 1.5,
}
_SECTOR_WEIGHT = {"NGANHANG": 3.0, "DAUKHI": 2.0, "DIENLUC": 2.0, "VIENCHUC": 2.0, "GIAODUC": 2.0, "YTE": 2.0}
_ZONE_PROVINCES = frozenset({"01", "79", "74", "75", "27", "31", "48", "24", "22", "26", "30", "33", "80"})

_REAL_DISTRICTS: dict[str, list[str]] = {
    "01": [
        "quận Ba Đình", "quận Hoàn Kiếm", "quận Tây Hồ", "quận Long Biên", "quận Cầu Giấy", "quận Đống Đa",
        "quận Hai Bà Trưng", "quận Hoàng Mai", "quận Thanh Xuân", "quận Nam Từ Liêm", "quận Bắc Từ Liêm",
        "quận Hà Đông", "thị xã Sơn Tây", "huyện Ba Vì", "huyện Phúc Thọ", "huyện Đan Phượng", "huyện Hoài Đức",
        "huyện Quốc Oai", "huyện Thạch Thất", "huyện Chương Mỹ", "huyện Thanh Oai", "huyện Thường Tín",
        "huyện Phú Xuyên", "huyện Ứng Hòa", "huyện Mỹ Đức", "huyện Sóc Sơn", "huyện Đông Anh", "huyện Gia Lâm",
        "huyện Thanh Trì", "huyện Mê Linh",
    ],
    "79": [
        "Quận 1", "Quận 3", "Quận 4", "Quận 5", "Quận 6", "Quận 7", "Quận 8", "Quận 10", "Quận 11", "Quận 12",
        "quận Bình Thạnh", "quận Gò Vấp", "quận Phú Nhuận", "quận Tân Bình", "quận Tân Phú", "quận Bình Tân",
        "thành phố Thủ Đức", "huyện Bình Chánh", "huyện Củ Chi", "huyện Hóc Môn", "huyện Nhà Bè", "huyện Cần Giờ",
    ],
    "34": [
        "thành phố Thái Bình", "huyện Đông Hưng", "huyện Hưng Hà", "huyện Kiến Xương", "huyện Quỳnh Phụ",
        "huyện Thái Thụy", "huyện Tiền Hải", "huyện Vũ Thư",
    ],
    "48": [
        "quận Hải Châu", "quận Thanh Khê", "quận Sơn Trà", "quận Ngũ Hành Sơn", "quận Liên Chiểu", "quận Cẩm Lệ",
        "huyện Hòa Vang",
    ],
}
_PLACE_FIRST = (
    "An", "Bình", "Phú", "Tân", "Hòa", "Thạnh", "Long", "Mỹ", "Đông", "Tây", "Nam", "Bắc", "Vĩnh", "Hưng",
    "Thuận", "Lộc", "Phước", "Xuân", "Quang", "Đức", "Hải", "Sơn", "Thanh", "Kim", "Lạc", "Yên", "Gia", "Cẩm",
    "Châu", "Trà", "Hiệp", "Định", "Khánh", "Nghĩa", "Thọ",
)
_PLACE_SECOND = (
    "An", "Bình", "Hòa", "Phú", "Lợi", "Thịnh", "Hưng", "Điền", "Lộc", "Thành", "Sơn", "Lâm", "Giang", "Hải",
    "Phong", "Trung", "Tiến", "Tân", "Định", "Thủy", "Mỹ", "Khê", "Lạc", "Dương", "Ninh",
)
_BRAND_FIRST = (
    "An", "Bình", "Phú", "Tân", "Hòa", "Thành", "Long", "Mỹ", "Đông", "Nam", "Việt", "Hưng", "Thịnh", "Phát",
    "Hoàng", "Kim", "Minh", "Quang", "Thiên", "Sao", "Hồng", "Đại", "Trường", "Hải", "Sơn", "Phúc", "Toàn",
    "Gia", "Bảo", "Nhật",
)
_NAMESAKES = (
    "Nguyễn Du", "Lê Lợi", "Trần Hưng Đạo", "Quang Trung", "Lý Thường Kiệt", "Chu Văn An", "Nguyễn Trãi",
    "Lê Quý Đôn", "Phan Bội Châu", "Ngô Quyền", "Đinh Tiên Hoàng", "Lê Hồng Phong", "Võ Thị Sáu",
    "Nguyễn Thị Minh Khai", "Kim Đồng", "Trần Phú", "Hoàng Hoa Thám", "Nguyễn Đình Chiểu", "Lương Thế Vinh",
    "Tô Hiến Thành", "Phan Chu Trinh", "Huỳnh Thúc Kháng", "Nguyễn Văn Trỗi", "Lê Văn Tám", "Trần Quốc Toản",
    "Bế Văn Đàn", "Phan Đình Phùng", "Nguyễn Khuyến", "Đoàn Thị Điểm", "Nguyễn Bỉnh Khiêm", "Mạc Đĩnh Chi",
    "Yết Kiêu", "Hai Bà Trưng", "Bà Triệu", "Lý Tự Trọng", "Võ Văn Kiệt", "Nguyễn Hiền", "Trưng Vương",
    "Hùng Vương", "Ngô Sĩ Liên",
)
_PRESCHOOL_NAMES = ("Hoa Sen", "Hoa Mai", "Sơn Ca", "Họa Mi", "Tuổi Thơ", "Ánh Dương", "Hoa Hồng", "Vành Khuyên",
                    "Bông Sen", "Hướng Dương")
_SCHOOL_LEVELS = (("Trường Mầm non", "MN"), ("Trường Tiểu học", "TH"), ("Trường THCS", "THCS"),
                  ("Trường THPT", "THPT"))
_HOSPITAL_SPECIALTIES = ("Nhi", "Phụ sản", "Mắt", "Phổi", "Tâm thần", "Y học cổ truyền", "Da liễu", "Nội tiết",
                         "Ung bướu", "Điều dưỡng - Phục hồi chức năng")
_ADMIN_OFFICES = ("Tài chính - Kế hoạch", "Giáo dục và Đào tạo", "Tài nguyên và Môi trường",
                  "Lao động - Thương binh và Xã hội", "Nội vụ", "Văn hóa và Thông tin")
_COMPANY_FORMS = ("TNHH", "Cổ phần", "TNHH MTV")
_INDUSTRIES = {
    "": ("May mặc", "Cơ khí", "Điện tử", "Thực phẩm", "Bao bì", "Nhựa", "Dược phẩm", "Giày da", "Gỗ", "Thép",
         "Chế biến nông sản", "Thủy sản", "Logistics", "Linh kiện điện tử", "Đồ uống"),
    "CT": ("Thực phẩm", "Điện tử", "Cơ khí", "Dược phẩm", "Đồ uống", "Hóa chất"),
    "XD": ("Xây dựng", "Xi măng", "Vật liệu xây dựng", "Tư vấn thiết kế xây dựng"),
    "NN": ("Chế biến nông sản", "Thủy sản", "Giống cây trồng", "Thức ăn chăn nuôi"),
    "GTVT": ("Vận tải", "Xe khách", "Logistics", "Công trình giao thông"),
}
_BANKS = (
    ("Ngân hàng Nông nghiệp và Phát triển Nông thôn Việt Nam", "Agribank"),
    ("Ngân hàng TMCP Ngoại thương Việt Nam", "Vietcombank"),
    ("Ngân hàng TMCP Công Thương Việt Nam", "VietinBank"),
    ("Ngân hàng TMCP Đầu tư và Phát triển Việt Nam", "BIDV"),
)
_COOP_KINDS = ("Nông nghiệp", "Dịch vụ nông nghiệp", "Vận tải", "Thủy sản")
_LOCAL_SECTORS = {  # code suffix -> (name part, primary field index)
    "YTE": ("Y tế", 0), "GD": ("Giáo dục", 1), "CT": ("Công Thương", 6), "XD": ("Xây dựng", 6),
    "NN": ("Nông nghiệp và Phát triển nông thôn", 6), "GTVT": ("Giao thông Vận tải", 6),
}
# Grassroots unit types under a province: (type, probability).
_PROVINCIAL_TYPES = (("school", 0.25), ("health", 0.12), ("admin", 0.15), ("company", 0.27), ("bank", 0.07),
                     ("post", 0.03), ("power", 0.03), ("trade", 0.03), ("coop", 0.05))
_TYPE_SECTOR_PARENT = {"bank": "NGANHANG", "post": "BUUDIEN", "power": "DIENLUC", "trade": "CONGTHUONG"}
# Primary-field choices per unit type: (field index, weight).
_TYPE_FIELDS: dict[str, tuple[tuple[int, float], ...]] = {
    "school": ((1, 1.0),), "health": ((0, 1.0),), "admin": ((3, 0.8), (2, 0.2)),
    "company": ((4, 0.5), (6, 0.3), (5, 0.2)), "bank": ((6, 0.5), (2, 0.3), (3, 0.2)),
    "post": ((6, 0.7), (2, 0.3)), "power": ((4, 0.6), (5, 0.4)), "trade": ((6, 1.0),), "coop": ((6, 0.7), (4, 0.3)),
}
# Grassroots units directly under a national sector / corporation union: name templates and fields.
_SECTOR_UNITS: dict[str, tuple[tuple[str, ...], tuple[tuple[int, float], ...]]] = {
    "NGANHANG": (("{bank} - Chi nhánh {prov}", "{bank} - Chi nhánh {place}", "Hội sở chính {bank}"),
                 ((6, 0.5), (2, 0.3), (3, 0.2))),
    "VIENCHUC": (("Văn phòng Bộ {ministry}", "Viện Nghiên cứu {topic}", "Cục Thống kê {prov}",
                  "Kho bạc Nhà nước {prov}"), ((3, 0.6), (2, 0.3), (7, 0.1))),
    "CONGTHUONG": (("Tổng công ty {ind_ct} {brand}", "Công ty Cổ phần {ind_ct} {brand}"),
                   ((4, 0.5), (6, 0.3), (5, 0.2))),
    "GIAODUC": (("Trường Đại học {uni} {prov}", "Trường Cao đẳng {uni} {prov}"), ((1, 0.7), (2, 0.2), (3, 0.1))),
    "YTE": (("Bệnh viện {spec} Trung ương {prov}", "Viện Vệ sinh Dịch tễ {prov}"), ((0, 0.8), (2, 0.1), (3, 0.1))),
    "GTVT": (("Cảng vụ Hàng hải {prov}", "Công ty Quản lý Đường bộ {brand}", "Cục Quản lý đường bộ khu vực {n}"),
             ((6, 0.4), (5, 0.3), (4, 0.3))),
    "XAYDUNG": (("Tổng công ty Xây dựng {brand}", "Công ty Cổ phần Xi măng {brand}", "Viện Kiến trúc {prov}"),
                ((4, 0.4), (5, 0.3), (6, 0.3))),
    "NNPTNT": (("Công ty TNHH MTV Thủy lợi {prov}", "Viện Khoa học Nông nghiệp {prov}", "Công ty Lâm nghiệp {brand}"),
               ((6, 0.6), (4, 0.4))),
    "TTTT": (("Nhà xuất bản {brand}", "Báo điện tử {brand}", "Trung tâm Internet khu vực {n}"),
             ((2, 0.6), (3, 0.2), (6, 0.2))),
    "DUONGSAT": (("Công ty Cổ phần Vận tải Đường sắt {brand}", "Xí nghiệp Đầu máy {prov}",
                  "Công ty Cổ phần Đường sắt {prov}"), ((4, 0.4), (5, 0.4), (6, 0.2))),
    "QUOCPHONG": (("Nhà máy Z{n3}", "Tổng công ty {brand} - Bộ Quốc phòng", "Xí nghiệp Quốc phòng {n}"),
                  ((4, 0.5), (5, 0.3), (2, 0.2))),
    "CAND": (("Bệnh viện Công an {prov}", "Trường Cao đẳng Cảnh sát {brand}", "Công ty {brand} - Bộ Công an"),
             ((3, 0.5), (2, 0.3), (0, 0.2))),
    "DAUKHI": (("Tổng công ty {dk} Dầu khí {brand}", "Công ty {dk} Dầu khí {prov}"), ((4, 0.4), (5, 0.4), (6, 0.2))),
    "DIENLUC": (("Công ty Điện lực {prov}", "Công ty Truyền tải điện {n}", "Nhà máy Nhiệt điện {brand}",
                 "Nhà máy Thủy điện {brand}"), ((4, 0.5), (5, 0.3), (6, 0.2))),
    "TKV": (("Công ty Than {brand}", "Công ty Tuyển than {brand}", "Công ty Kho vận {brand}"),
            ((5, 0.5), (4, 0.5))),
    "DETMAY": (("Tổng công ty May {brand}", "Công ty Cổ phần Dệt {brand}", "Công ty Cổ phần May {prov}"),
               ((4, 0.7), (5, 0.3))),
    "CAOSU": (("Công ty Cao su {prov}", "Công ty Cao su {brand}"), ((4, 0.5), (6, 0.5))),
    "BUUDIEN": (("Bưu điện {prov_full}",), ((6, 0.7), (2, 0.3))),
    "HANGKHONG": (("Xí nghiệp Kỹ thuật Máy bay {n}", "Công ty Dịch vụ Hàng không {brand}", "Cảng hàng không {prov}"),
                  ((5, 0.5), (4, 0.5))),
    "HANGHAI": (("Công ty Cổ phần Cảng {brand}", "Công ty Vận tải biển {brand}", "Cảng {prov}"),
                ((4, 0.4), (5, 0.3), (6, 0.3))),
}
_SECTOR_FILLERS: dict[str, tuple[str, ...]] = {
    "ministry": ("Nội vụ", "Tư pháp", "Tài chính", "Kế hoạch và Đầu tư", "Khoa học và Công nghệ",
                 "Tài nguyên và Môi trường", "Lao động - Thương binh và Xã hội", "Văn hóa, Thể thao và Du lịch"),
    "topic": ("Kinh tế", "Chính sách", "Môi trường", "Văn hóa", "Xã hội học", "Pháp luật", "Tâm lý học"),
    "ind_ct": ("Thép", "Hóa chất", "Giấy", "Thuốc lá", "Rượu Bia Nước giải khát", "Cơ khí", "Phân bón", "Xăng dầu"),
    "uni": ("Sư phạm", "Kinh tế", "Bách khoa", "Y Dược", "Nông Lâm", "Kỹ thuật Công nghiệp"),
    "spec": ("Nhi", "Phổi", "Mắt", "Nội tiết", "Châm cứu", "Tâm thần", "Da liễu", "Răng Hàm Mặt", "Đa khoa"),
    "dk": ("Khoan", "Khí", "Lọc hóa", "Dịch vụ Kỹ thuật", "Phân bón", "Điện lực"),
}

_FAMILY_NAMES = (
    ("Nguyễn", 38.0), ("Trần", 11.0), ("Lê", 9.5), ("Phạm", 7.0), ("Hoàng", 5.0), ("Huỳnh", 2.0), ("Phan", 4.5),
    ("Vũ", 3.9), ("Võ", 2.0), ("Đặng", 2.1), ("Bùi", 2.0), ("Đỗ", 1.4), ("Hồ", 1.3), ("Ngô", 1.3), ("Dương", 1.0),
    ("Lý", 0.5), ("Đinh", 0.8), ("Trương", 0.8), ("Đoàn", 0.6), ("Lương", 0.5), ("Mai", 0.5), ("Trịnh", 0.5),
    ("Cao", 0.4), ("Tạ", 0.3), ("Lâm", 0.3), ("Hà", 0.5), ("Chu", 0.2), ("Quách", 0.2), ("Lưu", 0.3), ("Tô", 0.2),
)
_MALE_MIDDLE = ("Văn", "Hữu", "Đức", "Minh", "Quang", "Thanh", "Công", "Xuân", "Anh", "Ngọc", "Tuấn", "Mạnh",
                "Duy", "Quốc", "Trọng", "Bá", "Đình", "Tiến", "Hoàng", "Thế")
_FEMALE_MIDDLE = ("Thị", "Thu", "Ngọc", "Thanh", "Minh", "Hồng", "Thúy", "Kim", "Phương", "Bích", "Mai", "Diệu",
                  "Lan", "Khánh", "Hải", "Thùy", "Quỳnh", "Bảo")
_MALE_GIVEN = ("An", "Anh", "Bình", "Cường", "Dũng", "Đạt", "Đông", "Đức", "Giang", "Hải", "Hiếu", "Hòa", "Hoàng",
               "Hùng", "Huy", "Hưng", "Khang", "Khánh", "Kiên", "Lâm", "Linh", "Long", "Lộc", "Luân", "Minh", "Nam",
               "Nghĩa", "Phong", "Phúc", "Quân", "Quang", "Sơn", "Tài", "Tâm", "Thắng", "Thành", "Thiện", "Thịnh",
               "Toàn", "Trí", "Trung", "Tuấn", "Tùng", "Việt", "Vinh", "Vũ", "Khoa", "Hậu", "Tú", "Hiệp")
_FEMALE_GIVEN = ("An", "Anh", "Châu", "Chi", "Diệp", "Dung", "Duyên", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa",
                 "Hồng", "Huệ", "Hương", "Huyền", "Lan", "Liên", "Linh", "Loan", "Mai", "Minh", "My", "Nga", "Ngân",
                 "Ngọc", "Nhung", "Oanh", "Phượng", "Quyên", "Tâm", "Thảo", "Thoa", "Thu", "Thủy", "Trang", "Trinh",
                 "Tuyết", "Uyên", "Vân", "Yến", "Xuân", "Hậu", "Lý", "Nhàn", "Thư", "Vy", "Hòa", "Điệp")

_TITLE_LEADS = ("Giải pháp", "Sáng kiến", "Một số giải pháp", "Biện pháp", "Đề xuất giải pháp")
_TITLE_VERBS = (
    "nâng cao hiệu quả", "nâng cao chất lượng", "cải tiến", "đổi mới", "tối ưu hóa", "chuẩn hóa", "số hóa",
    "hoàn thiện", "rút ngắn thời gian", "tiết kiệm chi phí", "giảm thiểu sai sót trong", "tăng cường kiểm soát",
    "tự động hóa", "hiện đại hóa", "đơn giản hóa", "nâng cao năng suất", "cải thiện", "ứng dụng công nghệ số trong",
    "đẩy mạnh", "kiểm soát chặt chẽ", "nâng cao an toàn trong", "quản lý hiệu quả", "tin học hóa", "sắp xếp lại",
    "rà soát và cải tiến", "giảm tải", "tăng cường phối hợp trong", "nâng cao tính chủ động trong",
    "đảm bảo chất lượng", "minh bạch hóa",
)
_TITLE_OBJECTS: tuple[tuple[str, ...], ...] = (
    ("quy trình tiếp đón người bệnh", "công tác kiểm soát nhiễm khuẩn", "quản lý hồ sơ bệnh án",
     "cấp phát thuốc nội trú", "chăm sóc người bệnh sau phẫu thuật", "quy trình khám sức khỏe định kỳ",
     "công tác tiêm chủng mở rộng", "quản lý trang thiết bị y tế", "xử lý chất thải y tế", "công tác điều dưỡng",
     "quy trình cấp cứu ban đầu", "tư vấn dinh dưỡng cho người bệnh", "theo dõi bệnh nhân điều trị ngoại trú",
     "quản lý bệnh không lây nhiễm", "phòng chống dịch COVID-19", "quy trình xét nghiệm", "sàng lọc sơ sinh",
     "phục hồi chức năng cho người bệnh", "quản lý vật tư tiêu hao", "khám chữa bệnh bảo hiểm y tế",
     "chăm sóc sức khỏe người cao tuổi", "truyền thông giáo dục sức khỏe", "quy trình tiệt khuẩn dụng cụ",
     "quản lý thuốc gây nghiện", "lấy mẫu bệnh phẩm"),
    ("phương pháp dạy học môn Toán", "phương pháp dạy học môn Ngữ văn", "dạy học môn Tiếng Anh",
     "dạy học môn Lịch sử", "dạy học môn Vật lý", "dạy học môn Hóa học", "công tác chủ nhiệm lớp",
     "hoạt động trải nghiệm cho học sinh", "quản lý thiết bị dạy học", "bồi dưỡng học sinh giỏi",
     "phụ đạo học sinh yếu kém", "giáo dục kỹ năng sống cho học sinh", "dạy học trực tuyến",
     "đánh giá học sinh theo năng lực", "công tác tư vấn tâm lý học đường", "xây dựng thư viện thân thiện",
     "giáo dục STEM", "chăm sóc nuôi dưỡng trẻ mầm non", "phát triển ngôn ngữ cho trẻ mẫu giáo",
     "công tác phổ cập giáo dục", "quản lý hồ sơ học sinh", "tổ chức sinh hoạt chuyên môn", "giáo dục thể chất",
     "phòng chống bạo lực học đường", "dạy học tích hợp liên môn"),
    ("phần mềm quản lý văn bản", "hệ thống chữ ký số", "cơ sở dữ liệu đoàn viên", "quản lý hồ sơ điện tử",
     "hệ thống họp trực tuyến", "cổng thông tin điện tử", "ứng dụng di động tra cứu thông tin",
     "hệ thống sao lưu dữ liệu", "quản lý tài sản bằng mã QR", "phần mềm kế toán", "hệ thống quản lý nhân sự",
     "bảo mật hệ thống mạng nội bộ", "phần mềm chấm công", "kho dữ liệu dùng chung", "hệ thống báo cáo trực tuyến",
     "phần mềm quản lý kho", "hệ thống thư điện tử công vụ", "quy trình lưu trữ số", "hệ thống giám sát camera",
     "trợ lý ảo hỗ trợ người dùng"),
    ("quy trình tiếp nhận hồ sơ một cửa", "thủ tục cấp giấy chứng nhận", "giải quyết thủ tục hành chính",
     "công tác tiếp công dân", "quy trình luân chuyển văn bản", "công tác văn thư lưu trữ",
     "thủ tục đăng ký hộ tịch", "quy trình thanh toán không dùng tiền mặt", "công tác thi đua khen thưởng",
     "quản lý hồ sơ cán bộ", "quy chế làm việc", "công tác kiểm tra nội bộ", "quy trình lập dự toán ngân sách",
     "công tác thanh quyết toán", "tiếp nhận phản ánh kiến nghị", "quy trình cấp phép xây dựng",
     "quản lý con dấu và ấn chỉ", "công tác dân vận chính quyền", "thu hồ sơ bảo hiểm xã hội", "quản lý tài sản công"),
    ("dây chuyền lắp ráp", "công đoạn đóng gói sản phẩm", "quy trình may cổ áo", "công đoạn cắt vải",
     "quy trình kiểm tra chất lượng sản phẩm", "bố trí mặt bằng sản xuất", "thay khuôn máy ép",
     "quy trình bảo dưỡng máy móc", "công đoạn hàn", "công đoạn sơn", "dây chuyền chiết rót",
     "quy trình vận hành lò hơi", "hệ thống băng tải", "công đoạn phân loại nguyên liệu",
     "định mức tiêu hao vật tư", "quy trình sấy sản phẩm", "máy cắt tự động", "đồ gá gia công",
     "công đoạn kiểm đếm thành phẩm", "quy trình nạp liệu"),
    ("công tác phòng cháy chữa cháy", "trang bị bảo hộ lao động", "huấn luyện an toàn lao động",
     "hệ thống thông gió nhà xưởng", "che chắn máy móc nguy hiểm", "kiểm định thiết bị nâng",
     "an toàn điện tại nơi làm việc", "giảm tiếng ồn trong phân xưởng", "xử lý sự cố hóa chất", "biển báo an toàn",
     "chống nóng cho người lao động", "sơ cứu tai nạn lao động", "an toàn khi làm việc trên cao",
     "quản lý rủi ro tại nơi làm việc", "thoát hiểm khi có sự cố"),
    ("công tác bán hàng", "quản lý kho vật tư", "chăm sóc khách hàng", "quy trình giao nhận hàng hóa",
     "công tác thu hồi công nợ", "quản lý chi phí sản xuất", "công tác tiếp thị sản phẩm", "quy trình mua sắm vật tư",
     "quản lý đội xe vận tải", "tiết kiệm điện năng", "tiết kiệm nhiên liệu", "tái sử dụng phế liệu",
     "quản lý chất lượng đầu vào", "công tác kế hoạch sản xuất", "huy động vốn", "tín dụng cho hộ sản xuất",
     "quy trình thẩm định hồ sơ vay vốn", "dịch vụ chuyển phát", "quản lý lưới điện hạ thế",
     "giảm tổn thất điện năng", "thu cước dịch vụ", "quản lý đơn hàng"),
    ("công tác phát triển đoàn viên", "tổ chức Tháng Công nhân", "công tác chăm lo đời sống đoàn viên",
     "hoạt động văn hóa thể thao cho đoàn viên", "công tác tuyên truyền pháp luật lao động",
     "đối thoại tại nơi làm việc", "thương lượng thỏa ước lao động tập thể", "quản lý tài chính công đoàn",
     "thu đoàn phí công đoàn", "phong trào thi đua lao động giỏi", "hoạt động nữ công", "công tác kiểm tra công đoàn",
     "xây dựng Mái ấm Công đoàn", "hỗ trợ đoàn viên có hoàn cảnh khó khăn", "tổ chức hội nghị người lao động",
     "quản lý hồ sơ đoàn viên"),
    ("công tác lưu trữ hồ sơ", "công tác vệ sinh môi trường", "quản lý công tác phí", "công tác tổ chức sự kiện",
     "phân loại rác tại nguồn", "chăm sóc cây xanh", "công tác bảo vệ cơ quan", "quản lý nhà ăn tập thể"),
)


def _numbered(template: str, count: int) -> tuple[str, ...]:
    return tuple(template.format(n=i) for i in range(1, count + 1))


_TITLE_PLACES: tuple[tuple[str, ...], ...] = (
    ("tại khoa Nội", "tại khoa Ngoại", "tại khoa Nhi", "tại khoa Sản", "tại khoa Dược", "tại khoa Cấp cứu",
     "tại khoa Hồi sức tích cực", "tại khoa Xét nghiệm", "tại khoa Chẩn đoán hình ảnh", "tại khoa Khám bệnh",
     "tại khoa Truyền nhiễm", "tại khoa Y học cổ truyền", "tại phòng Điều dưỡng", "tại trạm y tế", "tại bệnh viện",
     "tại đơn vị"),
    _numbered("cho học sinh lớp {n}", 12) + ("tại trường", "cho trẻ 5 tuổi", "cho trẻ nhà trẻ", "tại tổ chuyên môn",
                                           "tại đơn vị"),
    ("tại cơ quan", "tại đơn vị", "tại phòng Hành chính - Tổng hợp", "tại văn phòng", "tại chi nhánh",
     "trong toàn hệ thống", "tại bộ phận một cửa"),
    ("tại bộ phận một cửa", "tại Ủy ban nhân dân xã", "tại Ủy ban nhân dân phường", "tại cơ quan",
     "tại phòng Tài chính - Kế hoạch", "tại văn phòng", "tại đơn vị"),
    _numbered("tại phân xưởng số {n}", 12) + _numbered("tại tổ sản xuất số {n}", 20)
    + ("tại xưởng cơ khí", "tại nhà máy", "tại xí nghiệp"),
    _numbered("tại phân xưởng số {n}", 12) + ("tại kho hàng", "tại công trường", "tại nhà máy", "tại đơn vị"),
    ("tại chi nhánh", "tại phòng Kinh doanh", "tại phòng Kế toán", "tại cửa hàng", "tại kho hàng", "tại đơn vị",
     "tại phòng giao dịch") + _numbered("tại tổ sản xuất số {n}", 10),
    ("tại công đoàn cơ sở", "tại đơn vị", "tại doanh nghiệp", "tại cơ quan") + _numbered("tại tổ công đoàn số {n}", 10),
    ("tại đơn vị", "tại cơ quan", "tại văn phòng"),
)
_TITLE_SUFFIXES = ("", "", "", " năm 2022", " năm 2023", " giai đoạn 2022-2025", " trong tình hình mới",
                   " theo hướng chuyển đổi số", " góp phần nâng cao năng suất lao động", " đáp ứng yêu cầu nhiệm vụ",
                   " trong điều kiện dịch bệnh COVID-19")

# Source labels, indexed like STATUSES / FIELDS / SOLUTION_TYPES.
_STATUS_LABELS = (("Hợp lệ", "Chờ duyệt", "Không hợp lệ"), ("Đã duyệt", "Đang xét duyệt", "Bị từ chối"))
_FIELD_LABELS = ("Y tế", "Giáo dục - Đào tạo", "Ứng dụng công nghệ thông tin", "Cải cách hành chính",
                 "Nâng cao năng suất lao động", "An toàn vệ sinh lao động", "Sản xuất kinh doanh",
                 "Hoạt động công đoàn", "Khác")
_SOLUTION_TYPE_LABELS = ("Giải pháp kỹ thuật", "Giải pháp quản lý", "Giải pháp tác nghiệp",
                         "Giải pháp ứng dụng tiến bộ kỹ thuật", "Đề tài nghiên cứu khoa học")
_GRASSROOTS_PREFIX = "Công đoàn cơ sở "


# ---------------------------------------------------------------------------
# Public result.
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class WorldSummary:
    """What ``generate_world`` wrote: paths, row counts per source, and the size of the world."""

    out_dir: Path
    orgs_path: Path
    quotas_path: Path
    truth_path: Path
    source_configs: dict[str, Path]
    source_files: dict[str, tuple[Path, ...]]
    rows_per_source: dict[str, int]
    initiatives: int
    units: int
    grassroots_units: int
    seed: int
    noise: str

    @property
    def total_rows(self) -> int:
        """Number of source rows over all sources (= rows of truth.csv)."""
        return sum(self.rows_per_source.values())


# ---------------------------------------------------------------------------
# Org tree.
# ---------------------------------------------------------------------------
class _Draw:
    """Fast scalar draws for the org tree, from a numpy generator via buffered uniforms."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._buf = rng.random(4096)
        self._pos = 0

    def uniform(self) -> float:
        if self._pos == len(self._buf):
            self._buf, self._pos = self._rng.random(4096), 0
        self._pos += 1
        return float(self._buf[self._pos - 1])

    def chance(self, p: float) -> bool:
        return self.uniform() < p

    def pick(self, items: Sequence[_T]) -> _T:
        return items[int(self.uniform() * len(items))]

    def weighted(self, pairs: Sequence[tuple[_T, float]]) -> _T:
        u = self.uniform() * sum(w for _, w in pairs)
        for item, w in pairs:
            u -= w
            if u < 0:
                return item
        return pairs[-1][0]

    def integer(self, low: int, high: int) -> int:
        """Uniform integer in [low, high]."""
        return low + int(self.uniform() * (high - low + 1))


@dataclass
class _OrgTree:
    orgs: pd.DataFrame          # rows of orgs.csv
    grassroots: pd.DataFrame    # one row per grassroots unit: code, name, alias, parent, sector_parent, province,
                                # region, field (primary field index), weight
    ancestors: list[tuple[str, ...]]  # per grassroots unit: every quota-bearing ancestor, each once
    quota_units: list[str]      # codes that get quotas, in orgs.csv order


def _place_pool(draw: _Draw, reserved: set[str]) -> list[str]:
    """Shuffled place names, distinct after folding, none equal to a reserved (folded) name."""
    seen = set(reserved)
    pool: list[str] = []
    for first in _PLACE_FIRST:
        for second in _PLACE_SECOND:
            name = f"{first} {second}"
            key = fold_text(name)
            if first != second and key not in seen:
                seen.add(key)
                pool.append(name)
    order = np.argsort([draw.uniform() for _ in pool], kind="stable")
    return [pool[i] for i in order]


def _short_label(label: str) -> str:
    for prefix in ("thành phố ", "thị xã ", "quận ", "huyện "):
        if label.startswith(prefix):
            return label[len(prefix):]
    return label


def _allocate(total: int, weights: Sequence[float], minimum: Sequence[int]) -> list[int]:
    """Split ``total`` proportionally to ``weights`` (largest remainder), each share at least its minimum."""
    base = list(minimum)
    rest = total - sum(base)
    if rest <= 0:
        return base
    w = np.asarray(weights, dtype=float)
    exact = rest * w / w.sum()
    shares = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - shares), kind="stable")[: rest - int(shares.sum())]:
        shares[i] += 1
    return [b + int(s) for b, s in zip(base, shares)]


class _OrgBuilder:
    """Builds the org tree one unit at a time (at most ~25,000 grassroots units)."""

    def __init__(self, draw: _Draw, provinces: pd.DataFrame, sectors: pd.DataFrame) -> None:
        self.draw = draw
        self.provinces = provinces
        self.sectors = sectors
        self.rows: list[dict[str, str]] = []
        self.quota_units: list[str] = []
        self.grassroots: list[dict[str, object]] = []
        reserved = {fold_text(_short_label(d)) for ds in _REAL_DISTRICTS.values() for d in ds}
        reserved |= {fold_text(n) for n in provinces["name_vi"]}
        self.district_pool = _place_pool(draw, reserved)
        self.commune_pool = _place_pool(draw, set())
        self.brands = [f"{a} {b}" for a in _BRAND_FIRST for b in _BRAND_FIRST if a != b]
        self.province_list = list(zip(provinces["code"], provinces["name_vi"], provinces["region"]))

    def add(self, code: str, name: str, kind: str, parent: str = "", sector_parent: str = "",
            aliases: Sequence[str] = (), valid_from: str = "", valid_to: str = "", quota: bool = False) -> None:
        self.rows.append({"code": code, "name": name, "kind": kind, "parent_code": parent,
                          "sector_parent_code": sector_parent, "valid_from": valid_from, "valid_to": valid_to,
                          "aliases": "|".join(aliases)})
        if quota:
            self.quota_units.append(code)

    def build(self, n_grassroots: int) -> _OrgTree:
        self.add("VGCL", "Tổng Liên đoàn Lao động Việt Nam", "national",
                 aliases=("Tổng LĐLĐ Việt Nam", "Tổng Liên đoàn"), quota=True)
        for p in self.provinces.itertuples():
            label = "thành phố" if p.code in _CITY_CODES else "tỉnh"
            aliases = [f"Liên đoàn Lao động {label} {p.name_vi}", p.name_vi]
            if p.code in _CITY_CODES:
                aliases.append(f"TP. {p.name_vi}")
            self.add(f"P{p.code}", f"LĐLĐ {label} {p.name_vi}", "province", "VGCL", aliases=aliases, quota=True)
        for s in self.sectors.itertuples():
            aliases = [s.name_vi.removesuffix(" Việt Nam")] if s.name_vi.endswith(" Việt Nam") else []
            self.add(s.code, s.name_vi, s.kind, "VGCL", aliases=aliases, quota=True)

        n_direct = max(len(self.sectors), round(0.10 * n_grassroots))
        codes = list(self.provinces["code"])
        minimum = [3 if c in ("01", "34") else 2 if c in ("79", "48") else 1 for c in codes]
        per_province = _allocate(n_grassroots - n_direct, [_PROVINCE_WEIGHT.get(c, 1.0) for c in codes], minimum)
        for p, units in zip(self.provinces.itertuples(), per_province):
            self._province(str(p.code), str(p.name_vi), str(p.region), units)
        sector_codes = list(self.sectors["code"])
        per_sector = _allocate(n_direct, [_SECTOR_WEIGHT.get(c, 1.0) for c in sector_codes], [1] * len(sector_codes))
        for code, units in zip(sector_codes, per_sector):
            for _ in range(units):
                self._sector_unit(code)
        return self._finish()

    # -- provinces ---------------------------------------------------------
    def _districts(self, pcode: str, pname: str, units: int) -> list[str]:
        if pcode in _REAL_DISTRICTS:
            real = _REAL_DISTRICTS[pcode]
            return real[: min(len(real), max(3, units // 4))]
        count = min(self.draw.integer(7, 12), max(3, units // 4))
        city = pcode in _CITY_CODES
        labels = [f"quận {self.district_pool.pop()}" if city else f"thành phố {pname}"]
        for i in range(1, count):
            place = self.district_pool.pop()
            if city and i < count * 0.4:
                labels.append(f"quận {place}")
            else:
                labels.append(f"thị xã {place}" if self.draw.chance(0.15) else f"huyện {place}")
        return labels

    def _province(self, code: str, pname: str, region: str, units: int) -> None:
        draw = self.draw
        pc = f"P{code}"
        districts = self._districts(code, pname, units)
        for i, label in enumerate(districts, 1):
            self.add(f"{pc}-D{i:02d}", f"LĐLĐ {label}", "district", pc,
                     aliases=(f"Liên đoàn Lao động {label}",), quota=True)
        wanted = list({"34": ["YTE"], "01": ["GD", "YTE"]}.get(code, []))
        n_local = 1 + (units >= 20) + (units >= 80)
        while len(wanted) < n_local:
            choice = draw.weighted([("YTE", 3), ("GD", 3), ("CT", 1), ("XD", 1), ("NN", 1), ("GTVT", 1)])
            if choice not in wanted:
                wanted.append(choice)
        for suffix in wanted:
            part = _LOCAL_SECTORS[suffix][0]
            self.add(f"{pc}-{suffix}", f"Công đoàn ngành {part} {pname}", "local_sector", pc,
                     aliases=(f"CĐ ngành {part} {pname}",), quota=True)
        zones: list[str] = []
        if code in _ZONE_PROVINCES or draw.chance(0.2):
            zones.append(f"{pc}-KCN1")
            self.add(zones[-1], f"Công đoàn các Khu công nghiệp {pname}", "zone", pc,
                     aliases=(f"CĐ các KCN {pname}",), quota=True)
            if units >= 120 and code in ("01", "79"):
                zones.append(f"{pc}-KCN2")
                self.add(zones[-1], f"Công đoàn Khu công nghệ cao {pname}", "zone", pc,
                         aliases=(f"CĐ Khu CNC {pname}",), quota=True)
        ctx = _ProvinceContext(code=pc, name=pname, region=region,
                               districts=[f"{pc}-D{i:02d}" for i in range(1, len(districts) + 1)],
                               district_labels=districts, local=wanted, zones=zones)
        for j in range(units):
            forced = None
            if pc == "P01" and j == 0:
                forced = ("bank", f"{pc}-D03")
            elif pc == "P34" and j < 2:
                forced = ("health", f"{pc}-YTE")
            self._provincial_unit(ctx, forced)

    def _provincial_unit(self, ctx: _ProvinceContext, forced: tuple[str, str] | None) -> None:
        draw = self.draw
        kind = forced[0] if forced else draw.weighted(_PROVINCIAL_TYPES)
        d_index = int(draw.uniform() * len(ctx.districts))
        if forced and forced[1] in ctx.districts:
            d_index = ctx.districts.index(forced[1])
        district, label = ctx.districts[d_index], ctx.district_labels[d_index]
        short = _short_label(label)
        parent, local = district, ""
        if kind == "school" and "GD" in ctx.local and draw.chance(0.6):
            parent = f"{ctx.code}-GD"
        elif kind == "health" and "YTE" in ctx.local and draw.chance(0.7):
            parent = f"{ctx.code}-YTE"
        elif kind == "company":
            other = [s for s in ctx.local if s in ("CT", "XD", "NN", "GTVT")]
            if ctx.zones and draw.chance(0.55):
                parent = draw.pick(ctx.zones)
            elif other and draw.chance(0.3):
                local = draw.pick(other)
                parent = f"{ctx.code}-{local}"
        elif kind == "coop" and "NN" in ctx.local and draw.chance(0.5):
            parent = f"{ctx.code}-NN"
        if forced:
            parent = forced[1]
        entity, alias = self._provincial_entity(kind, label, short, ctx, local)
        field = draw.weighted(_TYPE_FIELDS[kind])
        self._add_grassroots(entity, alias, parent, _TYPE_SECTOR_PARENT.get(kind, ""), ctx.code, ctx.region, field)

    def _provincial_entity(self, kind: str, label: str, short: str, ctx: _ProvinceContext,
                           local: str) -> tuple[str, str | None]:
        """Name of the workplace (without "Công đoàn cơ sở") and maybe a short alias."""
        draw = self.draw
        commune = draw.pick(self.commune_pool)
        if kind == "school":
            level, abbr = draw.pick(_SCHOOL_LEVELS)
            namesake = draw.pick(_PRESCHOOL_NAMES if abbr == "MN" and draw.chance(0.5) else
                                 _NAMESAKES if draw.chance(0.7) else (commune,))
            alias = f"CĐ {abbr} {namesake} {short}" if draw.chance(0.35) else None
            return f"{level} {namesake} {label}", alias
        if kind == "health":
            u = draw.uniform()
            if u < 0.5:
                unit = "phường" if label.startswith(("quận", "Quận")) else draw.pick(("xã", "xã", "thị trấn"))
                return f"Trạm Y tế {unit} {commune} {label}", None
            if u < 0.7:
                return f"Trung tâm Y tế {label}", (f"CĐ TTYT {short}" if draw.chance(0.5) else None)
            if u < 0.85:
                return f"Bệnh viện Đa khoa {short}", (f"CĐ BVĐK {short}" if draw.chance(0.5) else None)
            return f"Bệnh viện {draw.pick(_HOSPITAL_SPECIALTIES)} {ctx.name}", None
        if kind == "admin":
            u = draw.uniform()
            if u < 0.6:
                unit = "phường" if label.startswith(("quận", "Quận")) else "xã"
                return f"Ủy ban nhân dân {unit} {commune} {label}", (
                    f"CĐ UBND {unit} {commune}" if draw.chance(0.3) else None)
            if u < 0.85:
                return f"Phòng {draw.pick(_ADMIN_OFFICES)} {label}", None
            return f"Chi cục Thuế {short}", None
        if kind == "company":
            brand = draw.pick(self.brands)
            industry = draw.pick(_INDUSTRIES[local])
            return (f"Công ty {draw.pick(_COMPANY_FORMS)} {industry} {brand}",
                    f"CĐ Công ty {industry} {brand}" if draw.chance(0.4) else None)
        if kind == "bank":
            full, abbr = draw.pick(_BANKS)
            return f"{full} - Chi nhánh {short}", f"CĐ {abbr} {short}" if draw.chance(0.6) else None
        if kind == "post":
            return f"Bưu điện {label}", None
        if kind == "power":
            return f"Điện lực {short}", None
        if kind == "trade":
            return f"Công ty Cổ phần Thương mại {draw.pick(self.brands)}", None
        return f"Hợp tác xã {draw.pick(_COOP_KINDS)} {commune}", None

    # -- sector units ------------------------------------------------------
    def _sector_unit(self, sector: str) -> None:
        draw = self.draw
        templates, fields = _SECTOR_UNITS.get(sector, (("Công ty {brand}",), ((6, 1.0),)))
        code, name, region = draw.pick(self.province_list)
        values = {
            "prov": name, "prov_full": f"{'thành phố' if code in _CITY_CODES else 'tỉnh'} {name}",
            "brand": draw.pick(self.brands), "place": draw.pick(self.commune_pool), "n": str(draw.integer(1, 12)),
            "n3": str(draw.integer(111, 199)), "bank": draw.pick(_BANKS)[0],
        }
        values |= {k: draw.pick(v) for k, v in _SECTOR_FILLERS.items()}
        entity = draw.pick(templates).format(**values)
        alias = f"CĐ {entity}" if draw.chance(0.2) else None
        self._add_grassroots(entity, alias, sector, "", "", region, draw.weighted(fields))

    def _add_grassroots(self, entity: str, alias: str | None, parent: str, sector_parent: str, province: str,
                        region: str, field: int) -> None:
        self.grassroots.append({"entity": entity, "alias": alias, "parent": parent, "sector_parent": sector_parent,
                                "province": province, "region": region, "field": field})

    # -- finishing ---------------------------------------------------------
    def _finish(self) -> _OrgTree:
        draw = self.draw
        taken: set[str] = {fold_text(r["name"]) for r in self.rows}
        names: list[str] = []
        for g in self.grassroots:
            name = _GRASSROOTS_PREFIX + str(g["entity"])
            key, k = fold_text(name), 1
            while key in taken:
                k += 1
                key = fold_text(f"{name} số {k}")
            if k > 1:
                name = f"{name} số {k}"
                g["entity"] = f"{g['entity']} số {k}"
            taken.add(key)
            names.append(name)
        # An alias must not name another unit, nor be shared.
        alias_keys = [fold_text(str(g["alias"])) if g["alias"] else "" for g in self.grassroots]
        counts: dict[str, int] = {}
        for a in alias_keys:
            if a:
                counts[a] = counts.get(a, 0) + 1
        codes, aliases = [], []
        for i, (g, name) in enumerate(zip(self.grassroots, names), 1):
            code = f"G{i:06d}"
            key = alias_keys[i - 1]
            alias = str(g["alias"]) if key and counts[key] == 1 and key not in taken else ""
            valid_from = f"{draw.integer(2010, 2020)}-{draw.integer(1, 12):02d}-01" if draw.chance(0.08) else ""
            valid_to = "2024-06-30" if draw.chance(0.01) else ""
            self.add(code, name, "grassroots", str(g["parent"]), str(g["sector_parent"]),
                     (alias,) if alias else (), valid_from, valid_to)
            codes.append(code)
            aliases.append(alias)
        orgs = pd.DataFrame(self.rows, columns=list(ORG_COLUMNS))
        grassroots = pd.DataFrame({
            "code": codes, "name": names, "alias": aliases,
            "entity": [str(g["entity"]) for g in self.grassroots],
            "parent": [g["parent"] for g in self.grassroots],
            "sector_parent": [g["sector_parent"] for g in self.grassroots],
            "province": [g["province"] for g in self.grassroots],
            "region": [g["region"] for g in self.grassroots],
            "field": np.array([g["field"] for g in self.grassroots], dtype=np.int8),
        })
        parent_of = dict(zip(orgs["code"], orgs["parent_code"]))
        quota = set(self.quota_units)

        def chain(code: str) -> list[str]:
            out = []
            while code:
                if code in quota:
                    out.append(code)
                code = parent_of.get(code, "")
            return out

        ancestors = []
        for g in self.grassroots:
            found = chain(str(g["parent"])) + (chain(str(g["sector_parent"])) if g["sector_parent"] else [])
            ancestors.append(tuple(dict.fromkeys(found)))
        return _OrgTree(orgs, grassroots, ancestors, self.quota_units)


@dataclass
class _ProvinceContext:
    code: str
    name: str
    region: str
    districts: list[str]
    district_labels: list[str]
    local: list[str]
    zones: list[str]


def _grassroots_count(initiatives: int) -> int:
    return int(np.clip(round(initiatives / _INITIATIVES_PER_UNIT), _MIN_GRASSROOTS, _MAX_GRASSROOTS))


# ---------------------------------------------------------------------------
# Initiatives (vectorized).
# ---------------------------------------------------------------------------
@dataclass
class _Initiatives:
    unit: np.ndarray        # int32 index into grassroots
    field: np.ndarray       # int8 index into FIELDS
    stype: np.ndarray       # int8 index into SOLUTION_TYPES
    status: np.ndarray      # int8 index into STATUSES
    title: np.ndarray       # object, NFC
    authors: np.ndarray     # int32 (n, 4) indices into the person table (first n_authors used)
    n_authors: np.ndarray   # int8 in 1..4
    recognized: np.ndarray  # int32 day numbers
    applied: np.ndarray
    submitted: np.ndarray
    updated: np.ndarray     # int64 seconds since epoch
    benefit: np.ndarray     # int64 VND, -1 when absent
    person_name: np.ndarray          # object: person -> "Family Middle Given"
    person_name_swapped: np.ndarray  # object: person -> "Given Family Middle"

    @property
    def phase(self) -> np.ndarray:
        return np.where(self.submitted <= PHASE1_LAST, 1, 2).astype(np.int8)

    @property
    def eligible(self) -> np.ndarray:
        return self.applied >= PROGRAM_START


@dataclass(frozen=True)
class _TitleVocab:
    leads: np.ndarray
    leads_f: np.ndarray
    verbs: np.ndarray
    verbs_f: np.ndarray
    objects: np.ndarray
    objects_f: np.ndarray
    object_start: np.ndarray
    object_count: np.ndarray
    places: np.ndarray
    places_f: np.ndarray
    place_start: np.ndarray
    place_count: np.ndarray
    suffixes: np.ndarray
    suffixes_f: np.ndarray


@functools.cache
def _title_vocab() -> _TitleVocab:
    def arrays(items: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        return np.array(items, dtype=object), np.array([fold_text(s) for s in items], dtype=object)

    def grouped(groups: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        flat = [s for g in groups for s in g]
        counts = np.array([len(g) for g in groups])
        return (*arrays(flat), np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)

    suffixes = np.array(_TITLE_SUFFIXES, dtype=object)
    suffixes_f = np.array([(" " + fold_text(s)) if s else "" for s in _TITLE_SUFFIXES], dtype=object)
    return _TitleVocab(*arrays(_TITLE_LEADS), *arrays(_TITLE_VERBS), *grouped(_TITLE_OBJECTS),
                       *grouped(_TITLE_PLACES), suffixes, suffixes_f)


@functools.cache
def _person_names() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All name combinations: (normal order, given-name-first order, sampling probability)."""
    normal, swapped, weight = [], [], []
    for middles, givens in ((_MALE_MIDDLE, _MALE_GIVEN), (_FEMALE_MIDDLE, _FEMALE_GIVEN)):
        for family, w in _FAMILY_NAMES:
            for middle in middles:
                for given in givens:
                    normal.append(f"{family} {middle} {given}")
                    swapped.append(f"{given} {family} {middle}")
                    weight.append(w / (len(middles) * len(givens)))
    p = np.array(weight)
    return np.array(normal, dtype=object), np.array(swapped, dtype=object), p / p.sum()


def _draw_titles(rng: np.random.Generator, field: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Titles (NFC) and their folded form, composed from the field's vocabulary."""
    v = _title_vocab()
    n = len(field)
    obj = v.object_start[field] + (rng.random(n) * v.object_count[field]).astype(np.int64)
    place = v.place_start[field] + (rng.random(n) * v.place_count[field]).astype(np.int64)
    lead = rng.integers(0, len(v.leads), n)
    verb = rng.integers(0, len(v.verbs), n)
    suffix = rng.integers(0, len(v.suffixes), n)
    title = v.leads[lead] + " " + v.verbs[verb] + " " + v.objects[obj] + " " + v.places[place] + v.suffixes[suffix]
    folded = (v.leads_f[lead] + " " + v.verbs_f[verb] + " " + v.objects_f[obj] + " " + v.places_f[place]
              + v.suffixes_f[suffix])
    return title, folded


def _draw_initiatives(rng: np.random.Generator, tree: _OrgTree, n: int) -> _Initiatives:
    """Draw ``n`` initiatives over the grassroots units of ``tree`` (vectorized)."""
    g = tree.grassroots
    n_units = len(g)
    weight = rng.lognormal(0.0, 0.7, n_units)
    unit = rng.choice(n_units, size=n, p=weight / weight.sum()).astype(np.int32)

    primary = g["field"].to_numpy()[unit]
    field = np.where(rng.random(n) < 0.7, primary, rng.integers(0, 8, n)).astype(np.int8)
    field[rng.random(n) < 0.03] = FIELDS.index("other")
    stype = rng.choice(5, size=n, p=[0.35, 0.25, 0.20, 0.15, 0.05]).astype(np.int8)
    status = rng.choice(3, size=n, p=[0.80, 0.12, 0.08]).astype(np.int8)

    # Submission dates: spread over the program, with a rush before each phase deadline.
    rush = rng.random(n)
    submitted = rng.integers(_SUBMIT_FIRST, _SUBMIT_LAST + 1, n)
    submitted = np.where(rush < 0.10, rng.integers(PHASE1_LAST - 45, PHASE1_LAST + 1, n), submitted)
    submitted = np.where(rush > 0.90, rng.integers(_SUBMIT_LAST - 60, _SUBMIT_LAST + 1, n), submitted)
    max_gap = np.minimum(180, submitted - PROGRAM_START)
    applied = submitted - 1 - (rng.random(n) * max_gap).astype(np.int64)
    early = rng.random(n) < 0.02  # applied before the program: not eligible
    applied = np.where(early, PROGRAM_START - 1 - rng.integers(0, 240, n), applied)
    recognized = applied + (rng.random(n) * (submitted - applied)).astype(np.int64)
    seconds = rng.integers(7 * 3600, 22 * 3600, n)
    updated_day = np.minimum(submitted + rng.integers(0, 120, n), _UPDATED_LAST)
    updated = updated_day.astype(np.int64) * 86400 + seconds

    has_benefit = rng.random(n) < 0.45
    benefit = np.round(np.exp(rng.normal(16.5, 1.3, n)), -3).astype(np.int64)
    benefit = np.where(has_benefit, np.maximum(benefit, 1000), -1)

    # Authors come from a roster per unit (co-authors are roster neighbours: teams).
    per_unit = np.bincount(unit, minlength=n_units)
    roster = np.maximum(4, np.ceil(per_unit * 0.8)).astype(np.int64)
    roster_start = np.concatenate([[0], np.cumsum(roster)[:-1]])
    names, names_swapped, p = _person_names()
    person = rng.choice(len(names), size=int(roster.sum()), p=p)
    first = (rng.random(n) * roster[unit]).astype(np.int64)
    authors = np.stack([roster_start[unit] + (first + j) % roster[unit] for j in range(4)], axis=1)
    n_authors = rng.choice(4, size=n, p=[0.45, 0.30, 0.15, 0.10]).astype(np.int8) + 1

    title, folded = _draw_titles(rng, field)
    # No two initiatives of one unit share a folded title and an application date.
    for _ in range(50):
        dup = pd.DataFrame({"u": unit, "t": folded, "a": applied}).duplicated().to_numpy()
        if not dup.any():
            break
        title[dup], folded[dup] = _draw_titles(rng, field[dup])
    else:  # pragma: no cover - vocabulary far larger than any unit
        raise RuntimeError("could not draw distinct titles; the title vocabulary is too small")

    return _Initiatives(unit=unit, field=field, stype=stype, status=status, title=title,
                        authors=authors.astype(np.int32), n_authors=n_authors,
                        recognized=recognized.astype(np.int32), applied=applied.astype(np.int32),
                        submitted=submitted.astype(np.int32), updated=updated, benefit=benefit,
                        person_name=names[person], person_name_swapped=names_swapped[person])


# ---------------------------------------------------------------------------
# Sources.
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _SourceSpec:
    """How one simulated system exports initiatives."""

    name: str
    description: str
    file_format: str            # "csv" or "xlsx"
    extension: str
    encoding: str               # as declared in the yaml; for xlsx ignored by readers
    delimiter: str
    date_format: str
    authors_separator: str
    authors_joiner: str         # what is written between two names: the separator, maybe with a space
    columns: tuple[tuple[str, str], ...]  # (canonical field, header) in file order
    unit_as: str                # "code" or "name"
    status_set: int             # index into _STATUS_LABELS
    label_style: str            # "asis", "upper", "lower", "ascii", "mixed"
    text_form: str              # "NFC", "NFD" or "cp1258"
    benefit_style: str          # "vn" (1.500.000) or "plain" (1500000)
    updated_format: str
    id_scheme: str
    split: str                  # "year", "phase", "two_years", "region", "single"
    stem: str
    line_terminator: str = "\n"
    row_number_header: str = ""  # extra "STT" column, numbered per file
    extra_empty_header: str = ""  # extra empty column such as "Ghi chú"


_SOURCES: tuple[_SourceSpec, ...] = (
    _SourceSpec(
        name="portal", description="national online portal export (Cổng trực tuyến Công đoàn Việt Nam)",
        file_format="csv", extension="csv", encoding="utf-8", delimiter=",", date_format="%Y-%m-%d",
        authors_separator=";", authors_joiner="; ",
        columns=(("source_record_id", "ID"), ("portal_id", "Mã sáng kiến"), ("title", "Tên sáng kiến"),
                 ("authors", "Tác giả"), ("submitted_by", "Người gửi"), ("unit", "Đơn vị công tác"),
                 ("field", "Lĩnh vực"), ("solution_type", "Loại giải pháp"), ("recognized_on", "Ngày công nhận"),
                 ("applied_on", "Ngày áp dụng"), ("submitted_at", "Ngày gửi"), ("status", "Trạng thái"),
                 ("benefit_vnd", "Giá trị làm lợi (đồng)"), ("updated_at", "Cập nhật lúc")),
        unit_as="name", status_set=0, label_style="asis", text_form="NFC", benefit_style="vn",
        updated_format="%Y-%m-%dT%H:%M:%S", id_scheme="portal", split="year", stem="congtructuyen"),
    _SourceSpec(
        name="hanoi", description="LĐLĐ thành phố Hà Nội, provincial software (Windows-1258 export)",
        file_format="csv", extension="csv", encoding="cp1258", delimiter=";", date_format="%d/%m/%Y",
        authors_separator=",", authors_joiner=", ",
        columns=(("source_record_id", "Số hồ sơ"), ("portal_id", "Mã cổng"), ("title", "Tên giải pháp"),
                 ("authors", "Tác giả/Nhóm tác giả"), ("unit", "Mã đơn vị"), ("field", "Lĩnh vực"),
                 ("solution_type", "Loại hình"), ("recognized_on", "Ngày công nhận"),
                 ("applied_on", "Ngày áp dụng"), ("submitted_at", "Ngày nộp"), ("status", "Tình trạng"),
                 ("benefit_vnd", "Làm lợi (VNĐ)"), ("updated_at", "Ngày cập nhật")),
        unit_as="code", status_set=1, label_style="asis", text_form="cp1258", benefit_style="plain",
        updated_format="%Y-%m-%d %H:%M:%S", id_scheme="hanoi", split="phase", stem="hanoi_sangkien",
        line_terminator="\r\n", row_number_header="STT"),
    _SourceSpec(
        name="thaibinh_yte", description="Công đoàn ngành Y tế Thái Bình, spreadsheet saved as tab-separated text",
        file_format="csv", extension="tsv", encoding="utf-8-sig", delimiter="\t", date_format="%d-%m-%Y",
        authors_separator=",", authors_joiner=", ",
        columns=(("source_record_id", "Mã SK"), ("title", "Tên sáng kiến"), ("authors", "Tác giả"),
                 ("unit", "Mã CĐCS"), ("field", "Lĩnh vực"), ("solution_type", "Loại giải pháp"),
                 ("recognized_on", "Ngày công nhận"), ("applied_on", "Ngày áp dụng"),
                 ("submitted_at", "Ngày nộp"), ("status", "Trạng thái"), ("benefit_vnd", "Làm lợi (đồng)")),
        unit_as="code", status_set=0, label_style="upper", text_form="NFC", benefit_style="vn",
        updated_format="", id_scheme="thaibinh_yte", split="single", stem="tbyt_sangkien",
        row_number_header="STT", extra_empty_header="Ghi chú"),
    _SourceSpec(
        name="nganhang", description="Công đoàn Ngân hàng Việt Nam, reporting system (UTF-16 export)",
        file_format="csv", extension="csv", encoding="utf-16", delimiter=",", date_format="%d/%m/%Y",
        authors_separator=";", authors_joiner=";",
        columns=(("source_record_id", "Ma ho so"), ("title", "Ten sang kien"), ("authors", "Tac gia"),
                 ("unit", "Ma don vi"), ("field", "Linh vuc"), ("solution_type", "Loai giai phap"),
                 ("recognized_on", "Ngay cong nhan"), ("applied_on", "Ngay ap dung"), ("submitted_at", "Ngay nop"),
                 ("status", "Trang thai"), ("benefit_vnd", "Gia tri lam loi"), ("updated_at", "Cap nhat")),
        unit_as="code", status_set=0, label_style="ascii", text_form="NFC", benefit_style="vn",
        updated_format="%Y-%m-%dT%H:%M:%S", id_scheme="nganhang", split="two_years", stem="cdnh_sangkien",
        line_terminator="\r\n"),
    _SourceSpec(
        name="hcm", description="LĐLĐ thành phố Hồ Chí Minh, web system export (NFD text)",
        file_format="csv", extension="csv", encoding="utf-8", delimiter="|", date_format="%d.%m.%Y",
        authors_separator=";", authors_joiner=" ; ",
        columns=(("source_record_id", "Mã hồ sơ"), ("title", "Tên sáng kiến"), ("authors", "Tác giả"),
                 ("unit", "Tên đơn vị"), ("field", "Lĩnh vực"), ("solution_type", "Loại giải pháp"),
                 ("recognized_on", "Ngày công nhận"), ("applied_on", "Ngày áp dụng"),
                 ("submitted_at", "Ngày nộp"), ("status", "Trạng thái"), ("benefit_vnd", "Giá trị làm lợi"),
                 ("updated_at", "Cập nhật lúc")),
        unit_as="name", status_set=1, label_style="asis", text_form="NFD", benefit_style="vn",
        updated_format="%Y-%m-%d %H:%M:%S", id_scheme="hcm", split="year", stem="hcm_sangkien"),
    _SourceSpec(
        name="danang", description="LĐLĐ thành phố Đà Nẵng, Excel workbook with date cells",
        file_format="xlsx", extension="xlsx", encoding="utf-8", delimiter=",", date_format="%d/%m/%Y",
        authors_separator=";", authors_joiner="; ",
        columns=(("source_record_id", "Mã hồ sơ"), ("title", "Tên sáng kiến"), ("authors", "Tác giả"),
                 ("unit", "Mã đơn vị"), ("field", "Lĩnh vực"), ("solution_type", "Loại giải pháp"),
                 ("recognized_on", "Ngày công nhận"), ("applied_on", "Ngày áp dụng"), ("submitted_at", "Ngày nộp"),
                 ("status", "Trạng thái"), ("benefit_vnd", "Giá trị làm lợi (đồng)"),
                 ("updated_at", "Cập nhật lúc")),
        unit_as="code", status_set=0, label_style="lower", text_form="NFC", benefit_style="plain",
        updated_format="", id_scheme="danang", split="single", stem="danang_sangkien"),
    _SourceSpec(
        name="baocao_tinh", description="provincial federations' consolidated spreadsheets sent to VGCL",
        file_format="csv", extension="csv", encoding="utf-8-sig", delimiter=",", date_format="%d/%m/%Y",
        authors_separator=";", authors_joiner="; ",
        columns=(("source_record_id", "Ma SK"), ("title", "Ten sang kien"), ("authors", "Tac gia"),
                 ("unit", "Ma don vi"), ("field", "Linh vuc"), ("solution_type", "Loai giai phap"),
                 ("recognized_on", "Ngay cong nhan"), ("applied_on", "Ngay ap dung"), ("submitted_at", "Ngay nop"),
                 ("status", "Trang thai"), ("benefit_vnd", "Lam loi (dong)")),
        unit_as="code", status_set=0, label_style="mixed", text_form="NFC", benefit_style="vn",
        updated_format="", id_scheme="baocao_tinh", split="region", stem="baocao",
        extra_empty_header="Ghi chu"),
)
_OWN_SYSTEM_PROVINCES = ("P01", "P79", "P48")
_REGION_FILES = {"north": "mien_bac", "north_central": "mien_trung", "south_central": "mien_trung",
                 "highlands": "mien_trung", "south_east": "mien_nam", "mekong": "mien_nam"}


def _assign_sources(rng: np.random.Generator, tree: _OrgTree, world: _Initiatives) -> dict[str, np.ndarray]:
    """For each source, the initiatives it holds (sorted by submission, then id); every initiative in >= 1."""
    g = tree.grassroots
    n = len(world.unit)
    province = g["province"].to_numpy()[world.unit]
    parent = g["parent"].to_numpy()[world.unit]
    sector_parent = g["sector_parent"].to_numpy()[world.unit]

    in_portal = rng.random(n) < 0.70
    members = {
        "portal": in_portal,
        "hanoi": (province == "P01") & (rng.random(n) < 0.85),
        "thaibinh_yte": (parent == "P34-YTE") & (rng.random(n) < 0.90),
        "nganhang": ((parent == "NGANHANG") | (sector_parent == "NGANHANG")) & (rng.random(n) < 0.90),
        "hcm": (province == "P79") & (rng.random(n) < 0.80),
        "danang": (province == "P48") & (rng.random(n) < 0.85),
    }
    reports = (province != "") & ~np.isin(province, _OWN_SYSTEM_PROVINCES)
    members["baocao_tinh"] = reports & (~in_portal | (rng.random(n) < 0.45))
    nowhere = ~np.logical_or.reduce(list(members.values()))
    members["portal"] = members["portal"] | nowhere
    order = np.lexsort((np.arange(n), world.submitted))
    return {spec.name: order[members[spec.name][order]] for spec in _SOURCES}


@functools.cache
def _date_strings(fmt: str) -> np.ndarray:
    first = date.fromordinal(_DAY0.toordinal() + _TABLE_FIRST)
    return np.array([(first + timedelta(days=i)).strftime(fmt) for i in range(_TABLE_LAST - _TABLE_FIRST + 1)],
                    dtype=object)


@functools.cache
def _date_objects() -> np.ndarray:
    first = date.fromordinal(_DAY0.toordinal() + _TABLE_FIRST)
    out = np.empty(_TABLE_LAST - _TABLE_FIRST + 1, dtype=object)
    out[:] = [first + timedelta(days=i) for i in range(len(out))]
    return out


@functools.cache
def _times_of_day() -> np.ndarray:
    return np.array([f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)], dtype=object)


def _format_dates(days: np.ndarray, fmt: str) -> np.ndarray:
    return _date_strings(fmt)[days - _TABLE_FIRST]


def _format_datetimes(seconds: np.ndarray, fmt: str) -> np.ndarray:
    date_fmt, sep, time_fmt = fmt.partition("T") if "T" in fmt else fmt.partition(" ")
    if time_fmt != "%H:%M:%S":
        raise ValueError(f"unsupported datetime format {fmt!r}")
    return _format_dates(seconds // 86400, date_fmt) + sep + _times_of_day()[seconds % 86400]


def _styled_labels(labels: Sequence[str], style: str) -> np.ndarray:
    styled = {"asis": lambda s: s, "upper": str.upper, "lower": str.lower, "ascii": strip_diacritics}[style]
    return np.array([styled(s) for s in labels], dtype=object)


def _labels(codes: np.ndarray, labels: Sequence[str], style: str, fmt_rng: np.random.Generator) -> np.ndarray:
    if style == "mixed":  # consolidated from many provinces: some typed with diacritics, some without
        with_marks = fmt_rng.random(len(codes)) < 0.6
        return np.where(with_marks, _styled_labels(labels, "asis")[codes], _styled_labels(labels, "ascii")[codes])
    return _styled_labels(labels, style)[codes]


def _vn_number(values: np.ndarray) -> np.ndarray:
    return np.array([f"{v:,}".replace(",", ".") for v in values.tolist()], dtype=object)


def _typo(text: str, where: float, how: int) -> str:
    """``text`` with one letter swapped with its neighbour (0), dropped (1) or doubled (2)."""
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if len(letters) < 4:
        return text
    i = letters[int(where * (len(letters) - 1))]
    if how == 0 and i + 1 < len(text):
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    if how == 1:
        return text[:i] + text[i + 1:]
    return text[:i] + text[i] + text[i:]


_NOISE_KINDS = ("title_plain", "title_typo", "authors_swapped", "coauthor_dropped", "date_shifted", "unit_variant")


def _noise_flags(rng: np.random.Generator, copies: np.ndarray, noise: str) -> dict[str, np.ndarray]:
    """Which rows get which kind of noise: a share of rows whose initiative has >= 2 copies."""
    n = len(copies)
    noisy = (copies >= 2) & (rng.random(n) < _NOISE_SHARE[noise])
    hard = noise == "hard"  # hard noise often stacks two or three kinds on one copy
    how_many = 1 + (rng.random(n) < (0.4 if hard else 0.0)) + (rng.random(n) < (0.15 if hard else 0.0))
    picks = rng.integers(0, len(_NOISE_KINDS), size=(n, 3))
    flags = {}
    for k, kind in enumerate(_NOISE_KINDS):
        chosen = np.zeros(n, dtype=bool)
        for slot in range(3):
            chosen |= (picks[:, slot] == k) & (slot < how_many)
        flags[kind] = noisy & chosen
    return flags


def _unit_variants(g: pd.DataFrame) -> np.ndarray:
    """(units, 5) object array of ways people type a grassroots unit's name."""
    names = g["name"].to_numpy(dtype=object)
    entity = g["entity"].to_numpy(dtype=object)
    alias = g["alias"].to_numpy(dtype=object)
    with_alias = np.where(alias != "", alias, entity)
    return np.stack([
        with_alias,
        "CĐCS " + entity,
        entity,
        _map_text(strip_diacritics, names),
        _map_text(str.lower, names),
    ], axis=1)


@dataclass
class _RenderContext:
    seed: int
    noise: str
    tree: _OrgTree
    world: _Initiatives
    copies: np.ndarray          # per initiative: number of sources holding it
    portal_ids: np.ndarray      # per initiative: portal id or "" when not on the portal
    unit_variants: np.ndarray


def _record_ids(spec: _SourceSpec, rows: np.ndarray, ctx: _RenderContext) -> np.ndarray:
    """The source's own record ids for ``rows`` (initiative indices in file order); unique within the source."""
    n = len(rows)
    seq = np.arange(1, n + 1)
    submitted = ctx.world.submitted[rows]
    years = (submitted.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970)
    if spec.id_scheme == "portal":
        return np.array([str(1_000_000 + s) for s in seq.tolist()], dtype=object)
    if spec.id_scheme in ("hanoi", "nganhang"):
        in_year = pd.Series(years).groupby(years).cumcount().to_numpy() + 1
        fmt = "HN-{}-{:06d}" if spec.id_scheme == "hanoi" else "NH/{}/{:05d}"
        return np.array([fmt.format(y, s) for y, s in zip(years.tolist(), in_year.tolist())], dtype=object)
    if spec.id_scheme == "baocao_tinh":
        province = ctx.tree.grassroots["province"].to_numpy()[ctx.world.unit[rows]]
        in_prov = pd.Series(province).groupby(province).cumcount().to_numpy() + 1
        return np.array([f"BC{p[1:]}-{s:06d}" for p, s in zip(province.tolist(), in_prov.tolist())], dtype=object)
    prefix = {"thaibinh_yte": "TBYT-", "hcm": "HCM-", "danang": "DN-"}[spec.id_scheme]
    width = max(5, len(str(n)))
    return np.array([f"{prefix}{s:0{width}d}" for s in seq.tolist()], dtype=object)


def _file_keys(spec: _SourceSpec, rows: np.ndarray, ctx: _RenderContext) -> np.ndarray:
    """File name (without extension) for each row."""
    submitted = ctx.world.submitted[rows]
    years = submitted.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    if spec.split == "year":
        return np.array([f"{spec.stem}_{y}" for y in years.tolist()], dtype=object)
    if spec.split == "phase":
        return np.where(submitted <= PHASE1_LAST, f"{spec.stem}_dot1", f"{spec.stem}_dot2").astype(object)
    if spec.split == "two_years":
        return np.where(years <= 2022, f"{spec.stem}_2021-2022", f"{spec.stem}_2023").astype(object)
    if spec.split == "region":
        region = ctx.tree.grassroots["region"].to_numpy()[ctx.world.unit[rows]]
        return np.array([f"{spec.stem}_{_REGION_FILES[r]}" for r in region.tolist()], dtype=object)
    return np.full(len(rows), spec.stem, dtype=object)


def _render(spec: _SourceSpec, index: int, rows: np.ndarray, ctx: _RenderContext) -> dict[str, np.ndarray]:
    """Canonical field -> column values for the source's rows, noise applied, not yet in the source's text form.

    Dates stay int day numbers and ``updated_at`` int seconds; ``benefit_vnd`` is int64 (-1 when empty).
    """
    w, g = ctx.world, ctx.tree.grassroots
    fmt_rng = np.random.default_rng([ctx.seed, 200 + index])
    noise_rng = np.random.default_rng([ctx.seed, 300 + index])
    n = len(rows)
    flags = _noise_flags(noise_rng, ctx.copies[rows], ctx.noise)
    out: dict[str, np.ndarray] = {}

    title = w.title[rows].copy()
    plain = flags["title_plain"]
    title[plain] = _map_text(lambda s: s.translate(_strip_table()), title[plain])
    typo = np.flatnonzero(flags["title_typo"])
    where, how = noise_rng.random(len(typo)), noise_rng.integers(0, 3, len(typo))
    title[typo] = [_typo(title[i], wh, int(hw)) for i, wh, hw in zip(typo, where, how)]
    out["title"] = title

    n_auth = w.n_authors[rows] - (flags["coauthor_dropped"] & (w.n_authors[rows] >= 2))
    swapped = flags["authors_swapped"]
    authors = None
    for j in range(4):
        person = w.authors[rows, j]
        name = np.where(swapped, w.person_name_swapped[person], w.person_name[person])
        authors = name if authors is None else np.where(n_auth > j, authors + spec.authors_joiner + name, authors)
    out["authors"] = authors

    unit = w.unit[rows]
    variant = ctx.unit_variants[unit, noise_rng.integers(0, ctx.unit_variants.shape[1], n)]
    if spec.unit_as == "code":
        out["unit"] = np.where(flags["unit_variant"], variant, g["code"].to_numpy(dtype=object)[unit])
    else:
        out["unit"] = np.where(flags["unit_variant"], variant, g["name"].to_numpy(dtype=object)[unit])

    dates = {"recognized_on": w.recognized[rows].copy(), "applied_on": w.applied[rows].copy(),
             "submitted_at": w.submitted[rows].copy()}
    shifted = np.flatnonzero(flags["date_shifted"])
    which = noise_rng.integers(0, 3, len(shifted))
    delta = noise_rng.choice(np.array([-3, -2, -1, 1, 2, 3]), len(shifted))
    for k, key in enumerate(dates):
        hit = shifted[which == k]
        dates[key][hit] += delta[which == k]
    out |= dates

    style = spec.label_style
    out["status"] = _labels(w.status[rows], _STATUS_LABELS[spec.status_set], style, fmt_rng)
    out["field"] = _labels(w.field[rows], _FIELD_LABELS, style, fmt_rng)
    out["solution_type"] = _labels(w.stype[rows], _SOLUTION_TYPE_LABELS, style, fmt_rng)
    out["benefit_vnd"] = w.benefit[rows]
    out["updated_at"] = w.updated[rows]
    out["source_record_id"] = _record_ids(spec, rows, ctx)

    portal_ids = ctx.portal_ids[rows]
    if spec.name == "hanoi":  # the province copies the portal id for part of what it also finds there
        out["portal_id"] = np.where((portal_ids != "") & (fmt_rng.random(n) < 0.7), portal_ids, "").astype(object)
    else:
        out["portal_id"] = portal_ids
    if spec.name == "portal":
        by_officer = fmt_rng.random(n) < 0.3
        first_author = w.person_name[w.authors[rows, 0]]
        out["submitted_by"] = np.where(by_officer, "BCH " + g["name"].to_numpy(dtype=object)[unit], first_author)
    return out


def _to_text_form(values: np.ndarray, form: str) -> np.ndarray:
    if form == "NFC":
        return values
    if form == "NFD":
        return _map_text(lambda s: unicodedata.normalize("NFD", s), values)
    table = _cp1258_table()
    return _map_text(lambda s: s.translate(table), values)


_TEXT_FIELDS = frozenset({"title", "authors", "unit", "field", "solution_type", "status", "submitted_by"})
_DATE_FIELDS = ("recognized_on", "applied_on", "submitted_at")


def _csv_columns(spec: _SourceSpec, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Header -> string column, as the source writes it."""
    out: dict[str, np.ndarray] = {}
    for field, header in spec.columns:
        v = values[field]
        if field in _DATE_FIELDS:
            v = _format_dates(v, spec.date_format)
        elif field == "updated_at":
            v = _format_datetimes(v, spec.updated_format)
        elif field == "benefit_vnd":
            text = np.full(len(v), "", dtype=object)
            present = v >= 0
            text[present] = _vn_number(v[present]) if spec.benefit_style == "vn" else v[present].astype(str)
            v = text
        elif field in _TEXT_FIELDS:
            v = _to_text_form(v, spec.text_form)
        out[_to_text_form(np.array([header], dtype=object), spec.text_form)[0]] = v
    return out


def _write_csv(spec: _SourceSpec, path: Path, columns: dict[str, np.ndarray]) -> None:
    n = len(next(iter(columns.values())))
    frame: dict[str, np.ndarray] = {}
    if spec.row_number_header:
        frame[spec.row_number_header] = np.arange(1, n + 1)
    frame |= columns
    if spec.extra_empty_header:
        frame[spec.extra_empty_header] = np.full(n, "", dtype=object)
    df = pd.DataFrame({k: pd.Series(v, dtype=object if v.dtype == object else v.dtype) for k, v in frame.items()})
    df.to_csv(path, index=False, sep=spec.delimiter, encoding=spec.encoding, lineterminator=spec.line_terminator)


def _write_xlsx(spec: _SourceSpec, path: Path, values: dict[str, np.ndarray]) -> None:
    """Write an xlsx with real date/datetime cells and numeric benefit cells; bytes depend on content only."""
    import openpyxl

    cols: list[list[object]] = []
    for field, _ in spec.columns:
        v = values[field]
        if field in _DATE_FIELDS:
            cols.append(_date_objects()[v - _TABLE_FIRST].tolist())
        elif field == "updated_at":
            cols.append([datetime(1970, 1, 1) + timedelta(seconds=s) for s in v.tolist()])
        elif field == "benefit_vnd":
            cols.append([x if x >= 0 else None for x in v.tolist()])
        else:
            cols.append(list(v))
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Sáng kiến")
    ws.append([header for _, header in spec.columns])
    for row in zip(*cols):
        ws.append(row)
    wb.properties.creator = "sangkien-sync sandbox"
    buf = io.BytesIO()
    wb.save(buf)
    _freeze_zip(buf.getvalue(), path)


def _freeze_zip(data: bytes, path: Path) -> None:
    """Rewrite a zip (xlsx) with fixed member timestamps and document dates, so equal content gives equal bytes."""
    stamp = b"2023-09-30T00:00:00Z"
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                                 rb"\g<1>" + stamp + rb"\g<3>", content)
            member = zipfile.ZipInfo(info.filename, date_time=_FROZEN_ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            dst.writestr(member, content)


def _write_config(spec: _SourceSpec, sources_dir: Path) -> Path:
    config = {
        "kind": "files",
        "path": spec.name,
        "pattern": f"*.{spec.extension}",
        "encoding": spec.encoding,
        "delimiter": spec.delimiter,
        "date_format": spec.date_format,
        "authors_separator": spec.authors_separator,
        "columns": dict(spec.columns),
    }
    header = (f"# Simulated source '{spec.name}': {spec.description}.\n"
              "# Written by sandbox.generate; path is relative to this file's folder.\n")
    if spec.file_format == "xlsx":
        header += "# xlsx: encoding and delimiter do not apply; date_format applies to dates stored as text.\n"
    elif spec.text_form == "cp1258":
        header += "# Text keeps tone marks as combining characters (Windows-1258): normalize to NFC before matching.\n"
    elif spec.text_form == "NFD":
        header += "# Text is Unicode NFD (decomposed): normalize to NFC before matching.\n"
    path = sources_dir / f"{spec.name}.yaml"
    path.write_text(header + yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _write_source(spec: _SourceSpec, index: int, rows: np.ndarray, ctx: _RenderContext,
                  sources_dir: Path) -> tuple[tuple[Path, ...], np.ndarray]:
    """Write the source's files; return them and its record ids (in ``rows`` order)."""
    folder = sources_dir / spec.name
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(f"*.{spec.extension}"):
        stale.unlink()
    values = _render(spec, index, rows, ctx)
    keys = _file_keys(spec, rows, ctx)
    names = sorted(set(keys.tolist())) or [spec.stem]
    written = []
    if spec.file_format == "csv":
        columns = _csv_columns(spec, values)
    for name in names:
        part = keys == name
        path = folder / f"{name}.{spec.extension}"
        if spec.file_format == "xlsx":
            _write_xlsx(spec, path, {k: v[part] for k, v in values.items()})
        else:
            _write_csv(spec, path, {k: v[part] for k, v in columns.items()})
        written.append(path)
    return tuple(written), values["source_record_id"]


# ---------------------------------------------------------------------------
# Quotas.
# ---------------------------------------------------------------------------
def _nice(target: float) -> int:
    step = 100 if target >= 1000 else 10 if target >= 100 else 1
    return max(1, int(round(target / step)) * step)


def _quotas(rng: np.random.Generator, tree: _OrgTree, world: _Initiatives) -> pd.DataFrame:
    """Targets per quota unit and phase, set so that units land at roughly 50-150 % of target."""
    counted = (world.status == STATUSES.index("valid")) & world.eligible
    n_units = len(tree.grassroots)
    per_unit = np.zeros((n_units, 2), dtype=np.int64)
    np.add.at(per_unit, (world.unit[counted], world.phase[counted] - 1), 1)
    actual: dict[str, np.ndarray] = {code: np.zeros(2, dtype=np.int64) for code in tree.quota_units}
    for u, ancestors in enumerate(tree.ancestors):
        for code in ancestors:
            actual[code] += per_unit[u]
    n = len(world.unit)
    rows = []
    for code in tree.quota_units:
        for phase in (1, 2):
            if code == "VGCL":  # the program's own split: 30 % / 70 % of the initiatives asked for
                target = max(1, round((0.3 if phase == 1 else 0.7) * n))
            else:
                value = int(actual[code][phase - 1])
                completion = rng.uniform(0.5, 1.5)
                target = _nice(value / completion) if value else int(rng.integers(1, 6))
            rows.append((code, phase, target, "valid"))
    return pd.DataFrame(rows, columns=list(QUOTA_COLUMNS))


# ---------------------------------------------------------------------------
# Entry point.
# ---------------------------------------------------------------------------
def _check_arguments(initiatives: int, seed: int, noise: str) -> None:
    if noise not in NOISE_LEVELS:
        raise ValueError(f"noise must be one of {', '.join(NOISE_LEVELS)}; got {noise!r}")
    if isinstance(initiatives, bool) or not isinstance(initiatives, (int, np.integer)) or initiatives < 1:
        raise ValueError(f"initiatives must be a positive integer; got {initiatives!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")


def generate_world(out_dir: Path, initiatives: int, seed: int = 0, noise: str = "none") -> WorldSummary:
    """Write a simulated world of ``initiatives`` initiatives under ``out_dir`` and say what was written.

    Same arguments, same bytes. The noise level ("none", "light", "hard") only changes how
    duplicate copies are typed (diacritics, typos, author order, dropped co-author, dates
    shifted by 1-3 days, unit typed by name); the org tree, quotas, which initiatives each
    source holds and ``truth.csv`` are identical across noise levels. Under "none", all
    copies of an initiative carry the same content and differ only in format. Files
    already in ``sources/<name>/`` with the source's extension are replaced.

    Raises ValueError for an unknown noise level, or a non-positive count or negative seed.
    """
    _check_arguments(initiatives, seed, noise)
    initiatives, seed = int(initiatives), int(seed)
    out_dir = Path(out_dir)
    sources_dir = out_dir / "sources"
    sources_dir.mkdir(parents=True, exist_ok=True)

    provinces = pd.read_csv(REFERENCE_DIR / "provinces_2022.csv", dtype=str, keep_default_na=False)
    sectors = pd.read_csv(REFERENCE_DIR / "sector_unions.csv", dtype=str, keep_default_na=False)
    tree = _OrgBuilder(_Draw(np.random.default_rng([seed, 1])), provinces, sectors).build(
        _grassroots_count(initiatives))
    world = _draw_initiatives(np.random.default_rng([seed, 2]), tree, initiatives)
    membership = _assign_sources(np.random.default_rng([seed, 3]), tree, world)

    orgs_path = out_dir / "orgs.csv"
    tree.orgs.to_csv(orgs_path, index=False, encoding="utf-8", lineterminator="\n")
    quotas_path = out_dir / "quotas.csv"
    _quotas(np.random.default_rng([seed, 4]), tree, world).to_csv(quotas_path, index=False, lineterminator="\n")

    copies = np.zeros(initiatives, dtype=np.int8)
    for rows in membership.values():
        copies[rows] += 1
    portal_rows = membership["portal"]
    portal_ids = np.full(initiatives, "", dtype=object)
    portal_ids[portal_rows] = [f"SK{(s * 7919) % 10_000_000:07d}" for s in range(1, len(portal_rows) + 1)]
    ctx = _RenderContext(seed, noise, tree, world, copies, portal_ids, _unit_variants(tree.grassroots))

    width = max(7, len(str(initiatives)))
    initiative_ids = np.array([f"I{i:0{width}d}" for i in range(1, initiatives + 1)], dtype=object)
    unit_codes = tree.grassroots["code"].to_numpy(dtype=object)
    status_names = np.array(STATUSES, dtype=object)
    phase, eligible = world.phase, np.where(world.eligible, "true", "false").astype(object)

    truth_path = out_dir / "truth.csv"
    pd.DataFrame(columns=list(TRUTH_COLUMNS)).to_csv(truth_path, index=False, lineterminator="\n")
    configs, files, counts = {}, {}, {}
    for index, spec in enumerate(_SOURCES):
        rows = membership[spec.name]
        files[spec.name], record_ids = _write_source(spec, index, rows, ctx, sources_dir)
        configs[spec.name] = _write_config(spec, sources_dir)
        counts[spec.name] = len(rows)
        truth = pd.DataFrame({
            "source": np.full(len(rows), spec.name, dtype=object), "source_record_id": record_ids,
            "initiative_id": initiative_ids[rows], "unit_code": unit_codes[world.unit[rows]],
            "phase": phase[rows], "status": status_names[world.status[rows]], "eligible": eligible[rows],
        }, dtype=object)
        truth.to_csv(truth_path, mode="a", header=False, index=False, lineterminator="\n")

    return WorldSummary(out_dir=out_dir, orgs_path=orgs_path, quotas_path=quotas_path, truth_path=truth_path,
                        source_configs=configs, source_files=files, rows_per_source=counts,
                        initiatives=initiatives, units=len(tree.orgs), grassroots_units=len(tree.grassroots),
                        seed=seed, noise=noise)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``python -m sandbox.generate --out DIR --initiatives N [--seed S] [--noise none|light|hard]``."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write the world into")
    parser.add_argument("--initiatives", type=int, default=2000, help="number of distinct initiatives (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--noise", default="none", help="none, light or hard (default none)")
    args = parser.parse_args(argv)
    try:
        _check_arguments(args.initiatives, args.seed, args.noise)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    summary = generate_world(args.out, args.initiatives, args.seed, args.noise)
    elapsed = time.perf_counter() - started
    print(f"wrote {summary.initiatives:,} initiatives, {summary.units:,} org units "
          f"({summary.grassroots_units:,} grassroots) to {summary.out_dir} in {elapsed:.1f} s")
    for name, count in summary.rows_per_source.items():
        print(f"  {name:<13} {count:>9,} rows in {len(summary.source_files[name])} file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
