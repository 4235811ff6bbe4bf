"""Run every benchmark once, one after another (`make bench`).

    python -m benchmarks.run_all            # small sizes: a few minutes, checks that each still runs
    python -m benchmarks.run_all --full     # the sizes BENCHMARKS.md quotes (an hour or more)

Each benchmark runs in its own process (peak-memory figures are per process) and prints its own JSON
lines; this only sequences them. The PostgreSQL contender of `sync_warehouse` needs
MWDATA_TEST_PG_DSN and is left out without it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

# (module, small-size arguments, BENCHMARKS.md arguments)
BENCHMARKS: list[tuple[str, list[str], list[str]]] = [
    (
        "simulator_serve",
        ["--users", "1000", "--days", "10", "--runs", "1"],
        ["--users", "21000", "--runs", "3"],
    ),
    ("sync_throughput", ["--users", "1000", "--days", "10"], ["--users", "21000", "--batch", "5000"]),
    ("sync_paced", ["--rows", "4000", "--latency", "0.05"], []),
    (
        "sync_warehouse",
        ["--users", "1000", "--days", "10", "--runs", "1"],
        ["--users", "21000", "--runs", "3"],
    ),
    ("build_time", ["100000", "1"], ["1000000", "3"]),
    ("dashboard_queries", ["--users", "500", "--days", "30", "--repeats", "3"], []),
    ("metric_layer", ["20000", "1"], ["1000000", "1"]),
    ("store_merge", ["--sizes", "40000,100000"], []),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="the sizes quoted in BENCHMARKS.md")
    ap.add_argument("--only", help="comma-separated benchmark names")
    args = ap.parse_args()
    chosen = set(args.only.split(",")) if args.only else None
    failed: list[str] = []
    for name, small, full in BENCHMARKS:
        if chosen is not None and name not in chosen:
            continue
        argv = full if args.full else small
        if name == "sync_warehouse" and not os.environ.get("MWDATA_TEST_PG_DSN"):
            argv = [*argv, "--contenders", "duckdb"]
        print(f"== {name} {' '.join(argv)}", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, "-m", f"benchmarks.{name}", *argv])
        print(f"== {name}: exit {code} in {time.monotonic() - started:.0f} s", flush=True)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
