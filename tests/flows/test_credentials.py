"""The store's password never reaches Prefect: a sync against PostgreSQL with a password in the URL leaves it
in no flow-run parameter, log, artifact or file under PREFECT_HOME (prefect.db and its WAL included)."""
from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from sangkien.errors import UserError
from sangkien.store import open_store, resolve_store, store_reference
from tests.conftest import run_cli
from tests.pipeline.test_sync_store import BANK_ROW, SCHOOL_ROW

pytestmark = pytest.mark.postgres


@pytest.fixture
def secret_store(pg_admin):  # type: ignore[no-untyped-def]
    """A store on PostgreSQL owned by a role with a password; its URL carries the password."""
    tag = uuid.uuid4().hex[:10]
    role, password, database = f"sk_owner_{tag}", f"Pw-{tag}-s3cr3t", f"sangkien_cred_{tag}"
    with pg_admin.connect() as conn:
        conn.execute(sa.text(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'"))
        conn.execute(sa.text(f'CREATE DATABASE "{database}" OWNER {role}'))
    url = pg_admin.url.set(username=role, password=password, database=database).render_as_string(
        hide_password=False)
    yield url, password
    open_store(url).dispose()
    open_store.cache_clear()
    with pg_admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        conn.execute(sa.text(f"DROP ROLE IF EXISTS {role}"))


def _prefect_rows(home: Path) -> dict[str, list[str]]:
    with sqlite3.connect(home / "prefect.db") as db:
        return {"parameters": [r[0] for r in db.execute("SELECT parameters FROM flow_run")],
                "logs": [r[0] for r in db.execute("SELECT message FROM log")],
                "artifacts": [str(r[0]) for r in db.execute("SELECT data FROM artifact")]}


def test_a_sync_with_a_password_in_the_store_url_leaves_it_nowhere_in_prefect(secret_store, world, tmp_path):
    url, password = secret_store
    home = tmp_path / "prefect-home"
    env = {"PREFECT_HOME": str(home), "PREFECT_API_URL": "", "SANGKIEN_DB_URL": url,
           # the flow's own logs, sent to Prefect's API, so that there are logs to search
           "PREFECT_LOGGING_LEVEL": "INFO", "PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL": "INFO",
           "PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL": "INFO"}
    assert run_cli("orgs", "load", str(world.root / "orgs.csv"), env=env).returncode == 0
    world.source("hanoi", BANK_ROW, SCHOOL_ROW)
    added = run_cli("connectors", "add", "hanoi", "--kind", "files", "--config", str(world.config("hanoi")), env=env)
    assert added.returncode == 0, added.stderr
    by_environment = run_cli("sync", env=env)  # the URL (and its password) in $SANGKIEN_DB_URL
    assert by_environment.returncode == 0, by_environment.stderr
    world.source("hanoi", BANK_ROW.replace("HN-1;", "HN-3;"), file="export-2.csv")
    by_option = run_cli("--db", url, "sync", env={**env, "SANGKIEN_DB_URL": ""})  # and given as --db
    assert by_option.returncode == 0, by_option.stderr
    assert "sync run 2: completed" in by_option.stdout

    found = _prefect_rows(home)
    assert len(found["parameters"]) == 2 and found["logs"] and found["artifacts"]
    assert all(store_reference(url) in p for p in found["parameters"])  # the store is named, without the password
    for kind, texts in found.items():
        assert not [t for t in texts if password in t], f"the password is in Prefect's {kind}"
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.name.startswith("prefect.db") for p in files)
    assert not [str(p) for p in files if password.encode() in p.read_bytes()]
    for out in (by_environment, by_option):
        assert password not in out.stdout + out.stderr


def test_a_store_reference_gets_its_password_from_the_environment_and_refuses_to_carry_one(monkeypatch):
    full = "postgresql+psycopg://owner:pa55@db.example/sangkien"
    bare = "postgresql+psycopg://owner@db.example/sangkien"
    assert store_reference(full) == bare
    monkeypatch.delenv("SANGKIEN_DB_PASSWORD", raising=False)
    monkeypatch.setenv("SANGKIEN_DB_URL", full)
    assert resolve_store(bare) == full  # the worker's own store URL supplies it
    assert resolve_store(None) == full
    monkeypatch.setenv("SANGKIEN_DB_URL", "sqlite:///elsewhere.db")
    assert resolve_store(bare) == bare  # another store: left to the driver (PGPASSWORD, ~/.pgpass)
    monkeypatch.setenv("SANGKIEN_DB_PASSWORD", "pa55")
    assert resolve_store(bare) == full
    monkeypatch.setenv("SANGKIEN_STORE", full)
    assert resolve_store("env:SANGKIEN_STORE") == full
    with pytest.raises(UserError, match=r"given with its password, which must not travel as a parameter") as caught:
        resolve_store(full)
    assert "pa55" not in str(caught.value)
