"""Which windows a run reads.

Every run fixes an upper bound `upper` (its start time) and reads [lo, upper) split into windows:
- first run: lo = the configured start, default the oldest retained day (upper − 30 days, at 00:00);
- later runs: lo = watermark − look-back (rows become visible hours after their stamp);
- unfinished windows of a crashed run are resumed as they were (same bounds, from their last id) and
  the new windows fill only the gaps around them;
- `--full-refresh` re-plans from the start and drops unfinished windows (data is never deleted);
- `--since/--until` reads exactly that range; it advances the watermark only when it starts at or
  before the watermark (otherwise the gap before it would be claimed as read).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from mwdata.catalog import RETENTION_DAYS
from mwdata.store.base import EntityState, Window


@dataclass
class EntityPlan:
    entity: str
    resume: list[Window] = field(default_factory=list)
    new: list[Window] = field(default_factory=list)
    replace_pending: bool = False

    @property
    def windows(self) -> list[Window]:
        return sorted(self.resume + self.new, key=lambda w: (w.lo, w.hi))


def to_ms(ts: datetime) -> datetime:
    """Truncate to the millisecond: the precision of the API's timestamp literals."""
    return ts.astimezone(UTC).replace(microsecond=ts.microsecond // 1000 * 1000)


def default_start(upper: datetime) -> datetime:
    return (upper - timedelta(days=RETENTION_DAYS)).replace(hour=0, minute=0, second=0, microsecond=0)


def split(entity: str, lo: datetime, hi: datetime, hours: float, advances: bool = True) -> list[Window]:
    """[lo, hi) cut at multiples of `hours` since midnight UTC (stable boundaries from run to run)."""
    step = timedelta(hours=hours)
    day = lo.replace(hour=0, minute=0, second=0, microsecond=0)
    n = int((lo - day) / step)
    edge = day + step * (n + 1)
    out: list[Window] = []
    cur = lo
    while cur < hi:
        nxt = min(edge, hi)
        out.append(Window(entity, cur, nxt, advances_watermark=advances))
        cur, edge = nxt, edge + step
    return out


def gaps(lo: datetime, hi: datetime, taken: list[Window]) -> list[tuple[datetime, datetime]]:
    """The parts of [lo, hi) not covered by `taken`."""
    out = []
    cur = lo
    for w in sorted(taken, key=lambda w: w.lo):
        if w.lo > cur:
            out.append((cur, min(w.lo, hi)))
        cur = max(cur, w.hi)
        if cur >= hi:
            break
    if cur < hi:
        out.append((cur, hi))
    return [(a, b) for a, b in out if a < b]


def plan_entity(
    state: EntityState,
    *,
    upper: datetime,
    window_hours: float,
    lookback_hours: float,
    start: datetime | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    full_refresh: bool = False,
) -> EntityPlan:
    plan = EntityPlan(state.entity)
    if since is not None or until is not None:
        lo = since or state.watermark or start or default_start(upper)
        hi = min(until or upper, upper)
        advances = state.watermark is None or lo <= state.watermark
        plan.new = split(state.entity, to_ms(lo), to_ms(hi), window_hours, advances)
        return plan
    if full_refresh:
        plan.replace_pending = True
        plan.new = split(state.entity, to_ms(start or default_start(upper)), upper, window_hours)
        return plan
    if state.watermark is not None:
        lo = state.watermark - timedelta(hours=lookback_hours)
    else:
        lo = start or default_start(upper)
    lo = to_ms(lo)
    plan.resume = list(state.pending)
    for a, b in gaps(lo, upper, plan.resume):
        plan.new.extend(split(state.entity, a, b, window_hours))
    return plan
