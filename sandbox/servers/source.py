"""Loading one world source (its YAML config and export files) as rows of strings."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from connectors.tabular import FileFormatError, read_table


@dataclass(frozen=True)
class _Source:
    """One world source: its YAML settings, canonical field -> header, and rows of strings."""

    name: str
    date_format: str
    authors_separator: str
    columns: dict[str, str]
    rows: list[dict[str, str]]


def _load_source(world: Path, name: str) -> _Source:
    """Read ``sources/<name>.yaml`` and its files with the tabular reader; ValueError if absent or malformed."""
    config_path = Path(world) / "sources" / f"{name}.yaml"
    if not config_path.is_file():
        raise ValueError(f"no source {name!r} in world {world}: {config_path} not found")
    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    columns = {k: unicodedata.normalize("NFC", str(v)) for k, v in (config.get("columns") or {}).items()}
    if "source_record_id" not in columns:
        raise ValueError(f"{config_path}: columns has no source_record_id")
    folder = config_path.parent / str(config.get("path", name))
    files = sorted(folder.glob(str(config.get("pattern", "*"))))
    if not files:
        raise ValueError(f"source {name!r}: no files match {config.get('pattern')!r} in {folder}")
    date_format = str(config.get("date_format", "%d/%m/%Y"))
    frames = [_read_frame(path, config, columns, date_format) for path in files]
    rows = pd.concat(frames, ignore_index=True).to_dict("records")
    return _Source(name, date_format, str(config.get("authors_separator", ";")), columns, rows)


def _read_frame(path: Path, config: Mapping[str, Any], columns: Mapping[str, str], date_format: str) -> pd.DataFrame:
    """The mapped columns of one export file (rows the reader cannot split are left out)."""
    try:
        table = read_table(path, encoding=str(config.get("encoding", "auto")),
                           delimiter=str(config.get("delimiter", "auto")), date_format=date_format)
    except FileFormatError as exc:
        raise ValueError(str(exc)) from None
    headers = list(dict.fromkeys(columns.values()))
    missing = [h for h in headers if h not in table.frame.columns]
    if missing:
        raise ValueError(f"{path.name}: column(s) {', '.join(missing)} not in the file")
    return table.frame[headers]
