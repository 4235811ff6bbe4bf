"""Benchmark: full `mwdata build` (models + every data test) time and peak memory at a given size.

    python -m benchmarks.build_time 1000000 3   # ~interactions, number of builds (each in a fresh process)
    python -m benchmarks.build_time 1000000 1 /tmp/built.duckdb   # and keep the built store

A base dataset from the test generator (tests/metrics/gen.py) is replicated in SQL with suffixed ids
(foreign keys suffixed alike), so every copy is a distinct, consistent tenant slice. Peak memory is
the max RSS of a fresh process that only builds (dbt and DuckDB run in-process). Prints one JSON line.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from mwdata.catalog import ENTITIES
from mwdata.config import Config
from mwdata.metrics.exports import build
from mwdata.store.schema import raw_columns
from tests.metrics.gen import generate
from tests.transform.fixtures import load_duckdb

ID_COLUMNS = {"id", "conversation_id", "interaction_id", "plugin_call_id", "parent_interaction_id", "user_id"}


def make_store(path: Path, interactions: int) -> int:
    base = generate(11, users=300, days=30)
    load_duckdb(path, base.records)
    con = duckdb.connect(str(path))
    try:
        n0 = con.execute("SELECT count(*) FROM raw.interactions").fetchone()[0]  # type: ignore[index]
        copies = max(1, round(interactions / n0))
        con.execute("CREATE TABLE k AS SELECT range AS k FROM range(1, ?)", [copies])
        for e in ENTITIES:
            cols = [c for c, _ in raw_columns(e)]
            sel = ", ".join(
                f'CASE WHEN "{c}" IS NULL THEN NULL ELSE "{c}" || \'_\' || k END'
                if c in ID_COLUMNS
                else f'"{c}"'
                for c in cols
            )
            con.execute(f'INSERT INTO raw."{e.table}" SELECT {sel} FROM raw."{e.table}", k')
        con.execute("DROP TABLE k")
        total = con.execute("SELECT count(*) FROM raw.interactions").fetchone()[0]  # type: ignore[index]
        con.execute("CHECKPOINT")
        return int(total)
    finally:
        con.close()


def measure(db: Path) -> dict[str, object]:
    """Build once in this process (a fresh one: peak RSS is the build's alone)."""
    t = time.perf_counter()
    result = build(Config(store=str(db)))
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"build_seconds": round(seconds, 1), "peak_rss_mb": round(peak / 1024), "errors": len(result.errors),
            "summary": result.summary}  # fmt: skip


def main(interactions: int, runs: int = 1, keep: Path | None = None) -> None:
    """`keep`: build the store there and leave it (e.g. for `benchmarks.dashboard_queries --store`)."""
    with tempfile.TemporaryDirectory() as d:
        db = keep or Path(d) / "bench.duckdb"
        rows = make_store(db, interactions)
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.build_time", "--build-only", str(db)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            print(
                json.dumps({"interactions": rows, **json.loads(out.stdout.strip().splitlines()[-1])}),
                flush=True,
            )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--build-only"]:
        print(json.dumps(measure(Path(sys.argv[2]))))
    else:
        keep = Path(sys.argv[3]) if len(sys.argv) > 3 else None
        main(
            int(sys.argv[1]) if len(sys.argv) > 1 else 100_000,
            int(sys.argv[2]) if len(sys.argv) > 2 else 1,
            keep,
        )
