"""The command line as a user meets it: every error is one line, never a traceback."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import one_line_error, run_cli


@pytest.mark.parametrize("args, expected", [
    (["orgs", "load", "missing.csv"], "missing.csv: no such file"),
    (["quotas", "load", "missing.csv"], "no such file"),
    (["connectors", "show", "nobody"], "no connector named 'nobody'"),
    (["connectors", "add", "x", "--kind", "ftp", "--config", "c.yaml"], "c.yaml: no such file"),
    (["report", "--unit", "P99"], "unknown unit 'P99'"),
    (["report", "--format", "pdf"], "unknown value for --format 'pdf'; one of table, csv, json, xlsx"),
    (["nonsense"], "unknown command 'nonsense'; one of orgs, quotas"),
    (["sycn"], "unknown command 'sycn'; did you mean 'sync'?"),
    (["connectors", "chek", "hanoi"], "unknown command 'chek'; did you mean 'check'?"),
    (["connectors", "check", "hanio"], "no connector named 'hanio'"),
    (["--db", "mysql+nothing://x/y", "report"], "database URL"),
    (["--db", "postgresql+psycopg://nobody@127.0.0.1:1/none", "report"], "cannot open the database"),
])
def test_cli_error_is_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 's.db'}"] if args[0] != "--db" else []
    line = one_line_error(run_cli(*db, *args, cwd=tmp_path))
    assert expected in line


def test_bad_org_file_names_rows_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "orgs.csv").write_text("code,name,kind,parent_code\nA,Một,national,\nA,Hai,province,A\n",
                                       encoding="utf-8")
    line = one_line_error(run_cli("--db", f"sqlite:///{tmp_path / 's.db'}", "orgs", "load", "orgs.csv", cwd=tmp_path))
    assert "line 3 (A): duplicate code" in line


def test_connector_settings_errors_name_the_field(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("path: drop\ndelimiter: ':'\ncolumns: {title: T, tittle: X}\n", encoding="utf-8")
    line = one_line_error(run_cli("--db", f"sqlite:///{tmp_path / 's.db'}", "connectors", "add", "hn", "--kind",
                                  "files", "--config", "c.yaml", cwd=tmp_path))
    assert "delimiter" in line and "'tittle' (did you mean 'title'?)" in line


def test_default_store_is_sangkien_db_in_the_working_directory(tmp_path: Path) -> None:
    result = run_cli("report", cwd=tmp_path, env={"SANGKIEN_DB_URL": ""})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "sangkien.db").exists()


def test_database_url_comes_from_the_environment(tmp_path: Path) -> None:
    result = run_cli("report", cwd=tmp_path, env={"SANGKIEN_DB_URL": f"sqlite:///{tmp_path / 'env.db'}"})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "env.db").exists() and not (tmp_path / "sangkien.db").exists()
