"""The DuckDB store's cost per batch as the raw table grows: is the sync's MERGE proportional to history?

    .venv/bin/python -m benchmarks.store_merge [--sizes 100000,1000000,3000000] [--batch 20000]

Fills `raw.interactions` through `DuckDBStore.write` (the sync's own path: NDJSON spool, append or MERGE,
checkpoint in one transaction) up to each size, then times three batches of new ids and one batch that
updates stored ids (a newer stamp), and prints the median per size. No network, no simulator: the store
alone. Ids are random 12-character strings as the API's are: sequential ids would let DuckDB's join
filter (min/max of the batch's ids) skip the whole table and hide the cost of the lookup.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mwdata.catalog import entity
from mwdata.store.base import Window
from mwdata.store.duckdb import DuckDBStore, encode_page

E = entity("interactions")
NOW = datetime(2026, 11, 28, tzinfo=UTC)


def rid(n: int) -> str:
    """The n-th id: 12 URL-safe base64 characters of a hash, random-looking and repeatable."""
    return base64.urlsafe_b64encode(hashlib.blake2b(n.to_bytes(8, "big"), digest_size=9).digest()).decode()


def records(first: int, n: int, stamp: str) -> list[dict[str, Any]]:
    return [
        {
            "id": rid(first + i),
            "last_updated_time": stamp,
            "created_time": stamp,
            "conversation_id": f"c{(first + i) // 4:09d}",
            "user_id": f"u{(first + i) % 5000:05d}",
            "actor": "user",
            "platform": "slack",
            "type": "INTERACTION_TYPE_FREE_TEXT",
            "label": None,
            "details": {"content": "how do I reset my password " * 3},
        }
        for i in range(n)
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000,1000000,3000000")
    ap.add_argument("--batch", type=int, default=20_000)
    a = ap.parse_args()
    store = DuckDBStore(Path(tempfile.mkdtemp()) / "m.duckdb")
    store.prepare()
    w = Window(E.path, NOW - timedelta(days=1), NOW)
    store.plan("bench", [w])
    store.start_run("bench", E, NOW, "{}")

    def write(batch: list[dict[str, Any]]) -> float:
        t0 = time.perf_counter()
        store.write(E, [encode_page(batch)], w, rows=len(batch), last_id=None, pages=1, done=False,
                    run_id="bench", unique=True)  # fmt: skip
        return time.perf_counter() - t0

    stored = 0
    try:
        for size in (int(x) for x in a.sizes.split(",")):
            while stored < size:
                write(records(stored, a.batch, "2026-11-27T00:00:00.000Z"))
                stored += a.batch
            inserts = []
            for _ in range(3):
                inserts.append(write(records(100_000_000 + stored, a.batch, "2026-11-27T01:00:00.000Z")))
                stored += a.batch
            update = write(records(stored // 2, a.batch, "2026-11-27T02:00:00.000Z"))
            print(
                f"raw table {stored:>10,} rows: batch of {a.batch:,} new ids {statistics.median(inserts) * 1000:5.0f} ms "
                f"(median of 3), of {a.batch:,} stored ids with a newer stamp {update * 1000:5.0f} ms",
                flush=True,
            )
    finally:
        store.close()


if __name__ == "__main__":
    main()
