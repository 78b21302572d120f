"""The spine end to end on the store (SQLite and PostgreSQL), without Prefect's engine."""
from __future__ import annotations

import csv
import json

import sqlalchemy as sa

from sangkien import store
from sangkien.pipeline.run import run_sync
from sangkien.present.report import export_links, report_rows
from sangkien.reference.orgs import load_orgs
from sangkien.reference.quotas import load_quotas
from sangkien.store.registry import add_connector, read_config_file

# A Hà Nội bank branch (G001: geographic parent P01-D01 → P01, sector parent NGANHANG)
BANK_ROW = ("HN-1;CONG-77;Giải pháp số hoá hồ sơ tín dụng;Nguyễn Văn An, Trần Thị Bình;G001;Công nghệ thông tin;"
            "Giải pháp kỹ thuật;01/02/2022;15/01/2022;20/02/2022;Hợp lệ;1.500.000")
SCHOOL_ROW = ("HN-2;;Cải tiến quy trình chấm bài;Lê Văn Cường;Công đoàn cơ sở Trường THCS Nguyễn Du;Giáo dục;"
              "Giải pháp quản lý;01/03/2022;01/02/2022;05/03/2022;Chờ duyệt;")
BAD_DATE_ROW = ("HN-3;;Sáng kiến ghi sai ngày;Phạm Văn Dũng;G002;Y tế;Giai phap ky thuat;01/03/2022;31/02/2022;"
                "05/03/2022;Hop le;")


def setup_store(engine: sa.Engine, world) -> None:  # type: ignore[no-untyped-def]
    load_orgs(engine, world.root / "orgs.csv")
    load_quotas(engine, world.root / "quotas.csv")


def counts(engine: sa.Engine, unit: str, phase: int = 1) -> dict[str, object]:
    with engine.connect() as conn:
        _, rows = report_rows(conn, phase=phase, unit=unit)
    assert len(rows) == 1, rows
    return rows[0]


def test_initiative_under_hanoi_and_banking_counts_once_for_each_and_once_nationally(engine, world):
    setup_store(engine, world)
    world.source("hanoi", BANK_ROW)
    # the Banking union's own export lists the same initiative, without diacritics, by portal id
    world.source("nganhang", "NH-9;CONG-77;GIAI PHAP SO HOA HO SO TIN DUNG;Nguyen Van An, Tran Thi Binh;G001;"
                             "Cong nghe thong tin;Giai phap ky thuat;01/02/2022;15/01/2022;20/02/2022;Da duyet;")
    for name in ("hanoi", "nganhang"):
        add_connector(engine, name, "files", read_config_file(world.config(name)))
    run_sync(engine)
    for unit in ("G001", "P01-D01", "P01", "NGANHANG", "VGCL"):
        row = counts(engine, unit)
        assert (row["records"], row["initiatives"], row["valid"]) == (2, 1, 1), unit
    assert counts(engine, "VGCL")["completion"] == 0.1  # 1 valid of a target of 10
    assert counts(engine, "NGANHANG")["completion"] == 0.5


def test_redropping_a_file_changes_no_count(engine, world):
    setup_store(engine, world)
    path = world.source("hanoi", BANK_ROW, SCHOOL_ROW)
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    run_sync(engine)
    before = counts(engine, "P01")
    (path.parent / "export-again.csv").write_bytes(path.read_bytes())  # the same export dropped again
    _, results, _, status = run_sync(engine)
    assert status == "completed"
    assert results[0].received == 0
    assert counts(engine, "P01") == {**before}
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(store.raw_records)) == 2


def test_changed_record_in_a_new_export_replaces_the_old_content(engine, world):
    setup_store(engine, world)
    world.source("hanoi", SCHOOL_ROW)
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    run_sync(engine)
    assert counts(engine, "G002")["pending"] == 1
    world.source("hanoi", SCHOOL_ROW.replace("Chờ duyệt", "Hợp lệ"), file="export-2.csv")
    _, results, _, _ = run_sync(engine)
    assert (results[0].received, results[0].land.changed) == (1, 1)
    row = counts(engine, "G002")
    assert (row["records"], row["valid"], row["pending"]) == (1, 1, 0)


def test_bad_row_is_quarantined_with_its_reason_and_appears_in_export_links(engine, world, tmp_path):
    setup_store(engine, world)
    world.source("hanoi", BANK_ROW, BAD_DATE_ROW)
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    _, results, _, _ = run_sync(engine)
    assert (results[0].received, results[0].accepted, results[0].quarantined) == (2, 1, 1)
    with engine.connect() as conn:
        failure = conn.execute(sa.select(store.quarantine)).mappings().one()
        n = export_links(conn, tmp_path / "links.csv")
    assert (failure["column"], failure["check"], failure["value"]) == ("applied_on", "date_format", "31/02/2022")
    links = {r["source_record_id"]: r for r in csv.DictReader((tmp_path / "links.csv").open(encoding="utf-8-sig"))}
    assert n == 2
    assert links["HN-3"]["outcome"] == "quarantined"
    assert "31/02/2022" in links["HN-3"]["reason"] and links["HN-3"]["initiative_id"] == ""
    assert links["HN-1"]["outcome"] == "accepted" and links["HN-1"]["initiative_id"] != ""


def test_initiative_applied_before_the_program_is_ineligible_not_quarantined(engine, world):
    setup_store(engine, world)
    world.source("hanoi", BANK_ROW.replace("15/01/2022", "15/01/2021"))
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    _, results, _, _ = run_sync(engine)
    assert (results[0].accepted, results[0].ineligible, results[0].quarantined) == (0, 1, 0)
    row = counts(engine, "P01")
    assert (row["records"], row["initiatives"]) == (1, 0)


def test_row_without_id_repeated_id_or_extra_fields_is_landed_and_quarantined(engine, world):
    setup_store(engine, world)
    world.source("hanoi", BANK_ROW, BANK_ROW.replace("Nguyễn Văn An", "Nguyễn Văn Ân"),
                 ";" + SCHOOL_ROW.split(";", 1)[1], BAD_DATE_ROW + ";thừa;thừa")
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    _, results, _, _ = run_sync(engine)
    r = results[0]
    assert r.received == 4 and r.accepted + r.ineligible + r.quarantined == 4
    assert r.quarantined == 3
    with engine.connect() as conn:
        checks = {row.check for row in conn.execute(sa.select(store.quarantine.c.check))}
    assert {"unique_in_batch", "required", "field_count"} <= checks


def test_missing_source_folder_fails_that_source_only(engine, world):
    setup_store(engine, world)
    world.source("hanoi", BANK_ROW)
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    world.source("broken", SCHOOL_ROW)
    add_connector(engine, "broken", "files", read_config_file(world.config("broken")))
    for f in (world.root / "broken").iterdir():
        f.unlink()
    (world.root / "broken").rmdir()
    _, results, _, status = run_sync(engine)
    assert status == "failed"
    by_name = {r.source: r for r in results}
    assert by_name["broken"].error_type == "configuration"
    assert by_name["hanoi"].accepted == 1
    assert counts(engine, "P01")["initiatives"] == 1


def test_store_migrates_once_and_reopens_without_change(db_url):
    from sangkien.store import create_engine, migrate

    engine = create_engine(db_url)
    migrate(engine)
    migrate(engine)
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        version = conn.scalar(sa.text("select version_num from alembic_version"))
    engine.dispose()
    assert {"org_units", "org_aliases", "quotas", "phases", "connectors", "connector_state", "sync_runs",
            "sync_run_sources", "raw_records", "records", "quarantine", "initiatives", "initiative_members",
            "match_links", "review_pairs", "node_settings", "match_models", "record_versions", "store_lock", "unit_members"} <= tables
    assert version == "0014"


def test_payload_is_kept_verbatim(engine, world):
    setup_store(engine, world)
    world.source("hanoi", BANK_ROW)
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    run_sync(engine)
    with engine.connect() as conn:
        payload = json.loads(conn.scalar(sa.select(store.raw_records.c.payload)))
    assert payload["Tên sáng kiến"] == "Giải pháp số hoá hồ sơ tín dụng"
    assert payload["Giá trị làm lợi"] == "1.500.000"


def test_initiative_keeps_its_id_when_a_duplicate_arrives_later(engine, world):
    setup_store(engine, world)
    world.source("hanoi", BANK_ROW, SCHOOL_ROW)
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    first_run, *_ = run_sync(engine)
    with engine.connect() as conn:
        before = dict(conn.execute(sa.select(store.raw_records.c.source_record_id,
                                             store.initiative_members.c.initiative_id)
                                   .join(store.initiative_members)).all())
    world.source("nganhang", "NH-9;CONG-77;Giai phap so hoa ho so tin dung;Nguyen Van An;G001;;Giai phap ky thuat;"
                             "01/02/2022;15/01/2022;20/02/2022;Hop le;")
    add_connector(engine, "nganhang", "files", read_config_file(world.config("nganhang")))
    second_run, *_ = run_sync(engine)
    with engine.connect() as conn:
        after = dict(conn.execute(sa.select(store.raw_records.c.source_record_id,
                                            store.initiative_members.c.initiative_id)
                                  .join(store.initiative_members)).all())
        joined = conn.execute(sa.select(store.initiatives).where(store.initiatives.c.id == after["HN-1"])).mappings().one()
    assert after["HN-1"] == before["HN-1"] == after["NH-9"]
    assert after["HN-2"] == before["HN-2"]
    assert (joined["members"], joined["created_run"], joined["updated_run"]) == (2, first_run, second_run)


def test_a_delivery_larger_than_the_driver_parameter_limit_is_validated(engine, world):
    """PostgreSQL takes at most 65,535 parameters per statement; a big export must still pass."""
    setup_store(engine, world)
    rows = [BANK_ROW.replace("HN-1;CONG-77;", f"HN-{i};;").replace("tín dụng", f"tín dụng {i}")
            for i in range(70_000)]
    world.source("hanoi", *rows)
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    _, results, resolved, status = run_sync(engine)
    assert status == "completed"
    assert (results[0].received, results[0].accepted, resolved.initiatives) == (70_000, 70_000, 70_000)
