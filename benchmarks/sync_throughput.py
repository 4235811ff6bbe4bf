"""Sync throughput side by side: (a) raw ceiling, (b) dlt rest_api peer, (c) mwdata; plus incremental.

    .venv/bin/python -m benchmarks.sync_throughput --rows 1000000 [--rows 2000000] [--contenders ...]

Every contender runs in its own child process (its peak RSS is its own) against the same static
interaction-shaped endpoint (`benchmarks/sync_server.py`, in a third process) at zero latency.
(a) reads the same windows as mwdata with mwdata's client (fetch + JSON parse) and stores nothing;
(b) follows the server's next links with dlt's `rest_api` source into DuckDB (Parquet, merge on id);
(c) is `mwdata.sync.pipeline.sync()` into a fresh DuckDB file. Then an incremental mwdata run after
1 % of the rows were re-emitted (server restarted with those rows re-stamped, clock +1 h).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.sync_server import API_KEY, BenchServer, default_now

ENTITY = "interactions"


def child(
    kind: str, url: str, store: str, now: str, workers: int, batch: int, page: int, lookback: float = 72.0
) -> dict[str, Any]:
    t0 = time.perf_counter()
    rows = 0
    extra: dict[str, Any] = {}
    if kind == "ceiling":
        from concurrent.futures import ThreadPoolExecutor

        from mwdata.api.client import ApiClient, RequestStats
        from mwdata.catalog import entity
        from mwdata.config import ApiConfig, Secret
        from mwdata.store.base import EntityState
        from mwdata.sync.plan import plan_entity

        e = entity(ENTITY)
        upper = datetime.fromisoformat(now)
        windows = plan_entity(
            EntityState(ENTITY, None, []), upper=upper, window_hours=24, lookback_hours=0
        ).windows
        cfg = ApiConfig(base_url=url, api_key=Secret(API_KEY), requests_per_minute=0, page_size=page)
        stats = RequestStats()
        with ApiClient(cfg, max_connections=workers + 2) as c:

            def read(w: Any) -> int:
                return sum(len(p.records) for p in c.window_pages(e, w.lo, w.hi, None, stats))

            with ThreadPoolExecutor(workers) as pool:
                rows = sum(pool.map(read, windows))
    elif kind == "peer":
        from benchmarks.peers.dlt_rest_api import run_peer

        rows = run_peer(url, API_KEY, ENTITY, Path(store), page_size=page)["rows"]
    elif kind in ("mwdata", "incremental"):
        from mwdata.config import ApiConfig, Config, Secret, SyncConfig
        from mwdata.sync.pipeline import sync
        from mwdata.sync.runner import SyncOptions

        cfg = Config(
            store=store,
            api=ApiConfig(base_url=url, api_key=Secret(API_KEY), requests_per_minute=0, page_size=page),
            sync=SyncConfig(entities=(ENTITY,), workers=workers, batch_size=batch, lookback_hours=lookback),
        )
        r = sync(cfg, SyncOptions(now=datetime.fromisoformat(now)))
        if not r.ok:
            raise SystemExit(f"sync failed: {r.first_error()}")
        rows = r.rows
        extra["requests"] = sum(e.stats.requests for e in r.entities)
    seconds = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "kind": kind,
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "peak_rss_mb": rss,
        **extra,
    }


def run_child(kind: str, url: str, store: Path, now: datetime, a: argparse.Namespace) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.sync_throughput",
        "--child",
        kind,
        "--url",
        url,
        "--store",
        str(store),
    ]
    cmd += [
        "--now",
        now.isoformat(),
        "--workers",
        str(a.workers),
        "--batch",
        str(a.batch),
        "--page",
        str(a.page),
    ]
    cmd += ["--lookback", str(a.lookback)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, action="append")
    ap.add_argument("--contenders", default="ceiling,peer,mwdata,incremental")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=20000)
    ap.add_argument("--page", type=int, default=1000)
    ap.add_argument("--lookback", type=float, default=72.0, help="[sync] lookback_hours of mwdata's runs")
    ap.add_argument("--child")
    ap.add_argument("--url")
    ap.add_argument("--store")
    ap.add_argument("--now")
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child, a.url, a.store, a.now, a.workers, a.batch, a.page, a.lookback)))
        return
    kinds = a.contenders.split(",")
    for n in a.rows or [1_000_000]:
        now = default_now()
        results: dict[str, list[dict[str, Any]]] = {}
        with tempfile.TemporaryDirectory(prefix="mwdata-bench-") as tmp:
            with BenchServer(n, now) as srv:
                for i in range(a.repeat):
                    for kind in (k for k in kinds if k != "incremental"):
                        store = Path(tmp) / f"{kind}-{i}.duckdb"
                        results.setdefault(kind, []).append(run_child(kind, srv.base_url, store, now, a))
                        print(json.dumps({"rows": n, **results[kind][-1]}), flush=True)
            if "incremental" in kinds and "mwdata" in kinds:
                with BenchServer(n, now, changed=0.01) as srv:
                    for i in range(a.repeat):
                        store = Path(tmp) / f"mwdata-{i}.duckdb"
                        res = run_child("incremental", srv.base_url, store, now + timedelta(hours=1), a)
                        results.setdefault("incremental", []).append(res)
                        print(json.dumps({"rows": n, **res}), flush=True)
        med = {
            k: {f: statistics.median(r[f] for r in v) for f in ("seconds", "rows_per_s", "peak_rss_mb")}
            for k, v in results.items()
        }
        print(json.dumps({"rows": n, "median": med}))


if __name__ == "__main__":
    main()
