"""Window planning: stable boundaries, look-back, resumption of a crashed run's windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mwdata.store.base import EntityState, Window
from mwdata.sync.plan import default_start, gaps, plan_entity, split, to_ms

E = "interactions"
T0 = datetime(2026, 11, 28, 15, 47, 7, 123456, tzinfo=UTC)


def d(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def test_split_on_stable_boundaries() -> None:
    ws = split(E, d(1, 5), d(3, 2), 24)
    assert [(w.lo, w.hi) for w in ws] == [(d(1, 5), d(2)), (d(2), d(3)), (d(3), d(3, 2))]
    assert [(w.lo, w.hi) for w in split(E, d(1, 7), d(1, 20), 6)] == [
        (d(1, 7), d(1, 12)),
        (d(1, 12), d(1, 18)),
        (d(1, 18), d(1, 20)),
    ]
    assert split(E, d(2), d(2), 24) == []


def test_first_run_backfills_the_retention_window() -> None:
    p = plan_entity(EntityState(E, None, []), upper=to_ms(T0), window_hours=24, lookback_hours=72)
    ws = p.windows
    assert ws[0].lo == default_start(T0) == datetime(2026, 10, 29, tzinfo=UTC)
    assert ws[-1].hi == to_ms(T0) and ws[-1].hi.microsecond == 123000
    assert all(a.hi == b.lo for a, b in zip(ws, ws[1:], strict=False))
    assert len(ws) == 31


def test_incremental_reads_the_look_back() -> None:
    p = plan_entity(EntityState(E, d(27, 12), []), upper=d(28, 12), window_hours=24, lookback_hours=72)
    assert p.windows[0].lo == d(24, 12) and p.windows[-1].hi == d(28, 12)


def test_crashed_windows_resume_and_new_ones_fill_the_gaps() -> None:
    pending = [Window(E, d(25), d(26), last_id="k", window_id=7)]
    p = plan_entity(EntityState(E, d(25), pending), upper=d(28, 6), window_hours=24, lookback_hours=24)
    assert p.resume == pending
    spans = [(w.lo, w.hi) for w in p.windows]
    assert spans == [(d(24), d(25)), (d(25), d(26)), (d(26), d(27)), (d(27), d(28)), (d(28), d(28, 6))]


def test_gaps() -> None:
    taken = [Window(E, d(2), d(3)), Window(E, d(4), d(5))]
    assert gaps(d(1), d(6), taken) == [(d(1), d(2)), (d(3), d(4)), (d(5), d(6))]
    assert gaps(d(2), d(3), taken) == []


def test_since_until_and_the_watermark() -> None:
    st = EntityState(E, d(20), [])
    inside = plan_entity(st, upper=d(28), window_hours=24, lookback_hours=0, since=d(10), until=d(12))
    assert [w.advances_watermark for w in inside.windows] == [True, True]
    gap = plan_entity(st, upper=d(28), window_hours=24, lookback_hours=0, since=d(22), until=d(23))
    assert [w.advances_watermark for w in gap.windows] == [False]  # would claim [20, 22) as read


def test_full_refresh_replans_everything() -> None:
    pending = [Window(E, d(25), d(26), last_id="k")]
    p = plan_entity(
        EntityState(E, d(27), pending), upper=T0, window_hours=24, lookback_hours=1, full_refresh=True
    )
    assert p.replace_pending and p.resume == [] and p.windows[0].lo == default_start(T0)
    assert p.windows[0].lo == T0.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=30)
