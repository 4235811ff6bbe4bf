"""Benchmark: every dashboard page's queries at ~1M interactions; target p95 <= 300 ms per page.

    .venv/bin/python -m benchmarks.dashboard_queries [--store PATH] [--repeats 15]

Without --store it builds a mart-shaped store (benchmarks/dashboard_data.py) with ~1M raw interactions
(~500k user interactions in the journey mart). With --store it times an existing store (e.g. one made
by `mwdata demo`). Each page is timed as a user sees it: all its queries, through the dashboard's
snapshot store, cycling over four filter sets (default 30 days, 90 days, one department, platform +
route), after one warm-up pass.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from benchmarks import dashboard_data
from mwdata.read import drill, queries
from mwdata.read.drill import Drill
from mwdata.read.filters import Filters
from mwdata.read.snapshot import Store


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", help="an existing DuckDB store to time (default: build a synthetic one)")
    ap.add_argument("--schema", default="analytics")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--users", type=int, default=5000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--rate", type=float, default=0.45)
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory()
    path = Path(args.store) if args.store else Path(tmp.name) / "bench.duckdb"
    if not args.store:
        t0 = time.perf_counter()
        dashboard_data.build(path, users=args.users, days=args.days, conversations_per_user_day=args.rate)
        print(f"built synthetic store in {time.perf_counter() - t0:.1f} s")
    store = Store(path, snapshot_dir=Path(tmp.name) / "snaps")
    t0 = time.perf_counter()
    store.refresh()
    print(f"snapshot of {path.stat().st_size / 1e6:.0f} MB taken in {time.perf_counter() - t0:.2f} s")
    n = store.query("SELECT count(*) AS n FROM raw.interactions")["n"].iloc[0]
    j = store.query(f'SELECT count(*) AS n FROM "{args.schema}".moveworks__journey')["n"].iloc[0]
    print(f"raw interactions: {n:,}; journey rows (user interactions): {j:,}")

    bounds = queries.date_bounds(store, args.schema)
    assert bounds is not None
    lo, hi = bounds
    dept = queries.filter_options(store, args.schema)["department"][:1]
    sets = [
        Filters(hi - timedelta(days=29), hi),
        Filters(max(lo, hi - timedelta(days=89)), hi),
        Filters(hi - timedelta(days=29), hi, values={"department": tuple(dept)}),
        Filters(hi - timedelta(days=29), hi, values={"platform": ("slack",), "route": ("DM",)}),
    ]
    print("\n| page | queries p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|")
    worst = 0.0
    for name, page in queries.PAGES.items():
        for f in sets:  # warm-up
            page(store, f, args.schema)
        times = []
        for i in range(args.repeats):
            f = sets[i % len(sets)]
            t = time.perf_counter()
            page(store, f, args.schema)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        worst = max(worst, p95)
        print(f"| {name} | {statistics.median(times):.0f} | {p95:.0f} | {times[-1]:.0f} |")
    print(f"\nworst page p95: {worst:.0f} ms (target 300 ms)")
    drills(store, args.schema, sets, args.repeats)
    store.close()
    tmp.cleanup()


def drills(store: Store, schema: str, sets: list[Filters], repeats: int) -> None:
    """The drill-down page as a click opens it (the count, then up to 5,000 rows) and the journey
    explorer's searches, over the same filter sets."""
    plugin = queries.plugins(store, sets[0], schema)["plugins"]["plugin_name"].iloc[0]
    day = sets[0].end
    cases: dict[str, Callable[[Filters], object]] = {}
    for name, d in {
        "drill: conversations (overview tile)": Drill("conversations", "conversations"),
        "drill: escalated conversations on a day": Drill(
            "conversations", "escalated", drill.segment(("day", day))
        ),
        "drill: used calls of the top plugin": Drill(
            "plugin_calls", "used", drill.segment(("plugin", plugin))
        ),
        "drill: active users (grouped)": Drill("users", "active_users"),
        "drill: interactions (overview tile)": Drill("interactions", "interactions"),
    }.items():
        cases[name] = lambda f, d=d: (d.count(store, f, schema), d.rows(store, f, schema))
    cases["journey: list, no search"] = lambda f: drill.conversations(store, f, schema, drill.Search())
    cases["journey: e-mail + outcome"] = lambda f: drill.conversations(
        store, f, schema, drill.Search(email="user1", outcomes=("escalated",))
    )
    cases["journey: plugin + topic"] = lambda f: drill.conversations(
        store, f, schema, drill.Search(plugin=plugin, topic="vpn")
    )
    print("\n| drill-down / journey | p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|")
    for name, run in cases.items():
        for f in sets:
            run(f)
        times = []
        for i in range(repeats):
            t = time.perf_counter()
            run(sets[i % len(sets)])
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        print(f"| {name} | {statistics.median(times):.0f} | {p95:.0f} | {times[-1]:.0f} |")


if __name__ == "__main__":
    main()
