#!/usr/bin/env python3
"""Set up sangkien-sync in a local virtual environment, then run the demo or the tests.

    python3 dev.py demo    # create .venv from the lock file, then `sangkien demo`
    python3 dev.py test    # create .venv from the lock file, then the whole test suite
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


def _pip(*args: str, log: Path) -> None:
    cmd = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", *args]
    with log.open("a") as out:
        result = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    if result.returncode != 0:
        sys.exit(f"dev.py: installing dependencies failed; see {log}")


def ensure_env() -> None:
    """Create .venv and install the locked dependencies and the project, once."""
    if sys.version_info < (3, 11):
        sys.exit(f"dev.py: Python 3.11 or newer is needed, this is {sys.version.split()[0]}")
    want = _fingerprint()
    if STAMP.exists() and STAMP.read_text() == want:
        return
    print("Setting up .venv from requirements.lock (first run takes a minute) ...", flush=True)
    if not (BIN / "python").exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    log = VENV / "install.log"
    log.write_text("")
    _pip("install", "-q", "-r", "requirements.lock", log=log)
    _pip("install", "-q", "--no-deps", "--no-build-isolation", "-e", ".", log=log)
    STAMP.write_text(want)


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
    return subprocess.call([str(BIN / "python"), "-m", "pytest", *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
