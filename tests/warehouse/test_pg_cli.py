"""`mwdata sync` / `mwdata status` as real subprocesses on a PostgreSQL store: SIGKILL at random
points then rerun (equal to the truth), a second sync refused by the server-side lock, status with
the same shape as on DuckDB, clear errors without the password."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from mwdata.store.dlt import PG_LOCK_HELD, PG_LOCK_KEY
from tests.sync.conftest import run_cli
from tests.sync.test_kill import cli_env, kill_mid_run, spawn
from tests.sync.test_sync_simulator import ALL
from tests.warehouse.conftest import assert_pg_truth, needs_pg, query

pytestmark = [pytest.mark.slow(seconds=170), *needs_pg]
PASSWORD = "pw-NEVER-SHOWN-4711"  # the test server trusts loopback and ignores it


def pg_env(
    sim: Any, tmp_path: Path, dsn: str, *, transactions: bool = True, finish: bool = False
) -> dict[str, str]:
    env = cli_env(sim, tmp_path, finish=finish, sync="window_hours = 72\n")
    if not transactions:
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [without_transactions(tmp_path), os.environ.get("PYTHONPATH")])
        )
    return {**env, "MWDATA_STORE": dsn, "MWDATA_STORE_PASSWORD": PASSWORD}


def without_transactions(tmp_path: Path) -> str:
    """A folder whose sitecustomize makes the PostgreSQL store run as on Databricks, whose SQL client
    has no transactions: every statement commits on its own, so a kill can land between any two."""
    site = tmp_path / "no-transactions"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(
        "import dataclasses\n"
        "from mwdata.store import dlt\n"
        "dlt.DIALECTS['postgres'] = dataclasses.replace(dlt.DIALECTS['postgres'], transactions=False)\n"
        f"open({str(site / 'applied')!r}, 'w').close()\n"
    )
    return str(site)


@pytest.mark.parametrize("transactions", [True, False], ids=["atomic-batches", "no-transactions"])
def test_sigkill_at_random_points_then_rerun(
    simulator, small_dataset, tmp_path, pg_dsn, transactions
) -> None:
    rng = random.Random(int(os.environ.get("MWDATA_KILL_SEED", "20261129")))
    with simulator(small_dataset, latency_s=0.003) as sim:
        killed = 0
        for round_ in range(6):
            if round_ % 3 == 2:  # the data moves on between some of the crashes
                sim.advance(hours=6)
                sim.reemit("interactions", fraction=0.01, seed=round_)
                sim.advance(seconds=1)
            env = pg_env(sim, tmp_path, pg_dsn, transactions=transactions)
            killed += kill_mid_run(sim, env, tmp_path, rng, pages=(1, 60))
        assert killed >= 5, "the sync finished before most kills"
        assert transactions or (tmp_path / "no-transactions" / "applied").exists()
        env = pg_env(sim, tmp_path, pg_dsn, transactions=transactions, finish=True)
        done = run_cli("sync", env=env, cwd=tmp_path, timeout=300)
        assert done.returncode == 0, done.stderr
        assert_pg_truth(pg_dsn, sim, ALL)
        outcomes = {o for (o,) in query(pg_dsn, "SELECT outcome FROM _mwdata.sync_runs")}
        assert {"aborted", "success"} <= outcomes
        assert not query(pg_dsn, "SELECT 1 FROM raw_staging.interactions")  # litter cleared

        # status: same shape as on DuckDB, counts from the warehouse, never the password
        st = run_cli("--json", "status", env=pg_env(sim, tmp_path, pg_dsn), cwd=tmp_path)
        assert st.returncode == 0, st.stderr
        assert PASSWORD not in st.stdout + st.stderr
        doc = json.loads(st.stdout)
        assert doc["exists"] and doc["store"] == pg_dsn and doc["tenant"] == "127.0.0.1"
        rows = {e["entity"]: e["rows"] for e in doc["entities"]}
        for path in ALL:
            (n,) = query(pg_dsn, f"SELECT count(*) FROM raw.{path.replace('-', '_')}")[0]
            assert rows[path] == n > 0
        assert all(e["last_run_outcome"] == "success" and e["watermark"] for e in doc["entities"])
        human = run_cli("status", env=pg_env(sim, tmp_path, pg_dsn), cwd=tmp_path)
        assert human.returncode == 0 and "interactions" in human.stdout and PASSWORD not in human.stdout


def test_second_concurrent_sync_is_refused(simulator, small_dataset, tmp_path, pg_dsn) -> None:
    with simulator(small_dataset, latency_s=0.02) as sim:
        env = pg_env(sim, tmp_path, pg_dsn)
        first = spawn(env, tmp_path)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not query(
                pg_dsn, f"SELECT 1 FROM pg_locks l WHERE {PG_LOCK_HELD}", *PG_LOCK_KEY
            ):  # this database's: other tests' syncs hold the same lock in theirs
                time.sleep(0.1)
            second = run_cli("sync", env=env, cwd=tmp_path)
            assert second.returncode == 6, second.stderr
            assert "another mwdata sync" in second.stderr and "Traceback" not in second.stderr
            assert PASSWORD not in second.stderr + second.stdout
            dry = run_cli("sync", "--dry-run", env=env, cwd=tmp_path)  # reads state, takes no lock
            assert dry.returncode == 0, dry.stderr
        finally:
            first.send_signal(signal.SIGKILL)
            first.communicate(timeout=60)


def test_unreachable_or_wrong_store_is_a_clear_error(simulator, small_dataset, tmp_path, pg_dsn) -> None:
    with simulator(small_dataset) as sim:
        base = pg_dsn.rsplit("/", 1)[0]
        cases = {
            "refused": "postgresql://postgres@127.0.0.1:1/x",
            "no such database": base + "/mwdata_does_not_exist",
            "inline password": base.replace("postgres@", f"postgres:{PASSWORD}@") + "/mwdata_does_not_exist",
        }
        for what, dsn in cases.items():
            r = run_cli("sync", env=pg_env(sim, tmp_path, dsn), cwd=tmp_path)
            out = r.stdout + r.stderr
            assert r.returncode == 7, (what, out)
            assert "Traceback" not in out and PASSWORD not in out, (what, out)
            assert "postgres store" in out, (what, out)
        st = run_cli("status", env=pg_env(sim, tmp_path, base + "/mwdata_does_not_exist"), cwd=tmp_path)
        assert st.returncode == 7 and PASSWORD not in st.stdout + st.stderr
        bad = run_cli("sync", env=pg_env(sim, tmp_path, "postgresql://host-only"), cwd=tmp_path)
        assert bad.returncode == 2 and "postgresql://user@host:5432/database" in bad.stderr
