"""Benchmark: intake throughput and latency of `sangkien serve` on loopback.

    python bench/intake.py [--submissions 3000] [--clients 8] [--entries 20] [--db URL]

Starts `sangkien serve` as its own process on a fresh store (SQLite unless --db) with
the simulated national org tree, issues tokens for every province, and posts distinct
submissions (each a province's counts for --entries initiatives, hashed keys, plus its
unit rows) from --clients concurrent clients. Prints submissions/s and latency
percentiles; every reply must be 201. Target (issue 6): >= 300 submissions/s, p99 < 200 ms.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _payload(node: str, units: list[str], n: int, serial: int) -> dict:
    rnd = random.Random(serial)
    entries = [{"keys": [hashlib.sha256(f"{node}/{serial}/{i}".encode()).hexdigest()[:32]],
                "unit_code": rnd.choice(units), "phase": rnd.choice((1, 2)),
                "status": rnd.choice(("valid", "pending", "rejected")), "benefit_vnd": None, "records": 1,
                "people": [hashlib.sha256(f"p/{node}/{serial}/{i}".encode()).hexdigest()[:32]]} for i in range(n)]
    rows = [{"unit_code": node, "phase": p, "records": n, "initiatives": n, "valid": n // 2, "pending": n // 4,
             "rejected": n - n // 2 - n // 4, "ineligible": 0, "registrants": n, "benefit_vnd": 0.0,
             "duplicates_removed": 0} for p in (1, 2)]
    as_of = (dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=serial)).isoformat()
    return {"version": 1, "node": node, "as_of": as_of, "idempotency_key": f"{node}:bench:{serial:012d}",
            "units": rows, "initiatives": entries, "ineligible": []}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--entries", type=int, default=20, help="initiatives per submission")
    parser.add_argument("--db", help="store URL (default: a fresh SQLite file)")
    parser.add_argument("--port", type=int, default=8791)
    args = parser.parse_args()

    import pandas as pd

    from sandbox.generate import generate_world
    from sangkien.reference.orgs import load_orgs
    from sangkien.store import open_store
    from sangkien.store.nodes import add_child

    with tempfile.TemporaryDirectory() as tmp:
        world = Path(tmp) / "world"
        generate_world(world, 20_000, seed=1, noise="none")
        url = args.db or f"sqlite:///{Path(tmp) / 'national.db'}"
        engine = open_store(url)
        load_orgs(engine, world / "orgs.csv")
        orgs = pd.read_csv(world / "orgs.csv", dtype=str, keep_default_na=False)
        provinces = list(orgs.loc[orgs["kind"] == "province", "code"])
        parent = dict(zip(orgs["code"], orgs["parent_code"]))
        grassroots: dict[str, list[str]] = {p: [] for p in provinces}
        for code in orgs.loc[orgs["kind"] == "grassroots", "code"]:
            up = parent.get(code, "")
            while up and up not in grassroots:
                up = parent.get(up, "")
            if up:
                grassroots[up].append(code)
        provinces = [p for p in provinces if grassroots[p]]
        with engine.begin() as conn:
            tokens = {p: add_child(conn, p) for p in provinces}
        engine.dispose()
        server = subprocess.Popen([sys.executable, "-m", "sangkien.cli.main", "--db", url, "serve", "--port",
                                   str(args.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env={**os.environ})
        base = f"http://127.0.0.1:{args.port}"
        try:
            for _ in range(200):
                try:
                    requests.get(base + "/openapi.json", timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.1)
            bodies = []
            for i in range(args.submissions):
                node = provinces[i % len(provinces)]
                bodies.append((node, requests.models.complexjson.dumps(
                    _payload(node, grassroots[node], args.entries, i)).encode()))
            latencies: list[float] = []
            failures: list[str] = []
            lock = threading.Lock()
            cursor = iter(range(len(bodies)))

            def client() -> None:
                session = requests.Session()
                while True:
                    with lock:
                        i = next(cursor, None)
                    if i is None:
                        return
                    node, body = bodies[i]
                    started = time.perf_counter()
                    reply = session.post(base + "/api/v1/submissions", data=body, timeout=30,
                                         headers={"Authorization": f"Bearer {tokens[node]}",
                                                  "Content-Type": "application/json"})
                    took = time.perf_counter() - started
                    with lock:
                        latencies.append(took)
                        if reply.status_code != 201:
                            failures.append(f"{reply.status_code} {reply.text[:100]}")

            started = time.perf_counter()
            threads = [threading.Thread(target=client) for _ in range(args.clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(timeout=30)
    lat = sorted(latencies)

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000

    store_kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"{len(lat):,} submissions of {args.entries} initiatives from {args.clients} clients to `sangkien serve` "
          f"({store_kind}) in {elapsed:.1f} s: {len(lat) / elapsed:,.0f} submissions/s; latency p50 {pct(0.5):.1f} ms, "
          f"p95 {pct(0.95):.1f} ms, p99 {pct(0.99):.1f} ms, max {lat[-1] * 1000:.1f} ms; "
          f"{len(failures)} not 201{': ' + failures[0] if failures else ''}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
