"""Issue 16 item 12: protocol limits of the API client, against real servers on loopback.

- a server trickling bytes (headers or body) is cut off at `request_deadline_seconds`, then retried;
- a small gzip body that inflates far beyond `max_body_mb` is refused without being inflated;
- retrying one request stops after `give_up_seconds`, with the host and the last reason, and once
  the API was given up on, the next requests do not spend that budget again.
"""

from __future__ import annotations

import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mwdata.api.client import ApiClient
from mwdata.catalog import entity
from mwdata.config import ApiConfig, Secret
from mwdata.errors import ApiError
from tests.api.conftest import Reply
from tests.sync.conftest import KEY, run_cli

INTER = entity("interactions")
PAGE = b'{"value": [{"id": "a1", "last_updated_time": "2026-11-01T01:00:00.000Z"}]}'


def client(url: str, **kw: object) -> ApiClient:
    base = {"base_url": url, "api_key": Secret(KEY), "requests_per_minute": 0, "timeout_seconds": 1}
    return ApiClient(ApiConfig(**{**base, **kw}), backoff_base=0.05, backoff_max=0.2)  # type: ignore[arg-type]


class RawServer:
    """A TCP server on 127.0.0.1 that answers every connection with `respond(conn)`."""

    def __init__(self, respond: Callable[[socket.socket], None]) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        self._respond = respond
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        try:
            conn.recv(65536)  # the request (small GET)
            self._respond(conn)
        except OSError:
            pass  # the client hung up: expected when it enforces its deadline
        finally:
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[socket.socket], None]], RawServer]]:
    servers: list[RawServer] = []

    def make(respond: Callable[[socket.socket], None]) -> RawServer:
        servers.append(RawServer(respond))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


def trickle(data: bytes, pause: float) -> Callable[[socket.socket], None]:
    def respond(conn: socket.socket) -> None:
        for i in range(len(data)):
            conn.sendall(data[i : i + 1])
            time.sleep(pause)

    return respond


def head(length: int, extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n{extra}\r\n"
    ).encode()


@pytest.mark.parametrize("phase", ["body", "headers"])
def test_a_trickling_server_is_cut_off_at_the_request_deadline(raw_server, phase: str) -> None:
    # One byte every 0.1 s: each read is far inside the 1 s timeout, the whole answer takes ~8 s.
    if phase == "body":
        slow = head(len(PAGE)) + PAGE

        def respond(conn: socket.socket) -> None:
            conn.sendall(head(len(PAGE)))
            trickle(PAGE, 0.1)(conn)
    else:
        slow = head(len(PAGE)) + PAGE
        respond = trickle(slow, 0.04)
    srv = raw_server(respond)
    t0 = time.monotonic()
    with client(srv.url, request_deadline_seconds=1.5, max_retries=1) as c, pytest.raises(ApiError) as ei:
        c.get_page(INTER, {"$top": "1"})
    elapsed = time.monotonic() - t0
    assert elapsed < 5, f"{elapsed:.1f} s: the deadline did not bound the request"
    assert "request_deadline_seconds" in str(ei.value) and srv.connections == 2  # retried once


def test_the_deadline_leaves_a_prompt_answer_alone(raw_server) -> None:
    srv = raw_server(lambda conn: conn.sendall(head(len(PAGE)) + PAGE))
    with client(srv.url, request_deadline_seconds=1) as c:
        for _ in range(3):  # a kept-alive connection is reused under the deadline too
            assert c.get_page(INTER, {"$top": "1"}).records[0]["id"] == "a1"


def gzip_bomb(inflated_mb: int) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * (1 << 20)
    body = b"".join(z.compress(block) for _ in range(inflated_mb)) + z.flush()
    return body


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip_bomb(100)  # ~100 KB on the wire, 100 MB inflated


def test_a_gzip_bomb_is_refused_without_being_inflated(scripted, bomb: bytes) -> None:
    srv = scripted(lambda req: Reply(body=bomb, headers={"Content-Encoding": "gzip"}))
    tracemalloc.start()
    try:
        with client(srv.url, max_body_mb=4) as c, pytest.raises(ApiError) as ei:
            c.get_page(INTER, {"$top": "1"})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "max_body_mb" in str(ei.value) and "4 MB" in str(ei.value)
    assert len(srv.requests) == 1  # not retried: the same answer would come again
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.0f} MB while refusing a 100 MB body"


def test_a_compressed_page_within_the_cap_is_read(scripted) -> None:
    z = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    body = z.compress(PAGE) + z.flush()
    srv = scripted(lambda req: Reply(body=body, headers={"Content-Encoding": "gzip"}))
    with client(srv.url, max_body_mb=1) as c:
        assert c.get_page(INTER, {"$top": "1"}).records[0]["id"] == "a1"


def test_retrying_stops_at_give_up_seconds_and_later_requests_fail_fast(scripted) -> None:
    srv = scripted(lambda req: Reply(503, b"upstream unavailable"))
    t0 = time.monotonic()
    with client(srv.url, max_retries=40, give_up_seconds=1.5) as c:
        with pytest.raises(ApiError) as ei:
            c.get_page(INTER, {"$top": "1"})
        first = time.monotonic() - t0
        msg = str(ei.value)
        assert first < 2.5, f"gave up after {first:.1f} s, not ~1.5 s"
        assert "give_up_seconds" in msg and "127.0.0.1" in msg and "HTTP 503" in msg
        t1 = time.monotonic()
        with pytest.raises(ApiError, match="already gave up"):
            c.get_page(entity("users"), {"$top": "1"})
        assert time.monotonic() - t1 < 0.5


def test_a_dead_api_ends_the_sync_within_give_up_seconds(tmp_path: Path, raw_server) -> None:
    # accepts, reads the request, never answers: every attempt is a read timeout
    srv = raw_server(lambda conn: time.sleep(30))
    (tmp_path / "mwdata.toml").write_text(
        "[api]\ntimeout_seconds = 1\ngive_up_seconds = 3\nrequests_per_minute = 0\n"
    )
    t0 = time.monotonic()
    r = run_cli(
        "sync",
        env={"MWDATA_BASE_URL": srv.url, "MWDATA_API_KEY": KEY, "MWDATA_STORE": str(tmp_path / "m.duckdb")},
        cwd=tmp_path,
        timeout=60,
    )
    elapsed = time.monotonic() - t0
    assert r.returncode == 5, r.stderr[-2000:]
    assert "give_up_seconds" in r.stderr and "Traceback" not in r.stderr
    assert elapsed < 15, f"{elapsed:.0f} s to give up on a dead API"
    assert not (tmp_path / "m.duckdb").exists()  # nothing was written


def test_a_gzip_bomb_through_the_cli_is_a_clear_error(tmp_path: Path, scripted, bomb: bytes) -> None:
    srv = scripted(lambda req: Reply(body=bomb, headers={"Content-Encoding": "gzip"}))
    (tmp_path / "mwdata.toml").write_text("[api]\nmax_body_mb = 8\nrequests_per_minute = 0\n")
    r = run_cli(
        "sync",
        "-e",
        "users",
        env={"MWDATA_BASE_URL": srv.url, "MWDATA_API_KEY": KEY, "MWDATA_STORE": str(tmp_path / "m.duckdb")},
        cwd=tmp_path,
    )
    assert r.returncode == 5 and "max_body_mb" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "m.duckdb").exists()
