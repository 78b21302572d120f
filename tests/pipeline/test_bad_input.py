"""Dirty data loses nothing: every row ends accepted, ineligible or quarantined with its reason,
and every bad file gets a specific message without stopping the other files or sources."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from sangkien import store
from sangkien.pipeline import quarantine
from sangkien.pipeline.run import run_sync
from sangkien.present import quarantine as quarantine_sheet
from sangkien.present.report import report_rows
from sangkien.reference.orgs import load_orgs
from sangkien.store.registry import add_connector, read_config_file
from tests.conftest import HEADER, ORGS_CSV
from tests.pipeline.test_sync_store import BANK_ROW, setup_store

NEXT_YEAR = f"01/01/{dt.date.today().year + 1}"


def row(srid: str, **change: str) -> str:
    """BANK_ROW with some fields replaced (by header position)."""
    names = ["id", "portal", "title", "authors", "unit", "field", "solution_type", "recognized_on", "applied_on",
             "submitted_at", "status", "benefit"]
    values = dict(zip(names, BANK_ROW.split(";")))
    values.update({"id": srid, "portal": "", "title": f"{values['title']} {srid}", **change})
    return ";".join(values[n] for n in names)


# record id -> (expected outcome, the check or reason that must be named)
CORPUS = {
    "ok-plain": (row("ok-plain"), "accepted", None),
    "ok-no-diacritics": (row("ok-nd", status="Hop le", solution_type="GIAI PHAP KY THUAT", field="y te"), "accepted", None),
    "ok-ambiguous-date": (row("ok-ad", applied_on="05/04/2022", submitted_at="06/04/2022"), "accepted", None),
    "ok-unknown-field": (row("ok-uf", field="Thủ công mỹ nghệ"), "accepted", None),
    "ok-html-title": (row("ok-html", title='"<b>Giải pháp</b> số hoá &amp; lưu trữ"'), "accepted", None),
    # a line or paragraph separator pasted from a web page, and "},{" (what cuts a JSON array into rows)
    "ok-pasted": (row("ok-pasted", title="Giải pháp A},{B\u2028dòng hai\u2029đoạn\x85hết"), "accepted", None),
    "bad-date": (row("bad-date", applied_on="31/02/2022"), "quarantined", "date_format"),
    "future": (row("future", submitted_at=NEXT_YEAR), "quarantined", "not_in_future"),
    "no-title": (row("no-title", title=""), "quarantined", "required"),
    "short-title": (row("short-title", title="AB"), "quarantined", "title_length"),
    "no-author": (row("no-author", authors=" , "), "quarantined", "has_author"),
    "bad-status": (row("bad-status", status="Đang chờ xử lý"), "quarantined", "vocabulary"),
    "bad-type": (row("bad-type", solution_type="Cải tiến"), "quarantined", "vocabulary"),
    "dash-status": (row("dash-status", status="-"), "quarantined", "vocabulary"),
    "marks-type": (row("marks-type", solution_type="???"), "quarantined", "vocabulary"),
    "billion-word": (row("billion-word", benefit="1,5 tỷ"), "quarantined", "number_format"),
    "negative": (row("negative", benefit="-500.000"), "quarantined", "non_negative"),
    "unknown-unit": (row("unknown-unit", unit="Trường THCS Nguyễn Du cũ"), "quarantined", "unit_known"),
    "old": (row("old", applied_on="15/01/2021"), "ineligible", "before the phase counts"),
    "unrecognized": (row("unrecognized", recognized_on=""), "ineligible", "not recognized"),
    "late": (row("late", submitted_at="02/10/2023", applied_on="01/10/2023"), "ineligible", "outside every phase"),
}


def test_every_row_of_the_dirty_corpus_ends_with_its_expected_outcome_and_reason(engine, world):
    setup_store(engine, world)
    world.source("hanoi", *(r for r, _, _ in CORPUS.values()))
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    _, [result], _, status = run_sync(engine)
    # dirty by design: most rows are held, so the source fails the run (quarantine_limit), every row decided
    assert status == "failed" and "rows quarantined" in result.errors[0]
    assert result.received == len(CORPUS) == result.accepted + result.ineligible + result.quarantined
    with engine.connect() as conn:
        outcomes = {r.source_record_id: r for r in conn.execute(sa.select(store.raw_records))}
        checks = {}
        for raw_id, check in conn.execute(sa.select(store.quarantine.c.raw_id, store.quarantine.c.check)):
            checks.setdefault(raw_id, set()).add(check)
        titles = dict(conn.execute(sa.select(store.records.c.source_record_id, store.records.c.title)).all())
        benefits = dict(conn.execute(sa.select(store.records.c.source_record_id, store.records.c.benefit_vnd)).all())
    for line, expected, why in CORPUS.values():
        srid = line.split(";")[0]
        got = outcomes[srid]
        assert got.outcome == expected, (srid, got.reason)
        if expected == "quarantined":
            assert why in checks[got.id], (srid, checks[got.id])
        elif why:
            assert why in got.reason, (srid, got.reason)
    assert titles["ok-html"].startswith("Giải pháp số hoá & lưu trữ")
    assert benefits["ok-plain"] == 1_500_000


def test_bad_files_get_specific_messages_and_do_not_stop_the_good_ones(engine, world):
    setup_store(engine, world)
    good = world.source("hanoi", row("good-1"))
    folder = good.parent
    (folder / "a-empty.csv").write_bytes(b"")
    (folder / "b-header-only.csv").write_text(HEADER + "\n", encoding="utf-8")
    (folder / "c-bom.csv").write_text(HEADER + "\n" + row("bom-1") + "\n", encoding="utf-8-sig")
    (folder / "d-unknown-header.csv").write_text(HEADER.replace("Tên sáng kiến", "Tên sáng kiếnn") + "\n" + row("x"),
                                                 encoding="utf-8")
    (folder / "e-duplicated-header.csv").write_text(HEADER.replace("Lĩnh vực", "Tác giả") + "\n" + row("y"),
                                                    encoding="utf-8")
    (folder / "f-mixed.csv").write_bytes((HEADER + "\n" + row("mix-1") + "\n").encode("utf-8")
                                         + row("mix-2").encode("cp1258", errors="replace") + b"\n")
    (folder / "g-too-many.csv").write_text("\n".join([HEADER, row("wide-1"), row("wide-2") + ";extra;extra"]),
                                           encoding="utf-8")
    (folder / "h-huge-cell.csv").write_text("\n".join([HEADER, row("huge", title="x" * 10_000_000), row("small")]),
                                            encoding="utf-8")
    (folder / "i-binary.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    world.source("other", row("other-1"))
    world.source("wrongdelim", row("wd-1"))
    config = world.config("wrongdelim")
    config.write_text(config.read_text(encoding="utf-8").replace("delimiter: auto", 'delimiter: ","'), encoding="utf-8")
    for name in ("hanoi", "other", "wrongdelim"):
        add_connector(engine, name, "files", read_config_file(world.config(name)))

    _, results, _, status = run_sync(engine)
    by_name = {r.source: r for r in results}
    hanoi = by_name["hanoi"]
    errors = "\n".join(hanoi.errors)
    assert status == "failed" and by_name["other"].accepted == 1 and not by_name["other"].errors
    assert "a-empty.csv is empty" in errors
    assert "d-unknown-header.csv" in errors and "'Tên sáng kiến' for title (closest: 'Tên sáng kiếnn')" in errors
    assert "e-duplicated-header.csv" in errors and "Tác giả" in errors
    assert "f-mixed.csv mixes encodings" in errors
    assert "i-binary.csv" in errors and "binary" in errors
    assert len(hanoi.errors) == 5  # one message per bad file; the others were read
    assert "set delimiter: ';'" in by_name["wrongdelim"].errors[0]
    with engine.connect() as conn:
        outcome = {r.source_record_id: r for r in conn.execute(sa.select(store.raw_records))}
    assert {"good-1", "bom-1", "wide-1", "small", "huge"} <= set(outcome)
    assert outcome["huge"].outcome == "quarantined" and "longer than 500" in outcome["huge"].reason
    assert len(outcome["huge"].reason) < 1000  # the 10 MB value is not copied into the reason
    extra = [r for srid, r in outcome.items() if srid.startswith("~g-too-many.csv")]
    assert len(extra) == 1 and extra[0].outcome == "quarantined" and "line 3 has 14 fields, the header has 12" in extra[0].reason
    assert hanoi.received == hanoi.accepted + hanoi.ineligible + hanoi.quarantined


def test_fixing_an_alias_and_releasing_moves_unknown_unit_rows_into_the_counts_without_a_pull(engine, world):
    setup_store(engine, world)
    world.source("hanoi", row("typed-1", unit="THCS Nguyễn Du Ba Đình"),
                 row("typed-2", unit="thcs nguyen du ba dinh", title="Sổ tay điện tử theo dõi chuyên cần",
                     authors="Lê Thị Mai"))  # two different initiatives
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    run_sync(engine)
    with engine.connect() as conn:
        [group] = quarantine.groups(conn, reason="unit_known")
        landed = conn.scalar(sa.select(sa.func.count()).select_from(store.raw_records))
    assert (group["source"], group["column"], group["rows"]) == ("hanoi", "unit", 2)

    fixed = world.root / "orgs-fixed.csv"
    fixed.write_text(ORGS_CSV.replace("Công đoàn cơ sở Trường THCS Nguyễn Du,grassroots,P01-D01,,,,",
                                      "Công đoàn cơ sở Trường THCS Nguyễn Du,grassroots,P01-D01,,,,THCS Nguyễn Du Ba Đình"),
                     encoding="utf-8")
    load_orgs(engine, fixed)
    released = quarantine.release(engine, reason="unit_known")

    assert (released.released, released.accepted, released.quarantined) == (2, 2, 0)
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(store.raw_records)) == landed  # no new pull
        assert quarantine.groups(conn) == []
        _, [g002] = report_rows(conn, phase=1, unit="G002")
    assert (g002["records"], g002["initiatives"], g002["valid"]) == (2, 2, 2)


def test_quarantine_show_and_export_carry_the_payload_and_every_failure(engine, world, tmp_path):
    setup_store(engine, world)
    world.source("hanoi", row("two-faults", applied_on="31/02/2022", status="Đang chờ xử lý"), row("ok"))
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    run_sync(engine)
    with engine.connect() as conn:
        [group_a, _group_b] = quarantine.groups(conn)
        entry = quarantine.entry(conn, group_a["first_id"])
        n = quarantine_sheet.export(conn, tmp_path / "held.csv")
    assert {f["check"] for f in entry["failures"]} == {"date_format", "vocabulary"}
    assert entry["payload"]["Ngày áp dụng"] == "31/02/2022"
    assert n == 2
    text = (tmp_path / "held.csv").read_text(encoding="utf-8-sig")
    assert "two-faults" in text and "31/02/2022" in text and "Đang chờ xử lý" in text


def test_exports_do_not_let_a_spreadsheet_run_a_formula_from_the_data(engine, world, tmp_path):
    from sangkien.present.report import export_links

    setup_store(engine, world)
    world.source("hanoi", row("=HYPERLINK(\"http://x\")", applied_on="=1+1"), row("+cmd"))
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    run_sync(engine)
    with engine.connect() as conn:
        export_links(conn, tmp_path / "links.csv")
        quarantine_sheet.export(conn, tmp_path / "held.csv")
    for name in ("links.csv", "held.csv"):
        for line in (tmp_path / name).read_text(encoding="utf-8-sig").splitlines()[1:]:
            for cell in next(__import__("csv").reader([line])):
                assert not cell.startswith(("=", "+", "-", "@")), (name, cell)


def test_a_line_break_between_authors_separates_them_whatever_the_declared_separator():
    import json

    import pandas as pd

    from sangkien.pipeline.validate import map_payloads
    from sangkien.text.names import author_keys_and_json_series

    cell = "Đặng Phương Uyên\nĐiều dưỡng Mai Thúy Vân\r\nBS. Lê Tiến Xuân Thành"  # Alt+Enter in an Excel cell
    payloads = pd.Series([json.dumps({"Tác giả": cell}), json.dumps({"Tác giả": "Trần Lan; Võ An"})])
    mapped = map_payloads(payloads, {"authors": "Tác giả"})
    for sep in (";", "\n"):
        keys, as_json = author_keys_and_json_series(mapped["authors"], sep)
        assert keys[0] == "dang phuong uyen|le tien xuan thanh|mai thuy van"
        assert json.loads(as_json[0]) == ["Đặng Phương Uyên", "Điều dưỡng Mai Thúy Vân", "BS. Lê Tiến Xuân Thành"]
    assert author_keys_and_json_series(mapped["authors"], ";")[0][1] == "tran lan|vo an"


def test_a_submission_during_the_last_day_of_a_phase_is_inside_it():
    import pandas as pd

    from sangkien.pipeline.validate import eligibility
    from sangkien.reference.phases import DEFAULT_PHASES

    last = DEFAULT_PHASES[0].ends_on
    submitted = pd.Series(pd.to_datetime([f"{last} 15:29:00", f"{last} 00:00:00", f"{last} 23:59:59"]))
    applied = pd.Series(pd.to_datetime([f"{last} 10:00"] * 3))
    recognized = pd.Series(pd.to_datetime([str(last)] * 3))
    phase, eligible, reason = eligibility(applied, submitted, recognized, list(DEFAULT_PHASES))
    assert phase.tolist() == [DEFAULT_PHASES[0].phase] * 3, reason.tolist()
    assert eligible.all()
