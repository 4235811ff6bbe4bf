"""The native store: one DuckDB file (default `mwdata.duckdb`) with raw tables, sync state and run log.

Writes are batched upserts done inside DuckDB: reader threads encode each page as newline-delimited
JSON (one bytes object per page, the most compact form Python has); the writer spools a batch to a
temporary file that DuckDB parses and types (`read_json_objects` + `json_transform`, in C++) into a
temporary table, keeping the newest version per id within the batch. A batch none of whose ids is
stored yet (every batch of a backfill) is appended; of any other, only the rows that change the store
are written (delete the stored version, append the new one): a newer `last_updated_time`, or a
different record with the same stamp (the later read wins; the same record again is a no-op, so
re-runs are idempotent). The window checkpoint, the watermark and the run counters are updated in the
same transaction. Raw tables carry no PRIMARY KEY (see docs/DECISIONS.md): the single writer (the
sync lock) and the delete-before-append keep `id` unique.

Files: while a store is open its process creates files owner-only (the DuckDB file, its WAL and
spill files, lake files: `private_files`). Every DuckDB or OS failure becomes a `StoreError` that
names the file and the cause (`store_error`); a file that is not a DuckDB database, or one shorter
than the blocks its metadata points to (truncated), is refused before anything is written into it.
`_mwdata.meta` holds the layout version (`SCHEMA_VERSION`) and the tenant the store belongs to.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson

from mwdata.catalog import ENTITIES, Entity
from mwdata.errors import StoreError
from mwdata.store.base import ABORTED, RUNNING, SUCCESS, EntityState, RunStats, Tenant, Window
from mwdata.store.lock import FileLock, holder, not_permitted
from mwdata.store.schema import (
    META_TABLE,
    RAW_SCHEMA,
    SCHEMA_VERSION,
    STATE_SCHEMA,
    VERSION_KEY,
    check_schema_version,
    create_table_sql,
)

log = logging.getLogger("mwdata.store")

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
    f"""CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.{META_TABLE} (
  meta_key VARCHAR, meta_value VARCHAR, updated_at TIMESTAMPTZ)""",
)
ABORTED_MESSAGE = (
    "the sync process died before finishing (killed or crashed); the next sync resumes at the last checkpoint"
)
# The whole-record JSON is most of the bytes: ZSTD stores it ~5x smaller than DuckDB's default
# string compression and writes it faster (BENCHMARKS.md).
RAW_COLUMN_OPTIONS = {"_record": "USING COMPRESSION zstd"}
# The change test compares a 64-bit digest of each record's text, not the text: reading the stored
# `_record` of every re-read row decompressed most of the column at every batch (BENCHMARKS.md). A
# digest that differs for the same text (another DuckDB's hash) only rewrites a row with itself;
# two different records with the same stamp and the same digest (odds 2^-64) would keep the first.
DIGEST_COLUMN = "_record_digest"
DIGEST_SQL = "hash(CAST({record} AS VARCHAR))"
_TRANSFORM_TYPES = {"string": "VARCHAR", "timestamp": "VARCHAR", "boolean": "BOOLEAN", "json": "JSON"}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def batch_sql(entity: Entity, dedupe: bool = True) -> str:
    """A spooled batch parsed and typed, newest version per id (parameters: synced-at, run id, file).

    `dedupe=False` skips the within-batch window function when the caller knows the ids are unique
    (a keyset-paged window never repeats an id) — a third of the merge's cost."""
    struct = json.dumps({f.name: _TRANSFORM_TYPES[f.type] for f in entity.fields}).replace("'", "''")
    typed = []
    for f in entity.fields:
        expr = f"p.s.{_q(f.name)}"
        if f.type == "timestamp":
            expr = f"TRY_CAST({expr} AS TIMESTAMPTZ)"
        typed.append(f"{expr} AS {_q(f.name)}")
    qualify = """QUALIFY row_number() OVER (
    PARTITION BY p.s.id ORDER BY TRY_CAST(p.s.last_updated_time AS TIMESTAMPTZ) DESC NULLS LAST,
    p._record DESC) = 1"""
    return f"""
  SELECT {", ".join(typed)}, p._record::JSON AS _record, $1::TIMESTAMPTZ AS _synced_at, $2 AS _run_id,
         {DIGEST_SQL.format(record="p._record")} AS {DIGEST_COLUMN}
  FROM (SELECT json_transform(json, '{struct}') AS s, json AS _record
        FROM read_json_objects($3, format = 'newline_delimited')) AS p
  WHERE p.s.id IS NOT NULL
  {qualify if dedupe else ""}"""


def _columns(entity: Entity) -> list[str]:
    return [f.name for f in entity.fields] + ["_record", "_synced_at", "_run_id", DIGEST_COLUMN]


def digest_ddl(entity: Entity) -> list[str]:
    """The digest column of a raw table, added to a store of an older layout and filled there."""
    table = f"{RAW_SCHEMA}.{_q(entity.table)}"
    return [
        f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {DIGEST_COLUMN} UBIGINT",
        f"UPDATE {table} SET {DIGEST_COLUMN} = {DIGEST_SQL.format(record='_record')} WHERE {DIGEST_COLUMN} IS NULL",
    ]


# The batch being written, parsed once into temporary tables of the writer's connection.
BATCH_TABLE = "temp.mwdata_batch"
CHANGED_TABLE = "temp.mwdata_batch_changed"


def stage_sql(entity: Entity, dedupe: bool = True) -> str:
    """The spooled batch parsed into `BATCH_TABLE` (parameters: synced-at, run id, file)."""
    return f"CREATE OR REPLACE TEMPORARY TABLE {BATCH_TABLE} AS {batch_sql(entity, dedupe)}"


def stored_ids_sql(entity: Entity) -> str:
    """How many ids of the staged batch the raw table already holds: reads the table's `id` only."""
    return f"SELECT count(*) FROM {RAW_SCHEMA}.{_q(entity.table)} WHERE id IN (SELECT id FROM {BATCH_TABLE})"


def changed_sql(entity: Entity) -> str:
    """The ids of the staged batch to write: not stored, stored with an older `last_updated_time`
    (or none), or with the same stamp and a different record (the later read wins; the same record
    again changes nothing, so re-runs are idempotent)."""
    return f"""
CREATE OR REPLACE TEMPORARY TABLE {CHANGED_TABLE} AS
SELECT s.id FROM {BATCH_TABLE} AS s LEFT JOIN {RAW_SCHEMA}.{_q(entity.table)} AS t ON t.id = s.id
WHERE t.id IS NULL
  OR s.last_updated_time > t.last_updated_time
  OR (s.last_updated_time = t.last_updated_time AND s.{DIGEST_COLUMN} IS DISTINCT FROM t.{DIGEST_COLUMN})
  OR (t.last_updated_time IS NULL AND s.last_updated_time IS NOT NULL)"""


def replace_sql(entity: Entity) -> tuple[str, str]:
    """Delete the stored versions of the changed ids, then append the batch's: a replaced row moves
    to the end of the table instead of being updated in place (an in-place update of `_record`
    rewrites every row group it touches at the next checkpoint, and re-emitted rows touch them all)."""
    table = f"{RAW_SCHEMA}.{_q(entity.table)}"
    cols = ", ".join(_q(c) for c in _columns(entity))
    return (
        f"DELETE FROM {table} WHERE id IN (SELECT id FROM {CHANGED_TABLE})",
        f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {BATCH_TABLE} WHERE id IN (SELECT id FROM {CHANGED_TABLE})",
    )


def append_sql(entity: Entity) -> str:
    """The staged batch appended whole: none of its ids is stored yet (every batch of a backfill)."""
    cols = ", ".join(_q(c) for c in _columns(entity))
    return f"INSERT INTO {RAW_SCHEMA}.{_q(entity.table)} ({cols}) SELECT {cols} FROM {BATCH_TABLE}"


def encode_page(records: Sequence[dict[str, Any]]) -> bytes:
    """A page as newline-delimited JSON: each whole record, one per line."""
    return b"\n".join(map(orjson.dumps, records))


# -- files: modes, failures, integrity ------------------------------------------------------------
HEADER_BYTES = 3 * 4096  # DuckDB's file header; blocks follow it
_private_guard = threading.Lock()
_private_users = 0
_saved_umask = 0


def private_files(on: bool) -> None:
    """While any store is open in this process new files are owner-only (umask 077): the DuckDB file,
    its WAL and spill folder, lake files. Counted, so the last store to close restores the umask."""
    global _private_users, _saved_umask
    with _private_guard:
        if on:
            if _private_users == 0:
                _saved_umask = os.umask(0o077)
                os.umask(_saved_umask | 0o077)
            _private_users += 1
        elif _private_users:
            _private_users -= 1
            if _private_users == 0:
                os.umask(_saved_umask)


def _damaged(path: Path, detail: str) -> StoreError:
    return StoreError(
        f"the DuckDB store {path} is damaged ({detail}); mwdata will not write into it. Restore it from "
        "your latest backup (docs/operations.md, Backups) and run `mwdata sync`, which fills the gap back "
        "to the API's 30 days; keep the damaged file aside for inspection. Without a backup, move it away "
        "and run `mwdata sync --full-refresh` to rebuild the last 30 days (older history is lost)"
    )


def _not_duckdb(path: Path, size: int) -> StoreError:
    what = "an empty file" if size == 0 else f"{size:,} bytes"
    return StoreError(
        f"{path} is not a DuckDB database ({what}); mwdata never writes into it. Point [store] (or "
        "MWDATA_STORE) at your store file, or move this file away to start a new store there"
    )


_CORRUPT = ("could not read enough bytes", "corrupt", "checksum", "invalidated")


def store_error(path: Path, what: str, exc: BaseException) -> StoreError:
    """A DuckDB or OS failure on the store as one clear message: the file, the cause, the fix."""
    text = " ".join(str(exc).split())
    low = text.lower()
    named = re.search(r"""["']([^"']+)["']""", text)
    file = named.group(1) if named else str(path)
    if "no space left on device" in low or "file too large" in low:
        cause = "the disk is full" if "no space" in low else "the file size limit was reached"
        return StoreError(
            f"{what} the DuckDB store {path} failed: {cause} ({file}). Nothing after the last committed "
            f"checkpoint was kept, so nothing is lost: free space on the disk holding {path.parent} (or "
            "raise the limit) and run the sync again; it resumes at the last checkpoint"
        )
    if "permission denied" in low or "read-only file system" in low:
        why = "read-only file system" if "read-only file system" in low else "permission denied"
        return not_permitted(file, path.parent, why, "read" if what == "reading" else "write")
    if "could not set lock" in low or "conflicting lock" in low:
        pid = re.search(r"PID (\d+)", text)
        who = f"another program (pid {pid.group(1)})" if pid else "another program"
        return StoreError(
            f"cannot open the DuckDB store {path}: {who} has it open for writing (a DuckDB shell, a "
            "notebook, a BI tool); close it and retry. The dashboard and `mwdata status` read snapshots "
            "and never block a sync"
        )
    if "not a valid duckdb database" in low:
        return _not_duckdb(path, path.stat().st_size if path.exists() else 0)
    if any(k in low for k in _CORRUPT):
        return _damaged(path, text)
    return StoreError(f"{what} the DuckDB store {path} failed: {text}")


def check_file(path: Path) -> None:
    """Refuse, before DuckDB opens it, a store path that is a folder, not a DuckDB file, or shorter
    than DuckDB's header."""
    if path.is_dir():
        raise StoreError(
            f"the store path {path} is a folder; set [store] (or MWDATA_STORE) to a file such as "
            f"{path / 'mwdata.duckdb'}"
        )
    try:
        with open(path, "rb") as f:
            head = f.read(HEADER_BYTES)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise store_error(path, "reading", exc) from None
    if len(head) < 12 or head[8:12] != b"DUCK":
        raise _not_duckdb(path, len(head))
    if len(head) < HEADER_BYTES:
        raise _damaged(
            path, f"truncated: {len(head)} bytes, shorter than DuckDB's {HEADER_BYTES}-byte header"
        )


def check_intact(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """A file shorter than the blocks its metadata points to was truncated (a copy cut short, a full
    disk while restoring): DuckDB notices only when a query reads a missing block, and a sync would
    keep writing around it. Checked on every open (block lists only, no data: ~0.1 s at 200 MB)."""
    size = path.stat().st_size
    row = con.execute(
        "SELECT block_size FROM pragma_database_size() WHERE database_name = current_database()"
    ).fetchone()
    if not row:
        return
    tops = [con.execute("SELECT max(block_id) FROM pragma_metadata_info()").fetchone()]
    for schema, table in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()"
    ).fetchall():
        tops.append(
            con.execute(
                "SELECT max(greatest(block_id, coalesce(list_max(additional_block_ids), -1))) "
                "FROM pragma_storage_info(?) WHERE persistent",
                [f"{_q(schema)}.{_q(table)}"],
            ).fetchone()
        )
    top = max((int(t[0]) for t in tops if t and t[0] is not None), default=-1)
    need = HEADER_BYTES + (top + 1) * int(row[0])
    if size < need:
        raise _damaged(path, f"truncated: {size:,} bytes, its blocks need at least {need:,}")


def check_store(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """The checks of a writer's open for other writers of the file (the dbt build): intact, not newer."""
    check_intact(con, path)
    _schema_version(con, str(path))


class DuckDBStore:
    """`Store` on a DuckDB file. One instance per process; `write()` is serialised by the caller."""

    def __init__(self, path: str | os.PathLike[str], *, memory_limit: str | None = "128MB") -> None:
        self.path = Path(path)
        self._lock = FileLock(str(self.path) + ".lock", what=str(self.path))
        self._memory_limit = memory_limit
        self._con: duckdb.DuckDBPyConnection | None = None
        self._spool: Path | None = None
        self._private = False
        self._broken: StoreError | None = None  # a damaged file seen mid-run: never write again
        self._statements: dict[tuple[Any, ...], str] = {}

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The connection, opened on first use (after `lock()`, so a second sync meets our lock with
        the holder's pid rather than DuckDB's own file lock)."""
        if self._con is None:
            self._con = self._open()
        return self._con

    def _open(self) -> duckdb.DuckDBPyConnection:
        check_file(self.path)
        self._ensure_folder()
        with contextlib.suppress(FileNotFoundError):
            if self.path.stat().st_mode & 0o004:  # an existing file keeps the mode its owner chose
                log.warning(
                    "the store %s is readable by every local user (it holds e-mails and utterances); "
                    "chmod 600 it unless that is intended (new stores are created 0600)",
                    self.path,
                )
        if not self._private:
            private_files(True)
            self._private = True
        try:
            return self._connect()
        except BaseException:  # a store that did not open must not keep the umask owner-only
            self._release_private()
            raise

    def _connect(self) -> duckdb.DuckDBPyConnection:
        try:
            con = duckdb.connect(str(self.path))
        except (duckdb.Error, OSError) as exc:
            raise store_error(self.path, "opening", exc) from None
        try:
            check_intact(con, self.path)
            con.execute("SET TimeZone = 'UTC'")
            if self._memory_limit:
                con.execute(f"SET memory_limit = '{self._memory_limit}'")
            con.execute("SET preserve_insertion_order = false")
        except BaseException as exc:
            con.close()
            if isinstance(exc, (duckdb.Error, OSError)):
                raise store_error(self.path, "opening", exc) from None
            raise
        return con

    def _release_private(self) -> None:
        if self._private:
            private_files(False)
            self._private = False

    def _ensure_folder(self) -> None:
        """A missing store folder is created (owner-only); a clear error if it cannot be."""
        folder = self.path.parent
        if folder.is_dir():
            return
        try:
            folder.mkdir(parents=True, mode=0o700)
        except FileExistsError:
            raise StoreError(
                f"the store's folder {folder} is a file, not a folder; point [store] (or MWDATA_STORE) "
                "at a path inside a folder"
            ) from None
        except OSError as exc:
            raise StoreError(
                f"the store's folder {folder} does not exist and cannot be created ({exc.strerror}); "
                "create it as a user allowed to (mkdir -p, then chown to this user), or point [store] "
                "(or MWDATA_STORE) at an existing folder"
            ) from None

    # -- lifecycle ---------------------------------------------------------------------------
    @contextmanager
    def lock(self) -> Iterator[None]:
        self._ensure_folder()
        with self._lock:
            self.con  # noqa: B018 - open only once the lock is ours
            yield

    def close(self) -> None:
        try:
            if self._con is not None:
                con, self._con = self._con, None
                try:
                    if self._broken is not None:  # leave committed work in the WAL, not the damaged file
                        con.execute("PRAGMA disable_checkpoint_on_shutdown")
                    con.close()  # checkpoints: can meet a full disk too
                except duckdb.Error as exc:
                    raise store_error(self.path, "closing", exc) from None
        finally:
            if self._spool is not None:
                shutil.rmtree(self._spool, ignore_errors=True)
                self._spool = None
            self._release_private()

    def _spool_dir(self) -> Path:
        """A private directory for batch files (removed on close; a crash leaves only /tmp litter)."""
        if self._spool is None:
            self._spool = Path(tempfile.mkdtemp(prefix="mwdata-batches-"))
        return self._spool

    def prepare(self) -> None:
        self._prepare_state(
            [f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}"]
            + [create_table_sql(e, primary_key=False, column_options=RAW_COLUMN_OPTIONS) for e in ENTITIES],
            upgrade=[stmt for e in ENTITIES for stmt in digest_ddl(e)],
        )

    def _prepare_state(self, ddl: Sequence[str], upgrade: Sequence[str] = ()) -> None:
        """Check the layout version (a newer store is left untouched), create what is missing, bring
        an older layout up to date (`upgrade`), stamp the version, and mark runs a dead process left
        'running' as aborted."""
        with self._reading():
            version = _schema_version(self.con, str(self.path))
        with self._tx():
            for stmt in (*STATE_DDL, *ddl):
                self.con.execute(stmt)
            if version is None or version < SCHEMA_VERSION:  # 1 -> 2: the meta table; 2 -> 3: the digests
                for stmt in upgrade:
                    self.con.execute(stmt)
                self._set_meta({VERSION_KEY: str(SCHEMA_VERSION)})
            self.con.execute(
                f"UPDATE {STATE_SCHEMA}.sync_runs SET outcome = ?, ended_at = coalesce(ended_at, now()), "
                "message = ? WHERE outcome = ?",
                [ABORTED, ABORTED_MESSAGE, RUNNING],
            )

    def meta(self) -> dict[str, str]:
        with self._reading():
            return dict(
                self.con.execute(f"SELECT meta_key, meta_value FROM {STATE_SCHEMA}.{META_TABLE}").fetchall()
            )

    def set_meta(self, values: dict[str, str | None]) -> None:
        with self._tx():
            self._set_meta(values)

    def _set_meta(self, values: dict[str, str | None]) -> None:
        for k, v in values.items():
            self.con.execute(f"DELETE FROM {STATE_SCHEMA}.{META_TABLE} WHERE meta_key = ?", [k])
            if v is not None:
                self.con.execute(f"INSERT INTO {STATE_SCHEMA}.{META_TABLE} VALUES (?, ?, now())", [k, v])

    @contextmanager
    def _reading(self) -> Iterator[None]:
        try:
            yield
        except duckdb.Error as exc:
            raise self._failed("reading", exc) from None

    def _failed(self, what: str, exc: BaseException) -> StoreError:
        err = store_error(self.path, what, exc)
        if any(k in str(exc).lower() for k in _CORRUPT):
            self._broken = err
        return err

    @contextmanager
    def _tx(self) -> Iterator[None]:
        """One transaction; any DuckDB or OS failure, the COMMIT's included (a full disk shows there),
        is a StoreError naming the file and the cause."""
        if self._broken is not None:
            raise self._broken
        con = self.con
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                yield
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        except (duckdb.Error, OSError) as exc:
            with contextlib.suppress(duckdb.Error):  # a failed COMMIT may leave the transaction open
                con.execute("ROLLBACK")
            raise self._failed("writing", exc) from None

    # -- state -------------------------------------------------------------------------------
    def state(self, entity: Entity) -> EntityState:
        with self._reading():
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

    def count_rows(self, entity: Entity, lo: datetime, hi: datetime) -> int:
        with self._reading():
            (n,) = self.con.execute(
                f"SELECT count(*) FROM {RAW_SCHEMA}.{_q(entity.table)} "
                "WHERE last_updated_time >= ? AND last_updated_time < ?",
                [lo, hi],
            ).fetchone() or (0,)
        return int(n)

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
            try:
                with open(spool, "wb") as f:
                    for chunk in chunks:
                        f.write(chunk)
                        f.write(b"\n")
            except OSError as exc:
                spool.unlink(missing_ok=True)
                raise StoreError(
                    f"writing the batch file {spool} failed: {exc.strerror}. It lives in the temporary "
                    f"folder ({tempfile.gettempdir()}): free space there or set TMPDIR to a folder with "
                    "room; nothing of this batch was committed, the next sync resumes at its checkpoint"
                ) from None
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
                changed = self._upsert(entity, spool, unique, run_id)
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

    def _upsert(self, entity: Entity, spool: Path, unique: bool, run_id: str) -> int:
        """Write a batch (in the caller's transaction): append it when none of its ids is stored yet,
        otherwise replace exactly the rows it changes. Returns the rows written."""
        sql = self._statement
        con = self.con
        con.execute(sql(("stage", entity.path, unique), lambda: stage_sql(entity, not unique)),
                    [datetime.now(UTC), run_id, str(spool)])  # fmt: skip
        (stored,) = con.execute(sql(("stored", entity.path), lambda: stored_ids_sql(entity))).fetchone() or (
            0,
        )
        if stored:
            con.execute(sql(("changed", entity.path), lambda: changed_sql(entity)))
            delete, insert = replace_sql(entity)
            con.execute(sql(("delete", entity.path), lambda: delete))
            res = con.execute(sql(("insert", entity.path), lambda: insert)).fetchall()
        else:
            res = con.execute(sql(("append", entity.path), lambda: append_sql(entity))).fetchall()
        con.execute(f"DROP TABLE IF EXISTS {BATCH_TABLE}")
        con.execute(f"DROP TABLE IF EXISTS {CHANGED_TABLE}")
        return int(res[0][0]) if res else 0

    def _statement(self, key: tuple[Any, ...], build: Callable[[], str]) -> str:
        if key not in self._statements:
            self._statements[key] = build()
        return self._statements[key]

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
    tenant: str | None = None  # the API host (+ org) the store is bound to, see `bind_tenant`


def read_status(path: str | os.PathLike[str], recent_runs: int = 20) -> StoreStatus:
    """Sync state, row counts and the recent run log of a store — works while a sync is writing it
    (falls back to reading a private copy of the file when DuckDB's own lock is held). A run still
    marked 'running' whose process is gone (the lock is free) shows as aborted."""
    p = Path(path)
    if not p.exists():
        return StoreStatus(str(p), False, (), ())
    with _read_connection(p) as con:
        st = _status(con, str(p), recent_runs)
    return settle_dead_runs(st, holder(str(p) + ".lock") is not None)


def settle_dead_runs(st: StoreStatus, writer_alive: bool) -> StoreStatus:
    """'running' runs as 'aborted' when no sync holds the store's lock (killed, crashed, disk full):
    the next sync marks them so in the store; status must not show them running meanwhile."""
    if writer_alive:
        return st
    import dataclasses

    entities = tuple(
        dataclasses.replace(e, last_run_outcome=ABORTED, last_run_message=ABORTED_MESSAGE)
        if e.last_run_outcome == RUNNING
        else e
        for e in st.entities
    )
    runs = tuple(
        {**r, "outcome": ABORTED, "message": ABORTED_MESSAGE} if r.get("outcome") == RUNNING else r
        for r in st.runs
    )
    return dataclasses.replace(st, entities=entities, runs=runs)


@contextmanager
def _read_connection(p: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection (or one on a private copy while a writer holds DuckDB's lock), after
    the same file checks as a writer and the layout-version check."""
    tmp: str | None = None
    check_file(p)
    try:
        try:
            con = duckdb.connect(str(p), read_only=True)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            tmp = tempfile.mkdtemp(prefix="mwdata-status-")
            copy = Path(tmp) / p.name
            shutil.copyfile(p, copy)
            wal = Path(str(p) + ".wal")
            if wal.exists():
                shutil.copyfile(wal, str(copy) + ".wal")
            con = duckdb.connect(str(copy))
    except (duckdb.Error, OSError) as exc:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        raise store_error(p, "reading", exc) from None
    try:
        try:
            con.execute("SET TimeZone = 'UTC'")
            _schema_version(con, str(p))
        except duckdb.Error as exc:
            raise store_error(p, "reading", exc) from None
        yield con
    finally:
        con.close()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def _schema_version(con: duckdb.DuckDBPyConnection, where: str) -> int | None:
    """The layout version of an open store: `_mwdata.meta`, else 1 (stores made before the meta
    table), None for a new, empty store. A newer store is refused (StoreError)."""
    tables = {
        t
        for s, t in con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
        if s == STATE_SCHEMA
    }
    if META_TABLE not in tables:
        return 1 if "sync_runs" in tables else None
    row = con.execute(
        f"SELECT meta_value FROM {STATE_SCHEMA}.{META_TABLE} WHERE meta_key = ?", [VERSION_KEY]
    ).fetchone()
    return check_schema_version(row[0] if row else None, where)


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
    meta: dict[str, str] = {}
    if (STATE_SCHEMA, META_TABLE) in tables:
        meta = dict(con.execute(f"SELECT meta_key, meta_value FROM {STATE_SCHEMA}.{META_TABLE}").fetchall())
    tenant = Tenant.bound(meta)
    return StoreStatus(path, True, tuple(out), runs, str(tenant) if tenant else None)


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
