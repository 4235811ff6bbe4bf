"""SIGKILL at random points, rerun, compare with the truth; and a second concurrent sync refused.

The sync runs as a real `mwdata sync` subprocess against the simulator (a real HTTP server in this
process); the kill lands wherever it lands — mid-page, mid-batch, mid-commit — but always after the
sync has started requesting pages (`kill_mid_run`), however slow the machine.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.sync.conftest import run_cli
from tests.sync.test_sync_simulator import ALL, assert_equal_truth, config, sim_now


def cli_env(sim: Any, tmp_path: Path, *, finish: bool = False, sync: str = "") -> dict[str, str]:
    """The CLI's environment and `mwdata.toml`. Runs to be killed read small pages in small batches,
    so a kill lands between many checkpoints; the rerun that must finish (`finish`) reads the same
    windows from their checkpoints in pages and batches ten times larger, as a user who changed the
    settings between two runs would, and spends its time on rows rather than on batch overhead."""
    page, batch = (1000, 3000) if finish else (100, 300)
    (tmp_path / "mwdata.toml").write_text(
        f"[api]\nrequests_per_minute = 0\npage_size = {page}\n[sync]\nworkers = 2\nbatch_size = {batch}\n{sync}"
    )
    return {
        "MWDATA_BASE_URL": sim.base_url,
        "MWDATA_API_KEY": sim.api_key,
        "MWDATA_STORE": str(tmp_path / "m.duckdb"),
        "MWDATA_SYNC_NOW": sim_now(sim).isoformat(),
    }


def spawn(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("MWDATA_")}
    full.update(env)
    exe = str(Path(sys.executable).parent / "mwdata")
    return subprocess.Popen(
        [exe, "--json", "sync"], env=full, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def kill_mid_run(
    sim: Any, env: dict[str, str], cwd: Path, rng: random.Random, pages: tuple[int, int]
) -> bool:
    """Start `mwdata sync` and SIGKILL it once the simulator has answered a random number of page
    requests in `pages` (then a random fraction of a page's time more). A fixed delay after the start
    once landed every kill inside Python's start-up on a loaded machine, before the run had begun.
    True if the kill landed (False: the sync finished first)."""
    target = rng.randint(*pages)
    served = [0]
    reached = threading.Event()

    def count(*_: object) -> None:
        served[0] += 1
        if served[0] >= target:
            reached.set()

    sim.on_request(count)
    try:
        proc = spawn(env, cwd)
        while not reached.wait(0.02) and proc.poll() is None:
            pass
        reached.wait(rng.uniform(0.0, 0.05))  # between two requests: mid-parse, mid-batch or mid-commit
        killed = proc.poll() is None
        if killed:
            proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        return killed
    finally:
        sim.on_request(None)


def test_sigkill_at_random_points_then_rerun(simulator, small_dataset, tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("MWDATA_KILL_SEED", "20261128")))
    with simulator(small_dataset, latency_s=0.003) as sim:
        killed = 0
        for round_ in range(10):
            if round_ % 3 == 2:  # the data moves on between some of the crashes
                sim.advance(hours=6)
                sim.reemit("interactions", fraction=0.01, seed=round_)
                sim.advance(seconds=1)
            killed += kill_mid_run(sim, cli_env(sim, tmp_path), tmp_path, rng, pages=(1, 60))
        assert killed >= 8, "the sync finished before most kills"
        done = run_cli("sync", env=cli_env(sim, tmp_path, finish=True), cwd=tmp_path, timeout=300)
        assert done.returncode == 0, done.stderr
        cfg = config(sim, tmp_path)
        assert_equal_truth(cfg, sim, ALL)
        import duckdb

        con = duckdb.connect(cfg.store, read_only=True)
        outcomes = [o for (o,) in con.execute("SELECT outcome FROM _mwdata.sync_runs").fetchall()]
        con.close()
        assert "aborted" in outcomes and "success" in outcomes


def test_second_concurrent_sync_is_refused(simulator, small_dataset, tmp_path: Path) -> None:
    with simulator(small_dataset, latency_s=0.02) as sim:
        env = cli_env(sim, tmp_path)
        first = spawn(env, tmp_path)
        lock = tmp_path / "m.duckdb.lock"
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not (lock.exists() and lock.read_text().strip()):
                time.sleep(0.05)
            second = run_cli("sync", env=env, cwd=tmp_path)
            assert second.returncode == 6, second.stderr
            assert f"pid {first.pid}" in second.stderr and "Traceback" not in second.stderr
        finally:
            first.send_signal(signal.SIGKILL)
            first.communicate(timeout=60)
