"""Rate-limited sync: 200 ms page latency, a 600 requests/minute token bucket on the server.

    .venv/bin/python -m benchmarks.sync_paced [--rows 40000] [--workers 4]

mwdata paces itself at the configured 600 requests/minute; the figure of merit is the sustained
request rate as a share of the limit, and how many requests the server refused (429).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from benchmarks.sync_server import API_KEY, BenchServer, default_now


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=40000)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--page", type=int, default=100)
    ap.add_argument("--limit", type=float, default=600)
    ap.add_argument("--latency", type=float, default=0.2)
    a = ap.parse_args()
    from mwdata.config import ApiConfig, Config, Secret, SyncConfig
    from mwdata.sync.pipeline import sync
    from mwdata.sync.runner import SyncOptions

    now = default_now()
    with (
        BenchServer(a.rows, now, latency=a.latency, rpm=a.limit) as srv,
        tempfile.TemporaryDirectory() as tmp,
    ):
        cfg = Config(
            store=str(Path(tmp) / "paced.duckdb"),
            api=ApiConfig(
                base_url=srv.base_url, api_key=Secret(API_KEY), requests_per_minute=a.limit, page_size=a.page
            ),
            sync=SyncConfig(entities=("interactions",), workers=a.workers, batch_size=5000),
        )
        t0 = time.perf_counter()
        r = sync(cfg, SyncOptions(now=now, preflight=False))
        seconds = time.perf_counter() - t0
        st = srv.stats()
    requests = st["served"] + st["throttled"]
    print(
        json.dumps(
            {
                "ok": r.ok,
                "rows": r.rows,
                "seconds": round(seconds, 1),
                "requests": requests,
                "requests_per_minute": round(requests / seconds * 60, 1),
                "share_of_limit": round(requests / seconds * 60 / a.limit, 3),
                "throttled_429": st["throttled"],
                "client_retries": sum(e.stats.retries for e in r.entities),
            }
        )
    )


if __name__ == "__main__":
    main()
