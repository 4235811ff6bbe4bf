"""Benchmark: what the metric layer (dbt semantic layer + MetricFlow-compiled queries) costs.

    python -m benchmarks.metric_layer 100000 3   # ~interactions, builds per variant (0: query timings only)

1. `mwdata build` on the same store with the packaged project and with a copy of it without
   `models/semantic/` (no semantic models, metrics, time spine): each build in a fresh process.
2. On the built store: MetricFlow's import + engine start-up, the first compile of a query shape,
   a cached call's overhead, and each metric's query time (value over 30 days; week series by
   department), medians of 5 runs. Prints JSON lines.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import duckdb

from benchmarks.build_time import make_store


def _build(db: Path, without_semantic: bool) -> float:
    code = (
        "import sys, time, shutil, tempfile; from pathlib import Path\n"
        "from mwdata.config import Config\n"
        "import mwdata.transform.runner as r\n"
        "if sys.argv[2] == '1':\n"
        "    d = Path(tempfile.mkdtemp()) / 'p'; shutil.copytree(r.PROJECT_DIR, d)\n"
        "    shutil.rmtree(d / 'models' / 'semantic'); r.PROJECT_DIR = d\n"
        "t = time.perf_counter(); res = r.build(Config(store=sys.argv[1]))\n"
        "assert not res.errors, res.errors\n"
        "print(time.perf_counter() - t)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(db), "1" if without_semantic else "0"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def _median_ms(fn: object, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(times), 1)


def queries(db: Path) -> None:
    t = time.perf_counter()
    from mwdata.metrics import load_registry, query, value
    from mwdata.metrics.query import _engine, compiled

    imported = time.perf_counter() - t
    t = time.perf_counter()
    _engine("duckdb", "analytics")
    engine = time.perf_counter() - t
    with duckdb.connect(str(db), read_only=True) as con:
        last = con.execute("SELECT max(date_day) FROM analytics.moveworks__journey").fetchone()[0]  # type: ignore[index]
        since = last - timedelta(days=29)
        compiled.cache_clear()
        t = time.perf_counter()
        value(con, "escalation_rate", since, last)
        first = time.perf_counter() - t
        print(json.dumps({"import_s": round(imported, 2), "engine_start_s": round(engine, 3),
                          "first_query_s": round(first, 3)}), flush=True)  # fmt: skip
        rows = []
        for m in load_registry():
            compiled.cache_clear()
            t = time.perf_counter()
            value(con, m.name, since, last)
            cold = (time.perf_counter() - t) * 1000
            warm = _median_ms(lambda m=m: value(con, m.name, since, last))
            grain = "day" if m.kind == "bundle" else "week"
            by = ["department"] if "department" in m.dimensions else []
            series = _median_ms(
                lambda m=m, grain=grain, by=by: query(
                    con, m.name, grain=grain, by=by, since=since, until=last
                )
            )
            rows.append(warm)
            print(json.dumps({"metric": m.name, "cold_ms": round(cold, 1), "value_ms": warm,
                              f"series_{grain}_by_department_ms": series}), flush=True)  # fmt: skip
        print(json.dumps({"value_ms_median": statistics.median(rows), "value_ms_max": max(rows)}), flush=True)


def main(interactions: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "bench.duckdb"
        rows = make_store(db, interactions)
        base = Path(d) / "base.duckdb"
        shutil.copy(db, base)
        times: dict[str, list[float]] = {"without semantic layer": [], "with semantic layer": []}
        for _ in range(runs):  # interleaved: the machine's noise hits both variants alike
            for variant, without in (("without semantic layer", True), ("with semantic layer", False)):
                shutil.copy(base, db)
                times[variant].append(_build(db, without))
        if runs == 0:  # the query timings only
            _build(db, without_semantic=False)
        for variant, ts in times.items():
            if not ts:
                continue
            print(json.dumps({"interactions": rows, "variant": variant, "build_s": [round(x, 1) for x in ts],
                              "median_s": round(statistics.median(ts), 1)}), flush=True)  # fmt: skip
        queries(db)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 3)
