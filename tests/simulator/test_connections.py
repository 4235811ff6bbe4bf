"""Normal client behaviour on a connection (resets, early closes) leaves stderr clean: a debug line only."""

from __future__ import annotations

import logging
import socket
import struct
import time

import pytest


def _reset(sock: socket.socket) -> None:
    """Close with RST instead of FIN (SO_LINGER 0): what a client killed mid-keep-alive does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _request(sim, path: str) -> bytes:  # type: ignore[no-untyped-def]
    host, port = sim.base_url.removeprefix("http://").split(":")
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: {sim.api_key}\r\n"
        "Connection: keep-alive\r\n\r\n"
    ).encode()


def _read_response(sock: socket.socket) -> bytes:
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(1 << 16)
        assert chunk, "server closed early"
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    length = int(
        next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:")).split(b":")[1]
    )
    while len(body) < length:
        chunk = sock.recv(1 << 16)
        assert chunk, "server closed early"
        body += chunk
    return head


@pytest.mark.parametrize("when", ["idle", "before-response"])
def test_client_reset_is_not_a_traceback(simulator, capfd, caplog, when: str) -> None:  # type: ignore[no-untyped-def]
    sim = simulator()
    host, port = sim.base_url.removeprefix("http://").split(":")
    caplog.set_level(logging.DEBUG, logger="mwdata.simulator")
    for _ in range(5):
        s = socket.create_connection((host, int(port)), timeout=10)
        s.sendall(_request(sim, "/export/v1beta2/records/interactions?$top=1000"))
        if when == "idle":  # read the whole response, then reset while the server waits for the next request
            _read_response(s)
        _reset(s)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(
        "closed by the client" in r.message for r in caplog.records
    ):
        time.sleep(0.05)
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception" not in err, err
    assert any(r.levelno == logging.DEBUG and "closed by the client" in r.message for r in caplog.records)
    # the server still answers afterwards
    s = socket.create_connection((host, int(port)))
    s.sendall(_request(sim, "/export/v1beta2/records/users?$top=1"))
    s.settimeout(10)
    assert _read_response(s).startswith(b"HTTP/1.1 200")
    s.close()
