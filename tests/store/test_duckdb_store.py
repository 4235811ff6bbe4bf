"""DuckDB store: newer-only batched upserts, atomic checkpoints + watermark, lock, status reads."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from mwdata.catalog import ENTITIES, entity
from mwdata.errors import LockedError
from mwdata.store.base import Window
from mwdata.store.duckdb import DIGEST_COLUMN, DuckDBStore, read_states, read_status
from mwdata.store.schema import SCHEMA_VERSION, raw_columns

INTER = entity("interactions")
D = datetime(2026, 11, 1, tzinfo=UTC)


def ts(h: int) -> str:
    return f"2026-11-01T{h:02d}:00:00.000Z"


def rec(i: str, h: int, **kw: object) -> dict[str, object]:
    return {"id": i, "last_updated_time": ts(h), "actor": "user", "detail": {"content": f"v{h}"}, **kw}


@pytest.fixture
def store(tmp_path: Path):
    s = DuckDBStore(tmp_path / "m.duckdb")
    s.prepare()
    yield s
    s.close()


def window(store: DuckDBStore, lo: int = 0, hi: int = 24, run: str = "r1") -> Window:
    w = Window(
        INTER.path, D.replace(hour=lo) if lo < 24 else D, D.replace(day=2) if hi == 24 else D.replace(hour=hi)
    )
    store.plan(run, [w])
    store.start_run(run, INTER, datetime.now(UTC), "{}")
    return w


def put(
    store: DuckDBStore, records: list, w: Window, last_id: str, done: bool = False, run: str = "r1"
) -> int:
    """Write one batch the way the sync engine does (encoded pages, then an atomic write)."""
    unique = len({r.get("id") for r in records}) == len(records)
    chunks = [store.encode(INTER, records)] if records else []
    return store.write(
        INTER, chunks, w, rows=len(records), unique=unique, last_id=last_id, pages=1, done=done, run_id=run
    )


def rows(store: DuckDBStore) -> dict[str, tuple]:
    return {
        r[0]: r[1:]
        for r in store.con.execute(
            "SELECT id, last_updated_time, _record, detail, _run_id FROM raw.interactions"
        ).fetchall()
    }


def test_tables_follow_the_raw_contract(store: DuckDBStore) -> None:
    for e in ENTITIES:
        cols = store.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = ? "
            "ORDER BY ordinal_position",
            [e.table],
        ).fetchall()
        assert [c[0] for c in cols] == [name for name, _ in raw_columns(e)] + [DIGEST_COLUMN]


def test_a_version_2_store_gets_the_record_digests(tmp_path: Path) -> None:
    """2 -> 3 adds `_record_digest` and fills it: the same records read again write nothing."""
    s = DuckDBStore(tmp_path / "m.duckdb")
    s.prepare()
    put(s, [rec("a", 1), rec("b", 1)], window(s), "b")
    s.con.execute(f"ALTER TABLE raw.interactions DROP COLUMN {DIGEST_COLUMN}")  # a version-2 store
    s.con.execute("UPDATE _mwdata.meta SET meta_value = '2' WHERE meta_key = 'schema_version'")
    s.close()
    s = DuckDBStore(tmp_path / "m.duckdb")
    try:
        s.prepare()
        assert s.meta()["schema_version"] == str(SCHEMA_VERSION) == "3"
        (unset,) = s.con.execute(
            f"SELECT count(*) FROM raw.interactions WHERE {DIGEST_COLUMN} IS NULL"
        ).fetchone() or (1,)
        assert unset == 0
        w = window(s, run="r2")
        assert put(s, [rec("a", 1), rec("b", 1)], w, "b", run="r2") == 0
        assert put(s, [rec("b", 1, label="changed")], w, "b", run="r3") == 1
        assert json.loads(rows(s)["b"][1])["label"] == "changed"
    finally:
        s.close()


def test_upsert_keeps_the_newest_version_and_every_field(store: DuckDBStore) -> None:
    w = window(store)
    batch = [rec("a", 1), rec("a", 3, extra_field={"x": 1}), rec("a", 2), rec("b", 1, label=None)]
    put(store, batch, w, "b", done=False, run="r1")
    got = rows(store)
    assert set(got) == {"a", "b"}
    assert json.loads(got["a"][1]) == batch[1]  # the whole record, unknown field included
    assert got["a"][0] == datetime(2026, 11, 1, 3, tzinfo=UTC)
    assert json.loads(got["a"][2]) == {"content": "v3"}
    # an older version arriving later never replaces a newer one; the same version again changes nothing
    assert put(store, [rec("a", 2), rec("b", 1, label=None)], w, "b", run="r2") == 0
    again = rows(store)
    assert again["a"] == got["a"] and again["b"] == got["b"]
    # a different version with the same stamp: the later read wins (see docs/DECISIONS.md)
    put(store, [rec("b", 1, label="changed")], w, "b", run="r2b")
    assert json.loads(rows(store)["b"][1])["label"] == "changed"
    # a newer version wins
    put(store, [rec("b", 5)], w, "b", done=False, run="r3")
    assert rows(store)["b"][0] == datetime(2026, 11, 1, 5, tzinfo=UTC) and rows(store)["b"][3] == "r3"


def test_bad_values_are_kept_raw_not_fatal(store: DuckDBStore) -> None:
    w = window(store)
    odd = rec("c", 1, created_time="not a time", served="maybe", brand_new=[1, 2])
    put(store, [odd, {"no_id": True}], w, "c", done=False, run="r1")
    (created, record) = store.con.execute("SELECT created_time, _record FROM raw.interactions").fetchone()
    assert created is None and json.loads(record) == odd


def test_checkpoint_and_watermark_commit_with_the_data(store: DuckDBStore) -> None:
    w1 = Window(INTER.path, D, D.replace(hour=12))
    w2 = Window(INTER.path, D.replace(hour=12), D.replace(day=2))
    store.plan("r1", [w1, w2])
    store.start_run("r1", INTER, datetime.now(UTC), "{}")
    # the later window finishes first: the watermark must not pass the unfinished earlier one
    put(store, [rec("z", 13)], w2, "z", done=True, run="r1")
    assert store.state(INTER).watermark == D
    put(store, [rec("a", 1)], w1, "a", done=False, run="r1")
    st = store.state(INTER)
    assert st.watermark == D and [(p.lo, p.last_id) for p in st.pending] == [(D, "a")]
    put(store, [], w1, "a", done=True, run="r1")
    assert store.state(INTER).watermark == D.replace(day=2) and store.state(INTER).pending == []


def test_failed_write_rolls_back_data_and_checkpoint(store: DuckDBStore) -> None:
    w = window(store)
    put(store, [rec("a", 1)], w, "a", done=False, run="r1")
    store.con.execute("ALTER TABLE _mwdata.sync_windows RENAME TO sync_windows_gone")
    with pytest.raises(Exception, match="sync_windows"):
        put(store, [rec("b", 1)], w, "b", done=False, run="r1")
    store.con.execute("ALTER TABLE _mwdata.sync_windows_gone RENAME TO sync_windows")
    assert set(rows(store)) == {"a"}
    assert store.state(INTER).pending[0].last_id == "a"


LOCK_HOLDER = textwrap.dedent(
    """
    import sys, time
    from mwdata.store.duckdb import DuckDBStore
    s = DuckDBStore(sys.argv[1]); s.prepare()
    with s.lock():
        print("locked", flush=True)
        time.sleep(60)
    """
)


def test_second_writer_is_refused_naming_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "m.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        # status still reads while the other process holds DuckDB's own file lock
        st = read_status(path)
        assert st.exists and {e.entity for e in st.entities} == {e.path for e in ENTITIES}
        assert read_states(path, [INTER])[INTER.path].watermark is None
        other = DuckDBStore(path)
        with pytest.raises(LockedError, match=f"pid {holder.pid}"), other.lock():
            pass
    finally:
        holder.kill()
        holder.wait()
    # a killed holder leaves no stale lock behind
    s = DuckDBStore(path)
    with s.lock():
        pass
    s.close()


def test_prepare_marks_a_dead_run_aborted(tmp_path: Path) -> None:
    s = DuckDBStore(tmp_path / "m.duckdb")
    s.prepare()
    s.start_run("r1", INTER, datetime.now(UTC), "{}")
    s.close()
    s = DuckDBStore(tmp_path / "m.duckdb")
    s.prepare()
    s.close()
    st = read_status(tmp_path / "m.duckdb")
    e = next(x for x in st.entities if x.entity == INTER.path)
    assert e.last_run_outcome == "aborted" and "resumes" in (e.last_run_message or "")


def test_status_of_a_missing_store(tmp_path: Path) -> None:
    assert not read_status(tmp_path / "none.duckdb").exists


def test_store_file_is_plain_duckdb(tmp_path: Path, store: DuckDBStore) -> None:
    w = window(store)
    put(store, [rec("a", 1)], w, "a", done=True, run="r1")
    store.close()
    con = duckdb.connect(str(tmp_path / "m.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM raw.interactions").fetchone() == (1,)
    assert con.execute("SELECT rows, pages, outcome FROM _mwdata.sync_runs").fetchone() == (1, 1, "running")
    con.close()
