"""A night's deliveries for a generated world: in each CSV source, a share of its rows changed (a title
revised, the change time moved on), as many added (new record ids, new initiatives) and as many withdrawn
(their status becomes rejected), written as one new export file per source in the source's own encoding,
delimiter and headers, the way the office would drop it.

    from sandbox.generate.night import write_night
    write_night(world_dir, share=0.02, seed=1, name="night-1")

Workbook sources (XLSX) are left as they are. Returns per source the rows written by kind.
"""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from connectors.tabular import read_tables
from sandbox.generate.text import _cp1258_table


def write_night(world: Path, share: float = 0.02, seed: int = 1, name: str = "night-1",
                when: dt.date | None = None) -> dict[str, dict[str, int]]:
    """Write ``name`` in each CSV source of ``world`` (see the module); returns {source: {changed, added,
    withdrawn}}."""
    rng = np.random.default_rng(seed)
    when = when or dt.date.today()
    written: dict[str, dict[str, int]] = {}
    for config in sorted((world / "sources").glob("*.yaml")):
        settings = yaml.safe_load(config.read_text(encoding="utf-8"))
        folder = config.parent / settings["path"]
        files = sorted(f for f in folder.glob(settings.get("pattern", "*.csv")) if f.stem != name)
        if not files or files[0].suffix.lower() == ".xlsx":
            continue
        tables = [t for f in files for t in read_tables(f, encoding=settings.get("encoding", "auto"),
                                                          delimiter=settings.get("delimiter", "auto"))]
        frame = pd.concat([t.frame.drop(columns="_line", errors="ignore") for t in tables], ignore_index=True)
        frame = frame.drop_duplicates(subset=[settings["columns"]["source_record_id"]], keep="last")
        part = max(1, round(len(frame) * share / 3))
        picked = frame.iloc[rng.choice(len(frame), size=min(len(frame), 3 * part), replace=False)]
        night = _night_rows(picked, part, settings, when)
        if tables[0].encoding.lower().replace("-", "") in ("cp1258", "windows1258"):  # tone marks as combining
            night = _as_cp1258(night)
        out = folder / f"{name}{files[0].suffix}"
        night.to_csv(out, index=False, sep=tables[0].delimiter or ",", encoding=tables[0].encoding,
                     quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n" if tables[0].encoding == "utf-16" else "\n")
        written[config.stem] = {"changed": part, "added": part, "withdrawn": len(picked) - 2 * part}
    return written


def _night_rows(picked: pd.DataFrame, part: int, settings: dict, when: dt.date) -> pd.DataFrame:
    columns, fmt = settings["columns"], settings.get("date_format", "%d/%m/%Y")
    changed, added = picked.iloc[:part].copy(), picked.iloc[part:2 * part].copy()
    withdrawn = picked.iloc[2 * part:].copy()
    title, srid = columns["title"], columns["source_record_id"]
    changed[title] = changed[title] + " (bản sửa đổi)"
    added[srid] = added[srid] + "-N"
    added[title] = "Sáng kiến mới: " + added[title] + " đợt bổ sung"
    if columns.get("portal_id"):
        added[columns["portal_id"]] = ""
    withdrawn[columns["status"]] = "Bị từ chối"
    night = pd.concat([changed, added, withdrawn], ignore_index=True)
    if columns.get("updated_at"):  # the source's clock moves on: the new contents are newer than the stored ones
        night[columns["updated_at"]] = when.strftime(fmt)
    return night


def _as_cp1258(frame: pd.DataFrame) -> pd.DataFrame:
    """The text with its tone marks as combining characters, as Windows-1258 holds them."""
    table = _cp1258_table()
    out = frame.map(lambda v: v.translate(table) if isinstance(v, str) else v)
    out.columns = [str(c).translate(table) for c in out.columns]
    return out
