"""Calibrate the matcher's weights on a generated world with known truth (issue 5).

    .venv/bin/python bench/er_calibrate.py --dir bench/out/er-200000

Reads DIR/records.csv, DIR/truth.csv and DIR/orgs.csv (written by bench/er_data.py),
blocks and compares exactly as ``sangkien.pipeline.match`` does, and prints for every feature
level m (its share among true matches), u (its share among non-matches) and the
weight log2(m/u), smoothed with one pseudo-pair per level and bounded to +-20, plus
the prior log2-odds of a candidate pair being a match. The output is the literal to
paste into DEFAULT_WEIGHTS / DEFAULT_PRIOR in sangkien/pipeline/match/model.py.

Title scoring is pruned for pairs the other features rule out (see match.compare);
calibration scores every title so that u is not biased by the pruning.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    import pandas as pd

    from sangkien.pipeline import match

    frame = pd.read_csv(args.dir / "records.csv", dtype=str, keep_default_na=False, na_values=[""])
    truth = pd.read_csv(args.dir / "truth.csv", dtype=str).set_index("raw_id")["initiative_id"]
    orgs = pd.read_csv(args.dir / "orgs.csv", dtype=str, keep_default_na=False)
    parents = {c: (p or None, s or None) for c, p, s in zip(orgs["code"], orgs["parent_code"],
                                                             orgs["sector_parent_code"])}
    prep = match.prepare(frame, parents)
    i, j = match.candidate_pairs(prep)
    unpruned = match.MatchModel(review_low=-1e9)  # score every title
    levels = match.compare(prep, i, j, unpruned)
    label = pd.factorize(frame["raw_id"].map(truth))[0]
    is_match = label[i] == label[j]
    n_match, n_non = int(is_match.sum()), int((~is_match).sum())
    print(f"# {len(frame):,} records, {len(i):,} candidate pairs, {n_match:,} true matches")
    print(f"DEFAULT_PRIOR = {np.log2(n_match / n_non):.2f}")
    print("DEFAULT_WEIGHTS: dict[str, tuple[float, ...]] = {")
    for name in match.FEATURES:
        k = len(match.LEVELS[name])
        m = np.bincount(levels[name][is_match], minlength=k) + 1.0
        u = np.bincount(levels[name][~is_match], minlength=k) + 1.0
        w = np.clip(np.log2((m / m.sum()) / (u / u.sum())), -20, 20)
        detail = ", ".join(f"{lvl} m={a / m.sum():.4f} u={b / u.sum():.4f}"
                           for lvl, a, b in zip(match.LEVELS[name], m, u))
        print(f"    {name!r}: ({', '.join(f'{x:.1f}' for x in w)}),  # {detail}")
    print("}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
