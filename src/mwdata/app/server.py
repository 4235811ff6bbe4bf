"""Start the Streamlit dashboard as a child process (`mwdata dashboard`, `mwdata demo`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from mwdata.errors import MwdataError

APP = Path(__file__).with_name("main.py")


class DashboardError(MwdataError):
    """The dashboard server could not start."""

    exit_code = 13


def command(host: str, port: int) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
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
) -> subprocess.Popen[bytes]:
    """Spawn `streamlit run` on the package's app; the config reaches it through the environment."""
    full_env = dict(os.environ if env is None else env)
    full_env.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    out = subprocess.DEVNULL if quiet else None
    return subprocess.Popen(command(host, port), env=full_env, stdout=out, stderr=out)


def wait_ready(url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60.0) -> None:
    """Block until Streamlit's health endpoint answers `ok`."""
    deadline = time.monotonic() + timeout
    health = url.rstrip("/") + "/_stcore/health"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise DashboardError(f"the dashboard exited with code {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(health, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise DashboardError(f"the dashboard did not answer on {url} within {timeout:.0f} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
