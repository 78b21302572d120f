"""Every label the workbook shows, in Vietnamese (the default) and English: one dict per language."""
from __future__ import annotations

from typing import Any

LABELS: dict[str, dict[str, Any]] = {
    "vi": {
        "sheet_overview": "Tổng quan",
        "sheet_discrepancies": "Chênh lệch",
        "sheet_quarantine": "Cách ly",
        "phase": "Đợt",
        "overview_title": "Tổng quan: kết quả so với chỉ tiêu",
        "print_title": "Chương trình 01 triệu sáng kiến: kết quả so với chỉ tiêu",
        "print_as_of": "Số liệu đến",
        "print_page": "Trang &P / &N",
        "as_of": "Số liệu đến (giờ Việt Nam)",
        "written_at": "Lập lúc (giờ Việt Nam)",
        "never_synced": "chưa đồng bộ lần nào (chạy `sangkien sync`)",
        "national_title": "Toàn quốc theo từng đợt",
        "children_title": "Các đơn vị trực thuộc Tổng Liên đoàn",
        "notes_title": "Ghi chú",
        "notes": (
            "Tỷ lệ hoàn thành = số đếm theo cơ sở tính của chỉ tiêu (mặc định: số sáng kiến hợp lệ) / chỉ tiêu.",
            "Mỗi sáng kiến được đếm một lần cho mỗi cấp trên, và một lần cho toàn quốc: "
            "số toàn quốc không phải tổng của các tỉnh và các ngành.",
            "Xếp hạng trong nhóm: dữ liệu tổ chức chưa có cụm, khối thi đua, nên nhóm là các đơn vị "
            "cùng loại, cùng đơn vị cấp trên; hạng 1 là tỷ lệ hoàn thành cao nhất.",
        ),
        "note_no_discrepancies": "Chênh lệch: chưa đối chiếu trong lần lập này (trang Chênh lệch để trống).",
        "quarantine_by_source": "Theo nguồn",
        "columns": {
            "unit_code": "Mã đơn vị", "unit_name": "Tên đơn vị", "kind": "Loại đơn vị",
            "parent_code": "Đơn vị cấp trên", "records": "Lượt gửi (bản ghi)", "initiatives": "Sáng kiến",
            "valid": "Hợp lệ", "pending": "Chờ duyệt", "rejected": "Không hợp lệ",
            "ineligible": "Không đủ điều kiện", "registrants": "Người đăng ký",
            "benefit_vnd": "Giá trị làm lợi (đồng)", "target": "Chỉ tiêu", "basis": "Cơ sở tính chỉ tiêu",
            "completion": "Tỷ lệ hoàn thành", "rank": "Hạng trong nhóm", "group_size": "Số đơn vị trong nhóm",
            "phase": "Đợt", "phase_name": "Tên đợt", "starts_on": "Từ ngày", "ends_on": "Đến ngày",
        },
        "discrepancy_columns": {
            "kind": "Loại chênh lệch", "unit_code": "Mã đơn vị", "unit_name": "Tên đơn vị", "phase": "Đợt",
            "measure": "Chỉ số", "expected": "Số đối chiếu", "actual": "Số tính được", "difference": "Chênh lệch",
            "cause": "Nguyên nhân", "detail": "Chi tiết",
        },
        "quarantine_columns": {
            "source": "Nguồn", "column": "Cột", "check": "Lỗi kiểm tra", "rows": "Số dòng bị giữ",
            "example": "Giá trị ví dụ", "first_id": "Mã dòng đầu tiên", "held": "Số dòng bị giữ",
            "failures": "Số lỗi",
        },
        "kinds": {
            "national": "Tổng Liên đoàn", "province": "LĐLĐ tỉnh, thành phố",
            "national_sector": "Công đoàn ngành trung ương", "corporation": "Công đoàn tổng công ty",
            "district": "LĐLĐ quận, huyện", "local_sector": "Công đoàn ngành địa phương",
            "zone": "Công đoàn khu công nghiệp", "grassroots": "Công đoàn cơ sở",
        },
        "bases": {"valid": "sáng kiến hợp lệ", "submissions": "lượt gửi", "registrants": "người đăng ký",
                  "share_of_members": "tỷ lệ đoàn viên"},
    },
    "en": {
        "sheet_overview": "Overview",
        "sheet_discrepancies": "Discrepancies",
        "sheet_quarantine": "Quarantine",
        "phase": "Phase",
        "overview_title": "Overview: results against targets",
        "print_title": "One million initiatives: results against targets",
        "print_as_of": "Figures as of",
        "print_page": "Page &P of &N",
        "as_of": "Figures as of (Vietnam time)",
        "written_at": "Written at (Vietnam time)",
        "never_synced": "never synced (run `sangkien sync`)",
        "national_title": "National, per phase",
        "children_title": "Units directly under the confederation",
        "notes_title": "Notes",
        "notes": (
            "Completion = the count on the quota's basis (by default: valid initiatives) / the target.",
            "Each initiative counts once for each ancestor and once nationally: "
            "the national figure is not the sum of provinces and sectors.",
            "Rank within group: the org tree holds no competition clusters or blocks, so a group is "
            "the units of the same kind under the same parent; rank 1 is the highest completion.",
        ),
        "note_no_discrepancies": "Discrepancies: not reconciled in this workbook (the Discrepancies sheet is empty).",
        "quarantine_by_source": "By source",
        "columns": {
            "unit_code": "Unit code", "unit_name": "Unit name", "kind": "Kind", "parent_code": "Parent unit",
            "records": "Records (submissions)", "initiatives": "Initiatives", "valid": "Valid",
            "pending": "Pending", "rejected": "Rejected", "ineligible": "Ineligible",
            "registrants": "Registrants", "benefit_vnd": "Benefit (VND)", "target": "Target",
            "basis": "Target basis", "completion": "Completion", "rank": "Rank in group",
            "group_size": "Units in group", "phase": "Phase", "phase_name": "Phase name",
            "starts_on": "Starts on", "ends_on": "Ends on",
        },
        "discrepancy_columns": {
            "kind": "Kind", "unit_code": "Unit code", "unit_name": "Unit name", "phase": "Phase",
            "measure": "Measure", "expected": "Expected", "actual": "Actual", "difference": "Difference",
            "cause": "Cause", "detail": "Detail",
        },
        "quarantine_columns": {
            "source": "Source", "column": "Column", "check": "Failed check", "rows": "Rows held",
            "example": "Example value", "first_id": "First row id", "held": "Rows held", "failures": "Failures",
        },
        "kinds": {
            "national": "Confederation", "province": "Provincial federation",
            "national_sector": "National sector union",
            "corporation": "Corporation union", "district": "District federation",
            "local_sector": "Provincial sector union",
            "zone": "Industrial-zone union", "grassroots": "Grassroots union",
        },
        "bases": {"valid": "valid initiatives", "submissions": "submissions", "registrants": "registrants",
                  "share_of_members": "share of members"},
    },
}
