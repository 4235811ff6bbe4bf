"""Sync throughput side by side: (a) raw ceiling, (b) dlt rest_api peer, (c) mwdata; plus incremental.

    .venv/bin/python -m benchmarks.sync_throughput --rows 1000000 [--rows 2000000] [--contenders ...]

Every contender runs in its own child process (its peak RSS, VmHWM, is its own) against the same server
in a third process at zero latency: the simulator (`mwdata.simulator`, default; `--users` users over
`--days` days, seed 1) or, with `--server static`, the static endpoint of `benchmarks/sync_server.py`
(`--rows` rows).
(a) reads the same windows as mwdata with mwdata's client (fetch + JSON parse) and stores nothing;
(b) follows the server's next links with dlt's `rest_api` source into DuckDB (Parquet, merge on id);
(c) is `mwdata.sync.pipeline.sync()` into a fresh DuckDB file. Then an incremental mwdata run after
1 % of the rows were re-emitted (the simulator's `reemit` at its clock, then the clock +1 h; the static
server is restarted with those rows re-stamped).

`--baseline SRC` adds `baseline` and `baseline-incremental`: the same two runs with the mwdata package
of another checkout (e.g. `git worktree add /tmp/before <commit>`, then `--baseline /tmp/before/src`),
interleaved with this checkout's in every repeat, so before and after meet the same machine load.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.sync_server import API_KEY, BenchServer, default_now

SIM_END = datetime(2026, 11, 28, tzinfo=UTC)

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
    elif kind in ("mwdata", "incremental", "baseline", "baseline-incremental"):
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
    rss = peak_rss_mb()
    return {
        "kind": kind,
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "peak_rss_mb": rss,
        **extra,
    }


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM; `ru_maxrss` can carry a parent's peak across fork + exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _simulator_process(conn: Any, users: int, days: int) -> None:
    """The simulator in its own process: generate, serve, then obey 'reemit' / 'stop' from the pipe."""
    from mwdata.simulator import GeneratorConfig, SimulatorConfig, SimulatorServer, generate

    ds = generate(
        GeneratorConfig(seed=1, users=users, days=days, conversations_per_user_per_day=0.6, end=SIM_END)
    )
    cfg = SimulatorConfig(api_keys={API_KEY: None}, page_size=1000, max_top=1000, retention_days=3650)
    sim = SimulatorServer(ds, cfg)
    del ds
    with sim:
        conn.send((sim.base_url, len(sim.truth(ENTITY)), sim.now().isoformat(), peak_rss_mb()))
        while True:
            msg = conn.recv()
            if msg == "reemit":
                changed = len(sim.reemit(ENTITY, 0.01, seed=1))
                conn.send((changed, sim.advance(hours=1).isoformat()))
            else:
                return


class SimProcess:
    def __init__(self, users: int, days: int) -> None:
        self.parent, child = mp.Pipe()
        self.proc = mp.get_context("fork").Process(target=_simulator_process, args=(child, users, days))

    def __enter__(self) -> SimProcess:
        self.proc.start()
        self.base_url, self.rows, now, self.rss = self.parent.recv()
        self.now = datetime.fromisoformat(now)
        return self

    def reemit(self) -> tuple[int, datetime]:
        self.parent.send("reemit")
        changed, now = self.parent.recv()
        return int(changed), datetime.fromisoformat(now)

    def __exit__(self, *exc: object) -> None:
        self.parent.send("stop")
        self.proc.join(30)


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
    env = dict(os.environ)
    if kind.startswith("baseline"):
        env["PYTHONPATH"] = os.pathsep.join([a.baseline, str(Path(__file__).resolve().parent.parent)])
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if out.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", choices=("simulator", "static"), default="simulator")
    ap.add_argument("--users", type=int, action="append", help="simulator tenant size (21000 ~ 1.17M rows)")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--rows", type=int, action="append", help="static server rows")
    ap.add_argument("--contenders", default="ceiling,peer,mwdata,incremental")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=20000)
    ap.add_argument("--page", type=int, default=1000)
    ap.add_argument("--lookback", type=float, default=72.0, help="[sync] lookback_hours of mwdata's runs")
    ap.add_argument("--baseline", help="src folder of another checkout: its mwdata runs beside this one")
    ap.add_argument("--child")
    ap.add_argument("--url")
    ap.add_argument("--store")
    ap.add_argument("--now")
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child, a.url, a.store, a.now, a.workers, a.batch, a.page, a.lookback)))
        return
    kinds = a.contenders.split(",")
    if a.baseline:
        kinds += ["baseline", "baseline-incremental"] if "incremental" in kinds else ["baseline"]
    if a.server == "simulator":
        for users in a.users or [21000]:
            results: dict[str, list[dict[str, Any]]] = {}
            with tempfile.TemporaryDirectory(prefix="mwdata-bench-") as tmp, SimProcess(users, a.days) as sim:
                n = sim.rows
                print(
                    json.dumps({"server": "simulator", "users": users, "rows": n, "server_rss_mb": sim.rss})
                )
                for i in range(a.repeat):
                    for kind in (k for k in kinds if not k.endswith("incremental")):
                        store = Path(tmp) / f"{kind}-{i}.duckdb"
                        results.setdefault(kind, []).append(run_child(kind, sim.base_url, store, sim.now, a))
                        print(json.dumps({"rows": n, **results[kind][-1]}), flush=True)
                if "incremental" in kinds and "mwdata" in kinds:
                    changed, later = sim.reemit()
                    for i in range(a.repeat):  # each copy of the backfill gets the same incremental run
                        for kind in (k for k in kinds if k.endswith("incremental")):
                            backfill = "baseline" if kind.startswith("baseline") else "mwdata"
                            copy = Path(tmp) / f"{kind}-{i}.duckdb"
                            copy.write_bytes((Path(tmp) / f"{backfill}-{i}.duckdb").read_bytes())
                            res = run_child(kind, sim.base_url, copy, later, a)
                            results.setdefault(kind, []).append({**res, "changed": changed})
                            print(json.dumps({"rows": n, **results[kind][-1]}), flush=True)
            _medians(n, results)
        return
    for n in a.rows or [1_000_000]:
        now = default_now()
        results = {}
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
        _medians(n, results)


def _medians(n: int, results: dict[str, list[dict[str, Any]]]) -> None:
    med = {
        k: {f: statistics.median(r[f] for r in v) for f in ("seconds", "rows_per_s", "peak_rss_mb")}
        for k, v in results.items()
    }
    print(json.dumps({"rows": n, "runs": {k: len(v) for k, v in results.items()}, "median": med}))


if __name__ == "__main__":
    main()
