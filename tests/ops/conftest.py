"""Fixtures for the operations tests: a real webhook receiver on 127.0.0.1 capturing the POSTs."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.api.conftest import scripted  # noqa: F401 (fixture)

TOKEN = "T0KEN-in-the-webhook-path-42"


class Receiver:
    def __init__(self, status: int, delay: float = 0.0) -> None:
        self.status, self.delay = status, delay
        self.alerts: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.alerts.append(json.loads(body))
                time.sleep(outer.delay)  # a receiver that hangs past the sender's timeout
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/{TOKEN}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Any]:
    made: list[Receiver] = []

    def make(status: int = 200, delay: float = 0.0) -> Receiver:
        made.append(Receiver(status, delay))
        return made[-1]

    yield make
    for r in made:
        r.server.shutdown()
