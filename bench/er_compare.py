"""Entity resolution side by side (issue 5): this project vs Splink vs simple baselines, same data.

    .venv/bin/python bench/er_compare.py --records 200000 [--contestants ours,splink] [--reuse]
        [--out bench/out/er-200000] [--seed 1] [--splink-threshold P] [--sweep 0.5,0.9,0.99]
        [--noise hard|real|real:KIND] [--leave-one-out [--loo-records 20000]]

1. bench/er_data.py builds DIR (default bench/out/er-<records>): records.csv, truth.csv, orgs.csv.
2. Each contestant runs in its own subprocess and writes DIR/labels-<name>.csv (raw_id, cluster),
   printing one JSON line (contestant, seconds_total, seconds_resolve, peak_rss_mb):
     ours:   .venv/bin/python bench/er_ours.py --input DIR/records.csv --out ...   (skipped if absent)
     splink: bench/.venv-splink/bin/python bench/er_splink.py --input ... --out ... (venv made on demand)
   Wall time is also measured here, and peak memory from the child's own rusage (os.wait4);
   the table shows the larger of that and what the contestant reports.
3. Baselines, computed here from records.csv: "rows" (every row its own initiative), "exact"
   (rows sharing portal_id, or title_folded + unit_code + applied_on, joined transitively) and
   "folded-title+unit" (rows sharing title_folded + unit_code).
4. One table (also DIR/results.json): wall time total and resolve-only, peak memory, pairwise
   precision / recall / F1, predicted vs true initiatives, overall count error, the largest
   count error among units with 100+ true initiatives (ancestors included) and how many
   units exceed 1%.

--leave-one-out adds a table: for each kind of real noise (sandbox/generate/realnoise.py), a world of
--loo-records rows where only that kind varies the copies, each contestant fitted on that world's own
records (ours learns its weights, Splink trains as configured): precision, recall and F1 per kind.

--sweep also clusters Splink's predictions at each listed threshold and adds a row per threshold
(used to choose er_splink.DEFAULT_THRESHOLD on a small world).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from er_metrics import components, count_errors, group_edges, pairwise_scores

PROJECT_PYTHON = ROOT / ".venv" / "bin" / "python"
SPLINK_VENV = BENCH / ".venv-splink"
SPLINK_PYTHON = SPLINK_VENV / "bin" / "python"
SPLINK_REQUIREMENTS = BENCH / "requirements-splink.txt"


def ensure_splink_venv(log=print) -> Path:  # type: ignore[no-untyped-def]
    """Make bench/.venv-splink with the pinned Splink stack if it is not usable; return its python.

    Equivalent to:
        python3 -m venv bench/.venv-splink
        bench/.venv-splink/bin/pip install -r bench/requirements-splink.txt
    Splink stays out of the project's own .venv (it is a bench-only extra).
    """
    def usable() -> bool:
        if not SPLINK_PYTHON.exists():
            return False
        probe = subprocess.run([str(SPLINK_PYTHON), "-c", "import splink, duckdb"], capture_output=True)
        return probe.returncode == 0

    if usable():
        return SPLINK_PYTHON
    base = shutil.which("python3") or sys.executable
    log(f"setting up {SPLINK_VENV} (Splink, bench only) ...")
    subprocess.run([base, "-m", "venv", "--clear", str(SPLINK_VENV)], check=True)
    (SPLINK_VENV / ".gitignore").write_text("*\n")
    pip = [str(SPLINK_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if SPLINK_REQUIREMENTS.exists():
        subprocess.run(pip + ["-r", str(SPLINK_REQUIREMENTS)], check=True)
    else:
        subprocess.run(pip + ["splink==4.0.17", "duckdb==1.4.4", "pandas==2.3.3"], check=True)
    if not usable():
        raise RuntimeError(f"{SPLINK_VENV} was set up but cannot import splink")
    return SPLINK_PYTHON


def run_contestant(name: str, command: list[str], log=print) -> dict:  # type: ignore[no-untyped-def]
    """Run one contestant in its own process; its JSON line plus wall time and rusage peak memory."""
    log(f"running {name}: {' '.join(command)}")
    started = time.perf_counter()
    with open(os.devnull, "rb") as stdin:
        proc = subprocess.Popen(command, stdin=stdin, stdout=subprocess.PIPE, stderr=None, text=True, cwd=ROOT)
        assert proc.stdout is not None
        output = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{name} exited with {proc.returncode}")
    lines = [line for line in output.splitlines() if line.strip().startswith("{")]
    if not lines:
        raise RuntimeError(f"{name} printed no JSON line")
    reported = json.loads(lines[-1])
    reported["wall_seconds"] = wall
    reported["rusage_peak_mb"] = usage.ru_maxrss / 1024
    return reported


def baselines(records: pd.DataFrame) -> dict[str, tuple[np.ndarray, float]]:
    """The naive resolutions that show the problem: labels aligned with records, and seconds."""
    out: dict[str, tuple[np.ndarray, float]] = {}
    started = time.perf_counter()
    out["rows"] = (records["raw_id"].to_numpy(), time.perf_counter() - started)

    started = time.perf_counter()
    portal = records["portal_id"].fillna("")
    a1, b1 = group_edges(records[["portal_id"]].fillna(""), valid=(portal != "").to_numpy())
    a2, b2 = group_edges(records[["title_folded", "unit_code", "applied_on"]].fillna(""))
    labels = components(len(records), np.concatenate([a1, a2]), np.concatenate([b1, b2]))
    out["exact"] = (labels, time.perf_counter() - started)

    started = time.perf_counter()
    labels = records[["title_folded", "unit_code"]].fillna("").groupby(
        ["title_folded", "unit_code"], sort=False).ngroup().to_numpy()
    out["folded-title+unit"] = (labels, time.perf_counter() - started)
    return out


def evaluate(name: str, labels: np.ndarray, records: pd.DataFrame, truth_ids: np.ndarray,
             truth: pd.DataFrame, orgs: pd.DataFrame, timing: dict) -> dict:  # type: ignore[type-arg]
    scores = pairwise_scores(labels, truth_ids)
    counts = count_errors(records[["raw_id", "unit_code"]], labels, truth, orgs)
    return {"contestant": name, "records": len(records), **timing, **scores, **counts}


def labels_for(path: Path, records: pd.DataFrame) -> np.ndarray:
    frame = pd.read_csv(path)
    mapping = frame.set_index("raw_id")["cluster"]
    if mapping.index.has_duplicates:
        raise ValueError(f"{path}: a raw_id appears more than once")
    labels = mapping.reindex(records["raw_id"].to_numpy())
    missing = int(labels.isna().sum())
    if missing:
        raise ValueError(f"{path}: {missing:,} records have no label")
    return labels.to_numpy()


def _pct(value) -> str:  # type: ignore[no-untyped-def]
    return "" if value is None else f"{100 * value:+.2f}%"


def print_table(rows: list[dict]) -> None:  # type: ignore[type-arg]
    header = ("contestant", "records", "wall s", "resolve s", "peak MB", "precision", "recall", "F1",
              "pred init", "true init", "count err", "max unit err", "units >1%")
    body = []
    for r in rows:
        body.append((
            r["contestant"], f"{r['records']:,}",
            "" if r.get("seconds_total") is None else f"{r['seconds_total']:.1f}",
            "" if r.get("seconds_resolve") is None else f"{r['seconds_resolve']:.1f}",
            "" if r.get("peak_mb") is None else f"{r['peak_mb']:,.0f}",
            f"{r['precision']:.5f}", f"{r['recall']:.5f}", f"{r['f1']:.5f}",
            f"{r['predicted_initiatives']:,}", f"{r['true_initiatives']:,}", _pct(r["overall_error"]),
            f"{100 * r['max_unit_error']:.2f}%", f"{r['units_over_tolerance']}/{r['units_checked']}",
        ))
    widths = [max(len(str(x)) for x in column) for column in zip(header, *body)]
    for i, line in enumerate([header, *body]):
        print("  ".join(str(x).ljust(w) if j == 0 else str(x).rjust(w) for j, (x, w) in enumerate(zip(line, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def leave_one_out(records: int, seed: int, python: str, reuse: bool, contestants: list[str]) -> list[dict]:  # type: ignore[type-arg]
    """Per kind of real noise: a world of ~``records`` rows where only that kind varies the copies,
    each contestant fitted on that world's own records; precision, recall, F1 per kind."""
    sys.path.insert(0, str(ROOT))
    from er_data import default_dir

    from sandbox.generate.realnoise import REAL_KINDS

    rows = []
    for kind in REAL_KINDS:
        noise = f"real:{kind}"
        out = default_dir(records, noise)
        subprocess.run([python, str(BENCH / "er_data.py"), "--records", str(records), "--out", str(out),
                        "--seed", str(seed), "--noise", noise] + (["--reuse"] if reuse else []),
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        recs = pd.read_csv(out / "records.csv", dtype=str, keep_default_na=False)
        recs["raw_id"] = recs["raw_id"].astype(np.int64)
        truth = pd.read_csv(out / "truth.csv", dtype={"raw_id": np.int64, "initiative_id": str})
        truth_ids = truth.set_index("raw_id")["initiative_id"].reindex(recs["raw_id"].to_numpy()).to_numpy()
        for name in contestants:
            labels_path = out / f"labels-{name}.csv"
            if name == "ours":
                command = [python, str(BENCH / "er_ours.py"), "--input", str(out / "records.csv"), "--out",
                           str(labels_path)]
            else:
                command = [str(ensure_splink_venv()), str(BENCH / "er_splink.py"), "--input",
                           str(out / "records.csv"), "--out", str(labels_path)]
            result = run_contestant(f"{name} on {noise}", command, log=lambda *_: None)
            scores = pairwise_scores(labels_for(labels_path, recs), truth_ids)
            rows.append({"kind": kind, "contestant": name, "records": len(recs),
                         "wall_seconds": round(result["wall_seconds"], 1), **scores})
            print(f"  {kind:<20} {name:<7} P {scores['precision']:.5f}  R {scores['recall']:.5f}  "
                  f"F1 {scores['f1']:.5f}", flush=True)
    return rows


def print_loo(rows: list[dict]) -> None:  # type: ignore[type-arg]
    """The leave-one-out table: a row per kind, precision / recall / F1 per contestant."""
    names = list(dict.fromkeys(r["contestant"] for r in rows))
    print("\nleave-one-out: each world varies its copies in one way only; each contestant fitted on that world")
    header = "kind".ljust(20) + "".join(f"  {n + ' P':>9} {n + ' R':>9} {n + ' F1':>9}" for n in names)
    print(header)
    print("-" * len(header))
    for kind in dict.fromkeys(r["kind"] for r in rows):
        line = kind.ljust(20)
        for n in names:
            r = next((x for x in rows if x["kind"] == kind and x["contestant"] == n), None)
            line += "  " + (f"{r['precision']:9.5f} {r['recall']:9.5f} {r['f1']:9.5f}" if r else " " * 29)
        print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--out", type=Path, help="data folder (default bench/out/er-<records>)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--contestants", default="ours,splink")
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="reuse the data folder's files when present")
    parser.add_argument("--splink-threshold", type=float, help="override er_splink.py's default threshold")
    parser.add_argument("--sweep", default="", help="extra Splink thresholds to score, e.g. 0.5,0.9,0.999")
    parser.add_argument("--noise", default="hard", help="the world's noise: hard (default), real, real:KIND")
    parser.add_argument("--leave-one-out", action="store_true",
                        help="also: per kind of real noise, F1 on a world with only that kind (--loo-records each)")
    parser.add_argument("--loo-records", type=int, default=20_000)
    args = parser.parse_args()
    from er_data import default_dir

    out = args.out or default_dir(args.records, args.noise)
    python = str(PROJECT_PYTHON if PROJECT_PYTHON.exists() else sys.executable)

    print(f"er_compare: ~{args.records:,} records, noise {args.noise}, seed {args.seed} -> {out}", flush=True)
    data_cmd = [python, str(BENCH / "er_data.py"), "--records", str(args.records), "--out", str(out),
                "--seed", str(args.seed), "--noise", args.noise] + (["--reuse"] if args.reuse else [])
    subprocess.run(data_cmd, check=True, cwd=ROOT)

    records = pd.read_csv(out / "records.csv", dtype=str, keep_default_na=False)
    records["raw_id"] = records["raw_id"].astype(np.int64)
    truth = pd.read_csv(out / "truth.csv", dtype={"raw_id": np.int64, "initiative_id": str, "unit_code": str})
    orgs = pd.read_csv(out / "orgs.csv", dtype=str, keep_default_na=False)
    truth_ids = truth.set_index("raw_id")["initiative_id"].reindex(records["raw_id"].to_numpy())
    if truth_ids.isna().any():  # records without a truth row: score only those with one
        keep = truth_ids.notna().to_numpy()
        print(f"  note: {int((~keep).sum()):,} records have no truth row and are not scored")
    truth_ids = truth_ids.to_numpy()
    scored = ~pd.isna(truth_ids)

    rows: list[dict] = []  # type: ignore[type-arg]

    def add(name: str, labels: np.ndarray, timing: dict) -> None:  # type: ignore[type-arg]
        rows.append(evaluate(name, labels[scored], records.loc[scored].reset_index(drop=True),
                             truth_ids[scored], truth, orgs, timing))

    for name in [c.strip() for c in args.contestants.split(",") if c.strip()]:
        labels_path = out / f"labels-{name}.csv"
        if name == "ours":
            script = BENCH / "er_ours.py"
            if not script.exists():
                print(f"  skipping ours: {script.relative_to(ROOT)} does not exist yet")
                continue
            command = [python, str(script), "--input", str(out / "records.csv"), "--out", str(labels_path)]
        elif name == "splink":
            command = [str(ensure_splink_venv()), str(BENCH / "er_splink.py"), "--input", str(out / "records.csv"),
                       "--out", str(labels_path)]
            if args.splink_threshold is not None:
                command += ["--threshold", str(args.splink_threshold)]
            if args.sweep:
                command += ["--also-thresholds", args.sweep]
        else:
            print(f"  unknown contestant {name!r} (ours, splink)")
            continue
        try:
            result = run_contestant(name, command)
        except Exception as exc:  # keep the other contestants' figures
            print(f"  {name} failed: {exc}")
            continue
        print(f"  {name}: {json.dumps(result)}", flush=True)
        timing = {
            # with --sweep the extra clusterings inflate the wall time; the contestant's own total does not
            "seconds_total": result.get("seconds_total") if args.sweep else result["wall_seconds"],
            "seconds_total_reported": result.get("seconds_total"),
            "seconds_resolve": result.get("seconds_resolve"),
            "peak_mb": max(result.get("peak_rss_mb") or 0, result["rusage_peak_mb"]),
            "peak_mb_reported": result.get("peak_rss_mb"),
            "reported": result,
        }
        add(name, labels_for(labels_path, records), timing)
        for threshold, extra in (result.get("also") or {}).items():
            add(f"{name}@{threshold}", labels_for(Path(extra["path"]), records),
                {"seconds_total": None, "seconds_resolve": None, "peak_mb": None})

    if not args.no_baselines:
        for name, (labels, seconds) in baselines(records).items():
            add(name, labels, {"seconds_total": None, "seconds_resolve": seconds, "peak_mb": None})

    print()
    print_table(rows)
    print("\ncount err: (predicted - true initiatives) / true, all records; max unit err: largest |error| "
          "among units with 100+ true initiatives (each counts its descendants once, via geographic and "
          "sector parents); units >1%: how many of those exceed 1%.")
    results = {"records_requested": args.records, "seed": args.seed, "noise": args.noise, "dir": str(out),
               "rows": rows}
    if args.leave_one_out:
        contestants = [c.strip() for c in args.contestants.split(",") if c.strip() in ("ours", "splink")]
        loo = leave_one_out(args.loo_records, args.seed, python, args.reuse, contestants)
        print_loo(loo)
        results["leave_one_out"] = {"records": args.loo_records, "rows": loo}
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    print(f"written {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
