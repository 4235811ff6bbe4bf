"""Sync into PostgreSQL through dlt vs into DuckDB, side by side, from the simulator.

    MWDATA_TEST_PG_DSN=postgresql://postgres@127.0.0.1:55432/postgres \\
    .venv/bin/python -m benchmarks.sync_warehouse --users 21000 --days 30 --runs 3

This process generates a tenant with the simulator (`mwdata.simulator`) and serves it on loopback;
each contender is `mwdata.sync.pipeline.sync()` of the `interactions` entity in its own child process
(its peak RSS, VmHWM, is its own; the PostgreSQL server's memory is not in it), into a fresh
DuckDB file or a fresh PostgreSQL database (created from MWDATA_TEST_PG_DSN, dropped after). After each
run the store is checked: one row per id, as many rows as the simulator serves. Prints one JSON line
per run and the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ENTITY = "interactions"


def child(store: str, url: str, key: str, now: str, workers: int, batch: int, page: int) -> dict[str, Any]:
    from mwdata.config import ApiConfig, Config, Secret, SyncConfig
    from mwdata.sync.pipeline import sync
    from mwdata.sync.runner import SyncOptions

    cfg = Config(
        store=store,
        api=ApiConfig(base_url=url, api_key=Secret(key), requests_per_minute=0, page_size=page),
        sync=SyncConfig(entities=(ENTITY,), workers=workers, batch_size=batch, window_hours=24),
    )
    t0 = time.perf_counter()
    r = sync(cfg, SyncOptions(now=datetime.fromisoformat(now)))
    seconds = time.perf_counter() - t0
    if not r.ok:
        raise SystemExit(f"sync failed: {r.first_error()}")
    return {"rows": r.rows, "seconds": seconds, "rows_per_s": r.rows / seconds, "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM). Not `ru_maxrss`: Linux carries a parent's peak across
    fork + exec into the child's, and the parent here holds the whole simulated tenant."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def count(store: str) -> tuple[int, int]:
    """(rows, distinct ids) of raw.interactions."""
    sql = "SELECT count(*), count(DISTINCT id) FROM raw.interactions"
    if store.startswith("postgresql://"):
        import psycopg2

        con = psycopg2.connect(store)
        try:
            with con.cursor() as cur:
                cur.execute(sql)
                n, d = cur.fetchone() or (0, 0)
        finally:
            con.close()
        return int(n), int(d)
    import duckdb

    c = duckdb.connect(store, read_only=True)
    try:
        n, d = c.execute(sql).fetchone() or (0, 0)
    finally:
        c.close()
    return int(n), int(d)


def run_child(kind: str, store: str, sim: Any, a: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.sync_warehouse", "--child", store, "--url", sim.base_url]
    cmd += ["--now", sim.now().isoformat(), "--workers", str(a.workers), "--batch", str(a.batch)]
    cmd += ["--page", str(a.page)]
    env = {**os.environ, "MWDATA_BENCH_KEY": sim.api_key}
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if out.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{out.stderr[-3000:]}")
    res = dict(json.loads(out.stdout.strip().splitlines()[-1]))
    rows, ids = count(store)
    served = len(sim.truth(ENTITY))
    if not rows == ids == served:
        raise SystemExit(f"{kind}: {rows} rows, {ids} ids stored, {served} served")
    return {"kind": kind, **res, "stored": rows}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=21000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--rate", type=float, default=0.6, help="conversations per user per day")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--contenders", default="duckdb,postgres")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=5000, help="[sync] batch_size (the default)")
    ap.add_argument("--page", type=int, default=1000)
    ap.add_argument("--child")
    ap.add_argument("--url")
    ap.add_argument("--now")
    a = ap.parse_args()
    if a.child:
        key = os.environ["MWDATA_BENCH_KEY"]
        print(json.dumps(child(a.child, a.url, key, a.now, a.workers, a.batch, a.page)))
        return

    import psycopg2

    from mwdata.simulator import GeneratorConfig, SimulatorConfig, SimulatorServer, generate

    dsn = os.environ.get("MWDATA_TEST_PG_DSN")
    kinds = a.contenders.split(",")
    if "postgres" in kinds and not dsn:
        raise SystemExit(
            "set MWDATA_TEST_PG_DSN to a PostgreSQL server (trust auth) for the postgres contender"
        )
    t = time.perf_counter()
    gen = GeneratorConfig(
        seed=1, users=a.users, days=a.days, conversations_per_user_per_day=a.rate,
        end=datetime(2026, 11, 28, tzinfo=UTC),
    )  # fmt: skip
    ds = generate(gen)
    sim = SimulatorServer(ds, SimulatorConfig(page_size=1000, max_top=1000, retention_days=3650))
    results: dict[str, list[dict[str, Any]]] = {}
    with sim, tempfile.TemporaryDirectory(prefix="mwdata-bench-") as tmp:
        served = len(sim.truth(ENTITY))
        print(json.dumps({"interactions": served, "setup_s": round(time.perf_counter() - t, 1)}), flush=True)
        for i in range(a.runs):
            for kind in kinds:  # interleaved, so both meet the same machine load
                if kind == "duckdb":
                    res = run_child(kind, str(Path(tmp) / f"d{i}.duckdb"), sim, a)
                else:
                    assert dsn is not None
                    db = f"mwdata_bench_{uuid.uuid4().hex[:8]}"
                    admin = psycopg2.connect(dsn)
                    admin.autocommit = True
                    with admin.cursor() as cur:
                        cur.execute(f"CREATE DATABASE {db}")
                    try:
                        res = run_child(kind, dsn.rsplit("/", 1)[0] + "/" + db, sim, a)
                    finally:
                        with admin.cursor() as cur:
                            cur.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
                        admin.close()
                results.setdefault(kind, []).append(res)
                print(json.dumps(res), flush=True)
    med = {
        k: {f: round(statistics.median(r[f] for r in v), 1) for f in ("seconds", "rows_per_s", "peak_rss_mb")}
        for k, v in results.items()
    }
    print(json.dumps({"interactions": served, "runs": a.runs, "median": med}))


if __name__ == "__main__":
    main()
