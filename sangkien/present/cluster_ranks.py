"""`sangkien report --by cluster`: each competition cluster's ranking per phase and per quarter."""
from __future__ import annotations

import json
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from sangkien.pipeline.clusters import RANK_COLUMNS, cluster_ranks
from sangkien.present.report import csv_text

NO_CLUSTERS = ("no competition clusters are loaded (`sangkien clusters load clusters.csv`): units are ranked among "
               "the units of the same kind under the same parent (the workbook's rank in group)")


def cluster_rows(conn: Connection, phase: int | None = None, program: str | None = None) -> list[dict[str, Any]]:
    """The ranks as plain rows (RANK_COLUMNS) in ``program`` (default: the default program): numbers as int or
    float, None where there is none."""
    frame = cluster_ranks(conn, phase=phase, program=program)
    rows = []
    for rec in frame.to_dict("records"):
        row = {k: (None if not isinstance(rec[k], str) and pd.isna(rec[k]) else rec[k]) for k in RANK_COLUMNS}
        for name in ("phase", "rank", "of", "valid", "target"):
            value = row[name]
            row[name] = None if value is None else int(value)
        done = row["completion"]
        row["completion"] = None if done is None else float(done)
        rows.append(row)
    return rows


def render_cluster_ranks(conn: Connection, fmt: str, phase: int | None = None, program: str | None = None) -> str:
    rows = cluster_rows(conn, phase, program)
    if fmt == "json":
        return json.dumps({"clusters": bool(rows), "note": None if rows else NO_CLUSTERS, "rows": rows},
                          ensure_ascii=False, indent=1)
    if fmt == "csv":
        return csv_text(RANK_COLUMNS, rows)
    if not rows:
        return NO_CLUSTERS
    lines = [("cluster", "ph", "period", "rank", "unit", "name", "target", "valid", "done")]
    for r in rows:
        lines.append((r["cluster_code"], str(r["phase"]), r["quarter"] or "phase", f"{r['rank']}/{r['of']}",
                      r["unit_code"], (r["unit_name"] or "")[:38], "" if r["target"] is None else f"{r['target']:,}",
                      f"{r['valid']:,}", "" if r["completion"] is None else f"{r['completion'] * 100:.1f}%"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    numeric = {1, 3, 6, 7, 8}
    return "\n".join("  ".join(c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in
                               enumerate(zip(line, widths, strict=True))) for line in lines)
