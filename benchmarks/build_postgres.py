"""Benchmark: full `mwdata build` (models + every data test) on a PostgreSQL store, by tenant size.

    MWDATA_TEST_PG_DSN=postgresql://postgres@127.0.0.1:55432/postgres \
        python -m benchmarks.build_postgres 100 300 1000 3000    # users, 30 days each

Each size is a fresh database filled with a generated tenant (tests/metrics/gen.py) and built once
(dbt's parse kept from the first size). Shows how the build grows with the raw rows: linear once
the planner sees real row counts (docs/DECISIONS.md, "Staging is a table outside DuckDB").
Prints one JSON line per size.
"""

from __future__ import annotations

import json
import sys
import time

from mwdata.config import Config
from mwdata.metrics.exports import build
from tests.metrics.gen import generate
from tests.transform.test_postgres import _database


def main(sizes: list[int]) -> None:
    for users in sizes:
        ds = generate(11, users=users, days=30)
        with _database(ds.records) as dsn:
            t = time.perf_counter()
            result = build(Config(store=dsn))
            seconds = time.perf_counter() - t
        print(json.dumps({
            "users": users, "interactions": len(ds.records["interactions"]),
            "build_s": round(seconds, 1), "errors": len(result.errors), "nodes": len(result.results),
        }), flush=True)  # fmt: skip


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 300, 1000])
