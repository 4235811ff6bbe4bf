"""Bounds on one HTTP request that httpx does not give: a total deadline and a decompressed-size cap.

- httpx's timeouts apply to each network operation, so a server trickling one byte per second
  holds a request for as long as it likes. `Deadline` wraps httpcore's network backend so that every
  connect, read and write of the calling thread gets at most the time left until that thread's
  deadline; past it the operation times out as any other timeout would.
- httpx inflates a gzip body chunk by chunk without a bound, so a 100 KB body can take gigabytes.
  `read_body` inflates it itself, with `max_length`, and stops one byte past the cap.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

ACCEPT_ENCODING = "gzip, deflate"  # the encodings `read_body` decodes


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        self.limit = limit


class UnknownEncoding(Exception):
    pass


class Deadline:
    """A per-thread deadline that every network operation of the wrapped client respects."""

    def __init__(self) -> None:
        self._local = threading.local()

    @contextmanager
    def of(self, seconds: float) -> Iterator[None]:
        self._local.at = time.monotonic() + seconds
        try:
            yield
        finally:
            self._local.at = None

    def passed(self) -> bool:
        at = getattr(self._local, "at", None)
        return at is not None and time.monotonic() >= at - 0.01

    def clip(self, timeout: float | None) -> float | None:
        at = getattr(self._local, "at", None)
        if at is None:
            return timeout
        left = max(0.0, at - time.monotonic())
        return left if timeout is None else min(timeout, left)

    def install(self, client: httpx.Client) -> None:
        """Wrap the network backend of every transport of `client` (proxies from the environment too).

        Fails loudly if httpx/httpcore change the attributes this relies on (a test covers it)."""
        transports = [client._transport, *client._mounts.values()]  # noqa: SLF001
        for t in transports:
            pool = getattr(t, "_pool", None)
            if pool is None or not hasattr(pool, "_network_backend"):
                raise RuntimeError(f"cannot bound requests on {type(t).__name__}: unknown httpx internals")
            pool._network_backend = _Backend(pool._network_backend, self)  # noqa: SLF001


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: Any, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, self._deadline.clip(timeout), local_address, socket_options
        )
        return _Stream(stream, self._deadline)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_unix_socket(path, self._deadline.clip(timeout), socket_options)
        return _Stream(stream, self._deadline)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._deadline.passed():
            raise httpcore.ReadTimeout("the request deadline passed")
        return self._inner.read(max_bytes, self._deadline.clip(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if self._deadline.passed():
            raise httpcore.WriteTimeout("the request deadline passed")
        self._inner.write(buffer, self._deadline.clip(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        tls = self._inner.start_tls(ssl_context, server_hostname, self._deadline.clip(timeout))
        return _Stream(tls, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


def read_body(resp: httpx.Response, limit: int, *, truncate: bool = False) -> bytes:
    """The body of a streamed response, decoded, refusing (BodyTooLarge) more than `limit` bytes, or
    with `truncate` (an error answer, read only for its message) its first `limit` bytes."""
    length = resp.headers.get("Content-Length", "")
    encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding in ("", "identity") and length.isdigit() and int(length) > limit and not truncate:
        raise BodyTooLarge(limit)
    if encoding in ("", "identity"):
        inflate = None
    elif encoding in ("gzip", "x-gzip"):
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        inflate = zlib.decompressobj(32 + zlib.MAX_WBITS)  # zlib header or gzip; raw deflate below
    else:
        raise UnknownEncoding(encoding)
    out = bytearray()
    raw_deflate_tried = False
    for chunk in resp.iter_raw(65536):
        if inflate is None:
            out += chunk
        else:
            data = chunk
            while data:
                try:
                    out += inflate.decompress(data, limit - len(out) + 1)
                except zlib.error:
                    if encoding != "deflate" or raw_deflate_tried or out:
                        raise
                    raw_deflate_tried = True  # servers that send raw deflate despite the name
                    inflate = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                if len(out) > limit:
                    break
                data = inflate.unconsumed_tail
        if len(out) > limit:
            break
    if inflate is not None and len(out) <= limit:
        out += inflate.flush()
    if len(out) > limit:
        if truncate:
            return bytes(out[:limit])
        raise BodyTooLarge(limit)
    return bytes(out)
