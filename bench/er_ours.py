"""This project's contestant in the entity-resolution benchmark (issue 5).

    .venv/bin/python bench/er_ours.py --input DIR/records.csv --out DIR/labels-ours.csv

Reads records.csv (never truth.csv) and DIR/orgs.csv for the units' parents, runs
``sangkien.pipeline.match.resolve_frame`` (blocking, learning the weights, scoring, clustering:
exactly what a full resolution run does, minus the store; ``--no-learn``: the prior weights), writes labels
(raw_id, cluster) and prints one
JSON line: {"contestant": "ours", "records", "pairs", "seconds_total", "seconds_resolve",
"peak_rss_mb"} where seconds_resolve excludes reading the CSV and writing the labels and
peak_rss_mb is the process's ru_maxrss.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--no-learn", action="store_true", help="score with the hand-set prior weights")
    args = parser.parse_args()
    started = time.perf_counter()
    import pandas as pd

    from sangkien.pipeline import match

    frame = pd.read_csv(args.input, dtype=str, keep_default_na=False, na_values=[""],
                        usecols=["raw_id", "portal_id", "title_folded", "author_keys", "unit_code",
                                 "recognized_on", "applied_on", "submitted_at"])
    orgs = pd.read_csv(args.input.parent / "orgs.csv", dtype=str, keep_default_na=False)
    parents = {c: (p or None, s or None) for c, p, s in
               zip(orgs["code"], orgs["parent_code"], orgs["sector_parent_code"])}
    loaded = time.perf_counter()
    res = match.resolve_frame(frame, parents=parents, learn=not args.no_learn)  # learned as a full run learns
    resolved = time.perf_counter()
    pd.DataFrame({"raw_id": frame["raw_id"], "cluster": res.labels}).to_csv(args.out, index=False)
    fitted = res.model.fitted or {}
    print(json.dumps({"contestant": "ours", "records": len(frame), "pairs": len(res.i),
                      "model": {k: fitted.get(k) for k in ("pairs", "random_pairs", "lambda", "iterations",
                                                             "converged", "fallback")},
                      "seconds_total": round(time.perf_counter() - started, 2),
                      "seconds_resolve": round(resolved - loaded, 2),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
