"""What a new user runs first: the demo through the real Prefect flow, and the deployment file."""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]


def test_demo_ends_with_the_report_and_where_the_files_are_without_noise(tmp_path: Path) -> None:
    result = run_cli("demo", "--dir", str(tmp_path / "demo"), "--initiatives", "400", cwd=tmp_path,
                     env={"PREFECT_HOME": str(tmp_path / "prefect-home")})
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "report (national, provinces and sector unions" in out
    national = [line for line in out.splitlines() if line.startswith("VGCL ")]
    assert len(national) == 2  # one row per phase
    assert "world (org tree, quotas, source files, truth.csv)" in out
    assert "Traceback" not in result.stderr and "WARNING" not in result.stderr.upper()
    assert (tmp_path / "demo" / "sangkien.db").exists()
    workbook = tmp_path / "demo" / "sangkien-report.xlsx"
    assert f"workbook (overview, a sheet per phase, where the sources disagree, rows held back): {workbook}" in out
    assert workbook.stat().st_size > 0
    assert "open http://127.0.0.1:8700/" in out.splitlines()[-2]  # the page's address, at the end


def test_cli_sync_runs_the_prefect_flow_and_reports_a_failed_source_in_one_line(tmp_path: Path) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 's.db'}"]
    demo = run_cli(*db, "sandbox", "generate", "--out", "w", "--initiatives", "200", cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert run_cli(*db, "orgs", "load", "w/orgs.csv", cwd=tmp_path).returncode == 0
    for name in ("hanoi", "portal"):
        added = run_cli(*db, "connectors", "add", name, "--kind", "files", "--config", f"w/sources/{name}.yaml",
                        cwd=tmp_path)
        assert added.returncode == 0, added.stderr
    for f in (tmp_path / "w" / "sources" / "hanoi").iterdir():
        f.write_bytes(b"")  # an empty export: a source-level error
    env = {"PREFECT_HOME": str(tmp_path / "prefect-home")}
    result = run_cli(*db, "sync", cwd=tmp_path, env=env)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "hanoi (source error)" in lines[0], result.stderr
    assert "portal" in result.stdout  # the other source was synced and its totals printed
    report = run_cli(*db, "report", "--unit", "VGCL", "--format", "json", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert sum(row["initiatives"] for row in json.loads(report.stdout)["rows"]) > 0


def test_nightly_deployment_runs_the_flow_at_0130_vietnam_time() -> None:
    spec = yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text(encoding="utf-8"))
    [nightly] = [d for d in spec["deployments"] if d["name"] == "nightly"]
    path, func = nightly["entrypoint"].split(":")
    assert (ROOT / path).exists() and f"def {func}(" in (ROOT / path).read_text(encoding="utf-8")
    [schedule] = nightly["schedules"]
    assert (schedule["cron"], schedule["timezone"]) == ("30 1 * * *", "Asia/Ho_Chi_Minh")
    assert nightly["work_pool"]["name"] == "sangkien"
