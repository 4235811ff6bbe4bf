"""Fixtures of the warehouse tests: a fresh PostgreSQL database per test (from MWDATA_TEST_PG_DSN,
dropped after), and the store-equals-truth check read from PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.pg import DSN, fresh_database
from tests.sync.test_sync_simulator import ALL, truth

needs_pg = [pytest.mark.postgres, pytest.mark.skipif(not DSN, reason="MWDATA_TEST_PG_DSN not set")]


@pytest.fixture
def pg_dsn() -> Iterator[str]:
    """A new, empty database on the test server; its DSN (no password: the server trusts loopback)."""
    with fresh_database("mwdata_w") as dsn:
        yield dsn


def query(dsn: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    import psycopg2

    con = psycopg2.connect(dsn)
    try:
        with con.cursor() as cur:
            cur.execute(sql, args or None)
            return list(cur.fetchall())
    finally:
        con.close()


def pg_stored(dsn: str, path: str) -> dict[str, dict[str, Any]]:
    rows = query(dsn, f"SELECT id, _record FROM raw.{path.replace('-', '_')}")
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids)), f"duplicate ids in raw.{path}"
    return {i: r for i, r in rows}


def assert_pg_truth(dsn: str, sim: Any, entities: tuple[str, ...] = ALL) -> None:
    for path in entities:
        want, got = truth(sim, path), pg_stored(dsn, path)
        missing, extra = want.keys() - got.keys(), got.keys() - want.keys()
        assert not missing and not extra, f"{path}: {len(missing)} missing, {len(extra)} extra"
        stale = [i for i in want if want[i] != got[i]]
        assert not stale, f"{path}: {len(stale)} records differ, e.g. {stale[:3]}"
