"""Simulator serving throughput: rows/s for 1,000-row pages over HTTP keep-alive (httpx), medians of runs.

    .venv/bin/python benchmarks/simulator_serve.py --users 20000 --days 30 --runs 3

Two query shapes: keyset (`last_updated_time` window + `id gt`, `$orderby=id`, what mwdata's sync sends)
and the server's own `$skiptoken` links.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime

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
    load_s = time.perf_counter() - t
    with sim, httpx.Client(headers={"Authorization": sim.api_key}, timeout=120) as c:
        url = f"{sim.records_url}/interactions"
        total = len(sim.truth("interactions"))
        print(f"interactions served: {total:,}  generate {gen_s:.1f}s  load+serialise {load_s:.1f}s")
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


if __name__ == "__main__":
    main()
