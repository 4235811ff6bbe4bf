"""Simulator size and speed: generation time, load time, resident memory, and serving rate (rows/s for
1,000-row pages over HTTP keep-alive, httpx), medians of runs.

    .venv/bin/python benchmarks/simulator_serve.py --users 17000 --days 30 --rate 0.6 --runs 3

Two query shapes: keyset (`last_updated_time` window + `id gt`, `$orderby=id`, what mwdata's sync sends)
and the server's own `$skiptoken` links. Memory is this process's VmRSS (now) and VmHWM (peak) from
/proc: the generated dataset plus the server, i.e. what `mwdata simulate` holds.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from mwdata.simulator import GeneratorConfig, SimulatorConfig, SimulatorServer, generate


def keyset(c: httpx.Client, url: str) -> int:
    n, after = 0, ""
    while True:
        flt = "last_updated_time ge '2000-01-01T00:00:00Z' and last_updated_time lt '2100-01-01T00:00:00Z'"
        if after:
            flt += f" and id gt '{after}'"
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=20000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--rate", type=float, default=0.6, help="conversations per user per day")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    t = time.perf_counter()
    ds = generate(GeneratorConfig(seed=1, users=a.users, days=a.days, conversations_per_user_per_day=a.rate,
                                  end=datetime(2026, 11, 28, tzinfo=UTC)))  # fmt: skip
    gen_s = time.perf_counter() - t
    t = time.perf_counter()
    sim = SimulatorServer(ds, SimulatorConfig(page_size=1000, max_top=1000, retention_days=3650))
    count = getattr(sim, "count", None)  # the compact server indexes on first use: count that in
    for path in ds.records:
        count(path) if count else len(sim.truth(path))
    load_s = time.perf_counter() - t
    with sim, httpx.Client(headers={"Authorization": sim.api_key}, timeout=120) as c:
        url = f"{sim.records_url}/interactions"
        total = count("interactions") if count else len(sim.truth("interactions"))
        rss, peak = rss_mb()
        print(
            f"interactions served: {total:,}  generate {gen_s:.1f}s  load {load_s:.1f}s  "
            f"RSS {rss:,.0f} MB (peak {peak:,.0f} MB) = {rss / total * 1e6:,.0f} MB per million interactions"
        )
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
        rss, peak = rss_mb()
        print(f"after serving: RSS {rss:,.0f} MB (peak {peak:,.0f} MB)")


if __name__ == "__main__":
    main()
