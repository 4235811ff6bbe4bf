"""Exact paging while the data changes between page requests, with faults — on a loopback endpoint
whose data we mutate before answering each request (the simulator tests do the same against the
full simulator). Truth is the endpoint's final data; the store must equal it record for record."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from mwdata.api.client import ApiClient
from mwdata.config import ApiConfig, Config, Secret, SyncConfig
from mwdata.sync.pipeline import sync
from mwdata.sync.runner import SyncOptions
from tests.api.conftest import Reply, Request
from tests.sync.conftest import KEY

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def stamp(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


class MovingData:
    """Rows keyed by id; every request first advances a clock by one second and may re-emit rows
    (new version stamped with the clock, i.e. after the run's upper bound), insert new rows, and
    publish late rows stamped hours in the past (inside the look-back)."""

    def __init__(self, n: int, seed: int, faults: bool) -> None:
        self.rng = random.Random(seed)
        self.clock = NOW
        self.rows: dict[str, dict[str, Any]] = {}
        for _ in range(n):
            self._new(NOW - timedelta(seconds=self.rng.randint(60, 5 * 86400)))
        self.moving = True
        self.faults = faults
        self.requests = 0

    def _new(self, lut: datetime) -> None:
        i = f"{self.rng.getrandbits(48):012x}"
        self.rows[i] = {
            "id": i,
            "last_updated_time": stamp(lut),
            "version": 0,
            "detail": {"n": self.rng.random()},
        }

    def mutate(self) -> None:
        self.clock += timedelta(seconds=1)
        for r in self.rng.sample(list(self.rows.values()), 4):  # re-emission
            r["last_updated_time"] = stamp(self.clock)
            r["version"] += 1
        self._new(self.clock)  # a brand-new row
        if self.rng.random() < 0.3:  # a late row, stamped inside the look-back
            self._new(self.clock - timedelta(hours=self.rng.uniform(1, 20)))

    def __call__(self, req: Request) -> Reply:
        self.requests += 1
        if self.faults and self.requests > 3:
            roll = self.rng.random()
            if roll < 0.06:
                return Reply(500, {"code": "INTERNAL_ERROR", "message": "boom"})
            if roll < 0.10:
                return Reply(200, b'{"value": [{"id": "tru')
            if roll < 0.13:
                return Reply(drop=True)
            if roll < 0.15:
                return Reply(429, {"code": "RATE_LIMIT_EXCEEDED"}, {"Retry-After": "0"})
            if roll < 0.17:
                return Reply(429, {"error": {"code": "RATE_LIMIT_EXCEEDED"}})  # no Retry-After: back off
        if self.moving:
            self.mutate()
        flt = req.query.get("$filter", "")
        parts = flt.split(" and ") if flt else []
        lo = parts[0].split("'")[1] if parts else ""
        hi = parts[1].split("'")[1] if len(parts) > 1 else "~"
        after = parts[2].split("'")[1] if len(parts) > 2 else ""
        top = int(req.query.get("$top", "500"))
        hits = sorted(
            (r for r in self.rows.values() if r["id"] > after and lo <= r["last_updated_time"] < hi),
            key=lambda r: r["id"],
        )
        return Reply(body={"value": hits[:top]})


def run(data: MovingData, srv_url: str, store: Path, now: datetime, workers: int) -> None:
    cfg = Config(
        store=str(store),
        api=ApiConfig(
            base_url=srv_url, api_key=Secret(KEY), requests_per_minute=0, page_size=40, max_retries=10
        ),
        sync=SyncConfig(
            entities=("interactions",), workers=workers, batch_size=90, window_hours=6, lookback_hours=24
        ),
    )
    r = sync(
        cfg,
        SyncOptions(now=now),
        client_factory=lambda c: ApiClient(c.api, backoff_base=0.001, backoff_max=0.01),
    )
    assert r.ok, r.first_error()


@pytest.mark.parametrize("faults", [False, True], ids=["clean", "faults"])
@pytest.mark.parametrize("seed", [1, 2])
def test_store_equals_truth_while_rows_move(scripted, tmp_path: Path, seed: int, faults: bool) -> None:
    data = MovingData(1500, seed, faults)
    srv = scripted(data)
    store = tmp_path / "m.duckdb"
    run(data, srv.url, store, NOW, workers=3)  # everything moves while this run reads
    moved = data.clock
    data.moving = False
    for _ in range(20):  # rows published after run 1 read their windows, stamped inside the look-back
        data._new(NOW - timedelta(hours=data.rng.uniform(1, 20)))
    run(data, srv.url, store, moved + timedelta(seconds=1), workers=2)
    con = duckdb.connect(str(store), read_only=True)
    got = {i: json.loads(r) for i, r in con.execute("SELECT id, _record FROM raw.interactions").fetchall()}
    (n,) = con.execute("SELECT count(*) FROM raw.interactions").fetchone() or (0,)
    con.close()
    assert n == len(got)  # no duplicates
    assert got.keys() == data.rows.keys()
    assert all(got[i] == data.rows[i] for i in got)  # newest version of every row
    assert sum(r["version"] for r in data.rows.values()) > 50  # rows really did move mid-read
