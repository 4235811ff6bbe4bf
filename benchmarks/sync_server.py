"""A fast, static OData endpoint for sync benchmarks when the simulator is not the subject.

Interaction-shaped rows (the real sample records re-keyed, `last_updated_time` spread over the last
29 days), pre-serialised once, served from a separate process so the server never competes with the
client for the GIL. It answers the two ways clients page: keyset (`$filter` on a
`last_updated_time` window + `id gt`, `$orderby=id`, `$top`) and the server's own `@odata.nextLink`
with a `$skiptoken` (what dlt's JSON link paginator follows).
"""

from __future__ import annotations

import bisect
import json
import multiprocessing as mp
import random
import re
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "moveworks-data-api-v1beta2"
API_KEY = "bench-key"
_FILTER = re.compile(
    r"last_updated_time ge '([^']+)' and last_updated_time lt '([^']+)'(?: and id gt '([^']*)')?"
)


def make_rows(n: int, now: datetime, seed: int = 1) -> list[dict[str, Any]]:
    base = json.loads((SAMPLES / "interactions.json").read_text())["value"]
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        r = dict(base[i % len(base)])
        r["id"] = f"{rng.getrandbits(64):016x}"
        lut = now - timedelta(seconds=rng.randint(60, 29 * 86400))
        r["last_updated_time"] = lut.strftime("%Y-%m-%dT%H:%M:%S.") + f"{lut.microsecond // 1000:03d}Z"
        rows.append(r)
    return rows


class Data:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        rows.sort(key=lambda r: r["id"])
        self.ids = [r["id"] for r in rows]
        self.luts = [r["last_updated_time"] for r in rows]
        self.blobs = [orjson.dumps(r) for r in rows]

    def keyset(self, lo: str, hi: str, after: str, top: int) -> list[bytes]:
        i = bisect.bisect_right(self.ids, after) if after else 0
        out: list[bytes] = []
        luts, blobs, n = self.luts, self.blobs, len(self.ids)
        while i < n and len(out) < top:
            if lo <= luts[i] < hi:
                out.append(blobs[i])
            i += 1
        return out


def _serve(rows_n: int, now_iso: str, port_q: Any, latency: float, changed: float, rpm: float | None) -> None:
    import threading
    import time

    now = datetime.fromisoformat(now_iso)
    rows = make_rows(rows_n, now)
    if changed:  # re-emit a fraction: new version stamped half an hour after `now`
        stamp = (now + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        for r in random.Random(99).sample(rows, int(len(rows) * changed)):
            r["last_updated_time"] = stamp
            r["label"] = "re-emitted"
    data = Data(rows)
    stats = {"served": 0, "throttled": 0}
    bucket = {"tokens": 5.0, "t": time.monotonic()}
    lock = threading.Lock()

    def admit() -> bool:
        if not rpm:
            return True
        with lock:
            t = time.monotonic()
            bucket["tokens"] = min(5.0, bucket["tokens"] + (t - bucket["t"]) * rpm / 60)
            bucket["t"] = t
            if bucket["tokens"] >= 1:
                bucket["tokens"] -= 1
                return True
            return False

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            if self.path.startswith("/stats"):
                self._send(200, orjson.dumps(stats))
                return
            if latency:
                time.sleep(latency)
            if not admit():
                stats["throttled"] += 1
                self._send(429, b'{"code":"RATE_LIMIT_EXCEEDED","message":"slow down"}', {"Retry-After": "1"})
                return
            stats["served"] += 1
            u = urlsplit(self.path)
            q = {k: v[0] for k, v in parse_qs(u.query).items()}
            top = int(q.get("$top", "1000"))
            base = f"http://{self.headers['Host']}{u.path}"
            next_link = None
            if "$filter" in q:
                m = _FILTER.fullmatch(q["$filter"])
                if not m:
                    self._send(400, b'{"code":"INPUT_VALIDATION_FAILED","message":"unsupported filter"}')
                    return
                page = data.keyset(m.group(1), m.group(2), m.group(3) or "", top)
            else:
                skip = int(q.get("$skiptoken", "0"))
                page = data.blobs[skip : skip + top]
                if skip + top < len(data.blobs):
                    next_link = f"{base}?$top={top}&$orderby=id&$skiptoken={skip + top}"
            body = b'{"@odata.context":"x","value":[' + b",".join(page) + b"]"
            if next_link:
                body += b',"@odata.nextLink":' + orjson.dumps(next_link)
            self._send(200, body + b"}")

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
    httpd.daemon_threads = True
    port_q.put(httpd.server_address[1])
    httpd.serve_forever()


class BenchServer:
    def __init__(
        self, rows: int, now: datetime, latency: float = 0.0, changed: float = 0.0, rpm: float | None = None
    ) -> None:
        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        args = (rows, now.isoformat(), q, latency, changed, rpm)
        self.proc = ctx.Process(target=_serve, args=args, daemon=True)
        self.proc.start()
        self.base_url = f"http://127.0.0.1:{q.get(timeout=600)}"
        self.api_key = API_KEY
        self.now = now

    def stats(self) -> dict[str, int]:
        import httpx

        return dict(httpx.get(f"{self.base_url}/stats").json())

    def close(self) -> None:
        self.proc.kill()
        self.proc.join()

    def __enter__(self) -> BenchServer:
        return self

    def __exit__(self, *a: object) -> None:
        self.close()


def default_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
