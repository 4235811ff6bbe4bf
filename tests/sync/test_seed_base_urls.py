"""The regional "Base API URI"s exactly as Moveworks prints them reach the API and sync completely.

The real hosts cannot be reached here, so the sync goes through an HTTPS proxy on loopback (the
standard `HTTPS_PROXY` a corporate network uses): it answers `CONNECT api.moveworks.ai:443`,
terminates TLS with a certificate for that host from a test CA (`SSL_CERT_FILE`), and forwards the
plain HTTP to the simulator. The client does real TLS to the named host; the request path is
whatever the base URL normalised to, so a doubled path would be a 404 from the simulator.
"""

from __future__ import annotations

import select
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from mwdata.simulator import GeneratorConfig, generate
from tests.sync.conftest import run_cli

SEED_URIS = {
    "us": "https://api.moveworks.ai/export/v1/records",
    "eu": "https://api.am-eu-central.moveworks.ai/export/v1/records",
    "gov": "https://api.moveworksgov.ai/export/v1/record",
}


class TlsTerminatingProxy:
    """`CONNECT host:443` → TLS with a certificate for `host` → bytes to `upstream` (host, port)."""

    def __init__(self, ca: object, upstream: tuple[str, int]) -> None:
        self._ca = ca
        self.upstream = upstream
        self.tunnels: list[str] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(conn,), daemon=True).start()

    def _tunnel(self, conn: socket.socket) -> None:
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            if method != "CONNECT":
                conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            host = target.rsplit(":", 1)[0]
            self.tunnels.append(target)
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._ca.issue_cert(host).configure_cert(ctx)  # type: ignore[attr-defined]
            tls = ctx.wrap_socket(conn, server_side=True)
            with socket.create_connection(self.upstream) as up:
                _pipe(tls, up)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.sock.close()


def _pipe(a: socket.socket, b: socket.socket) -> None:
    while True:
        pending = a.pending() if isinstance(a, ssl.SSLSocket) else 0
        ready = [a] if pending else select.select([a, b], [], [], 30)[0]
        if not ready:
            return
        for src in ready:
            dst = b if src is a else a
            data = src.recv(65536)
            if not data:
                return
            dst.sendall(data)


@pytest.fixture
def proxy_to(tmp_path: Path) -> Iterator[object]:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    proxies: list[TlsTerminatingProxy] = []

    def make(upstream: tuple[str, int]) -> TlsTerminatingProxy:
        proxies.append(TlsTerminatingProxy(ca, upstream))
        return proxies[-1]

    yield make
    for p in proxies:
        p.close()


@pytest.mark.parametrize("region", sorted(SEED_URIS))
def test_the_seed_base_uri_syncs_through_a_proxy(simulator, proxy_to, tmp_path: Path, region: str) -> None:
    end = datetime(2026, 11, 20, tzinfo=UTC)  # a Friday: a business week, no holiday
    ds = generate(GeneratorConfig(seed=3, users=50, days=6, end=end))
    with simulator(ds) as sim:
        host, port = sim.base_url.removeprefix("http://").split(":")
        proxy = proxy_to((host, int(port)))  # type: ignore[operator]
        env = {
            "MWDATA_BASE_URL": SEED_URIS[region],
            "MWDATA_API_KEY": sim.api_key,
            "MWDATA_STORE": str(tmp_path / "m.duckdb"),
            "MWDATA_SYNC_NOW": sim.now().isoformat(),
            "MWDATA_REQUESTS_PER_MINUTE": "0",
            "HTTPS_PROXY": proxy.url,
            "NO_PROXY": "",
            "SSL_CERT_FILE": str(tmp_path / "ca.pem"),
        }
        r = run_cli("sync", env=env, cwd=tmp_path)
        assert r.returncode == 0, r.stderr[-3000:]
        hostname = SEED_URIS[region].split("/")[2]
        assert proxy.tunnels and set(proxy.tunnels) == {f"{hostname}:443"}
        con = duckdb.connect(str(tmp_path / "m.duckdb"), read_only=True)
        try:
            (n,) = con.execute("SELECT count(*) FROM raw.interactions").fetchone() or (0,)
        finally:
            con.close()
        assert n == len(sim.truth("interactions")) > 0
        dry = run_cli("sync", "--dry-run", env=env, cwd=tmp_path)
        assert f"https://{hostname}/export/v1/records" in dry.stdout
