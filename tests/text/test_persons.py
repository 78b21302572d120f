import numpy as np
import pytest

from sangkien.text.persons import family_given, person_key

SAME = [
    ("CN. Phan Thanh Mai", "Phan Thanh Mai"), ("PGS.TS. Nguyễn Văn An", "Nguyễn Văn An"),
    ("PGS. TS Nguyễn Văn An", "nguyen van an"), ("ThS.BS Trần Thị Lan", "Trần Thị Lan"),
    ("BS.CKII Lê Văn Hùng", "Lê Văn Hùng"), ("BS.CKI Lê Văn Hùng", "Lê Văn Hùng"),
    ("Đ/c Nguyễn Văn An", "Nguyễn Văn An"), ("Th.S Nguyễn Văn An", "Nguyễn Văn An"),
    ("KS Trần Tuấn Anh", "Trần Tuấn Anh"), ("Kỹ sư Trần Tuấn Anh", "Trần Tuấn Anh"),
    ("Ông Nguyễn Văn Tùng", "Nguyễn Văn Tùng"), ("Bà Trần Thị Hoa", "Trần Thị Hoa"),
    ("Chị Trần Lan", "Trần Lan"), ("Nguyễn Văn An, ThS.", "Nguyễn Văn An"),
    ("An Nguyễn Văn", "Nguyễn Văn An"), ("Văn An Nguyễn", "Nguyễn Văn An"), ("NGUYEN VAN AN", "Nguyễn Văn An"),
    ("Tuấn Anh Trần", "Trần Tuấn Anh"), ("Lan Nguyễn", "Nguyễn Lan"),
]


@pytest.mark.parametrize("a,b", SAME)
def test_same_person_same_key(a, b):
    assert person_key(a) == person_key(b)


@pytest.mark.parametrize("a,b", [("Võ Thùy Dũng", "Võ Dũng"), ("Nguyễn T. Lan", "Nguyễn Thị Lan"),
                                 ("Trần Lan", "Trần Thị Lan")])
def test_middle_names_aside_same_family_given(a, b):
    ka, kb = person_key(a), person_key(b)
    assert ka != kb
    assert family_given(np.array([ka]))[0] == family_given(np.array([kb]))[0]


@pytest.mark.parametrize("a,b", [("Trần Thị Chi", "Trần Thị Lan"), ("Nguyễn Văn An", "Nguyễn Văn Anh"),
                                 ("Ông Văn Tùng", "Văn Tùng")])
def test_different_people_differ(a, b):
    assert person_key(a) != person_key(b)


def test_names_that_look_like_honorifics_stay():
    assert person_key("Trần Thị Chi") == "tran thi chi"
    assert person_key("Anh Nguyễn Tuấn") == "nguyen tuan anh"
    assert person_key(None) == "" and person_key("  ") == ""


@pytest.mark.parametrize("name", ["Nguyễn Văn An - Trưởng phòng", "Tác giả: Nguyễn Văn An", "Nguyễn Văn An (chủ nhiệm)",
                                  "Nguyễn Văn An và cộng sự", "TS. Nguyễn Văn An, CS"])
def test_roles_and_labels_around_a_name_are_dropped(name):
    assert person_key(name) == "nguyen van an"


@pytest.mark.parametrize("glued,plain", [("KSPhan Minh Lý", "Phan Minh Lý"), ("BS.CKIIĐinh Khánh Nhung", "Đinh Khánh Nhung"),
                                         ("ThSNguyễn Văn An", "Nguyễn Văn An"), ("CNĐD. Hoàng Thanh Ngọc", "Hoàng Thanh Ngọc")])
def test_a_title_glued_to_the_name_is_split_off(glued, plain):
    assert person_key(glued) == person_key(plain)


@pytest.mark.parametrize("name", ["NGUYỄN VĂN AN", "Nguyễn Văn An", "nguyễn văn an"])
def test_names_in_one_case_are_not_cut(name):
    assert person_key(name) == "nguyen van an"
