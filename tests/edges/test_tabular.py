"""Tests for connectors.tabular: reading one exported CSV/XLSX file into rows of strings."""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import unicodedata
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from connectors.tabular import FileFormatError, RowError, Table, file_digest, read_table
from connectors.tabular import csv as tabular_csv

VI_HEADER = ["Tên sáng kiến", "Tác giả", "Tỉnh"]
VI_ROW = ["Sáng kiến số hoá hồ sơ", "Nguyễn Văn Đức", "Hoà Bình"]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def write_text(tmp_path: Path, text: str, name: str = "data.csv", encoding: str = "utf-8") -> Path:
    return write(tmp_path, name, text.encode(encoding))


TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def cp1258_bytes(text: str) -> bytes:
    """Encode like Windows-1258 does: precomposed letter where it exists, else letter + combining tone mark."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            letter = nfc("".join(c for c in parts if c not in TONE_MARKS))
            out += (letter + "".join(c for c in parts if c in TONE_MARKS)).encode("cp1258")
    return bytes(out)


def rows(table: Table) -> list[list[str]]:
    return table.frame[table.headers].values.tolist()


def lines(table: Table) -> list[int]:
    return table.frame["_line"].tolist()


def vi_csv(delimiter: str = ",") -> str:
    return delimiter.join(VI_HEADER) + "\n" + delimiter.join(VI_ROW) + "\n"


# --------------------------------------------------------------------------- encodings


def test_utf8_file_is_read_with_encoding_utf8(tmp_path: Path) -> None:
    table = read_table(write_text(tmp_path, vi_csv()))
    assert table.encoding == "utf-8"
    assert table.headers == VI_HEADER
    assert rows(table) == [VI_ROW]


def test_utf8_bom_is_detected_and_not_part_of_first_header(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "data.csv", codecs.BOM_UTF8 + vi_csv().encode()))
    assert table.encoding == "utf-8-sig"
    assert table.headers == VI_HEADER


def test_utf16_with_bom_is_decoded(tmp_path: Path) -> None:
    table = read_table(write_text(tmp_path, vi_csv("\t"), encoding="utf-16"))
    assert table.encoding == "utf-16"
    assert table.delimiter == "\t"
    assert table.headers == VI_HEADER
    assert rows(table) == [VI_ROW]


def test_cp1258_text_is_decoded_and_equals_nfc_original(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "data.csv", cp1258_bytes(vi_csv(";"))))
    assert table.encoding == "cp1258"
    assert table.headers == [nfc(h) for h in VI_HEADER]
    assert rows(table) == [[nfc(c) for c in VI_ROW]]
    assert all(unicodedata.is_normalized("NFC", c) for c in rows(table)[0])


def test_nfd_utf8_text_is_nfc_normalized(tmp_path: Path) -> None:
    table = read_table(write_text(tmp_path, unicodedata.normalize("NFD", vi_csv())))
    assert table.headers == VI_HEADER
    assert rows(table) == [VI_ROW]


def test_explicit_encoding_is_used(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "data.csv", cp1258_bytes(vi_csv())), encoding="windows-1258")
    assert table.encoding == "cp1258"
    assert rows(table) == [VI_ROW]


def test_explicit_encoding_still_strips_bom(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "data.csv", codecs.BOM_UTF8 + vi_csv().encode()), encoding="utf-8")
    assert table.headers == VI_HEADER


def test_explicit_wrong_encoding_error_names_encoding_offset_line_and_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "data.csv", cp1258_bytes("a,b\nx,y\n" + "Hà Nội,Đức\n"))
    with pytest.raises(FileFormatError) as info:
        read_table(path, encoding="utf-8")
    message = str(info.value)
    assert "data.csv" in message and "utf-8" in message
    assert "offset 9" in message and "line 3" in message
    assert "encoding: auto" in message and "cp1258" in message
    assert "\n" not in message


def test_unknown_encoding_name_is_a_file_format_error(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="unknown encoding"):
        read_table(write_text(tmp_path, vi_csv()), encoding="vni-windows")


# --------------------------------------------------------------------------- delimiters


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_auto_detected(tmp_path: Path, delimiter: str) -> None:
    table = read_table(write_text(tmp_path, vi_csv(delimiter) + delimiter.join(["x", "y", "z"]) + "\n"))
    assert table.delimiter == delimiter
    assert rows(table) == [VI_ROW, ["x", "y", "z"]]


def test_decimal_commas_in_cells_do_not_beat_semicolon_header(tmp_path: Path) -> None:
    text = "Mã;Giá trị;Tỷ lệ\nSK1;1,5;0,25\nSK2;2,75;1,5\n"
    table = read_table(write_text(tmp_path, text))
    assert table.delimiter == ";"
    assert rows(table) == [["SK1", "1,5", "0,25"], ["SK2", "2,75", "1,5"]]


def test_explicit_delimiter_is_used(tmp_path: Path) -> None:
    table = read_table(write_text(tmp_path, "a|b\n1,2|3\n"), delimiter="|")
    assert table.delimiter == "|"
    assert rows(table) == [["1,2", "3"]]


def test_explicit_tab_delimiter_accepts_escaped_spelling(tmp_path: Path) -> None:
    table = read_table(write_text(tmp_path, "a\tb\n1\t2\n"), delimiter="\\t")
    assert table.delimiter == "\t"


def test_explicit_wrong_delimiter_error_says_which_delimiter_splits_the_header(tmp_path: Path) -> None:
    text = "a,b,c,d\n1,2,3,4\n"
    with pytest.raises(FileFormatError) as info:
        read_table(write_text(tmp_path, text), delimiter=";")
    assert str(info.value) == (
        "data.csv: the header has 1 column with delimiter ';' but 4 with ','; set delimiter: ','"
    )


def test_single_column_file_is_read_with_one_column(tmp_path: Path) -> None:
    table = read_table(write_text(tmp_path, "Tên\nAn\nBình\n"))
    assert table.headers == ["Tên"]
    assert rows(table) == [["An"], ["Bình"]]


# --------------------------------------------------------------------------- quoting, rows, lines


def test_quoted_field_keeps_embedded_delimiter_and_newline(tmp_path: Path) -> None:
    text = 'id,ghi_chu,tinh\n1,"Hà Nội, quận 1\ndòng 2",HN\n2,"nói ""xin chào""",HB\n3,x,y\n'
    table = read_table(write_text(tmp_path, text))
    assert rows(table) == [
        ["1", "Hà Nội, quận 1\ndòng 2", "HN"],
        ["2", 'nói "xin chào"', "HB"],
        ["3", "x", "y"],
    ]
    assert lines(table) == [2, 4, 5]


def test_too_many_fields_is_a_row_error_with_its_line_and_other_rows_are_kept(tmp_path: Path) -> None:
    body = ["a,b,c"] + [f"{i},x,y" for i in range(2, 17)] + ["17,x,y,z,w"] + ["18,x,y"]
    table = read_table(write_text(tmp_path, "\n".join(body) + "\n"))
    assert table.row_errors == [RowError(17, "line 17 has 5 fields, the header has 3", "17,x,y,z,w")]
    assert lines(table) == [*range(2, 17), 18]
    assert rows(table)[-1] == ["18", "x", "y"]


def test_row_error_line_counts_physical_lines_of_multiline_fields(tmp_path: Path) -> None:
    text = 'a,b\n"1\n2\n3",x\n4,y,z\n5,w\n'
    table = read_table(write_text(tmp_path, text))
    assert [e.line for e in table.row_errors] == [5]
    assert lines(table) == [2, 6]


def test_extra_trailing_empty_fields_are_tolerated(tmp_path: Path) -> None:
    table = read_table(write_text(tmp_path, "a;b\n1;2;;\n3;4\n"))
    assert table.row_errors == []
    assert rows(table) == [["1", "2"], ["3", "4"]]


def test_fewer_fields_than_header_are_padded_with_empty_strings(tmp_path: Path) -> None:
    table = read_table(write_text(tmp_path, "a,b,c\n1\n2,3\n"))
    assert rows(table) == [["1", "", ""], ["2", "3", ""]]


def test_blank_lines_are_skipped_and_line_numbers_stay_physical(tmp_path: Path) -> None:
    table = read_table(write_text(tmp_path, "a;b\n\n1;2\n   \n;\n3;4\n\n"))
    assert rows(table) == [["1", "2"], ["3", "4"]]
    assert lines(table) == [3, 6]


def test_crlf_and_cr_line_endings_are_read(tmp_path: Path) -> None:
    for ending in ("\r\n", "\r"):
        table = read_table(write_text(tmp_path, ending.join(["a,b", "1,2", "3,4"]) + ending))
        assert rows(table) == [["1", "2"], ["3", "4"]]
        assert lines(table) == [2, 3]


def test_cells_are_stripped_and_every_cell_is_a_str(tmp_path: Path) -> None:
    table = read_table(write_text(tmp_path, " a , b \n  1 ,\u00a0x\u00a0\n,\n2,\n"))
    assert table.headers == ["a", "b"]
    assert rows(table) == [["1", "x"], ["2", ""]]
    assert all(type(c) is str for row in rows(table) for c in row)
    assert list(table.frame.columns) == ["a", "b", "_line"]


def test_unclosed_quote_that_swallows_the_rest_of_the_file_is_an_error(tmp_path: Path) -> None:
    text = 'a,b\n1,x\n2,"oops\n3,y\n4,z\n'
    with pytest.raises(FileFormatError, match=r'data.csv: a quoted field on line 3 is never closed'):
        read_table(write_text(tmp_path, text))


def test_fast_and_slow_paths_give_the_same_frame_and_row_errors() -> None:
    data = "a;b;c\n 1;x;y\n\n2;ü;\n;;\n3\n4;5;6;;\n7;8;9;10\n11;12\n".encode()
    headers = ["a", "b", "c"]
    fast = tabular_csv.parse_fast(data, ";", headers, 1)
    slow = tabular_csv.parse_slow("x.csv", data, ";", headers, 1)
    assert fast is not None
    pd.testing.assert_frame_equal(fast[0], slow[0])
    assert fast[1] == slow[1] == [RowError(8, "line 8 has 4 fields, the header has 3", "7;8;9;10")]
    assert fast[0]["_line"].tolist() == [2, 4, 6, 7, 9]


def test_fast_path_counts_line_breaks_inside_quoted_fields() -> None:
    data = b'a,b\r\n"1\r\n2\n3",x\r\n\r\n4,"y\rz"\r\n5,w\r\n'
    fast = tabular_csv.parse_fast(data, ",", ["a", "b"], 1)
    assert fast is not None
    assert fast[0]["_line"].tolist() == [2, 6, 8]
    assert fast[0]["a"].tolist() == ["1\r\n2\n3", "4", "5"]


def test_fast_path_declines_multiline_fields_together_with_skipped_lines() -> None:
    data = b'a,b\n"1\n2",x\n3,y,z\n'
    assert tabular_csv.parse_fast(data, ",", ["a", "b"], 1) is None


# --------------------------------------------------------------------------- headers


def test_duplicated_header_names_are_a_file_format_error_naming_them(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError) as info:
        read_table(write_text(tmp_path, "Mã,Tên,Tỉnh,Tên\n1,2,3,4\n"))
    assert "data.csv" in str(info.value) and "'Tên' (columns 2, 4)" in str(info.value)


def test_empty_header_names_become_column_n(tmp_path: Path) -> None:
    table = read_table(write_text(tmp_path, "a,,c,\n1,2,3,4\n"))
    assert table.headers == ["a", "column_2", "c", "column_4"]


def test_reserved_line_header_is_a_file_format_error(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="reserved"):
        read_table(write_text(tmp_path, "a,_line\n1,2\n"))


def test_header_only_file_gives_a_table_with_zero_rows(tmp_path: Path) -> None:
    table = read_table(write_text(tmp_path, "a;b;c\n"))
    assert table.headers == ["a", "b", "c"]
    assert len(table.frame) == 0
    assert list(table.frame.columns) == ["a", "b", "c", "_line"]


def test_title_and_blank_lines_above_the_header_are_skipped(tmp_path: Path) -> None:
    text = "DANH SÁCH SÁNG KIẾN NĂM 2024\n\nMã;Tên;Tỉnh\nSK1;A;HB\nSK2;B;HN\n"
    table = read_table(write_text(tmp_path, text))
    assert table.headers == ["Mã", "Tên", "Tỉnh"] and table.delimiter == ";"
    assert rows(table) == [["SK1", "A", "HB"], ["SK2", "B", "HN"]]
    assert lines(table) == [4, 5]


def test_excel_csv_title_padded_with_delimiters_is_skipped(tmp_path: Path) -> None:
    text = "BÁO CÁO SÁNG KIẾN QUÝ 3/2022,,\nĐơn vị: LĐLĐ Hà Nội,,\n,,\nMã,Tên,Tỉnh\nSK1,A,HB\n"
    table = read_table(write_text(tmp_path, text))
    assert table.headers == ["Mã", "Tên", "Tỉnh"]
    assert rows(table) == [["SK1", "A", "HB"]] and lines(table) == [5]


def test_header_is_the_row_holding_the_mapped_column_names(tmp_path: Path) -> None:
    text = "Người lập: A;Ngày lập: 01/10/2022;\nMã;Tên;Tỉnh\nSK1;A;HB\n"
    table = read_table(write_text(tmp_path, text), header_names=["Mã", "Tên"])
    assert table.headers == ["Mã", "Tên", "Tỉnh"] and lines(table) == [3]


def test_header_row_setting_names_the_header_line(tmp_path: Path) -> None:
    text = "Mục lục;Trang;Ghi chú\n1;2;3\nMã;Tên;Tỉnh\nSK1;A;HB\n"
    table = read_table(write_text(tmp_path, text), header_row=3)
    assert table.headers == ["Mã", "Tên", "Tỉnh"] and rows(table) == [["SK1", "A", "HB"]]


def test_header_row_on_a_blank_line_is_a_file_format_error(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="header_row 2 is blank"):
        read_table(write_text(tmp_path, "Mã;Tên\n\nSK1;A\n"), header_row=2)


# --------------------------------------------------------------------------- whole-file errors


@pytest.mark.parametrize("content", [b"", b"  \r\n\n\t \n", codecs.BOM_UTF8 + b"\n"])
def test_empty_file_is_a_file_format_error(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(FileFormatError, match=r"^data.csv is empty"):
        read_table(write(tmp_path, "data.csv", content))


def test_png_named_csv_is_reported_as_binary(tmp_path: Path) -> None:
    path = write(tmp_path, "data.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(FileFormatError, match=r"data\.csv looks like a binary file, not CSV"):
        read_table(path)


def test_xlsx_renamed_to_csv_is_reported_as_binary(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["a", "b"])
    workbook.save(tmp_path / "book.xlsx")
    path = write(tmp_path, "data.csv", (tmp_path / "book.xlsx").read_bytes())
    with pytest.raises(FileFormatError, match=r"looks like a binary file, not CSV.*rename it to \.xlsx"):
        read_table(path)


def test_nul_bytes_in_text_are_reported_as_binary(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match=r"binary.*NUL bytes"):
        read_table(write(tmp_path, "data.csv", b"a,b\n1,\x00\x01\x02\n"))


def test_missing_file_raises_os_error_not_file_format_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_table(tmp_path / "missing.csv")


# --------------------------------------------------------------------------- XLSX


def make_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, sheet_rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in sheet_rows:
            sheet.append(row)
    workbook.save(path)
    return path


def test_xlsx_cells_are_rendered_like_csv_text(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "data.xlsx", {"S": [
        ["Tên sáng kiến", "Ngày", "Giá trị", "Tỷ lệ", "Ghi chú"],
        ["  Nguyễn Văn Đức ", dt.date(2024, 3, 5), 1500000, 0.1 + 0.2, None],
        ["Hoà Bình", dt.datetime(2023, 12, 31, 14, 30), 1500000.0, 2.5, True],
    ]})
    table = read_table(path)
    assert table.encoding == "xlsx" and table.delimiter is None
    assert rows(table) == [
        ["Nguyễn Văn Đức", "05/03/2024", "1500000", "0.3", ""],
        ["Hoà Bình", "31/12/2023", "1500000", "2.5", "TRUE"],
    ]
    assert lines(table) == [2, 3]


def test_xlsx_dates_use_the_date_format_parameter(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "data.xlsx", {"S": [["Ngày"], [dt.datetime(2024, 3, 5)]]})
    assert rows(read_table(path, date_format="%Y-%m-%d")) == [["2024-03-05"]]


def test_xlsx_header_is_first_non_empty_row_and_lines_are_sheet_rows(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "data.xlsx", {"S": [
        [None, None], ["Mã", "Tên"], ["SK1", "A"], [None, None], ["SK2", "B"], ["SK3", "C", "thừa"],
    ]})
    table = read_table(path)
    assert table.headers == ["Mã", "Tên"]
    assert rows(table) == [["SK1", "A"], ["SK2", "B"]]
    assert lines(table) == [3, 5]
    assert table.row_errors == [RowError(6, "row 6 has 3 cells, the header has 2", "SK3\tC\tthừa")]


def test_xlsx_title_rows_blank_row_and_merged_header_cells_are_read(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in (["BÁO CÁO SÁNG KIẾN QUÝ 3/2022"], ["LĐLĐ thành phố Hà Nội"], [],
                ["Mã hồ sơ", "Ngày", None, "Trạng thái"], [None, "nộp", "công nhận", None],
                ["SK1", dt.date(2022, 9, 1), dt.date(2022, 8, 1), "Hợp lệ"],
                ["SK2", dt.date(2022, 9, 2), dt.date(2022, 8, 2), "Chờ duyệt"]):
        sheet.append(row)
    sheet.merge_cells("A1:D1")  # the title spans the table, as offices lay it out
    sheet.merge_cells("B4:C4")  # "Ngày" over "nộp" and "công nhận"
    sheet.merge_cells("A4:A5")  # single-level names merged down over both header rows
    sheet.merge_cells("D4:D5")
    workbook.save(tmp_path / "data.xlsx")
    table = read_table(tmp_path / "data.xlsx")
    assert table.headers == ["Mã hồ sơ", "Ngày nộp", "Ngày công nhận", "Trạng thái"]
    assert rows(table) == [["SK1", "01/09/2022", "01/08/2022", "Hợp lệ"], ["SK2", "02/09/2022", "02/08/2022", "Chờ duyệt"]]
    assert lines(table) == [6, 7]


def test_xlsx_group_header_without_names_under_it_leaves_the_spanned_column_unnamed(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    for row in (["Mã", "Ghi chú", None], ["SK1", "a", "b"]):
        workbook.active.append(row)
    workbook.active.merge_cells("B1:C1")
    workbook.save(tmp_path / "data.xlsx")
    assert read_table(tmp_path / "data.xlsx").headers == ["Mã", "Ghi chú", "column_3"]


def test_xlsx_first_non_empty_sheet_is_read(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "data.xlsx", {"Trống": [], "Dữ liệu": [["a"], ["1"]]})
    assert rows(read_table(path)) == [["1"]]


def test_zip_signature_without_table_extension_is_read_as_xlsx(tmp_path: Path) -> None:
    make_xlsx(tmp_path / "book.xlsx", {"S": [["a"], [1]]})
    path = write(tmp_path, "export.dat", (tmp_path / "book.xlsx").read_bytes())
    assert read_table(path).encoding == "xlsx"


def test_text_named_xlsx_is_a_file_format_error(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match=r"not an XLSX workbook; rename it to \.csv"):
        read_table(write_text(tmp_path, "a,b\n1,2\n", name="data.xlsx"))


# --------------------------------------------------------------------------- digest


def test_file_digest_is_sha256_of_the_bytes(tmp_path: Path) -> None:
    content = b"a,b\n" * 300_000
    path = write(tmp_path, "data.csv", content)
    assert file_digest(path) == hashlib.sha256(content).hexdigest()


def test_xlsx_date_serials_in_date_columns_are_read_as_dates(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "data.xlsx", {"S": [["Mã", "Ngày nộp", "Giá trị"], ["SK1", 44805, 44805],
                                                    ["SK2", "05/09/2022", 12]]})
    table = read_table(path, date_columns=["Ngày nộp"])
    assert rows(table) == [["SK1", "01/09/2022", "44805"], ["SK2", "05/09/2022", "12"]]


def test_every_sheet_or_the_sheets_named_are_read(tmp_path: Path) -> None:
    from connectors.tabular import read_tables

    path = make_xlsx(tmp_path / "data.xlsx", {"Quý 3": [["Mã", "Tên"], ["SK1", "A"]], "Ghi chú": [],
                                              "Quý 4": [["Mã", "Tên"], ["SK2", "B"]]})
    assert [(t.sheet, rows(t)) for t in read_tables(path, sheets=["*"])] == [("Quý 3", [["SK1", "A"]]),
                                                                            ("Quý 4", [["SK2", "B"]])]
    assert [t.sheet for t in read_tables(path, sheets=["Quý 4"])] == ["Quý 4"]
    assert [t.sheet for t in read_tables(path)] == [None]  # the first sheet with data, as before
    with pytest.raises(FileFormatError, match=r"data.xlsx has no sheet 'Quý 5'; its sheets are 'Quý 3', 'Ghi chú'"):
        read_tables(path, sheets=["Quý 5"])
