"""One harness per connector kind: a real source of that kind for the conformance suite.

A harness starts a real source (a folder of exports, the simulated portal or REST system
on loopback, a database, a JSON-lines file) from the simulated world and says what the
suite needs to hold the kind to its contract: the settings an operator would register,
every record id the source holds, a change of settings under which ``check`` must fail,
and the secret behind the kind's secret setting, if it has one. Adding a kind means
adding a harness here (the suite fails for a registered kind without one).
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import sqlalchemy as sa
import yaml

from sandbox.servers import serve
from sandbox.sqldb import write_source_db
from sangkien.store.registry import read_config_file
from tests.conftest import IN_CI, PG_ADMIN_URL, _pg_unavailable

SECRET_ENV = "SANGKIEN_CONFORMANCE_SECRET"


@dataclass
class Source:
    """A running source of one kind."""

    config: dict[str, Any]  # the settings an operator registers (secrets as references)
    ids: set[str]  # every record id the source holds
    broken: dict[str, Any]  # settings changed so that check() fails with a ConnectorError
    env: dict[str, str] = field(default_factory=dict)  # the environment of the process running the sync
    secret: str | None = None  # the value behind the secret setting (never to appear anywhere)
    wrong_secret: str | None = None  # a value the source refuses (check must fail without showing it)


class Harness:
    """Base of the per-kind harnesses."""

    kind: ClassVar[str]
    secret_setting: ClassVar[str | None] = None  # the kind's secret setting, if it has one

    @contextmanager
    def source(self, world: Path, tmp: Path) -> Iterator[Source]:
        raise NotImplementedError
        yield  # pragma: no cover


def truth_ids(world: Path, source: str) -> set[str]:
    truth = pd.read_csv(world / "truth.csv", dtype=str)
    return set(truth.loc[truth["source"] == source, "source_record_id"])


class FilesHarness(Harness):
    """The world's Hà Nội export folder: two cp1258 CSV files, one batch each."""

    kind = "files"

    @contextmanager
    def source(self, world: Path, tmp: Path) -> Iterator[Source]:
        config = read_config_file(world / "sources" / "hanoi.yaml")
        yield Source(config, truth_ids(world, "hanoi"), broken={"path": str(tmp / "no-such-folder")})


class PortalHarness(Harness):
    """The simulated national portal on loopback, 20 records a page, bearer token."""

    kind = "portal"
    secret_setting = "token"
    TOKEN = "conformance-portal-t0ken-4f1c"

    @contextmanager
    def source(self, world: Path, tmp: Path) -> Iterator[Source]:
        with serve("portal", world, token=self.TOKEN) as server:
            config = {"base_url": server.url, "token": f"env:{SECRET_ENV}", "page_size": 20, "timeout": 5.0,
                      "attempts": 2}
            yield Source(config, set(server.system.ids()), broken={"base_url": server.url + "/congdoan"},
                         env={SECRET_ENV: self.TOKEN}, secret=self.TOKEN, wrong_secret="not-the-portal-token")


class RestHarness(Harness):
    """The world's Hà Nội system as a REST API on loopback: page numbers, an API key header."""

    kind = "rest"
    secret_setting = "token"
    KEY = "conformance-rest-key-8d2e"

    @contextmanager
    def source(self, world: Path, tmp: Path) -> Iterator[Source]:
        files = yaml.safe_load((world / "sources" / "hanoi.yaml").read_text(encoding="utf-8"))
        with serve("rest", world, token=self.KEY, style="page", source="hanoi") as server:
            config = {"base_url": server.url, "path": "/api/records", "auth": "api_key_header",
                      "token": f"env:{SECRET_ENV}", "pagination": "page", "records_path": "items", "page_size": 4,
                      "timeout": 5.0, "attempts": 2, "incremental_param": "modified_after",
                      "change_field": files["columns"]["updated_at"], "date_format": files["date_format"],
                      "authors_separator": files["authors_separator"], "columns": files["columns"]}
            yield Source(config, set(server.system.ids()), broken={"path": "/api/no-such-records"},
                         env={SECRET_ENV: self.KEY}, secret=self.KEY, wrong_secret="not-the-rest-key")


class SqlHarness(Harness):
    """The world's HCM source loaded into a database table, read 3 rows a batch.

    On PostgreSQL (when it answers) with the password as a secret reference; the test server
    trusts local connections, so the password is resolved and passed but not checked. Without
    PostgreSQL, a SQLite file and no password (a SQLite URL takes none).
    """

    kind = "sql"
    secret_setting = "password"
    PASSWORD = "conformance-sql-pw-71aa"

    @contextmanager
    def source(self, world: Path, tmp: Path) -> Iterator[Source]:
        if _pg_unavailable() is not None and not IN_CI:
            settings = write_source_db(world, "hcm", f"sqlite:///{tmp / 'hcm.db'}")
            yield Source({**settings, "batch_size": 3}, truth_ids(world, "hcm"), broken={"table": "no_such_table"})
            return
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        name = f"sangkien_conformance_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            url = admin.url.set(database=name).render_as_string(hide_password=False)
            settings = write_source_db(world, "hcm", url)
            yield Source({**settings, "batch_size": 3, "password": f"env:{SECRET_ENV}"}, truth_ids(world, "hcm"),
                         broken={"table": "no_such_table"}, env={SECRET_ENV: self.PASSWORD}, secret=self.PASSWORD)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


class JsonLinesHarness(Harness):
    """The test kind from its own package: 23 records in a JSON-lines file, 5 a batch."""

    kind = "jsonl"
    COLUMNS: ClassVar[dict[str, str]] = {
        "source_record_id": "ma", "title": "ten", "authors": "tac_gia", "unit": "don_vi", "solution_type": "loai",
        "applied_on": "ngay_ap_dung", "submitted_at": "ngay_nop", "status": "trang_thai"}

    @contextmanager
    def source(self, world: Path, tmp: Path) -> Iterator[Source]:
        path = tmp / "records.jsonl"
        records = [{"ma": f"JL-{i:03d}", "ten": f"Sáng kiến số {i}", "tac_gia": "Nguyễn Văn An", "don_vi": "G001",
                    "loai": "Giải pháp kỹ thuật", "ngay_ap_dung": "01/03/2022", "ngay_nop": "15/03/2022",
                    "trang_thai": "Hợp lệ"} for i in range(23)]
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        config = {"path": str(path), "batch_size": 5, "columns": self.COLUMNS}
        yield Source(config, {r["ma"] for r in records}, broken={"path": str(tmp / "no-such-file.jsonl")})


HARNESSES: dict[str, Harness] = {h.kind: h for h in (FilesHarness(), PortalHarness(), RestHarness(), SqlHarness(),
                                                      JsonLinesHarness())}
