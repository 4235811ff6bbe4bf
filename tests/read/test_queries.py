"""The query layer: exact against brute-force SQL, filters as bound parameters."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from mwdata.metrics.registry import MetricError
from mwdata.read import queries
from mwdata.read.filters import Filters
from mwdata.read.snapshot import Store


@pytest.fixture
def store(mart_store: Path, tmp_path: Path) -> Store:
    s = Store(mart_store, snapshot_dir=tmp_path / "snaps")
    yield s  # type: ignore[misc]
    s.close()


BRUTE = """
WITH base AS (SELECT DISTINCT date_day, user_id FROM analytics.moveworks__user_daily
              WHERE NOT is_test_user AND (? IS NULL OR department = ?)),
days AS (SELECT CAST(t AS DATE) AS day FROM range(CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP) + INTERVAL 1 DAY,
         INTERVAL 1 DAY) r(t))
SELECT d.day, count(DISTINCT b.user_id) FILTER (WHERE b.date_day = d.day) AS dau,
       count(DISTINCT b.user_id) FILTER (WHERE b.date_day > d.day - 7) AS wau, count(DISTINCT b.user_id) AS mau
FROM days d LEFT JOIN base b ON b.date_day BETWEEN d.day - 29 AND d.day GROUP BY 1 ORDER BY 1
"""


@pytest.mark.parametrize("dept", [None, "Sales"])
@pytest.mark.parametrize(
    "start,end", [(date(2026, 4, 2), date(2026, 5, 31)), (date(2026, 5, 20), date(2026, 5, 27))]
)
def test_dau_wau_mau_equal_distinct_counts(store: Store, dept: str | None, start: date, end: date) -> None:
    f = Filters(start, end, values={"department": (dept,)} if dept else {})
    fast = queries.adoption(store, f, "analytics")["active"]
    slow = store.query(BRUTE, [dept, dept, start, end])
    assert len(fast) == len(slow) == (end - start).days + 1
    assert (fast[["dau", "wau", "mau"]].to_numpy() == slow[["dau", "wau", "mau"]].to_numpy()).all()


def test_filter_values_are_bound_not_spliced(store: Store) -> None:
    evil = "x') OR 1=1 --"
    sql, params = Filters(date(2026, 5, 1), date(2026, 5, 31), values={"department": (evil,)}).where(
        queries.JOURNEY_DIMS, "created_time", "is_test_user"
    )
    assert evil not in sql and evil in params
    k = queries.kpis(
        store, Filters(date(2026, 5, 1), date(2026, 5, 31), values={"department": (evil,)}), "analytics"
    )
    assert int(k["active_users"].iloc[0]) == 0


def test_test_users_are_excluded_by_default(store: Store) -> None:
    f = Filters(date(2026, 4, 2), date(2026, 5, 31))
    without = int(queries.kpis(store, f, "analytics")["active_users"].iloc[0])
    with_test = int(
        queries.kpis(store, Filters(f.start, f.end, include_test_users=True), "analytics")[
            "active_users"
        ].iloc[0]
    )
    n_test = int(
        store.query(
            "SELECT count(DISTINCT user_id) AS n FROM analytics.moveworks__journey WHERE is_test_user"
        )["n"].iloc[0]
    )
    assert n_test > 0 and with_test == without + n_test


def test_previous_period_is_adjacent_and_same_length() -> None:
    f = Filters(date(2026, 5, 1), date(2026, 5, 31))
    p = f.previous()
    assert p.days == f.days and p.end == date(2026, 4, 30)


@pytest.mark.parametrize(
    "start,end", [(date(2026, 5, 10), date(2026, 5, 24)), (date(2026, 4, 2), date(2026, 4, 12))]
)
def test_new_and_retained_users_equal_python_sets(store: Store, start: date, end: date) -> None:
    f = Filters(start, end)
    got = queries.user_counts(store, f, "analytics").iloc[0]
    rows = store.query(
        "SELECT user_id, date_day FROM analytics.moveworks__user_daily WHERE NOT is_test_user AND date_day <= ?",
        [f.end],
    )
    roster = store.query(
        "SELECT user_id, first_interaction_day FROM analytics.moveworks__users WHERE NOT is_test_user"
    )
    first_seen: dict[str, date] = {}
    now: set[str] = set()
    before: set[str] = set()
    prev = f.previous()
    for uid, day in zip(rows["user_id"], rows["date_day"], strict=True):
        d = day.date() if hasattr(day, "date") else day
        first_seen[uid] = min(first_seen.get(uid, d), d)
        if f.start <= d <= f.end:
            now.add(uid)
        if prev.start <= d <= prev.end:
            before.add(uid)
    new = {
        u for u, d in zip(roster["user_id"], roster["first_interaction_day"], strict=True)
        if not pd.isna(d) and f.start <= pd.Timestamp(d).date() <= f.end
    }  # fmt: skip
    seen_new = {u for u, d in first_seen.items() if f.start <= d <= f.end}
    assert got["active_users"] == len(now)
    assert got["new_users"] == len(new)
    if seen_new:  # the store's first weeks: many users seen first here had talked to the assistant before
        assert seen_new - new
    assert got["retained_users"] == len(now & before)
    weekly = queries.adoption(store, f, "analytics")["new_returning"]
    assert int(weekly["new_users"].sum()) == len(new)  # the weekly chart counts the tile's new users


def test_missing_mart_or_column_is_an_actionable_error(tmp_path: Path) -> None:
    import duckdb

    from mwdata.errors import StoreError

    path = tmp_path / "bare.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA analytics; CREATE TABLE analytics.moveworks__journey (x INT)")
    s = Store(path, snapshot_dir=tmp_path / "snaps")
    with pytest.raises(StoreError, match="mwdata build"):
        queries.overview(s, Filters(date(2026, 5, 1), date(2026, 5, 2)), "analytics")
    with pytest.raises(StoreError, match="mwdata build"):
        queries.plugins(s, Filters(date(2026, 5, 1), date(2026, 5, 2)), "analytics")
    s.close()


def test_page_filters_become_metric_dimensions_or_a_clear_error() -> None:
    f = Filters(date(2026, 5, 1), date(2026, 5, 7), values={"domain": ("IT",), "route": ("DM",)})
    assert queries.metric_where("interactions", f) == {"conversation_domain": ["IT"], "route": ["DM"]}
    assert queries.metric_where("escalation_rate", f) == {"primary_domain": ["IT"], "route": ["DM"]}
    every = Filters(
        f.start,
        f.end,
        values={d: ("x",) for d in ("department", "location", "role", "platform", "route", "domain")},
    )
    for name in (
        "active_users",
        "interactions",
        "conversations",
        "containment_rate",
        "escalation_rate",
        "helpful_rate",
    ):
        assert len(queries.metric_where(name, every)) == 6, name  # every overview filter reaches every tile
    with pytest.raises(MetricError, match=r"new_users cannot be filtered by platform.*metrics.yml"):
        queries.metric_where("new_users", Filters(f.start, f.end, values={"platform": ("slack",)}))


def test_a_page_runs_each_identical_metric_query_once(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Segment adoption and adoption share their numerator (active users by segment): within a page
    it runs once, and the page is the same as with every query run on its own."""
    import sys

    q = sys.modules["mwdata.metrics.query"]
    calls: list[str] = []
    real = q._execute

    def counted(con, dialect, sql, params):  # type: ignore[no-untyped-def]
        calls.append(sql)
        return real(con, dialect, sql, params)

    monkeypatch.setattr(q, "_execute", counted)
    f = Filters(date(2026, 5, 1), date(2026, 5, 31), values={"department": ("Sales", "HR")})
    shared = queries.segments(store, f, "analytics")
    n_shared = len(calls)
    monkeypatch.setattr(q, "shared_results", _unshared)
    monkeypatch.setattr(queries, "shared_results", _unshared)
    calls.clear()
    alone = queries.segments(store, f, "analytics")
    assert len(calls) > n_shared and len(set(calls)) == n_shared
    for name, df in alone.items():
        pd.testing.assert_frame_equal(shared[name], df)


def _unshared():  # type: ignore[no-untyped-def]
    from contextlib import nullcontext

    return nullcontext()
