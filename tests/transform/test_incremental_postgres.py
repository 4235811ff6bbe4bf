"""Incremental builds on PostgreSQL: the equality with a full refresh after several simulated days
(the scenario of tests/transform/test_incremental.py, in a module of its own so that pytest-xdist runs
it beside the DuckDB one), and the mark moved back while a sync holds its lock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.metrics.conftest import write_hr
from tests.metrics.gen import generate
from tests.pg import DSN, fresh_database
from tests.transform.test_incremental import SYNCED, _check, _days_then_full_refresh, build, postgres_store

pytestmark = pytest.mark.slow(seconds=180)  # scheduled first (tests/conftest.py)


@pytest.mark.postgres
@pytest.mark.skipif(not DSN, reason="MWDATA_TEST_PG_DSN not set")
def test_incremental_builds_equal_a_full_refresh_on_postgres(tmp_path: Path) -> None:
    with postgres_store() as store:
        results, incremental, full = _days_then_full_refresh(store, tmp_path)
        _check(store, results, incremental, full)


@pytest.mark.postgres
@pytest.mark.skipif(not DSN, reason="MWDATA_TEST_PG_DSN not set")
def test_a_sync_writing_during_a_build_moves_the_mark_back_on_postgres(tmp_path: Path) -> None:
    """While a sync holds its advisory lock, a batch stamped before the newest row may still commit:
    the build records the newest _synced_at minus incremental_margin_hours, and the next build reads
    from there; without a sync, the mark is the newest row itself."""
    import psycopg2

    from mwdata.store.dlt import PG_LOCK_KEY

    ds = generate(6, users=6, days=3)
    hr = tmp_path / "hr.csv"
    write_hr(hr, ds.hr_rows)
    with postgres_store() as store:
        store.raw.sync(ds.records, SYNCED, "run-1")
        with fresh_database() as elsewhere:
            other = psycopg2.connect(elsewhere)
            try:
                with other.cursor() as cur:  # a sync into another database of the server
                    cur.execute("SELECT pg_advisory_lock(%s, %s)", PG_LOCK_KEY)
                quiet = build(store.cfg(hr)).increment
            finally:
                other.close()
        assert quiet is not None and quiet.watermark == SYNCED
        dsn = store.cfg(hr).store
        with psycopg2.connect(dsn) as lock, lock.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s, %s)", PG_LOCK_KEY)
            busy = build(store.cfg(hr)).increment
            cur.execute("SELECT pg_advisory_unlock(%s, %s)", PG_LOCK_KEY)
        lock.close()
        assert busy is not None and busy.since == SYNCED and busy.watermark == SYNCED - timedelta(hours=1)
        after = build(store.cfg(hr)).increment
        assert after is not None and after.since == SYNCED - timedelta(hours=1) and after.watermark == SYNCED
