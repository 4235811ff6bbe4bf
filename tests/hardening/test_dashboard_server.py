"""Issue 16 item 8 on a real `mwdata dashboard` (Streamlit on 127.0.0.1, raw HTTP and WebSocket).

Before: a request with a forged Host and a matching Origin (DNS rebinding) got a WebSocket; there was
no authentication and no warning for `--host 0.0.0.0`; SIGTERM to `mwdata dashboard` left Streamlit
running as an orphan.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mwdata.app import server
from tests import procs
from tests.app.conftest import mart_store  # noqa: F401 (fixture)

MWDATA = str(Path(sys.executable).with_name("mwdata"))
TOKEN = "a-long-dashboard-token-0123456789"


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    port: int
    url: str

    def child(self) -> int | None:
        """The Streamlit process `mwdata dashboard` started (its only child)."""
        try:
            kids = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            return None
        return int(kids[0]) if kids else None


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def dashboard(mart_store: Path, tmp_path: Path) -> Iterator[object]:  # noqa: F811
    """Factory: `mwdata dashboard` on a private copy of the mart store; every process stopped at the end."""
    started: list[tuple[Running, int | None]] = []

    def start(token: str | None = None, *args: str) -> Running:
        store = tmp_path / "s.duckdb"
        if not store.exists():
            shutil.copyfile(mart_store, store)
        cfg = tmp_path / "mwdata.toml"
        text = f'store = "{store}"\n'
        env = {k: v for k, v in os.environ.items() if not k.startswith("MWDATA_")}
        if token:
            secret = tmp_path / "token"
            secret.write_text(token + "\n")
            secret.chmod(0o600)
            text += f'[dashboard]\ntoken_file = "{secret}"\n'
        cfg.write_text(text)
        env["MWDATA_CONFIG"] = str(cfg)
        env["TMPDIR"] = str(tmp_path)  # the snapshot roots land here, where the test can look
        port = server.free_port()
        proc = procs.spawn(
            [MWDATA, "dashboard", "--port", str(port), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        run = Running(proc, port, f"http://127.0.0.1:{port}")
        started.append((run, None))
        server.wait_ready(run.url, proc, timeout=90)
        started[-1] = (run, run.child())
        return run

    yield start
    for run, child in started:
        procs.stop_tree(run.proc)
        if child is not None and _alive(child):  # Streamlit, in a group of its own, orphaned by a kill
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child, signal.SIGKILL)


def _raw(port: int, request: str) -> str:
    """Send a raw HTTP request, return the status line of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request.encode())
        return s.recv(4096).decode("latin-1").split("\r\n", 1)[0]


def _websocket(port: int, host: str, origin: str, cookie: str = "") -> str:
    key = base64.b64encode(os.urandom(16)).decode()
    return _raw(
        port,
        f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: streamlit\r\n" + (f"Cookie: {cookie}\r\n" if cookie else "") + "\r\n",
    )


def _get(port: int, host: str, path: str = "/") -> str:
    return _raw(port, f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")


def test_dns_rebinding_forged_host_gets_no_websocket(dashboard) -> None:  # type: ignore[no-untyped-def]
    d = dashboard()
    p = d.port
    # the control: the dashboard's own address opens the WebSocket (so the refusals below mean something)
    assert " 101 " in _websocket(p, f"127.0.0.1:{p}", f"http://127.0.0.1:{p}")
    assert " 101 " in _websocket(p, f"localhost:{p}", f"http://localhost:{p}")
    # a rebound name: Host and Origin agree, as a browser on http://evil.example:<port> would send them
    assert " 403 " in _websocket(p, f"evil.example:{p}", f"http://evil.example:{p}")
    assert " 403 " in _get(p, f"evil.example:{p}")
    assert " 403 " in _get(p, f"evil.example:{p}", "/_stcore/host-config")
    # a right Host with a foreign Origin (cross-site WebSocket) is refused too
    assert " 403 " in _websocket(p, f"127.0.0.1:{p}", "http://evil.example")
    assert " 200 " in _get(p, f"127.0.0.1:{p}")


def test_token_required_then_a_cookie(dashboard) -> None:  # type: ignore[no-untyped-def]
    d = dashboard(TOKEN)
    p, host = d.port, f"127.0.0.1:{d.port}"
    assert " 401 " in _get(p, host)
    assert " 403 " in _websocket(p, host, f"http://{host}")  # a refused handshake is always 403
    assert " 401 " in _get(p, host, "/?token=wrong")
    assert " 200 " in _get(p, host, "/_stcore/health")  # health stays open: it says only "ok"

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as got:
        opener.open(f"{d.url}/journey?token={TOKEN}&x=1", timeout=10)
    answer = got.value
    assert answer.code == 303
    assert answer.headers["Location"] == "/journey?x=1"  # the token leaves the address bar
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
    pair = cookie.split(";", 1)[0]
    assert " 101 " in _websocket(p, host, f"http://{host}", pair)
    req = urllib.request.Request(d.url + "/", headers={"Cookie": pair})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200
    # a forged Host is refused even with the cookie
    assert " 403 " in _websocket(p, f"evil.example:{p}", f"http://evil.example:{p}", pair)


def _session(port: int, cookie: str = "") -> None:
    """Run the app's script once over the WebSocket, as a browser tab would (it takes a snapshot)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    headers = {"Origin": f"http://127.0.0.1:{port}"} | ({"Cookie": cookie} if cookie else {})
    with connect(
        f"ws://127.0.0.1:{port}/_stcore/stream",
        subprotocols=["streamlit"],
        additional_headers=headers,  # type: ignore[list-item]
    ) as ws:
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_name = ""
        ws.send(msg.SerializeToString())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            fwd = ForwardMsg()
            fwd.ParseFromString(ws.recv(timeout=60))  # type: ignore[arg-type]
            if fwd.WhichOneof("type") == "script_finished":
                return
    raise AssertionError("the script did not finish")


def _snapshot_files(tmp: Path) -> list[Path]:
    return [p for p in tmp.glob("mwdata-dashboard-*/mwdata-snapshots-*/*.duckdb")]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_streamlit_and_removes_the_snapshots(dashboard, tmp_path: Path, sig: int) -> None:  # type: ignore[no-untyped-def]
    d = dashboard()
    child = d.child()
    assert child is not None and _alive(child)
    _session(d.port)
    snaps = _snapshot_files(tmp_path)
    assert snaps, "the session took no snapshot"
    folder = snaps[0].parent
    assert (folder.stat().st_mode & 0o777) == 0o700 and (folder.parent.stat().st_mode & 0o777) == 0o700
    d.proc.send_signal(sig)
    assert d.proc.wait(timeout=30) == 0
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child), "Streamlit survived mwdata dashboard"
    assert not list(tmp_path.glob("mwdata-dashboard-*")), "a copy of the store was left behind"


def test_beyond_loopback_warns_loudly(mart_store: Path, tmp_path: Path) -> None:  # noqa: F811
    """`--host 0.0.0.0` without a token: a loud warning naming the fix. (The port is held by a bound,
    never listening socket, so nothing listens beyond loopback during the test; the failed start is
    itself a clear error, exit 13.)"""
    cfg = tmp_path / "mwdata.toml"
    cfg.write_text(f'store = "{mart_store}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("MWDATA_")} | {"MWDATA_CONFIG": str(cfg)}
    with socket.socket() as holder:
        holder.bind(("0.0.0.0", 0))  # noqa: S104 (bound only: no listen, no connection possible)
        port = holder.getsockname()[1]
        done = subprocess.run(
            [MWDATA, "dashboard", "--host", "0.0.0.0", "--port", str(port)],  # noqa: S104
            env=env, capture_output=True, text=True, timeout=90,
        )  # fmt: skip
    text = " ".join(done.stderr.split())
    assert "ANYONE who can reach this address reads the store" in text
    assert "MWDATA_DASHBOARD_TOKEN" in text and "docs/dashboard.md" in text
    assert done.returncode == 13 and "Traceback" not in done.stderr


def test_host_policy_per_listen_address() -> None:
    from mwdata.app.guard import Policy

    local = Policy.for_listen("127.0.0.1")
    assert local.host_ok("127.0.0.1:8501") and local.host_ok("localhost:8501") and local.host_ok("[::1]:8501")
    assert not local.host_ok("evil.example:8501") and not local.host_ok("10.1.2.3:8501")
    assert not local.host_ok(None) and not local.host_ok("a@b:1") and not local.host_ok("x:notaport")
    every = Policy.for_listen("0.0.0.0", extra=["dash.example.com", "*.corp.example"])
    # listening on every address: an IP literal is fine (no DNS rebinding yields one), a name is not
    assert every.host_ok("10.1.2.3:8501") and every.host_ok("[fe80::1]:8501")
    assert every.host_ok("dash.example.com") and every.host_ok("a.corp.example")
    assert not every.host_ok("evil.example") and not every.host_ok("corp.example.evil")
    one = Policy.for_listen("10.1.2.3")
    assert one.host_ok("10.1.2.3:80") and not one.host_ok("10.9.9.9:80")
    assert one.origin_ok("http://10.1.2.3:80") and not one.origin_ok("http://evil.example")
    assert not one.origin_ok("null")
