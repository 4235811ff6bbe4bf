"""Benchmark: full `mwdata build` (models + every data test) time and peak memory at a given size.

    python -m benchmarks.build_time 1000000 3   # ~interactions, number of builds (each in a fresh process)
    python -m benchmarks.build_time 1000000 1 /tmp/built.duckdb   # and keep the built store
    python -m benchmarks.build_time --nightly 1000000 3   # full builds vs nightly incremental builds

`--nightly`: on the same store, `runs` full builds (`--full-refresh`), then `runs` nights, each one
simulated day of change (`day_of_change`: a new day of conversations with all their rows, re-emitted
plugin calls and resources across the whole history, the users entity re-read for the day's active
users) followed by an incremental `mwdata build`. Each build in a fresh process; its phases are timed
(dbt models, the semantic layer's exports, the data tests).

A base dataset from the test generator (tests/metrics/gen.py) is replicated in SQL with suffixed ids
(foreign keys suffixed alike), so every copy is a distinct, consistent tenant slice. Peak memory is
the max RSS of a fresh process that only builds (dbt and DuckDB run in-process). Prints one JSON line.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import duckdb

from mwdata.catalog import ENTITIES
from mwdata.config import Config
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


def day_of_change(path: Path, night: int) -> dict[str, int]:
    """One simulated day of change, synced `night` days after the store's newest row: the newest day
    of conversations copied (new ids, one day later) with their interactions, plugin calls and
    resources; 0.2 % of all plugin calls and resources re-emitted changed (late rows for conversations
    of the whole history); the users with activity that day re-read (a newer latest_interaction_time:
    no attribute the marts carry changes)."""
    con = duckdb.connect(str(path))
    try:
        (synced,) = con.execute("SELECT max(_synced_at) FROM raw.interactions").fetchone()  # type: ignore[misc]
        (newest,) = con.execute("SELECT max(created_time) FROM raw.conversations").fetchone()  # type: ignore[misc]
        params = [synced + timedelta(days=1), newest - timedelta(days=1), f"_d{night}"]
        out: dict[str, int] = {}
        con.execute("BEGIN")
        day = "(SELECT id FROM raw.conversations WHERE created_time > $2)"
        for e in ENTITIES:
            if e.table == "users":
                continue
            cols = [c for c, _ in raw_columns(e)]
            sel = []
            for c in cols:
                if c in ID_COLUMNS and c != "user_id":
                    sel.append(f'CASE WHEN "{c}" IS NULL THEN NULL ELSE "{c}" || $3 END')
                elif c in ("created_time", "last_updated_time", "plugin_update_time"):
                    sel.append(f'"{c}" + INTERVAL 1 DAY')
                elif c == "_synced_at":
                    sel.append("$1")
                else:
                    sel.append(f'"{c}"')
            key = "id" if e.table == "conversations" else "conversation_id"
            n = con.execute(
                f'INSERT INTO raw."{e.table}" SELECT {", ".join(sel)} FROM raw."{e.table}" WHERE {key} IN {day}',
                params,
            ).fetchone()
            out[f"new_{e.table}"] = int(n[0]) if n else 0
        for table, change in (
            ("plugin_calls", "used = NOT coalesce(used, false)"),
            ("plugin_resources", "cited = NOT coalesce(cited, false)"),
        ):
            n = con.execute(
                f"UPDATE raw.{table} SET {change}, last_updated_time = last_updated_time + INTERVAL 3 DAY, "
                "_synced_at = $1 WHERE hash(id || $3) % 500 = 0 AND created_time <= $2",
                params,
            ).fetchone()
            out[f"changed_{table}"] = int(n[0]) if n else 0
        n = con.execute(
            "UPDATE raw.users SET latest_interaction_time = $1, _synced_at = $1 WHERE id IN "
            "(SELECT user_id FROM raw.interactions WHERE _synced_at = $1) AND $2 IS NOT NULL AND $3 IS NOT NULL",
            params,
        ).fetchone()
        out["changed_users"] = int(n[0]) if n else 0
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
        return out
    finally:
        con.close()


def measure(db: Path, full_refresh: bool = False) -> dict[str, object]:
    """Build once in this process (a fresh one: peak RSS is the build's alone)."""
    from mwdata.metrics.exports import write
    from mwdata.transform import build as build_models

    t = time.perf_counter()
    marks: dict[str, float] = {}

    def exports(cfg: Config) -> None:
        marks["models"] = time.perf_counter() - t
        write(cfg)
        marks["exports"] = time.perf_counter() - t

    result = build_models(Config(store=str(db)), after_models=exports, full_refresh=full_refresh)
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    inc = result.increment
    return {"build_seconds": round(seconds, 1), "models_seconds": round(marks["models"], 1),
            "exports_seconds": round(marks["exports"] - marks["models"], 1),
            "tests_seconds": round(seconds - marks["exports"], 1),
            "full_refresh": inc.full_refresh if inc else None, "peak_rss_mb": round(peak / 1024),
            "errors": len(result.errors), "summary": result.summary,
            "slowest_models": sorted(((r.name, round(r.seconds, 2)) for r in result.results if r.resource_type == "model"),
                                     key=lambda x: -x[1])[:6]}  # fmt: skip


def _build_process(db: Path, full_refresh: bool) -> dict[str, object]:
    args = [sys.executable, "-m", "benchmarks.build_time", "--build-only", str(db)]
    out = subprocess.run(
        [*args, *(["--full-refresh"] if full_refresh else [])], capture_output=True, text=True, check=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def nightly(interactions: int, runs: int = 3) -> None:
    """Full builds, then nights of change + incremental builds, on one store; medians at the end."""
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "bench.duckdb"
        rows = make_store(db, interactions)
        fulls, nights = [], []
        for _ in range(runs):
            fulls.append(_build_process(db, True))
            print(json.dumps({"interactions": rows, "kind": "full", **fulls[-1]}), flush=True)
        for night in range(1, runs + 1):
            change = day_of_change(db, night)
            nights.append(_build_process(db, False))
            print(json.dumps({"interactions": rows, "kind": "nightly", **change, **nights[-1]}), flush=True)
        keys = ("build_seconds", "models_seconds", "exports_seconds", "tests_seconds")
        med = {k: {"full": statistics.median(float(str(r[k])) for r in fulls),
                   "nightly": statistics.median(float(str(r[k])) for r in nights)} for k in keys}  # fmt: skip
        print(json.dumps({"interactions": rows, "median": med}), flush=True)


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
        print(json.dumps(measure(Path(sys.argv[2]), full_refresh="--full-refresh" in sys.argv[3:])))
    elif sys.argv[1:2] == ["--nightly"]:
        nightly(
            int(sys.argv[2]) if len(sys.argv) > 2 else 100_000, int(sys.argv[3]) if len(sys.argv) > 3 else 3
        )
    else:
        keep = Path(sys.argv[3]) if len(sys.argv) > 3 else None
        main(
            int(sys.argv[1]) if len(sys.argv) > 1 else 100_000,
            int(sys.argv[2]) if len(sys.argv) > 2 else 1,
            keep,
        )
