"""The command line a person expects: options anywhere, --version, help with examples, a quiet closed pipe,
tables that fit, one-line errors for a busy port and a mistyped setting, progress on a terminal."""
from __future__ import annotations

import argparse
import os
import pty
import re
import select
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from sangkien.cli.main import build_parser
from sangkien.store import open_store
from sangkien.store.registry import add_connector, save_state
from tests.conftest import World, one_line_error, run_cli
from tests.pipeline.test_sync_store import BANK_ROW, SCHOOL_ROW

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # anything but tab and newline


def _commands(parser: argparse.ArgumentParser, path: str = "sangkien") -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found.append((f"{path} {name}", child))
                found += _commands(child, f"{path} {name}")
    return found


def test_every_command_has_a_description_help_on_every_option_and_examples():
    commands = _commands(build_parser())
    assert len(commands) > 40
    for name, parser in commands:
        assert parser.description, name
        assert parser.epilog and parser.epilog.startswith("examples:\n  sangkien "), name
        for action in parser._actions:
            if not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                assert action.help, f"{name} {action.dest}"


def test_global_options_work_after_the_command_too(tmp_path):
    result = run_cli("report", "--db", f"sqlite:///{tmp_path / 'after.db'}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "after.db").exists() and not (tmp_path / "sangkien.db").exists()
    listed = run_cli("connectors", "list", "--db", f"sqlite:///{tmp_path / 'after.db'}", cwd=tmp_path)
    assert "no connectors registered" in listed.stdout


def test_version_is_printed():
    result = run_cli("--version")
    assert result.returncode == 0 and re.fullmatch(r"sangkien \d+\.\d+\.\d+\n", result.stdout)


def test_a_mistyped_connector_name_gets_a_did_you_mean(tmp_path, world):
    db = ["--db", f"sqlite:///{tmp_path / 's.db'}"]
    world.source("hanoi", BANK_ROW)
    assert run_cli(*db, "connectors", "add", "hanoi", "--kind", "files", "--config", str(world.config("hanoi")),
                   cwd=tmp_path).returncode == 0
    line = one_line_error(run_cli(*db, "connectors", "show", "hanio", cwd=tmp_path))
    assert "no connector named 'hanio'; did you mean 'hanoi'?" in line
    line = one_line_error(run_cli(*db, "sync", "--only", "hanio", cwd=tmp_path))
    assert "did you mean 'hanoi'?" in line


def test_a_mistyped_setting_names_the_closest_and_every_allowed_setting(tmp_path, world):
    world.source("hanoi", BANK_ROW)
    line = one_line_error(run_cli("--db", f"sqlite:///{tmp_path / 's.db'}", "connectors", "add", "hanoi", "--kind",
                                  "files", "--config", str(world.config("hanoi")), "--set", "headerrow=3", cwd=tmp_path))
    assert "unknown setting 'headerrow' (did you mean 'header_row'?)" in line
    assert "the settings are date_format, authors_separator, columns, path, pattern" in line
    assert "Extra inputs" not in line


def test_kinds_lists_the_allowed_values_of_auth_and_pagination():
    out = run_cli("connectors", "kinds").stdout
    assert "auth (default 'api_key_header'; one of none, bearer, api_key_header, api_key_query, basic)" in out
    assert "pagination (default 'page'; one of none, page, offset, cursor, link)" in out


def test_output_piped_into_a_reader_that_stops_early_ends_quietly(tmp_path):
    from sandbox.generate import generate_world

    generate_world(tmp_path / "w", 20, seed=5, noise="none")
    db = ["--db", f"sqlite:///{tmp_path / 's.db'}"]
    assert run_cli(*db, "orgs", "load", str(tmp_path / "w" / "orgs.csv"), cwd=tmp_path).returncode == 0
    assert run_cli(*db, "quotas", "load", str(tmp_path / "w" / "quotas.csv"), cwd=tmp_path).returncode == 0
    # `sangkien report --format json | head -1`: the reader leaves after one line of far more than a pipe holds
    with subprocess.Popen([sys.executable, "-m", "sangkien.cli.main", *db, "report", "--format", "json"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.readline()
        proc.stdout.close()
        error = proc.stderr.read().decode()
        code = proc.wait(timeout=120)
    assert "BrokenPipe" not in error and error == ""
    assert code == 141


def test_tables_fit_the_terminal_cutting_long_cells_with_an_ellipsis(tmp_path, world):
    engine = open_store(f"sqlite:///{tmp_path / 's.db'}")
    deep = world.root / ("thu-muc-xuat-du-lieu-cua-lien-doan-lao-dong-thanh-pho-ha-noi-" * 2)
    deep.mkdir(parents=True)
    config = {"path": str(deep), "columns": {f: f for f in ("source_record_id", "title", "authors", "unit",
                                                           "solution_type", "applied_on", "submitted_at", "status")}}
    add_connector(engine, "hanoi", "files", config)
    result = run_cli("--db", f"sqlite:///{tmp_path / 's.db'}", "connectors", "list", cwd=tmp_path,
                     env={"COLUMNS": "70"})
    lines = result.stdout.splitlines()
    assert all(len(line) <= 70 for line in lines), lines
    assert any(line.startswith("hanoi") and "…" in line for line in lines)


def test_connectors_list_shows_where_a_rest_source_resumes(tmp_path):
    engine = open_store(f"sqlite:///{tmp_path / 's.db'}")
    columns = {f: f for f in ("source_record_id", "title", "authors", "unit", "solution_type", "applied_on",
                              "submitted_at", "status")}
    add_connector(engine, "hanoi-api", "rest", {"base_url": "http://127.0.0.1:9", "auth": "none",
                                                "columns": columns})
    with engine.begin() as conn:
        save_state(conn, "hanoi-api", {"since": "2023-09-01T08:00:00"})
    out = run_cli("--db", f"sqlite:///{tmp_path / 's.db'}", "connectors", "list", cwd=tmp_path).stdout
    assert "hanoi-api  rest  http://127.0.0.1:9" in out
    assert "synced up to 01/09/2023" in out and "not synced yet" not in out  # the source's cursor, in Vietnam time


def test_runs_says_a_backfill_and_its_window(tmp_path, world):
    db = ["--db", f"sqlite:///{tmp_path / 's.db'}"]
    world.source("hanoi", BANK_ROW, SCHOOL_ROW)
    assert run_cli(*db, "orgs", "load", str(world.root / "orgs.csv"), cwd=tmp_path).returncode == 0
    assert run_cli(*db, "connectors", "add", "hanoi", "--kind", "files", "--config", str(world.config("hanoi")),
                   cwd=tmp_path).returncode == 0
    for mode in ([], ["--backfill", "2022-06-01..2022-06-30"], ["--full-refresh"]):
        synced = run_cli(*db, "sync", "--in-process", *mode, cwd=tmp_path)
        assert synced.returncode == 0, synced.stderr
    out = run_cli(*db, "runs", cwd=tmp_path).stdout
    assert re.search(r"^run 1 \(nightly, incremental\): completed", out, re.M)
    assert re.search(r"^run 2 \(backfill 2022-06-01\.\.2022-06-30\): completed", out, re.M)
    assert re.search(r"^run 3 \(full refresh\): completed", out, re.M)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_on_a_busy_port_says_so_in_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = one_line_error(run_cli("--db", f"sqlite:///{tmp_path / 's.db'}", "serve", "--port", str(port),
                                      cwd=tmp_path))
    assert f"cannot listen on 127.0.0.1:{port}: address already in use" in line


def test_serve_starts_on_a_new_store_without_alembic_lines(tmp_path):
    port = _free_port()
    with subprocess.Popen([sys.executable, "-m", "sangkien.cli.main", "--db", f"sqlite:///{tmp_path / 'new.db'}",
                           "serve", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          cwd=tmp_path, text=True) as proc:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if "serving on" in line or len(seen) > 50:
                break
        proc.terminate()
        proc.wait(timeout=60)
    assert any("serving on http://127.0.0.1" in line for line in seen), seen
    assert not any("alembic" in line.lower() for line in seen), seen


def _many_files(world: World, files: int) -> None:
    world.source("hanoi", BANK_ROW)
    for i in range(2, files + 1):
        row = BANK_ROW.replace("HN-1;CONG-77", f"HN-{i};").replace("tín dụng", f"tín dụng {i}")
        world.source("hanoi", row, file=f"export-{i:03}.csv")


def _on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as its stdout, 100 columns wide; (exit code, everything it wrote)."""
    import fcntl
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR")}
    proc = subprocess.Popen([sys.executable, "-m", "sangkien.cli.main", *args], stdin=follower, stdout=follower,
                            stderr=follower, cwd=cwd, env=env, close_fds=True)
    os.close(follower)
    out = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    os.close(leader)
    return proc.wait(timeout=300), out.decode("utf-8", "replace")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_sync_on_a_terminal_shows_progress_advancing_during_the_pull(tmp_path, world):
    db = ["--db", f"sqlite:///{tmp_path / 's.db'}"]
    _many_files(world, 12)
    assert run_cli(*db, "orgs", "load", str(world.root / "orgs.csv"), cwd=tmp_path).returncode == 0
    assert run_cli(*db, "connectors", "add", "hanoi", "--kind", "files", "--config", str(world.config("hanoi")),
                   cwd=tmp_path).returncode == 0
    code, out = _on_a_terminal([*db, "sync", "--in-process"], tmp_path)
    assert code == 0, out
    pulled = {int(n) for n in re.findall(r"hanoi: pulling\s+(\d+) rows", out)}
    assert len(pulled) >= 3 and max(pulled) > min(pulled)  # the bar moved as the files landed
    assert "hanoi: done" in out and "all sources: resolved and rolled up" in out
    assert "\x1b[" in out  # drawn in place on a terminal


def test_sync_not_on_a_terminal_prints_plain_lines(tmp_path, world):
    db = ["--db", f"sqlite:///{tmp_path / 's.db'}"]
    _many_files(world, 3)
    assert run_cli(*db, "orgs", "load", str(world.root / "orgs.csv"), cwd=tmp_path).returncode == 0
    assert run_cli(*db, "connectors", "add", "hanoi", "--kind", "files", "--config", str(world.config("hanoi")),
                   cwd=tmp_path).returncode == 0
    result = run_cli(*db, "sync", "--in-process", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "hanoi: pulling" in result.stdout and "hanoi: done (3 rows)" in result.stdout
    assert "all sources: resolving initiatives" in result.stdout
    assert not CONTROL.search(result.stdout + result.stderr)


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_sync_of_a_20000_initiative_world_on_a_terminal_shows_the_pull_advancing(tmp_path):
    from sandbox.generate import generate_world

    generated = generate_world(tmp_path / "world", initiatives=20_000, seed=7)
    db = ["--db", f"sqlite:///{tmp_path / 's.db'}"]
    assert run_cli(*db, "orgs", "load", str(generated.orgs_path), cwd=tmp_path).returncode == 0
    for config in sorted((generated.out_dir / "sources").glob("*.yaml")):
        added = run_cli(*db, "connectors", "add", config.stem, "--kind", "files", "--config", str(config), cwd=tmp_path)
        assert added.returncode == 0, added.stderr
    code, out = _on_a_terminal([*db, "sync", "--in-process"], tmp_path)
    assert code == 0, out[-2000:]
    pulled = [int(n.replace(",", "")) for n in re.findall(r"portal: pulling\s+([\d,]+) rows", out)]
    assert len(set(pulled)) >= 2 and max(pulled) > min(pulled), out[-2000:]  # the bar moved during the pull
    assert "\x1b[" in out and "all sources: resolved and rolled up" in out
