"""Read access to a DuckDB store for the dashboard, the report and the benchmark.

DuckDB lets one process write a file, or several read it, never both: a read-only connection held
by the dashboard makes `mwdata sync`/`build` fail with a lock error, and a running sync makes the
dashboard's own `connect` fail. So the dashboard never opens the store itself. It reads a private
*snapshot*: a byte copy of the store file, taken without any lock, checked for consistency (the
file's size and mtime must not change during the copy), then opened read-only. DuckDB's main file
is always consistent as of its last checkpoint, so a copy taken while a writer appends to its WAL is
a valid, slightly older state. The snapshot is refreshed when the store's signature changes; while a
writer is mid-checkpoint the previous snapshot keeps serving.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from mwdata.errors import StoreError

log = logging.getLogger("mwdata.app")

Signature = tuple[int, int, int, int]  # (size, mtime_ns) of the file and of its WAL (0, 0 if absent)


def _sig(path: Path) -> Signature:
    try:
        st = path.stat()
    except FileNotFoundError:
        return (-1, -1, 0, 0)
    wal = Path(str(path) + ".wal")
    try:
        wst = wal.stat()
        return (st.st_size, st.st_mtime_ns, wst.st_size, wst.st_mtime_ns)
    except FileNotFoundError:
        return (st.st_size, st.st_mtime_ns, 0, 0)


@dataclass(frozen=True)
class SnapshotInfo:
    path: Path
    taken_at: datetime
    source_signature: Signature


class Store:
    """Query a DuckDB store through lock-free snapshots (thread-safe; one per store path)."""

    def __init__(
        self, path: str | os.PathLike[str], snapshot_dir: str | os.PathLike[str] | None = None
    ) -> None:
        self.path = Path(path).expanduser().resolve()
        digest = hashlib.sha256(str(self.path).encode()).hexdigest()[:12]
        self.snapshot_dir = Path(snapshot_dir or Path(tempfile.gettempdir()) / f"mwdata-snapshots-{digest}")
        self._lock = threading.Lock()
        self._current: SnapshotInfo | None = None
        self._conn: duckdb.DuckDBPyConnection | None = None
        self.stale_reason: str | None = None  # why the last refresh kept the older snapshot

    # -- snapshot management -------------------------------------------------------------------
    def _take(self) -> SnapshotInfo | None:
        before = _sig(self.path)
        if before[0] < 0:
            return None
        self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        target = self.snapshot_dir / f"snap-{time.time_ns()}.duckdb"
        try:
            shutil.copyfile(self.path, target)
            if before[2]:
                shutil.copyfile(str(self.path) + ".wal", str(target) + ".wal")
        except FileNotFoundError:  # the WAL (or the file) went away mid-copy: a writer checkpointed
            pass
        if _sig(self.path) != before or not target.exists():
            _remove(target)
            self.stale_reason = "the store changed while it was copied (a sync or build is writing)"
            return None
        try:  # replay a copied WAL now, so later read-only connections open fast and never write
            duckdb.connect(str(target)).close()
        except duckdb.Error as exc:
            _remove(target)
            self.stale_reason = f"the copied store could not be opened ({type(exc).__name__})"
            return None
        return SnapshotInfo(target, datetime.now(UTC), before)

    def refresh(self) -> SnapshotInfo:
        """Make sure the snapshot reflects the store's last checkpoint; returns the one in use."""
        with self._lock:
            sig = _sig(self.path)
            if self._current is not None and sig == self._current.source_signature:
                return self._current
            if sig[0] < 0 and self._current is None:
                raise StoreError(
                    f"store {self.path} does not exist; run `mwdata sync` and `mwdata build` first "
                    "(or `mwdata demo` for a demo store)"
                )
            new = None
            for _ in range(3):
                new = self._take()
                if new is not None:
                    break
                time.sleep(0.05)
            if new is None:
                if self._current is None:
                    raise StoreError(
                        f"cannot read {self.path}: {self.stale_reason}; retry when the sync or build ends"
                    )
                return self._current
            old, oldconn = self._current, self._conn
            self._current = new
            self._conn = duckdb.connect(str(new.path), read_only=True)
            self.stale_reason = None
            if oldconn is not None:
                oldconn.close()
            if old is not None:
                _remove(old.path)
            return new

    @property
    def snapshot(self) -> SnapshotInfo:
        return self.refresh()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
            if self._current is not None:
                _remove(self._current.path)
            self._conn, self._current = None, None

    # -- queries ---------------------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run one read query with bound parameters on the current snapshot (a cursor per call)."""
        self.refresh()
        with self._lock:
            assert self._conn is not None
            cur = self._conn.cursor()
        try:
            return cur.execute(sql, list(params or [])).df()
        except (duckdb.CatalogException, duckdb.BinderException) as exc:
            raise StoreError(
                f"the store lacks a table or column this view needs ({str(exc).splitlines()[0]}); "
                "run `mwdata build` to create or update the models"
            ) from None
        finally:
            cur.close()

    def has_table(self, schema: str, table: str) -> bool:
        df = self.query(
            "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        )
        return bool(df["n"].iloc[0])

    def columns(self, schema: str, table: str) -> list[str]:
        df = self.query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
            "ORDER BY ordinal_position",
            [schema, table],
        )
        return [str(c) for c in df["column_name"]]


def _remove(path: Path) -> None:
    for p in (path, Path(str(path) + ".wal")):
        p.unlink(missing_ok=True)


_STORES: dict[str, Store] = {}
_STORES_LOCK = threading.Lock()


def get_store(path: str | os.PathLike[str]) -> Store:
    """The process-wide `Store` of a path (Streamlit reruns share it)."""
    key = str(Path(path).expanduser().resolve())
    with _STORES_LOCK:
        if key not in _STORES:
            _STORES[key] = Store(key)
        return _STORES[key]
