"""The "New users" tile and the weekly new/returning chart on a hand-made store, numbers worked out by hand.

New = the user's `first_interaction_time` (users entity, as a UTC day) falls in the period — not the
first day the store saw the user, which counts everyone who talked before the store's history began.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
import pytest

from mwdata.read import queries
from mwdata.read.filters import Filters
from mwdata.read.snapshot import Store

# user, first_interaction_time (UTC), department, test user, days active (user_daily)
USERS = [
    ("u1", "2026-05-09 10:00", "Sales", False, ["2026-05-09", "2026-05-10"]),  # new, active
    ("u2", "2026-03-01 09:00", "Sales", False, ["2026-05-10"]),  # first seen here in the period, not new
    ("u3", "2026-05-14 23:30", "Eng", False, ["2026-05-14"]),  # new on the period's last UTC day
    ("u4", "2026-05-15 00:30", "Sales", False, []),  # the day after the period: not new
    ("u5", "2026-05-12 08:00", "Sales", False, []),  # new, no user turn in the store (counts as new)
    ("u6", "2026-05-10 12:00", "Sales", True, ["2026-05-10"]),  # a test user
    ("u7", "2026-05-03 12:00", "Eng", False, ["2026-05-03", "2026-05-11"]),  # retained, not new
    ("u8", None, "Sales", False, ["2026-05-12"]),  # no first_interaction_time: active, not new
]
PERIOD = Filters(date(2026, 5, 8), date(2026, 5, 14))  # previous period: 1–7 May


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    path = tmp_path_factory.mktemp("newusers") / "s.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("CREATE SCHEMA analytics")
        con.execute(
            "CREATE TABLE analytics.moveworks__users (user_id VARCHAR, first_interaction_time TIMESTAMPTZ, "
            "first_interaction_day DATE, department VARCHAR, location VARCHAR, country VARCHAR, role VARCHAR, "
            "access_to_bot BOOLEAN, is_test_user BOOLEAN)"
        )
        # one user interaction per active day (the columns the metric layer's interactions model reads;
        # the mart carries the user's columns, as moveworks__journey.sql joins them)
        user_cols = "department VARCHAR, location VARCHAR, role VARCHAR, first_interaction_day DATE, is_test_user BOOLEAN"
        con.execute(
            "CREATE TABLE analytics.moveworks__journey (interaction_id VARCHAR, conversation_id VARCHAR, "
            "user_id VARCHAR, date_day DATE, platform VARCHAR, interaction_type VARCHAR, route VARCHAR, "
            f"conversation_domain VARCHAR, conversation_type VARCHAR, interaction_domain VARCHAR, topic VARCHAR, {user_cols})"
        )
        con.execute(
            f"CREATE TABLE analytics.moveworks__user_daily (date_day DATE, user_id VARCHAR, {user_cols})"
        )
        con.execute(
            "CREATE TABLE analytics.metricflow_time_spine AS SELECT CAST(t AS DATE) AS date_day "
            "FROM range(DATE '2026-01-01', DATE '2027-01-01', INTERVAL 1 DAY) r(t)"
        )
        for uid, first, dept, test, days in USERS:
            ts = None if first is None else pd.Timestamp(first, tz="UTC")
            con.execute(
                "INSERT INTO analytics.moveworks__users VALUES (?, ?, ?, ?, 'Paris', 'FR', 'IC', TRUE, ?)",
                [uid, ts, None if ts is None else ts.date(), dept, test],
            )
            user = [dept, "Paris", "IC", None if ts is None else ts.date(), test]
            for d in days:
                con.execute(
                    "INSERT INTO analytics.moveworks__journey VALUES (?, ?, ?, ?, 'slack', "
                    "'INTERACTION_TYPE_FREE_TEXT', 'DM', 'IT', NULL, 'IT', 'vpn', ?, ?, ?, ?, ?)",
                    [f"{uid}-{d}", f"c-{uid}-{d}", uid, date.fromisoformat(d), *user],
                )
                con.execute(
                    "INSERT INTO analytics.moveworks__user_daily VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [date.fromisoformat(d), uid, *user],
                )
    s = Store(path, snapshot_dir=path.parent / "snaps")
    yield s  # type: ignore[misc]
    s.close()


@pytest.mark.parametrize(
    "filters,active,new,retained",
    [
        (PERIOD, 5, 3, 1),  # active u1 u2 u3 u7 u8; new u1 u3 u5; retained u7
        (Filters(PERIOD.start, PERIOD.end, values={"department": ("Sales",)}), 3, 2, 0),  # u1 u2 u8; u1 u5
        (Filters(PERIOD.start, PERIOD.end, include_test_users=True), 6, 4, 1),  # + u6
    ],
    ids=["all", "sales", "with-test-users"],
)
def test_user_tiles(store: Store, filters: Filters, active: int, new: int, retained: int) -> None:
    got = queries.user_counts(store, filters, "analytics").iloc[0]
    assert (int(got["active_users"]), int(got["new_users"]), int(got["retained_users"])) == (
        active,
        new,
        retained,
    )


def test_weekly_new_and_returning(store: Store) -> None:
    weekly = queries.adoption(store, PERIOD, "analytics")["new_returning"]
    rows = {pd.Timestamp(w).date(): (int(n), int(r)) for w, n, r in weekly.itertuples(index=False)}
    # week of 4 May: new u1, returning u2; week of 11 May: new u3 u5, returning u7 u8
    assert rows == {date(2026, 5, 4): (1, 1), date(2026, 5, 11): (2, 2)}
