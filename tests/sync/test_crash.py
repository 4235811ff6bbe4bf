"""SIGKILL `mwdata sync` (a real subprocess) at random points, rerun, compare — and a concurrent
second sync refused — against a loopback endpoint (test_kill.py does the same on the simulator)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from tests.api.conftest import Reply, Request
from tests.sync.conftest import KEY, mini_odata, run_cli

NOW = datetime.now(UTC).replace(microsecond=0)


def dataset(n: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(seed)
    out: dict[str, list[dict[str, Any]]] = {"interactions": [], "users": []}
    for path, count in (("interactions", n), ("users", n // 10)):
        for _ in range(count):
            lut = NOW - timedelta(seconds=rng.randint(60, 28 * 86400))
            out[path].append(
                {
                    "id": f"{rng.getrandbits(48):012x}",
                    "last_updated_time": lut.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    "v": 1,
                }
            )
    return out


def slow(script: Any, delay: float) -> Any:
    def handler(req: Request) -> Reply:
        time.sleep(delay)
        return script(req)

    return handler


def env_for(url: str, tmp: Path) -> dict[str, str]:
    (tmp / "mwdata.toml").write_text(
        '[api]\nrequests_per_minute = 0\npage_size = 50\n[sync]\nworkers = 2\nbatch_size = 120\nentities = ["interactions", "users"]\n'
    )
    return {
        "MWDATA_BASE_URL": url,
        "MWDATA_API_KEY": KEY,
        "MWDATA_STORE": str(tmp / "m.duckdb"),
        "MWDATA_SYNC_NOW": NOW.isoformat(),
    }


def spawn(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("MWDATA_")}
    full.update(env)
    exe = str(Path(sys.executable).parent / "mwdata")
    return subprocess.Popen(
        [exe, "--json", "sync"], env=full, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_sigkill_at_random_points_then_rerun(scripted, tmp_path: Path) -> None:
    data = dataset(2500, seed=5)
    srv = scripted(slow(mini_odata(data), 0.004))
    env = env_for(srv.url, tmp_path)
    rng = random.Random(int(os.environ.get("MWDATA_KILL_SEED", "42")))
    killed = 0
    for _ in range(8):
        proc = spawn(env, tmp_path)
        time.sleep(rng.uniform(0.6, 2.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.communicate(timeout=60)
    assert killed >= 4, "the sync finished too fast for the kills to land mid-run"
    done = run_cli("sync", env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    con = duckdb.connect(str(tmp_path / "m.duckdb"), read_only=True)
    for path, rows in data.items():
        got = dict(con.execute(f"SELECT id, _record FROM raw.{path}").fetchall())
        (n,) = con.execute(f"SELECT count(*) FROM raw.{path}").fetchone() or (0,)
        assert n == len(got) == len(rows)
        assert all(json.loads(got[r["id"]]) == r for r in rows)
    outcomes = [o for (o,) in con.execute("SELECT outcome FROM _mwdata.sync_runs").fetchall()]
    con.close()
    assert "aborted" in outcomes and outcomes.count("success") >= 2


def test_second_concurrent_sync_is_refused(scripted, tmp_path: Path) -> None:
    srv = scripted(slow(mini_odata(dataset(600, seed=9)), 0.03))
    env = env_for(srv.url, tmp_path)
    first = spawn(env, tmp_path)
    lock = tmp_path / "m.duckdb.lock"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (lock.exists() and lock.read_text().strip()):
            time.sleep(0.05)
        second = run_cli("sync", env=env, cwd=tmp_path)
        assert second.returncode == 6, second.stderr
        assert f"pid {first.pid}" in second.stderr and "Traceback" not in second.stderr
        assert first.poll() is None  # the first sync was not disturbed
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=60)
