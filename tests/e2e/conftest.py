"""End-to-end fixtures: a running dashboard (`mwdata dashboard` as a subprocess) and headless Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mwdata.app import server
from tests import procs
from tests.api.conftest import scripted  # noqa: F401 (fixture for test_run.py)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
MWDATA = str(Path(sys.executable).with_name("mwdata"))


def dashboard_process(
    config: Path, port: int, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["MWDATA_CONFIG"] = str(config)
    env.update(extra_env or {})
    return procs.spawn(
        [MWDATA, "dashboard", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


@pytest.fixture
def running_dashboard(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Factory: start `mwdata dashboard` on a config file; stopped with its process tree at teardown."""
    started: list[subprocess.Popen[bytes]] = []

    def start(config: Path) -> str:
        port = server.free_port()
        proc = dashboard_process(config, port)
        started.append(proc)
        url = f"http://127.0.0.1:{port}"
        server.wait_ready(url, proc, timeout=90)
        return url

    yield start
    for p in started:
        procs.stop_tree(p)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium for one module: Playwright's sync API keeps an asyncio loop running in the
    main thread while it is open, and `anyio.run` (the MCP tests) refuses to start beside it."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is absent (CI installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def mart_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config pointing at a mart-shaped fixture store (benchmarks/dashboard_data.py)."""
    from benchmarks import dashboard_data

    d = tmp_path_factory.mktemp("e2e-marts")
    dashboard_data.build(d / "marts.duckdb", users=120, days=60)
    cfg = d / "mwdata.toml"
    cfg.write_text(f'store = "{d / "marts.duckdb"}"\n')
    return cfg
