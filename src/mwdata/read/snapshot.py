"""Read access to a DuckDB store for the dashboard, the report and the benchmark.

DuckDB lets one process write a file, or several read it, never both: a read-only connection held
by the dashboard makes `mwdata sync`/`build` fail with a lock error, and a running sync makes the
dashboard's own `connect` fail. So the dashboard never opens the store itself. It reads a private
*snapshot*: a byte copy of the store file, taken without any lock, checked for consistency (the
file's size and mtime must not change during the copy), then opened read-only. DuckDB's main file
is always consistent as of its last checkpoint, so a copy taken while a writer appends to its WAL is
a valid, slightly older state. The snapshot is refreshed when the store's signature changes; while a
writer is mid-checkpoint the previous snapshot keeps serving.

A snapshot holds the whole store (e-mails, utterances), so it lives in a folder private to the process:
made by `tempfile.mkdtemp` (mode 0700, a fresh random name: a folder another user created beforehand is
never used), files 0600, removed at exit and on SIGTERM/SIGHUP. `mwdata dashboard` also passes its
child a private root (`MWDATA_SNAPSHOT_ROOT`) that it removes itself once the child has stopped.

Every connection opened here reads in UTC (`connect`): DuckDB otherwise takes the host's time zone,
so `CAST(created_time AS DATE)` and `date_trunc('week', ...)` on TIMESTAMPTZ columns would put rows
on other days on a host outside UTC (invariant 9 in docs/architecture.md).
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from mwdata.errors import StoreError
from mwdata.read.stores import InformationSchema

log = logging.getLogger("mwdata.read")

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


class Store(InformationSchema):
    """Query a DuckDB store through lock-free snapshots (thread-safe; one per store path)."""

    def __init__(
        self, path: str | os.PathLike[str], snapshot_dir: str | os.PathLike[str] | None = None
    ) -> None:
        self.path = Path(path).expanduser().resolve()
        self._dir = Path(snapshot_dir) if snapshot_dir else None  # default: the process's private folder
        self._lock = threading.Lock()
        self._current: SnapshotInfo | None = None
        self._conn: duckdb.DuckDBPyConnection | None = None
        self.stale_reason: str | None = None  # why the last refresh kept the older snapshot

    # -- snapshot management -------------------------------------------------------------------
    def _take(self) -> SnapshotInfo | None:
        before = _sig(self.path)
        if before[0] < 0:
            return None
        folder = self.snapshot_dir
        target = folder / f"snap-{time.time_ns()}.duckdb"
        try:
            _copy_private(self.path, target)
            if before[2]:
                _copy_private(Path(str(self.path) + ".wal"), Path(str(target) + ".wal"))
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
        for p in folder.glob(target.name + "*"):  # files DuckDB made while replaying
            p.chmod(0o600)
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
            self._conn = connect(new.path)
            self.stale_reason = None
            if oldconn is not None:
                oldconn.close()
            if old is not None:
                _remove(old.path)
            return new

    @property
    def snapshot_dir(self) -> Path:
        if self._dir is None:
            return private_dir()
        self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self._dir

    @property
    def snapshot(self) -> SnapshotInfo:
        return self.refresh()

    def read_at(self) -> datetime:
        """When the data shown was copied (the snapshot's time)."""
        return self.refresh().taken_at

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
            raise _not_built(exc) from None
        finally:
            cur.close()

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on the current snapshot (UTC days), for SQL this class does not write itself:
        the metric layer's compiled queries (`mwdata.metrics.query` takes it as its connection)."""
        self.refresh()
        with self._lock:
            assert self._conn is not None
            cur = self._conn.cursor()
        try:
            yield cur
        except (duckdb.CatalogException, duckdb.BinderException) as exc:
            raise _not_built(exc) from None
        finally:
            cur.close()


def connect(path: str | os.PathLike[str]) -> duckdb.DuckDBPyConnection:
    """A read-only connection whose days are UTC days, for this connection and all its cursors.

    `SET GLOBAL` because a cursor is a new session of the same database instance and would not
    inherit a session `SET`; a snapshot file is private to its `Store`, so nothing else shares it."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("SET GLOBAL TimeZone = 'UTC'")
    except duckdb.Error:
        con.close()
        raise
    return con


def _remove(path: Path) -> None:
    for p in (path, Path(str(path) + ".wal")):
        p.unlink(missing_ok=True)


def _copy_private(src: Path, dst: Path) -> None:
    """Copy `src` to a new file `dst` created 0600 (copyfile keeps the mode of an existing target)."""
    os.close(os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    shutil.copyfile(src, dst)


SNAPSHOT_ROOT_ENV = "MWDATA_SNAPSHOT_ROOT"
_private: Path | None = None
_PRIVATE_LOCK = threading.Lock()


def private_dir() -> Path:
    """This process's snapshot folder, made on first use (0700, a fresh name); see the module doc."""
    global _private
    with _PRIVATE_LOCK:
        if _private is not None and _private.is_dir():
            return _private
        root = os.environ.get(SNAPSHOT_ROOT_ENV) or None
        try:
            made = Path(tempfile.mkdtemp(prefix="mwdata-snapshots-", dir=root))
        except OSError as exc:
            where = root or tempfile.gettempdir()
            raise StoreError(
                f"cannot create a private snapshot folder in {where}: {exc.strerror}; "
                "point TMPDIR at a writable folder"
            ) from None
        if _private is None:  # first one: remove it whenever the process ends
            atexit.register(remove_private_dir)
            _remove_on_signals()
        _private = made
        return made


def remove_private_dir() -> None:
    """Delete this process's snapshot folder (no lock taken: it also runs in a signal handler)."""
    if _private is not None:
        shutil.rmtree(_private, ignore_errors=True)


def _remove_on_signals() -> None:
    """On SIGTERM/SIGHUP left at their default (die), remove the folder first, then die of the signal."""
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set handlers; Streamlit's child relies on atexit and its root

    def handler(signum: int, _frame: object) -> None:
        remove_private_dir()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) is signal.SIG_DFL:
            signal.signal(sig, handler)


_STORES: dict[str, Store] = {}
_STORES_LOCK = threading.Lock()


def close_all() -> None:
    """Close the process-wide stores and remove this process's snapshot folder (server shutdown)."""
    with _STORES_LOCK:
        stores = list(_STORES.values())
        _STORES.clear()
    for s in stores:
        s.close()
    remove_private_dir()


def get_store(path: str | os.PathLike[str]) -> Store:
    """The process-wide `Store` of a path (Streamlit reruns share it)."""
    key = str(Path(path).expanduser().resolve())
    with _STORES_LOCK:
        if key not in _STORES:
            _STORES[key] = Store(key)
        return _STORES[key]


def _not_built(exc: duckdb.Error) -> StoreError:
    return StoreError(
        f"the store lacks a table or column this view needs ({str(exc).splitlines()[0]}); "
        "run `mwdata build` to create or update the models"
    )
