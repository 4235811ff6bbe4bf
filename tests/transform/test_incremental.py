"""Incremental builds (issue 13): after several simulated days of change, each synced and built
incrementally, every relation the project builds equals what a full refresh builds from the same raw
rows, on DuckDB and on PostgreSQL. The days hold what makes incremental builds hard: late plugin calls,
resources and interactions for conversations built days before, re-emitted versions with newer stamps
(a plugin call now used, an interaction now labelled file_ticket or dated a day earlier, a resource now
cited, a conversation with another route), a newer version that is quarantined, a plugin call moved to
another conversation, and user changes (bot access in the users entity, a department in the HR file, a new user)."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from mwdata.catalog import ENTITIES, entity
from mwdata.config import Config, TransformConfig
from mwdata.metrics.exports import build
from mwdata.store.schema import POSTGRES_TYPES, create_all_sql, raw_columns
from mwdata.transform.runner import RunResult
from tests.metrics.conftest import write_hr
from tests.metrics.gen import Dataset, _iso, generate
from tests.pg import fresh_database
from tests.transform.fixtures import rows_for

pytestmark = pytest.mark.slow(seconds=230)  # scheduled first (tests/conftest.py)

SCHEMAS = ("analytics", "analytics_intermediate", "analytics_staging", "analytics_seeds")
# the keys each build re-derived: different by design between an incremental build and a full refresh
KEY_MODELS = (
    "int_moveworks__changed_conversations",
    "int_moveworks__changed_user_days",
    "int_moveworks__changed_users",
)
SYNCED = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)  # the first sync; one more a day after it
DAYS = 5


# -- the raw tables, written as a store writes them: one version per id, newer versions replace older
@dataclass
class Raw:
    execute: Callable[[str, Sequence[Any]], Any]
    mark: str  # the driver's parameter mark
    kept: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {e.path: {} for e in ENTITIES})

    def create(self, stmts: Sequence[str]) -> None:
        for stmt in stmts:
            self.execute(stmt.replace(',\n  PRIMARY KEY ("id")', ""), [])

    def sync(self, records: Mapping[str, Sequence[Mapping[str, Any]]], synced_at: datetime, run: str) -> int:
        """Upsert `records` (newer last_updated_time wins; the same stamp: the later read) stamped
        `synced_at`; returns how many rows were written."""
        written = 0
        for path, recs in records.items():
            e = entity(path)
            cols = ", ".join(f'"{c}"' for c, _ in raw_columns(e))
            marks = ", ".join(self.mark for _ in raw_columns(e))
            for r in recs:
                old = self.kept[path].get(r["id"])
                if old is not None and (old["last_updated_time"] or "") > (r["last_updated_time"] or ""):
                    continue
                if old == r:
                    continue  # the same record again: a no-op (its _synced_at stays)
                self.kept[path][r["id"]] = dict(r)
                (row,) = rows_for(path, [r], run_id=run)
                row[-2] = synced_at
                self.execute(f'DELETE FROM raw."{e.table}" WHERE id = {self.mark}', [r["id"]])
                self.execute(f'INSERT INTO raw."{e.table}" ({cols}) VALUES ({marks})', row)
                written += 1
        return written


def _later(stamp: str, hours: float) -> str:
    return _iso(datetime.fromisoformat(stamp.replace("Z", "+00:00")) + timedelta(hours=hours))


@dataclass
class Day:
    synced_at: datetime
    records: dict[str, list[dict[str, Any]]]
    hr_rows: list[dict[str, Any]]
    note: str = ""


def simulated_days(ds: Dataset, seed: int = 5) -> list[Day]:
    """The first sync (records created before the cut), then DAYS daily syncs: the next day's new
    records, minus ~20% of the late-prone rows (plugin calls, resources, user interactions) that
    arrive one or two days later, plus changed versions of records synced before."""
    rng = random.Random(seed)
    times = sorted(r["created_time"] for r in ds.records["conversations"])
    first, last = times[0], times[-1]
    t0 = datetime.fromisoformat(first.replace("Z", "+00:00"))
    span = datetime.fromisoformat(last.replace("Z", "+00:00")) - t0
    cuts = [_iso(t0 + span * (0.55 + 0.09 * k)) for k in range(DAYS + 1)] + ["9999"]
    late_prone = ("plugin-calls", "plugin-resources", "interactions")
    out: list[Day] = []
    held: dict[int, dict[str, list[dict[str, Any]]]] = {}
    delivered: dict[str, dict[str, dict[str, Any]]] = {p: {} for p in ds.records}
    hr = copy.deepcopy(ds.hr_rows)
    users = ds.records["users"]
    for day in range(DAYS + 1):
        lo, hi = ("", cuts[0]) if day == 0 else (cuts[day - 1], cuts[day])
        recs: dict[str, list[dict[str, Any]]] = {p: [] for p in ds.records}
        for path, rows in ds.records.items():
            for r in rows:
                if path == "users":
                    if day == 0 and r["id"] != users[-1]["id"]:  # the last user joins on the last day
                        recs[path].append(r)
                    continue
                if not lo <= r["created_time"] < hi:
                    continue
                if path in late_prone and day < DAYS and rng.random() < 0.2:
                    held.setdefault(day + rng.choice((1, 2)), {}).setdefault(path, []).append(r)
                else:
                    recs[path].append(r)
        for path, rows in held.pop(day, {}).items():
            recs[path].extend(rows)  # late rows for conversations synced (and built) before
        if day == DAYS:
            recs["users"].append(users[-1])
            for later in held.values():  # whatever is still held arrives now
                for path, rows in later.items():
                    recs[path].extend(rows)
        if day > 0:
            recs = _changes(rng, delivered, recs, day)
            if day == 2:  # the HR extract moves someone to another department
                hr[0] = dict(hr[0], department="Legal")
            if day == 4:
                hr[1] = dict(hr[1], location="Remote", is_test_user=not hr[1]["is_test_user"])
        for path, rows in recs.items():
            for r in rows:
                delivered[path][r["id"]] = r
        out.append(Day(SYNCED + timedelta(days=day), recs, copy.deepcopy(hr)))
    return out


def _changes(
    rng: random.Random,
    delivered: dict[str, dict[str, dict[str, Any]]],
    recs: dict[str, list[dict[str, Any]]],
    day: int,
) -> dict[str, list[dict[str, Any]]]:
    """Newer versions of records delivered on earlier days (what the sync's look-back re-reads)."""

    def pick(path: str, ok: Callable[[dict[str, Any]], bool] = lambda r: True) -> dict[str, Any] | None:
        rows = sorted((r for r in delivered[path].values() if ok(r)), key=lambda r: r["id"])
        return copy.deepcopy(rng.choice(rows)) if rows else None

    def emit(path: str, r: dict[str, Any] | None, **changes: Any) -> None:
        if r is not None:
            r.update(changes, last_updated_time=_later(r["last_updated_time"], 30 * day))
            recs[path].append(r)

    for _ in range(2):
        pc = pick("plugin-calls")
        if pc is not None:
            emit("plugin-calls", pc, served=True, used=not pc["used"])
        emit("interactions", pick("interactions", lambda r: r["actor"] == "user"), label="file_ticket")
        res = pick("plugin-resources")
        if res is not None:
            emit("plugin-resources", res, cited=not res["cited"])
        conv = pick("conversations", lambda r: r["route"] == "DM")
        emit("conversations", conv, route="Channel")
    # re-emitted unchanged but with a newer stamp: re-derived, the same result
    emit("interactions", pick("interactions", lambda r: r["actor"] == "bot"))
    if day == 1:  # a newer version that is not usable: the record leaves every mart
        emit("interactions", pick("interactions", lambda r: r["actor"] == "user"), actor=None)
    if day == 3:  # a plugin call moved to another conversation's question
        pc = pick("plugin-calls")
        target = pick(
            "interactions",
            lambda r: (
                r["actor"] == "user" and pc is not None and r["conversation_id"] != pc["conversation_id"]
            ),
        )
        if pc is not None and target is not None:
            emit("plugin-calls", pc, interaction_id=target["id"], conversation_id=target["conversation_id"])
    if day == 4:  # the only interaction of a conversation, dated two days later in its newer version: its
        # old user-day loses it (no other row of the conversation keeps that user-day among the keys)
        per_conversation: dict[str, int] = {}
        for r in delivered["interactions"].values():
            per_conversation[r["conversation_id"]] = per_conversation.get(r["conversation_id"], 0) + 1
        q = pick(
            "interactions", lambda r: r["actor"] == "user" and per_conversation[r["conversation_id"]] == 1
        )
        assert q is not None
        emit("interactions", q, created_time=_later(q["created_time"], 48))
    if day in (2, 5):  # bot access changes in the users entity
        emit("users", pick("users"), access_to_bot=day == 5)
    return recs


# -- comparing every relation ----------------------------------------------------------------------
def _relations(query: Callable[[str], list[tuple[Any, ...]]]) -> list[str]:
    listed = ", ".join(f"'{s}'" for s in SCHEMAS)
    return [
        f"{s}.{t}"
        for s, t in query(
            f"SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ({listed}) ORDER BY 1, 2"
        )
        if t not in KEY_MODELS
    ]


def _snapshot(
    query: Callable[[str], list[tuple[Any, ...]]], columns: Callable[[str], list[str]]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for rel in _relations(query):
        cols = [c for c in columns(rel) if c != "as_of_day"]  # the UTC day of the build
        rows = query(f"SELECT {', '.join(cols)} FROM {rel}")
        out[rel] = (cols, sorted(rows, key=lambda r: tuple((x is None, str(x)) for x in r)))
    return out


def _differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    out = [f"{rel}: only in one build" for rel in set(a) ^ set(b)]
    for rel in sorted(set(a) & set(b)):
        (ca, ra), (cb, rb) = a[rel], b[rel]
        if ca != cb:
            out.append(f"{rel}: columns differ")
        elif ra != rb:
            sa, sb = set(ra), set(rb)
            out.append(
                f"{rel}: {len(ra)} vs {len(rb)} rows; e.g. {sorted(sa - sb, key=str)[:1]} vs {sorted(sb - sa, key=str)[:1]}"
            )
    return out


@dataclass
class Store:
    cfg: Callable[[Path], Config]
    raw: Raw
    query: Callable[[str], list[tuple[Any, ...]]]
    columns: Callable[[str], list[str]]


@contextmanager
def duckdb_store(tmp: Path) -> Iterator[Store]:
    db = tmp / "s.duckdb"
    con = duckdb.connect(str(db))
    open_ = [con]

    def execute(sql: str, params: Sequence[Any]) -> None:
        if open_[0] is None:
            open_[0] = duckdb.connect(str(db))
        open_[0].execute(sql, list(params))

    def close() -> None:
        if open_[0] is not None:
            open_[0].close()
            open_[0] = None

    def query(sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(db), read_only=True) as c:
            return list(c.execute(sql).fetchall())

    def columns(rel: str) -> list[str]:
        with duckdb.connect(str(db), read_only=True) as c:
            return [d[0] for d in c.execute(f"SELECT * FROM {rel} LIMIT 0").description]

    raw = Raw(execute, "?")
    raw.create(create_all_sql())
    store = Store(
        lambda hr: Config(store=str(db), transform=TransformConfig(hr_file=str(hr))), raw, query, columns
    )
    store.close = close  # type: ignore[attr-defined]
    try:
        yield store
    finally:
        close()


@contextmanager
def postgres_store() -> Iterator[Store]:
    import psycopg2

    with fresh_database() as dsn:
        con = psycopg2.connect(dsn)
        con.autocommit = True

        def execute(sql: str, params: Sequence[Any]) -> None:
            with con.cursor() as cur:
                cur.execute(sql, list(params))

        def query(sql: str) -> list[tuple[Any, ...]]:
            with con.cursor() as cur:
                cur.execute(sql)
                return list(cur.fetchall())

        def columns(rel: str) -> list[str]:
            with con.cursor() as cur:
                cur.execute(f"SELECT * FROM {rel} LIMIT 0")
                return [d[0] for d in cur.description]

        raw = Raw(execute, "%s")
        raw.create(create_all_sql(POSTGRES_TYPES))
        store = Store(
            lambda hr: Config(store=dsn, transform=TransformConfig(hr_file=str(hr))), raw, query, columns
        )
        store.close = lambda: None  # type: ignore[attr-defined]
        try:
            yield store
        finally:
            con.close()


def _days_then_full_refresh(
    store: Store, tmp: Path
) -> tuple[list[RunResult], dict[str, Any], dict[str, Any]]:
    ds = generate(11, users=30, days=14)
    hr = tmp / "hr.csv"
    results = []
    touched: list[tuple[int, int]] = []  # (conversations re-derived, conversations) per build
    for day in simulated_days(ds):
        assert store.raw.sync(day.records, day.synced_at, f"run-{day.synced_at:%d}") > 0
        write_hr(hr, day.hr_rows)
        store.close()  # type: ignore[attr-defined]
        result = build(store.cfg(hr))  # a model error raises; data tests may fail (late rows are orphans)
        results.append(result)
        ((changed, total),) = store.query(
            "SELECT (SELECT count(*) FROM analytics_intermediate.int_moveworks__changed_conversations), "
            "(SELECT count(*) FROM analytics.moveworks__conversations)"
        )
        touched.append((int(changed), int(total)))
    incremental = _snapshot(store.query, store.columns)
    full = build(store.cfg(hr), full_refresh=True)
    assert full.increment is not None and full.increment.reason == "--full-refresh"
    # the first build is a full refresh (no key set); every later one re-derived a part of the conversations
    assert touched[0][0] == 0 and all(0 < c < n for c, n in touched[1:]), touched
    return results, incremental, _snapshot(store.query, store.columns)


def _check(store: Store, results: list[RunResult], incremental: dict[str, Any], full: dict[str, Any]) -> None:
    assert [r.increment.full_refresh for r in results if r.increment] == [True] + [False] * DAYS
    assert _differences(incremental, full) == []
    assert (
        len(full) >= 30
        and "analytics.moveworks__journey" in full
        and "analytics.moveworks__kpi_daily" in full
    )
    # the last incremental build re-derived a part of the conversations, not all of them
    ((n,),) = store.query("SELECT count(*) FROM analytics.moveworks__conversations")
    assert n > 100 and len(full["analytics.moveworks__conversations"][1]) == n


def test_incremental_builds_equal_a_full_refresh_on_duckdb(tmp_path: Path) -> None:
    with duckdb_store(tmp_path) as store:
        results, incremental, full = _days_then_full_refresh(store, tmp_path)
        _check(store, results, incremental, full)


def test_cli_build_and_run_take_full_refresh(tmp_path: Path) -> None:
    """`mwdata build --full-refresh` reaches dbt as a full refresh (recorded in _mwdata.transform_increment);
    `mwdata run` takes the option too."""
    from tests.sync.conftest import run_cli

    db = tmp_path / "s.duckdb"  # duckdb_store's
    ds = generate(4, users=5, days=3)
    with duckdb_store(tmp_path) as store:
        store.raw.sync(ds.records, SYNCED, "run-1")
        store.close()  # type: ignore[attr-defined]
        first = build(Config(store=str(db)))
        assert first.increment is not None and first.increment.full_refresh

        def refreshed() -> Any:
            ((at, pending),) = store.query("SELECT full_refresh_at, pending FROM _mwdata.transform_increment")
            assert pending is False
            return at

        before = refreshed()
        r = run_cli("build", "--full-refresh", env={"MWDATA_STORE": str(db)}, cwd=tmp_path)
        assert r.returncode == 0, r.stderr[-2000:]
        assert refreshed() > before
    r = run_cli("run", "--help", env={}, cwd=tmp_path)
    assert r.returncode == 0 and "--full-refresh" in r.stdout


def test_a_failed_build_leaves_the_next_one_a_full_refresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Models that did run in a failed build may have used key sets the others did not: the next
    build rebuilds everything, and only a finished build moves the mark."""
    from mwdata.errors import TransformError
    from mwdata.transform import runner

    ds = generate(8, users=5, days=3)
    with duckdb_store(tmp_path) as store:
        store.raw.sync(ds.records, SYNCED, "run-1")
        store.close()  # type: ignore[attr-defined]
        cfg = Config(store=str(tmp_path / "s.duckdb"))
        assert build(cfg).increment.full_refresh  # type: ignore[union-attr]
        real = runner.run_dbt

        def failing(cfg: Config, command: Any, prepare: bool = True) -> RunResult:
            raise TransformError("dbt build failed: the store went away")

        monkeypatch.setattr(runner, "run_dbt", failing)
        store.raw.sync(
            {
                "users": [
                    dict(
                        ds.records["users"][0], access_to_bot=False, last_updated_time="2099-01-01T00:00:00Z"
                    )
                ]
            },
            SYNCED + timedelta(days=1),
            "run-2",
        )
        store.close()  # type: ignore[attr-defined]
        with pytest.raises(TransformError):
            build(cfg)
        monkeypatch.setattr(runner, "run_dbt", real)
        after = build(cfg).increment
        assert after is not None and after.reason.startswith("the last build did not finish")
        assert after.watermark == SYNCED + timedelta(days=1)
        assert build(cfg).increment.full_refresh is False  # type: ignore[union-attr]
