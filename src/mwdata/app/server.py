"""Start the Streamlit dashboard as a child process (`mwdata dashboard`, `mwdata demo`).

The child runs `streamlit run` on `asgi.py` (Streamlit's own app behind `guard.Guard`) in its own
process group, with a private snapshot root (`MWDATA_SNAPSHOT_ROOT`, mkdtemp 0700). `serve` forwards
SIGINT/SIGTERM to that group, waits for it (SIGKILL after a grace period) and removes the root, so
stopping `mwdata dashboard` never leaves Streamlit running or a copy of the store behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from mwdata.errors import MwdataError
from mwdata.read.snapshot import SNAPSHOT_ROOT_ENV

APP = Path(__file__).with_name("asgi.py")
GRACE_SECONDS = 10.0


class DashboardError(MwdataError):
    """The dashboard server could not start."""

    exit_code = 13


def command(host: str, port: int) -> list[str]:
    # The security settings are flags, so a ~/.streamlit/config.toml cannot weaken them.
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.enableCORS", "true",
        "--server.enableXsrfProtection", "true",
        "--server.enableAgentApi", "false",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "viewer",
        "--theme.base", "light",
    ]  # fmt: skip


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def start(
    host: str,
    port: int,
    env: dict[str, str] | None = None,
    quiet: bool = True,
    snapshot_root: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Spawn `streamlit run` in a new process group; the config reaches it through the environment."""
    full_env = dict(os.environ if env is None else env)
    full_env.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    if snapshot_root is not None:
        full_env[SNAPSHOT_ROOT_ENV] = str(snapshot_root)
    out = subprocess.DEVNULL if quiet else None
    return subprocess.Popen(command(host, port), env=full_env, stdout=out, stderr=out, start_new_session=True)


def wait_ready(
    url: str,
    proc: subprocess.Popen[bytes] | None = None,
    timeout: float = 60.0,
    stop: Callable[[], bool] = lambda: False,
) -> None:
    """Block until Streamlit's health endpoint answers `ok` (or `stop()` turns true)."""
    deadline = time.monotonic() + timeout
    health = url.rstrip("/") + "/_stcore/health"
    while time.monotonic() < deadline and not stop():
        if proc is not None and proc.poll() is not None:
            raise DashboardError(f"the dashboard exited with code {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(health, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    if not stop():
        raise DashboardError(f"the dashboard did not answer on {url} within {timeout:.0f} s")


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    """Signal the group `proc` leads (`start`'s children do), else `proc` alone."""
    try:
        if os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    except ProcessLookupError:
        pass


def stop(proc: subprocess.Popen[bytes], grace: float = GRACE_SECONDS) -> None:
    """SIGTERM the child's process group, wait `grace` seconds, then SIGKILL the group."""
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait()


def serve(
    host: str, port: int, env: dict[str, str], on_ready: Callable[[str], None], stopping: threading.Event
) -> int:
    """Run the dashboard until it exits or `stopping` is set; returns the child's exit code.

    The caller sets `stopping` from its SIGINT/SIGTERM handlers, installed before this is called so
    that a signal during startup still stops the child and removes the snapshot root."""
    root = Path(tempfile.mkdtemp(prefix="mwdata-dashboard-"))
    try:
        proc = start(host, port, env=env, snapshot_root=root)
        try:
            url = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
            wait_ready(url, proc, stop=stopping.is_set)
            if not stopping.is_set():
                on_ready(url)
            while not stopping.wait(0.5) and proc.poll() is None:
                pass
        finally:
            stop(proc)
        return proc.returncode if not stopping.is_set() else 0
    finally:
        shutil.rmtree(root, ignore_errors=True)
