"""The same dbt project builds and tests on a real PostgreSQL (MWDATA_TEST_PG_DSN; skipped otherwise)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from mwdata.catalog import ENTITIES
from mwdata.config import Config, TransformConfig
from mwdata.metrics.registry import get_metric
from mwdata.store.schema import POSTGRES_TYPES, create_all_sql, raw_columns
from mwdata.transform import build
from tests.metrics.gen import generate
from tests.metrics.reference import Ref
from tests.transform import hr_cases
from tests.transform.fixtures import rows_for

DSN = os.environ.get("MWDATA_TEST_PG_DSN")
pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not DSN, reason="MWDATA_TEST_PG_DSN not set")]


@contextmanager
def _database(records: Mapping[str, list[dict[str, Any]]]) -> Iterator[str]:
    """A fresh database holding `records` in the raw tables (no primary key: versions may repeat);
    dropped afterwards. Yields its DSN."""
    import psycopg2

    assert DSN is not None
    dbname = f"mwdata_t_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(DSN)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE {dbname}")
    dsn = DSN.rsplit("/", 1)[0] + "/" + dbname
    con = psycopg2.connect(dsn)
    try:
        with con, con.cursor() as cur:
            for stmt in create_all_sql(POSTGRES_TYPES):
                cur.execute(stmt.replace(',\n  PRIMARY KEY ("id")', ""))
            for e in ENTITIES:
                cols = ", ".join(f'"{c}"' for c, _ in raw_columns(e))
                marks = ", ".join("%s" for _ in raw_columns(e))
                cur.executemany(
                    f'INSERT INTO raw."{e.table}" ({cols}) VALUES ({marks})',
                    rows_for(e.path, records.get(e.path, [])),
                )
        yield dsn
    finally:
        con.close()
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
        admin.close()


@pytest.fixture(scope="module")
def pg_store() -> Iterator[tuple[str, object]]:
    ds = generate(7, users=25, days=15)
    with _database(ds.records) as dsn:
        yield dsn, ds


def test_project_builds_and_tests_on_postgres(pg_store: tuple[str, object]) -> None:
    import psycopg2

    dsn, ds = pg_store
    result = build(Config(store=dsn))
    assert not result.errors, [(r.name, r.message[:300]) for r in result.errors]
    assert result.count("success") >= 27
    # no HR file configured here: nobody is a test user
    ref = Ref(ds.records, []).metrics(date(2026, 11, 1), date(2026, 11, 30))  # type: ignore[attr-defined]
    with psycopg2.connect(dsn) as con, con.cursor() as cur:
        for name in (
            "conversations",
            "escalation_rate",
            "containment_rate",
            "plugin_used_rate",
            "citation_rate",
        ):
            m = get_metric(name)
            cur.execute(f'SELECT {m.numerator.sql} FROM analytics."{m.numerator.mart}"')
            assert float(cur.fetchone()[0] or 0) == pytest.approx(ref[name][0]), name  # type: ignore[index]
        cur.execute(
            "SELECT count(*) FROM analytics.moveworks__plugin_daily WHERE latency_p90_seconds IS NOT NULL"
        )
        assert cur.fetchone()[0] > 0  # type: ignore[index]


def test_hr_match_on_postgres(tmp_path: Path) -> None:
    """The same HR match as on DuckDB (tests/transform/hr_cases.py): e-mail first, then external ids
    unnested from JSONB, one-to-one, no fan-out."""
    import psycopg2

    with _database(hr_cases.records()) as dsn:
        hr = hr_cases.write_hr_csv(tmp_path / "hr.csv")
        result = build(Config(store=dsn, transform=TransformConfig(hr_file=str(hr))))
        assert not result.errors, [(r.name, r.message[:300]) for r in result.errors]
        uniq = [r for r in result.results if r.name == "unique_int_moveworks__users_enriched_hr_row_id"]
        assert [r.status for r in uniq] == ["pass"]
        with psycopg2.connect(dsn) as con, con.cursor() as cur:

            def query(sql: str) -> Sequence[tuple[Any, ...]]:
                cur.execute(sql)
                return cur.fetchall()

            hr_cases.assert_outcome(query, hr_cases.EXPECTED)
        con.close()
