"""A provincial database for the simulated world: one source's export loaded into a SQL table.

``write_source_db(world, source, url)`` reads ``sources/<source>`` (its files, as its
YAML describes them) and writes them to table ``sang_kien`` at ``url``, with the
source's own column names, the record id as primary key and a ``modified_at`` column
(UTC ISO text) that grows when a row changes; ``touch_rows`` changes some rows as a
province's staff would.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
import yaml

from connectors.tabular import read_table

TABLE = "sang_kien"
MODIFIED = "modified_at"


def source_frame(world: Path, source: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Every row of a world source's files (strings) and its YAML settings."""
    config = yaml.safe_load((world / "sources" / f"{source}.yaml").read_text(encoding="utf-8"))
    folder = world / "sources" / str(config["path"])
    frames = [read_table(path, encoding=config.get("encoding", "auto"), delimiter=config.get("delimiter", "auto"),
                         date_format=config.get("date_format", "%d/%m/%Y")).frame
              for path in sorted(folder.glob(str(config.get("pattern", "*.csv"))))]
    return pd.concat(frames, ignore_index=True).drop(columns="_line"), config


def write_source_db(world: Path, source: str, url: str) -> dict[str, object]:
    """Load the source into table ``sang_kien`` at ``url``; returns sql connector settings for it."""
    frame, config = source_frame(world, source)
    columns: dict[str, str] = dict(config["columns"])
    key = columns["source_record_id"]
    frame[MODIFIED] = "2023-09-30T00:00:00Z"
    engine = sa.create_engine(url)
    try:
        table = sa.Table(TABLE, sa.MetaData(), *[sa.Column(c, sa.Text, primary_key=(c == key)) for c in frame.columns])
        with engine.begin() as conn:
            table.drop(conn, checkfirst=True)
            table.create(conn)
            conn.execute(table.insert(), frame.to_dict("records"))
    finally:
        engine.dispose()
    return {"url": url, "table": TABLE, "primary_key": key, "watermark": MODIFIED,
            "date_format": config.get("date_format", "%d/%m/%Y"),
            "authors_separator": config.get("authors_separator", ";"), "columns": columns}


def touch_rows(url: str, ids: list[str], key: str, column: str, suffix: str = " (sửa)") -> None:
    """Edit ``column`` of the given rows and move their ``modified_at`` to now."""
    engine = sa.create_engine(url)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    table = sa.Table(TABLE, sa.MetaData(), autoload_with=engine)
    try:
        with engine.begin() as conn:
            for record_id in ids:
                conn.execute(table.update().where(table.c[key] == record_id)
                             .values({column: table.c[column] + suffix, MODIFIED: stamp}))
    finally:
        engine.dispose()
