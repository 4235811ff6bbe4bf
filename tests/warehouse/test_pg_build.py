"""`mwdata build` on a PostgreSQL store filled by the sync (through dlt) from the simulator: every
model builds, every data test runs, and the marts count what the sync stored."""

from __future__ import annotations

import dataclasses

from mwdata.config import Config
from mwdata.transform.runner import _Conn, _prepare_store
from tests.sync.conftest import run_cli
from tests.sync.test_sync_simulator import config, fast_sync, truth
from tests.warehouse.conftest import needs_pg, query

pytestmark = needs_pg
PASSWORD = "pw-NEVER-SHOWN-4711"  # the test server trusts loopback and ignores it


def test_build_on_a_postgres_store_filled_by_the_sync(simulator, small_dataset, tmp_path, pg_dsn) -> None:
    with simulator(small_dataset) as sim:
        cfg = dataclasses.replace(config(sim, tmp_path, window_hours=24 * 7), store=pg_dsn)
        r = fast_sync(cfg, sim)
        assert r.ok, r.first_error()
        conversations = len(truth(sim, "conversations"))
    # the CLI, with the password travelling through the environment only
    (tmp_path / "mwdata.toml").write_text("")
    cli = run_cli("build", env={"MWDATA_STORE": pg_dsn, "MWDATA_STORE_PASSWORD": PASSWORD}, cwd=tmp_path)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert PASSWORD not in cli.stdout + cli.stderr
    assert query(pg_dsn, "SELECT count(*) FROM analytics.moveworks__conversations") == [(conversations,)]
    (interactions,) = query(pg_dsn, "SELECT count(*) FROM raw.interactions")[0]
    (staged,) = query(pg_dsn, "SELECT count(*) FROM analytics_staging.stg_moveworks__interactions")[0]
    assert staged == interactions > 0
    checks = dict(query(pg_dsn, "SELECT status, count(*) FROM _mwdata.check_results GROUP BY status"))
    assert checks.get("pass", 0) > 50 and not checks.get("error") and not checks.get("fail"), checks
    # preparing again (the next build or check) keeps the HR table the staging view depends on
    con = _Conn(Config(store=pg_dsn))
    try:
        _prepare_store(Config(store=pg_dsn), con)
    finally:
        con.close()
    assert query(pg_dsn, "SELECT count(*) FROM analytics_staging.stg_hr__employees") == [(0,)]
