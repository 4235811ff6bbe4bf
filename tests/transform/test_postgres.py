"""The same dbt project builds and tests on a real PostgreSQL (MWDATA_TEST_PG_DSN; skipped otherwise)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from mwdata.config import Config, TransformConfig
from mwdata.metrics import value
from mwdata.metrics.exports import build
from tests.metrics import handmade
from tests.metrics.gen import generate
from tests.metrics.reference import Ref
from tests.pg import DSN, database_with
from tests.transform import hr_cases

pytestmark = [
    pytest.mark.slow(seconds=125),
    pytest.mark.postgres,
    pytest.mark.skipif(not DSN, reason="MWDATA_TEST_PG_DSN not set"),
]


@pytest.fixture(scope="module")
def pg_store() -> Iterator[tuple[str, object]]:
    ds = generate(7, users=25, days=15)
    with database_with(ds.records) as dsn:
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
            got = value(con, name, date(2026, 11, 1), date(2026, 11, 30))
            num, den = ref[name]  # type: ignore[index]
            assert got == pytest.approx(num / den if den else num), name
        cur.execute(
            "SELECT count(*) FROM analytics.moveworks__plugin_daily WHERE plugin_latency_p90 IS NOT NULL"  # an export
        )
        assert cur.fetchone()[0] > 0  # type: ignore[index]


def test_hr_match_on_postgres(tmp_path: Path) -> None:
    """The same HR match as on DuckDB (tests/transform/hr_cases.py): e-mail first, then external ids
    unnested from JSONB, one-to-one, no fan-out."""
    import psycopg2

    with database_with(hr_cases.records()) as dsn:
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


def test_pii_hash_and_quarantine_on_postgres(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pii = hash on PostgreSQL: keyed digests through the session setting (the HR match still works,
    no plaintext in the target schemas, no key in the run files); RFC 1123 and epoch times parsed, an
    unparsable one (or 31 February) quarantined with a warning, never an error."""
    import psycopg2

    from mwdata.transform.runner import pii_key
    from tests.transform import pii_cases

    with database_with(pii_cases.records()) as dsn:
        with psycopg2.connect(dsn) as con, con.cursor() as cur:
            for iid, sent in (
                ("i1_0", '"Fri, 01 Aug 2025 00:11:55 GMT"'),
                ("i2_0", "1754007115444"),
                ("i1_1", '"garbage"'),
                ("i1_2", '"Sat, 31 Feb 2026 00:00:00 GMT"'),
            ):
                cur.execute(
                    "UPDATE raw.interactions SET created_time = NULL, "
                    "_record = jsonb_set(_record, '{created_time}', %s::jsonb) WHERE id = %s",
                    [sent, iid],
                )
        con.close()
        hr = pii_cases.write_hr_csv(tmp_path / "hr.csv")
        cfg = Config(
            store=dsn, transform=pii_cases.transform("hash", "a postgres salt, long enough", hr_file=str(hr))
        )
        with pii_cases.kept_run_dirs(monkeypatch, tmp_path / "runs") as kept:
            result = build(cfg)
        assert not result.errors, [(r.name, r.message[:300]) for r in result.errors]
        (warn,) = [r for r in result.warnings if r.name.startswith("quarantined_records")]
        assert "interactions i1_1: created_time is not a timestamp" in warn.message and warn.failures == 2
        key = pii_key(cfg)
        assert key is not None
        assert kept and all(pii_cases.files_containing(run, [key, "a postgres salt"]) == [] for run in kept)
        with psycopg2.connect(dsn) as con, con.cursor() as cur:

            def query(sql: str) -> Sequence[tuple[Any, ...]]:
                cur.execute(sql)
                return cur.fetchall()

            got = {
                str(u): (e, how)
                for u, e, how in query(
                    "SELECT user_id, employee_id, hr_match FROM analytics_intermediate.int_moveworks__users_enriched "
                    "WHERE hr_row_id IS NOT NULL"
                )
            }
            assert got == hr_cases.EXPECTED
            assert query("SELECT email FROM analytics.moveworks__users WHERE user_id = '8'") == [
                (pii_cases.keyed(key, "kat@example.com"),)
            ]
            n, found = pii_cases.scan(query, pii_cases.plaintext() | pii_cases.unsalted_digests())
            assert n >= 30 and not found, found
            assert query("SELECT record_id FROM analytics.moveworks__quarantine ORDER BY 1") == [
                ("i1_1",),
                ("i1_2",),
            ]
            times = dict(
                query(
                    "SELECT interaction_id, to_char(created_time at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') "
                    "FROM analytics.moveworks__journey WHERE interaction_id IN ('i1_0', 'i2_0')"
                )
            )
            assert times == {"i1_0": "2025-08-01 00:11:55.000", "i2_0": "2025-08-01 00:11:55.444"}
        con.close()


def test_hand_worked_metric_values_on_postgres(tmp_path: Path) -> None:
    """The hand-made tenant's values (tests/metrics/test_values.py) through MetricFlow's PostgreSQL SQL."""
    import psycopg2

    from mwdata.metrics import query
    from tests.metrics.test_values import EXPECTED, NOV, W2, WEEKS, _same

    with database_with(handmade.records()) as dsn:
        hr = tmp_path / "hr.csv"
        hr.write_text(handmade.hr_csv())
        result = build(Config(store=dsn, transform=TransformConfig(hr_file=str(hr))))
        assert not result.errors, [(r.name, r.message[:300]) for r in result.errors]
        con = psycopg2.connect(dsn)
        try:
            for name, (total, weeks, (flt, filtered)) in EXPECTED.items():
                assert _same(value(con, name, *NOV), total), name
                assert _same(value(con, name, *NOV, where=flt), filtered), (name, flt)
                s = query(con, name, grain="week", since=WEEKS[0], until=WEEKS[1])
                got = dict(zip(s["period"], s["value"], strict=True))
                assert all(_same(got.get(w), v) for w, v in weeks.items()), (name, got)
            assert value(con, "retained_users", W2, WEEKS[1]) == 1.0
            days = query(con, "dau_wau_mau", grain="day", since=date(2026, 11, 15), until=date(2026, 11, 15))
            assert days[["dau", "wau", "mau"]].values.tolist() == [[1, 4, 4]]
        finally:
            con.close()
