"""Simulator size and speed: generation time, load time, resident memory, and serving rate (rows/s for
1,000-row pages over HTTP keep-alive, httpx), medians of runs.

    .venv/bin/python benchmarks/simulator_serve.py --users 25000 --days 30 --rate 0.6 --runs 3

The simulator runs in its own process (as `mwdata simulate` does and as the sync benchmarks run it), so
the client's JSON parsing does not share its interpreter lock. Two query shapes: keyset
(`last_updated_time` window + `id gt`, `$orderby=id`, what mwdata's sync sends) and the server's own
`$skiptoken` links. Memory is the simulator process's VmRSS (now) and VmHWM (peak): the generated
dataset plus the server. `server ms/page` is the simulator's own time to answer a keyset page (in
process, no HTTP, no client parsing): what the server could serve with a faster client.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

WINDOW = "last_updated_time ge '2000-01-01T00:00:00Z' and last_updated_time lt '2100-01-01T00:00:00Z'"


def keyset(c: httpx.Client, url: str) -> int:
    n, after = 0, ""
    while True:
        flt = WINDOW + (f" and id gt '{after}'" if after else "")
        rows = c.get(url, params={"$filter": flt, "$orderby": "id", "$top": "1000"}).json().get("value", [])
        n += len(rows)
        if len(rows) < 1000:
            return n
        after = rows[-1]["id"]


def skiptoken(c: httpx.Client, url: str) -> int:
    n, nxt = 0, url
    while nxt:
        body = c.get(nxt).json()
        n += len(body.get("value", []))
        nxt = body.get("@odata.nextLink")
    return n


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set of this process in MB."""
    vals = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM"):
            vals[k] = int(v.split()[0]) / 1024
    return vals["VmRSS"], vals["VmHWM"]


def server_page_ms(sim: Any, pages: int = 200) -> float:
    """Median time of the simulator's own answer to a keyset page (ids taken from its index)."""
    ids = [r["id"] for r in sim.truth("interactions")[: pages * 1000 : 1000]]
    times = []
    for after in ids:
        q = urlencode({"$filter": f"{WINDOW} and id gt '{after}'", "$orderby": "id", "$top": "1000"})
        t = time.perf_counter()
        sim.answer("/export/v1beta2/records/interactions", q, sim.api_key)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def _serve(conn: Any, users: int, days: int, rate: float) -> None:
    from mwdata.simulator import GeneratorConfig, SimulatorConfig, SimulatorServer, generate

    t = time.perf_counter()
    ds = generate(GeneratorConfig(seed=1, users=users, days=days, conversations_per_user_per_day=rate,
                                  end=datetime(2026, 11, 28, tzinfo=UTC)))  # fmt: skip
    gen_s = time.perf_counter() - t
    t = time.perf_counter()
    sim = SimulatorServer(ds, SimulatorConfig(page_size=1000, max_top=1000, retention_days=3650))
    count = getattr(sim, "count", None)  # the compact server indexes on first use: count that in
    for path in ds.records:
        count(path) if count else len(sim.truth(path))
    total = count("interactions") if count else len(sim.truth("interactions"))
    load_s = time.perf_counter() - t
    with sim:
        conn.send((sim.records_url, sim.api_key, total, gen_s, load_s, *rss_mb()))
        conn.recv()  # the client is done
        conn.send((*rss_mb(), server_page_ms(sim)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=25000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--rate", type=float, default=0.6, help="conversations per user per day")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    parent, child = mp.Pipe()
    proc = mp.get_context("fork").Process(target=_serve, args=(child, a.users, a.days, a.rate))
    proc.start()
    records_url, key, total, gen_s, load_s, rss, peak = parent.recv()
    print(f"interactions served: {total:,}  generate {gen_s:.1f}s  load + index {load_s:.1f}s  "
          f"simulator RSS {rss:,.0f} MB (peak {peak:,.0f} MB) = {rss / total * 1e6:,.0f} MB per million")  # fmt: skip
    with httpx.Client(headers={"Authorization": key}, timeout=120) as c:
        url = f"{records_url}/interactions"
        for name, fn in (("keyset", keyset), ("skiptoken", skiptoken)):
            rates = []
            for _ in range(a.runs):
                t = time.perf_counter()
                n = fn(c, url)
                rates.append(n / (time.perf_counter() - t))
                assert n == total, (n, total)
            print(
                f"{name:<10} median {statistics.median(rates):>10,.0f} rows/s  runs {[round(r) for r in rates]}"
            )
    parent.send("done")
    rss, peak, page_ms = parent.recv()
    proc.join()
    print(f"after serving: simulator RSS {rss:,.0f} MB (peak {peak:,.0f} MB); "
          f"server {page_ms:.2f} ms per keyset page = {1000 / page_ms * 1000:,.0f} rows/s before HTTP")  # fmt: skip


if __name__ == "__main__":
    main()
