"""Vocabularies: places, unit names, person names, title parts and the sources' labels."""

from __future__ import annotations

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
