#!/usr/bin/env python3
"""Set up sangkien-sync in a local virtual environment, then run the demo or the tests.

    python3 dev.py demo    # create .venv from the lock file, then `sangkien demo`
    python3 dev.py test    # create .venv from the lock file, then the whole test suite (on every core)
    python3 dev.py lint    # create .venv from the lock file, then ruff and mypy (as CI runs them)

Needs only Python 3.11+. The environment is rebuilt when requirements.lock or
pyproject.toml change; otherwise setting up is a no-op.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".sangkien-installed"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("requirements.lock", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def _pip(step: str, *args: str) -> None:
    """Run pip in .venv, its own progress on the terminal, after a line saying what it installs."""
    print(f"dev.py: {step}", flush=True)
    cmd = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", *args]
    if subprocess.run(cmd, cwd=ROOT).returncode != 0:
        sys.exit(f"dev.py: {step.rstrip(' .')} failed (pip's messages are above); fix the cause and run it again")


def ensure_env() -> None:
    """Create .venv and install the locked dependencies and the project, once."""
    if sys.version_info < (3, 11):
        sys.exit(f"dev.py: Python 3.11 or newer is needed, this is {sys.version.split()[0]}")
    want = _fingerprint()
    if STAMP.exists() and STAMP.read_text() == want:
        return
    print("dev.py: setting up .venv from requirements.lock: the first time this downloads and installs about "
          "135 packages (a few minutes; pip shows its progress), afterwards it is a no-op", flush=True)
    if not (BIN / "python").exists():
        print("dev.py: 1/3 creating the virtual environment .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    _pip("2/3 installing the locked dependencies (requirements.lock) ...", "install", "--progress-bar", "on",
         "-r", "requirements.lock")
    _pip("3/3 installing sangkien-sync itself (editable) ...", "install", "-q", "--no-deps",
         "--no-build-isolation", "-e", ".")
    STAMP.write_text(want)
    print("dev.py: .venv is ready", flush=True)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test", "lint", "setup"}:
        print(__doc__.strip())
        return 2
    ensure_env()
    command, rest = argv[0], argv[1:]
    if command == "setup":
        return 0
    if command == "demo":
        return subprocess.call([str(BIN / "sangkien"), "demo", *rest], cwd=ROOT)
    if command == "lint":
        ruff = subprocess.call([str(BIN / "ruff"), "check", *rest], cwd=ROOT)
        mypy = subprocess.call([str(BIN / "mypy")], cwd=ROOT)  # packages and settings: [tool.mypy] in pyproject.toml
        return ruff or mypy
    return subprocess.call([str(BIN / "python"), "-m", "pytest", *_workers(rest), *rest], cwd=ROOT)


def _workers(rest: list[str]) -> list[str]:
    """The whole suite runs on every core (pytest-xdist); a chosen test or an explicit -n/-p runs as asked."""
    chosen = any(not arg.startswith("-") and (ROOT / arg.split("::")[0]).exists() for arg in rest)
    asked = any(arg.startswith(("-n", "--numprocesses", "--dist")) or arg.endswith("no:xdist") for arg in rest)
    return [] if chosen or asked else ["-n", "auto", "--dist", "worksteal"]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
