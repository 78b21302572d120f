"""Shared fixtures: a store on SQLite and on PostgreSQL, small realistic worlds, the CLI."""
from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from sangkien.store import open_store

PG_ADMIN_URL = os.environ.get("SANGKIEN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# the match index's local cache (sangkien/pipeline/match/index.py) goes to a folder of this session, not ~/.cache
_INDEX_CACHE = tempfile.mkdtemp(prefix="sangkien-index-cache-")
os.environ["SANGKIEN_INDEX_CACHE"] = _INDEX_CACHE
atexit.register(shutil.rmtree, _INDEX_CACHE, ignore_errors=True)


def _pg_unavailable() -> str | None:
    try:
        engine = sa.create_engine(PG_ADMIN_URL)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {str(exc).splitlines()[0]}"
    return None


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[sa.Engine]:
    reason = _pg_unavailable()
    if reason:
        if IN_CI:
            pytest.fail(f"{reason} (in CI a missing PostgreSQL is a failure, not a skip)")
        pytest.skip(reason)
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    with _pg_database(request.getfixturevalue("pg_admin")) as url:
        yield url


@pytest.fixture
def second_db_url(db_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Another fresh, empty store on db_url's backend (e.g. to compare two runs)."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'second-store.db'}"
        return
    with _pg_database(request.getfixturevalue("pg_admin")) as url:
        yield url


@contextmanager
def _pg_database(admin: sa.Engine) -> Iterator[str]:
    """A new PostgreSQL database's URL, dropped when the block ends."""
    name = f"sangkien_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        open_store(url).dispose()
        open_store.cache_clear()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def prefect_harness():  # type: ignore[no-untyped-def]
    """Prefect's test harness (a temporary server), started once for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def engine(db_url: str) -> sa.Engine:
    return open_store(db_url)


ORGS_CSV = """\
code,name,kind,parent_code,sector_parent_code,valid_from,valid_to,aliases
VGCL,Tổng Liên đoàn Lao động Việt Nam,national,,,,,
P01,LĐLĐ thành phố Hà Nội,province,VGCL,,,,Hà Nội|Liên đoàn Lao động thành phố Hà Nội
P34,LĐLĐ tỉnh Thái Bình,province,VGCL,,,,Thái Bình
NGANHANG,Công đoàn Ngân hàng Việt Nam,national_sector,VGCL,,,,
P01-D01,LĐLĐ quận Ba Đình,district,P01,,,,
P34-YTE,Công đoàn ngành Y tế Thái Bình,local_sector,P34,,,,
G001,Công đoàn cơ sở Chi nhánh Ngân hàng Công thương Ba Đình,grassroots,P01-D01,NGANHANG,,,CĐCS Vietinbank Ba Đình
G002,Công đoàn cơ sở Trường THCS Nguyễn Du,grassroots,P01-D01,,,,
G003,Công đoàn cơ sở Bệnh viện Đa khoa tỉnh Thái Bình,grassroots,P34-YTE,,,,BVĐK Thái Bình
"""

QUOTAS_CSV = """\
unit_code,phase,target,basis
VGCL,1,10,valid
VGCL,2,20,valid
P01,1,4,valid
NGANHANG,1,2,valid
P34-YTE,1,1,valid
"""

HEADER = "Mã hồ sơ;Mã cổng;Tên sáng kiến;Tác giả;Đơn vị;Lĩnh vực;Loại giải pháp;Ngày công nhận;Ngày áp dụng;Ngày nộp;Trạng thái;Giá trị làm lợi"

CONFIG_YAML = """\
kind: files
path: {folder}
pattern: "*.csv"
encoding: auto
delimiter: auto
date_format: "%d/%m/%Y"
authors_separator: ","
columns:
  source_record_id: "Mã hồ sơ"
  portal_id: "Mã cổng"
  title: "Tên sáng kiến"
  authors: "Tác giả"
  unit: "Đơn vị"
  field: "Lĩnh vực"
  solution_type: "Loại giải pháp"
  recognized_on: "Ngày công nhận"
  applied_on: "Ngày áp dụng"
  submitted_at: "Ngày nộp"
  status: "Trạng thái"
  benefit_vnd: "Giá trị làm lợi"
"""


class World:
    """A small hand-made world on disk: org tree, quotas, and file-drop folders."""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "orgs.csv").write_text(ORGS_CSV, encoding="utf-8")
        (root / "quotas.csv").write_text(QUOTAS_CSV, encoding="utf-8")

    def source(self, name: str, *rows: str, file: str = "export.csv", encoding: str = "utf-8") -> Path:
        """Write a source folder with one file of ``rows`` (';'-separated, after the standard header)."""
        folder = self.root / name
        folder.mkdir(exist_ok=True)
        path = folder / file
        path.write_text("\n".join([HEADER, *rows]) + "\n", encoding=encoding)
        config = self.root / f"{name}.yaml"
        config.write_text(CONFIG_YAML.format(folder=name), encoding="utf-8")
        return path

    def config(self, name: str) -> Path:
        return self.root / f"{name}.yaml"


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path / "world")


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `sangkien` command in a subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "sangkien.cli.main", *args], capture_output=True, text=True,
                          cwd=cwd, env=full_env, timeout=300)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a failed command wrote to stderr (asserting it failed, in one line, without a traceback)."""
    assert result.returncode != 0, result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "prefect_server: starts a local Prefect server and process workers (subprocesses)")
