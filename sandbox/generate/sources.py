"""The simulated source systems (how each exports initiatives) and which initiatives each one holds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sandbox.generate.initiatives import _Initiatives
from sandbox.generate.orgs import _OrgTree


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
