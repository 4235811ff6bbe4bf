"""The native store: one DuckDB file (default `mwdata.duckdb`) with raw tables, sync state and run log.

Writes are batched upserts done inside DuckDB: reader threads encode each page as newline-delimited
JSON (one bytes object per page, the most compact form Python has); the writer spools a batch to a
temporary file and one `MERGE` reads it (`read_json_objects` + `json_transform`, in C++),
keeps the newest version per id within the batch, and merges it into `raw.<table>`, replacing a
stored row only by a newer `last_updated_time`, or by a different record with the same stamp (the
later read wins; the same record again is a no-op, so re-runs are idempotent). The window checkpoint, the watermark and the run counters are updated in the same
transaction. Raw tables carry no PRIMARY KEY (see docs/DECISIONS.md): the MERGE is the key.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson

from mwdata.catalog import ENTITIES, Entity
from mwdata.errors import StoreError
from mwdata.store.base import ABORTED, RUNNING, SUCCESS, EntityState, RunStats, Window
from mwdata.store.lock import FileLock
from mwdata.store.schema import RAW_SCHEMA, STATE_SCHEMA, create_table_sql

STATE_DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.sync_state (
  entity VARCHAR, watermark TIMESTAMPTZ, last_run_id VARCHAR, updated_at TIMESTAMPTZ)""",
    f"""CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.sync_windows (
  window_id BIGINT, run_id VARCHAR, entity VARCHAR, lo TIMESTAMPTZ, hi TIMESTAMPTZ, last_id VARCHAR,
  done BOOLEAN, advances_watermark BOOLEAN, rows BIGINT, pages BIGINT, updated_at TIMESTAMPTZ)""",
    f"""CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.sync_runs (
  run_id VARCHAR, entity VARCHAR, started_at TIMESTAMPTZ, ended_at TIMESTAMPTZ, rows BIGINT,
  pages BIGINT, requests BIGINT, retries BIGINT, throttled BIGINT, errors BIGINT, outcome VARCHAR,
  message VARCHAR, detail VARCHAR)""",
)
# The whole-record JSON is most of the bytes: ZSTD stores it ~5x smaller than DuckDB's default
# string compression and writes it faster (BENCHMARKS.md).
RAW_COLUMN_OPTIONS = {"_record": "USING COMPRESSION zstd"}
_TRANSFORM_TYPES = {"string": "VARCHAR", "timestamp": "VARCHAR", "boolean": "BOOLEAN", "json": "JSON"}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def merge_sql(entity: Entity, dedupe: bool = True) -> str:
    """The batch upsert of one entity: parse, type, dedupe within the batch, merge newer-only.

    `dedupe=False` skips the within-batch window function when the caller knows the ids are unique
    (a keyset-paged window never repeats an id) — a third of the statement's cost."""
    struct = json.dumps({f.name: _TRANSFORM_TYPES[f.type] for f in entity.fields}).replace("'", "''")
    typed = []
    for f in entity.fields:
        expr = f"p.s.{_q(f.name)}"
        if f.type == "timestamp":
            expr = f"TRY_CAST({expr} AS TIMESTAMPTZ)"
        typed.append(f"{expr} AS {_q(f.name)}")
    cols = [f.name for f in entity.fields] + ["_record", "_synced_at", "_run_id"]
    table = f"{RAW_SCHEMA}.{_q(entity.table)}"
    qualify = """QUALIFY row_number() OVER (
    PARTITION BY p.s.id ORDER BY TRY_CAST(p.s.last_updated_time AS TIMESTAMPTZ) DESC NULLS LAST,
    p._record DESC) = 1"""
    return f"""
MERGE INTO {table} AS t
USING (
  SELECT {", ".join(typed)}, p._record::JSON AS _record, $1::TIMESTAMPTZ AS _synced_at, $2 AS _run_id
  FROM (SELECT json_transform(json, '{struct}') AS s, json AS _record
        FROM read_json_objects($3, format = 'newline_delimited')) AS p
  WHERE p.s.id IS NOT NULL
  {qualify if dedupe else ""}
) AS s
ON t.id = s.id
WHEN MATCHED AND s.last_updated_time > t.last_updated_time
  OR (s.last_updated_time = t.last_updated_time AND CAST(s._record AS VARCHAR) <> CAST(t._record AS VARCHAR))
  OR (t.last_updated_time IS NULL AND s.last_updated_time IS NOT NULL) THEN
  UPDATE SET {", ".join(f"{_q(c)} = s.{_q(c)}" for c in cols if c != "id")}
WHEN NOT MATCHED THEN
  INSERT ({", ".join(_q(c) for c in cols)}) VALUES ({", ".join(f"s.{_q(c)}" for c in cols)})
"""


def encode_page(records: Sequence[dict[str, Any]]) -> bytes:
    """A page as newline-delimited JSON: each whole record, one per line."""
    return b"\n".join(map(orjson.dumps, records))


class DuckDBStore:
    """`Store` on a DuckDB file. One instance per process; `write()` is serialised by the caller."""

    def __init__(self, path: str | os.PathLike[str], *, memory_limit: str | None = "128MB") -> None:
        self.path = Path(path)
        self._lock = FileLock(str(self.path) + ".lock", what=str(self.path))
        self._memory_limit = memory_limit
        self._con: duckdb.DuckDBPyConnection | None = None
        self._merge: dict[str, str] = {}
        self._spool: Path | None = None

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The connection, opened on first use (after `lock()`, so a second sync meets our lock with
        the holder's pid rather than DuckDB's own file lock)."""
        if self._con is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                con = duckdb.connect(str(self.path))
            except duckdb.IOException as exc:
                raise StoreError(
                    f"cannot open the DuckDB store {self.path}: another program has it open for writing "
                    f"(close it; the dashboard and `mwdata status` read snapshots and do not block): {exc}"
                ) from None
            except (duckdb.Error, OSError) as exc:
                raise StoreError(f"cannot open the DuckDB store {self.path}: {exc}") from None
            con.execute("SET TimeZone = 'UTC'")
            if self._memory_limit:
                con.execute(f"SET memory_limit = '{self._memory_limit}'")
            con.execute("SET preserve_insertion_order = false")
            self._con = con
        return self._con

    # -- lifecycle ---------------------------------------------------------------------------
    @contextmanager
    def lock(self) -> Iterator[None]:
        with self._lock:
            self.con  # noqa: B018 - open only once the lock is ours
            yield

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._spool is not None:
            shutil.rmtree(self._spool, ignore_errors=True)
            self._spool = None

    def _spool_dir(self) -> Path:
        """A private directory for batch files (removed on close; a crash leaves only /tmp litter)."""
        if self._spool is None:
            self._spool = Path(tempfile.mkdtemp(prefix="mwdata-batches-"))
        return self._spool

    def prepare(self) -> None:
        with self._tx():
            self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
            for e in ENTITIES:
                self.con.execute(create_table_sql(e, primary_key=False, column_options=RAW_COLUMN_OPTIONS))
            for ddl in STATE_DDL:
                self.con.execute(ddl)
            self.con.execute(
                f"UPDATE {STATE_SCHEMA}.sync_runs SET outcome = ?, ended_at = coalesce(ended_at, now()), "
                "message = 'the sync process died before finishing (killed or crashed); the next sync "
                "resumes at the last checkpoint' WHERE outcome = ?",
                [ABORTED, RUNNING],
            )

    @contextmanager
    def _tx(self) -> Iterator[None]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except duckdb.Error as exc:
            self.con.execute("ROLLBACK")
            raise StoreError(f"writing the DuckDB store {self.path} failed: {exc}") from None
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    # -- state -------------------------------------------------------------------------------
    def state(self, entity: Entity) -> EntityState:
        return _state(self.con, entity)

    def plan(self, run_id: str, windows: Sequence[Window], *, replace_pending: bool = False) -> None:
        with self._tx():
            if replace_pending:
                for path in {w.entity for w in windows}:
                    self.con.execute(
                        f"DELETE FROM {STATE_SCHEMA}.sync_windows WHERE entity = ? AND NOT done", [path]
                    )
            (top,) = self.con.execute(
                f"SELECT coalesce(max(window_id), 0) FROM {STATE_SCHEMA}.sync_windows"
            ).fetchone() or (0,)
            rows = []
            for i, w in enumerate(windows, start=int(top) + 1):
                w.window_id, w.run_id = i, run_id
                rows.append((i, run_id, w.entity, w.lo, w.hi, w.last_id, w.done, w.advances_watermark))
            if rows:
                self.con.executemany(
                    f"INSERT INTO {STATE_SCHEMA}.sync_windows VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, now())",
                    rows,
                )

    def start_run(self, run_id: str, entity: Entity, started_at: datetime, detail: str) -> None:
        with self._tx():
            self.con.execute(
                f"INSERT INTO {STATE_SCHEMA}.sync_runs VALUES (?, ?, ?, NULL, 0, 0, 0, 0, 0, 0, ?, NULL, ?)",
                [run_id, entity.path, started_at, RUNNING, detail],
            )

    def finish_run(
        self, run_id: str, entity: Entity, stats: RunStats, outcome: str, message: str | None
    ) -> None:
        with self._tx():
            self.con.execute(
                f"UPDATE {STATE_SCHEMA}.sync_runs SET ended_at = now(), requests = ?, retries = ?, "
                "throttled = ?, errors = ?, outcome = ?, message = ? WHERE run_id = ? AND entity = ?",
                [
                    stats.requests,
                    stats.retries,
                    stats.throttled,
                    stats.errors,
                    outcome,
                    message,
                    run_id,
                    entity.path,
                ],
            )
            if outcome == SUCCESS:  # keep only the latest run's windows for the dashboard
                self.con.execute(
                    f"DELETE FROM {STATE_SCHEMA}.sync_windows WHERE entity = ? AND done AND run_id <> ?",
                    [entity.path, run_id],
                )

    # -- data --------------------------------------------------------------------------------
    def encode(self, entity: Entity, records: Sequence[dict[str, Any]]) -> bytes:
        return encode_page(records)

    def write(
        self,
        entity: Entity,
        chunks: Sequence[Any],
        window: Window,
        *,
        rows: int,
        last_id: str | None,
        pages: int,
        done: bool,
        run_id: str,
        unique: bool = False,
    ) -> int:
        spool: Path | None = None
        if chunks and rows:
            spool = self._spool_dir() / f"batch-{window.window_id}-{time.monotonic_ns()}.ndjson"
            with open(spool, "wb") as f:
                for chunk in chunks:
                    f.write(chunk)
                    f.write(b"\n")
        try:
            changed = self._write_tx(entity, spool, unique, window, rows, last_id, pages, done, run_id)
        finally:
            if spool is not None:
                spool.unlink(missing_ok=True)
        window.done = done
        window.last_id = last_id
        window.rows += rows
        window.pages += pages
        return changed

    def _write_tx(
        self,
        entity: Entity,
        spool: Path | None,
        unique: bool,
        window: Window,
        rows: int,
        last_id: str | None,
        pages: int,
        done: bool,
        run_id: str,
    ) -> int:
        changed = 0
        with self._tx():
            if spool is not None:
                key = f"{entity.path}:{unique}"
                sql = self._merge.get(key) or self._merge.setdefault(
                    key, merge_sql(entity, dedupe=not unique)
                )
                res = self.con.execute(sql, [datetime.now(UTC), run_id, str(spool)]).fetchall()
                changed = int(res[0][0]) if res else 0
            self.con.execute(
                f"UPDATE {STATE_SCHEMA}.sync_windows SET last_id = ?, rows = rows + ?, pages = pages + ?, "
                "done = ?, updated_at = now() WHERE window_id = ?",
                [last_id, rows, pages, done, window.window_id],
            )
            if done and window.advances_watermark:
                self._advance_watermark(entity, run_id)
            self.con.execute(
                f"UPDATE {STATE_SCHEMA}.sync_runs SET rows = rows + ?, pages = pages + ? "
                "WHERE run_id = ? AND entity = ?",
                [rows, pages, run_id, entity.path],
            )
        return changed

    def _advance_watermark(self, entity: Entity, run_id: str) -> None:
        """Watermark = start of the oldest unfinished window, or the end of the newest one; never back."""
        (new,) = self.con.execute(
            f"""SELECT coalesce(
                  (SELECT min(lo) FROM {STATE_SCHEMA}.sync_windows
                   WHERE entity = $1 AND advances_watermark AND NOT done),
                  (SELECT max(hi) FROM {STATE_SCHEMA}.sync_windows WHERE entity = $1 AND advances_watermark))""",
            [entity.path],
        ).fetchone() or (None,)
        if new is None:
            return
        updated = self.con.execute(
            f"UPDATE {STATE_SCHEMA}.sync_state SET watermark = greatest(watermark, ?::TIMESTAMPTZ), "
            "last_run_id = ?, updated_at = now() WHERE entity = ? RETURNING 1",
            [new, run_id, entity.path],
        ).fetchall()
        if not updated:
            self.con.execute(
                f"INSERT INTO {STATE_SCHEMA}.sync_state VALUES (?, ?, ?, now())", [entity.path, new, run_id]
            )


# -- read API for `mwdata status` and the dashboard ------------------------------------------
@dataclass(frozen=True)
class EntityStatus:
    entity: str
    table: str
    rows: int
    watermark: datetime | None
    newest_record: datetime | None  # max(last_updated_time) in the raw table
    last_run_id: str | None
    last_run_started: datetime | None
    last_run_ended: datetime | None
    last_run_outcome: str | None
    last_run_rows: int | None
    last_run_message: str | None
    last_success: datetime | None  # end of the last successful run
    pending_windows: int


@dataclass(frozen=True)
class StoreStatus:
    path: str
    exists: bool
    entities: tuple[EntityStatus, ...]
    runs: tuple[dict[str, Any], ...]  # recent sync_runs rows, newest first


def read_status(path: str | os.PathLike[str], recent_runs: int = 20) -> StoreStatus:
    """Sync state, row counts and the recent run log of a store — works while a sync is writing it
    (falls back to reading a private copy of the file when DuckDB's own lock is held)."""
    p = Path(path)
    if not p.exists():
        return StoreStatus(str(p), False, (), ())
    with _read_connection(p) as con:
        return _status(con, str(p), recent_runs)


@contextmanager
def _read_connection(p: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    tmp: str | None = None
    try:
        try:
            con = duckdb.connect(str(p), read_only=True)
        except duckdb.IOException:
            tmp = tempfile.mkdtemp(prefix="mwdata-status-")
            copy = Path(tmp) / p.name
            shutil.copyfile(p, copy)
            wal = Path(str(p) + ".wal")
            if wal.exists():
                shutil.copyfile(wal, str(copy) + ".wal")
            con = duckdb.connect(str(copy))
    except (duckdb.Error, OSError) as exc:
        raise StoreError(f"cannot read the DuckDB store {p}: {exc}") from None
    try:
        con.execute("SET TimeZone = 'UTC'")
        yield con
    finally:
        con.close()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def _status(con: duckdb.DuckDBPyConnection, path: str, recent_runs: int) -> StoreStatus:
    tables = {
        (s, t) for s, t in con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
    }
    if (STATE_SCHEMA, "sync_runs") not in tables:
        return StoreStatus(path, True, (), ())
    out = []
    for e in ENTITIES:
        rows, newest = 0, None
        if (RAW_SCHEMA, e.table) in tables:
            rows, newest = con.execute(
                f"SELECT count(*), max(last_updated_time) FROM {RAW_SCHEMA}.{_q(e.table)}"
            ).fetchone() or (0, None)
        wm = con.execute(
            f"SELECT watermark FROM {STATE_SCHEMA}.sync_state WHERE entity = ?", [e.path]
        ).fetchone()
        last = con.execute(
            f"SELECT run_id, started_at, ended_at, outcome, rows, message FROM {STATE_SCHEMA}.sync_runs "
            "WHERE entity = ? ORDER BY started_at DESC LIMIT 1",
            [e.path],
        ).fetchone()
        ok = con.execute(
            f"SELECT max(ended_at) FROM {STATE_SCHEMA}.sync_runs WHERE entity = ? AND outcome = ?",
            [e.path, SUCCESS],
        ).fetchone()
        (pending,) = con.execute(
            f"SELECT count(*) FROM {STATE_SCHEMA}.sync_windows WHERE entity = ? AND NOT done", [e.path]
        ).fetchone() or (0,)
        run_id, started, ended, outcome, run_rows, message = last if last else (None,) * 6
        out.append(
            EntityStatus(
                entity=e.path,
                table=e.table,
                rows=int(rows),
                watermark=wm[0] if wm else None,
                newest_record=newest,
                last_run_id=run_id,
                last_run_started=started,
                last_run_ended=ended,
                last_run_outcome=outcome,
                last_run_rows=run_rows,
                last_run_message=message,
                last_success=ok[0] if ok else None,
                pending_windows=int(pending),
            )
        )
    cur = con.execute(
        f"SELECT * FROM {STATE_SCHEMA}.sync_runs ORDER BY started_at DESC, entity LIMIT ?", [recent_runs]
    )
    names = [d[0] for d in cur.description or ()]
    runs = tuple(dict(zip(names, r, strict=True)) for r in cur.fetchall())
    return StoreStatus(path, True, tuple(out), runs)


def read_states(path: str | os.PathLike[str], entities: Sequence[Entity]) -> dict[str, EntityState]:
    """Watermarks and unfinished windows, read-only (for --dry-run); empty states if no store yet."""
    p = Path(path)
    empty = {e.path: EntityState(e.path, None, []) for e in entities}
    if not p.exists():
        return empty
    with _read_connection(p) as con:
        tables = {
            (s, t) for s, t in con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
        }
        if (STATE_SCHEMA, "sync_windows") not in tables:
            return empty
        return {e.path: _state(con, e) for e in entities}


def _state(con: duckdb.DuckDBPyConnection, entity: Entity) -> EntityState:
    row = con.execute(
        f"SELECT watermark FROM {STATE_SCHEMA}.sync_state WHERE entity = ?", [entity.path]
    ).fetchone()
    pending = [
        Window(entity.path, lo, hi, last_id, False, adv, wid, run_id, rows, pages)
        for wid, run_id, lo, hi, last_id, adv, rows, pages in con.execute(
            f"SELECT window_id, run_id, lo, hi, last_id, advances_watermark, rows, pages "
            f"FROM {STATE_SCHEMA}.sync_windows WHERE entity = ? AND NOT done ORDER BY lo, window_id",
            [entity.path],
        ).fetchall()
    ]
    return EntityState(entity.path, row[0] if row else None, pending)
