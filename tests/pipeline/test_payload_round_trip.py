"""`quarantine show` prints a held row's payload as the source delivered it, for every source kind and every
encoding a file may come in.

Each source delivers one awkward record that validation holds (its unit exists nowhere): quotes, a comma, a
semicolon and a line break inside the title, Vietnamese with tone marks, a leading zero, an empty cell, an
amount written the Vietnamese way. What the command prints is compared with the record read independently of
the connector: the file decoded with the codec the test wrote it in (cells as text; the reader's documented
normalisation is NFC and trimmed cells), the JSON the REST system and the portal send over HTTP (lists,
numbers kept), the database row.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import unicodedata
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
import yaml

from sandbox.generate import generate_world
from sandbox.generate.text import _cp1258_table
from sandbox.servers import serve
from sandbox.sqldb import write_source_db
from sangkien import store
from sangkien.cli.main import main
from sangkien.pipeline.run import run_sync
from sangkien.reference.orgs import load_orgs
from sangkien.store import open_store
from sangkien.store.registry import add_connector

TITLE = 'Sáng kiến "cải tiến", quy trình; bước 1\nbước 2: tự động hoá'
NOWHERE = "KHONG-CO-DON-VI"
REST_KEY, PORTAL_TOKEN = "round-trip-rest-key", "round-trip-portal-token"


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("round-trip") / "world"
    generate_world(root, 60, seed=2, noise="none")
    return root


def _awkward(world: Path, base: str, record_id: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The source ``base``'s settings, and two rows in its headers: a good one and the awkward one."""
    config = yaml.safe_load((world / "sources" / f"{base}.yaml").read_text(encoding="utf-8"))
    first = sorted((world / "sources" / config["path"]).glob("*.csv"))[0]
    with first.open(encoding=config["encoding"] if config["encoding"] != "auto" else "utf-8-sig", newline="") as f:
        rows = [{_nfc(k): unicodedata.normalize("NFC", v) for k, v in row.items()}  # cp1258 holds combining marks
                for row in csv.DictReader(f, delimiter=config["delimiter"])]
    columns = config["columns"]
    odd = dict(rows[0])
    odd.update({columns["source_record_id"]: record_id, columns["title"]: TITLE, columns["unit"]: NOWHERE,
                columns["benefit_vnd"]: "1.500.000", columns["field"]: ""})
    if "STT" in odd:
        odd["STT"] = "007"
    return config, [rows[1], odd]


def _files_source(world: Path, tmp: Path, name: str, encoding: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A folder holding the two rows as one export in ``encoding`` (or an XLSX workbook)."""
    config, rows = _awkward(world, "hanoi", f"RT-{name}")
    folder = tmp / name
    folder.mkdir()
    headers = list(rows[0])
    if encoding == "xlsx":
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(headers)
        for row in rows:
            sheet.append([row[h] for h in headers])
        book.save(folder / "export.xlsx")
        pattern = "*.xlsx"
    else:
        text = io.StringIO()
        writer = csv.DictWriter(text, headers, delimiter=";", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
        body = text.getvalue()
        if encoding == "cp1258":  # Windows-1258 holds most tone marks as combining characters
            body = body.translate(_cp1258_table())
        (folder / "export.csv").write_bytes(body.encode(encoding))
        pattern = "*.csv"
    settings = {**{k: v for k, v in config.items() if k != "kind"}, "path": str(folder), "pattern": pattern,
                "encoding": "auto", "delimiter": ";"}
    return settings, {k: _nfc(v) for k, v in rows[1].items()}


def _fetch_json(url: str, headers: dict[str, str]) -> Any:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as reply:
        return json.loads(reply.read().decode("utf-8"))


@contextlib.contextmanager
def _rest_source(world: Path) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    config, rows = _awkward(world, "hanoi", "RT-rest")
    _write_world_source(world, "rt_rest", config, rows)
    with serve("rest", world, token=REST_KEY, style="page", source="rt_rest") as server:
        served = _fetch_json(f"{server.url}/api/records?page=1&page_size=50", {"X-API-Key": REST_KEY})["items"]
        [sent] = [r for r in served if r[config["columns"]["source_record_id"]] == "RT-rest"]
        yield ({"base_url": server.url, "path": "/api/records", "auth": "api_key_header", "token": "env:RT_REST_KEY",
                "pagination": "page", "records_path": "items", "page_size": 4, "date_format": config["date_format"],
                "authors_separator": config["authors_separator"], "columns": config["columns"]}, sent)


@contextlib.contextmanager
def _portal_source(world: Path) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    config, rows = _awkward(world, "portal", "RT-portal")
    _write_world_source(world, "rt_portal", config, rows)
    with serve("portal", world, token=PORTAL_TOKEN, source="rt_portal") as server:
        served = _fetch_json(f"{server.url}/api/v1/initiatives?limit=100",
                             {"Authorization": f"Bearer {PORTAL_TOKEN}"})["data"]
        [sent] = [r for r in served if r["workplace"] == NOWHERE]
        assert isinstance(sent["authors"], list) and isinstance(sent["benefit_vnd"], int)  # JSON, not text
        yield {"base_url": server.url, "token": "env:RT_PORTAL_TOKEN", "page_size": 20}, sent


def _write_world_source(world: Path, name: str, config: dict[str, Any], rows: list[dict[str, str]]) -> None:
    """A source ``name`` in the world's own layout (what the simulated systems serve from)."""
    folder = world / "sources" / name
    folder.mkdir(exist_ok=True)
    with (folder / "export.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]), delimiter=",")
        writer.writeheader()
        writer.writerows(rows)
    settings = {**config, "path": name, "pattern": "*.csv", "encoding": "utf-8", "delimiter": ","}
    (world / "sources" / f"{name}.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")


def _shown_payload(db: str, source: str, capsys: pytest.CaptureFixture[str]) -> Any:
    """The payload `sangkien quarantine show` prints for the source's held row."""
    engine = open_store(db)
    with engine.connect() as conn:
        [raw_id] = conn.execute(sa.select(store.raw_records.c.id).where(
            store.raw_records.c.source == source, store.raw_records.c.outcome == "quarantined")).scalars().all()
    engine.dispose()
    capsys.readouterr()
    assert main(["--db", db, "quarantine", "show", str(raw_id)]) == 0
    out = capsys.readouterr().out
    assert "unit" in out and NOWHERE in out  # the failure is named
    return json.loads(out.split("payload, as received:\n", 1)[1])


FILE_ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1258", "xlsx"]


@pytest.mark.parametrize("encoding", FILE_ENCODINGS)
def test_a_held_file_row_shows_its_cells_as_the_file_holds_them(world, tmp_path, db_url, capsys, encoding):
    settings, expected = _files_source(world, tmp_path, f"file_{encoding.replace('-', '_')}", encoding)
    engine = open_store(db_url)
    load_orgs(engine, world / "orgs.csv")
    add_connector(engine, "export", "files", settings)
    assert run_sync(engine).sources[0].validation.quarantined == 1
    engine.dispose()
    assert _shown_payload(db_url, "export", capsys) == expected


@pytest.mark.parametrize("kind", ["rest", "portal", "sql"])
def test_a_held_record_shows_what_the_system_sent(world, tmp_path, db_url, capsys, monkeypatch, kind):
    monkeypatch.setenv("RT_REST_KEY", REST_KEY)
    monkeypatch.setenv("RT_PORTAL_TOKEN", PORTAL_TOKEN)
    engine = open_store(db_url)
    load_orgs(engine, world / "orgs.csv")
    with contextlib.ExitStack() as stack:
        if kind == "rest":
            settings, expected = stack.enter_context(_rest_source(world))
        elif kind == "portal":
            settings, expected = stack.enter_context(_portal_source(world))
        else:
            config, rows = _awkward(world, "hanoi", "RT-sql")
            _write_world_source(world, "rt_sql", config, rows)
            settings = write_source_db(world, "rt_sql", f"sqlite:///{tmp_path / 'source.db'}")
            source = sa.create_engine(settings["url"])
            with source.connect() as conn:
                [row] = conn.execute(sa.text("SELECT * FROM sang_kien WHERE \"{}\" = 'RT-sql'".format(
                    config["columns"]["source_record_id"]))).mappings().all()
            source.dispose()
            expected = dict(row)
        add_connector(engine, kind, kind, settings)
        assert run_sync(engine).sources[0].validation.quarantined == 1
    engine.dispose()
    assert _shown_payload(db_url, kind, capsys) == expected


def test_a_record_kept_as_text_before_and_as_sent_now_shows_only_what_changed():
    """A portal record landed before JSON records were kept as sent, then changed: its history names the title,
    not the authors or the amount that only changed form."""
    from sangkien.pipeline.history import _changes

    before = {"title": "Cải tiến A", "authors": "Trần Thị Hà; Lê Mạnh Thiện", "benefit_vnd": "1500000"}
    after = {"title": "Cải tiến A (bản sửa đổi)", "authors": ["Trần Thị Hà", "Lê Mạnh Thiện"], "benefit_vnd": 1500000}
    assert [c["field"] for c in _changes(before, after)] == ["title"]
    assert [c["field"] for c in _changes(after, {**after, "authors": ["Trần Thị Hà"]})] == ["authors"]


def test_a_rows_payload_text_is_what_earlier_versions_hashed_whatever_its_cells_hold():
    """Landing hashes each row's JSON text to see whether it changed since the last sync: the text must stay
    the one pandas writes as JSON lines (what earlier versions hashed), across chunks of rows, for cells
    holding what cuts a JSON array ("},{") or a line (U+2028, U+2029, U+0085) and empty or missing ones."""
    import numpy as np
    import pandas as pd

    from sangkien.pipeline.land import _JSON_CHUNK, _payloads

    odd = ["a},{b", "x\u2028y", "\u2029", "\x85", 'q"uo"te', "back\\slash\\", "sl/ash", '},{"ID":"1"', "",
           "emoji 😀", "tab\tnl\n", None, np.nan, "{", "}", TITLE]
    n = _JSON_CHUNK + 7  # two chunks: the odd cells fall in both
    frame = pd.DataFrame({"ID": [str(k) for k in range(n)], "Tên": [odd[k % len(odd)] for k in range(n)],
                          "skipped": "x"}, dtype=object)
    got = _payloads(frame, ["ID", "Tên"])
    assert got == frame[["ID", "Tên"]].to_json(orient="records", lines=True, force_ascii=False).split("\n")[:-1]
    assert [json.loads(text)["Tên"] for text in got[:len(odd)]] == [None if v is np.nan else v for v in odd]
    assert _payloads(frame.iloc[:0], ["ID"]) == []
