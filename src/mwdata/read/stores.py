"""The store a surface reads, whatever it is kept in: one set of calls for the dashboard, the report
and the MCP server.

- A DuckDB store, or a lake's DuckDB catalogue (where `mwdata build` writes the lake's marts), is read
  through lock-free private snapshots (`mwdata.read.snapshot.Store`): DuckDB lets a file have one
  writer or several readers, never both.
- A PostgreSQL store is read live (`PostgresStore`): the server serves readers beside a running sync
  or build, each statement sees committed data only, and a batch of the sync is one transaction, so
  no page ever shows half a batch. The session is read-only and in UTC (days are UTC days).

The page queries are written once in portable SQL with `?` markers; the metric layer compiles its
own SQL per dialect (`mwdata.metrics.query`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import pandas as pd

from mwdata.config import Config, store_kind
from mwdata.errors import ConfigError, StoreError


class ReadStore(Protocol):
    """What the page queries, the report and the drill-downs call."""

    stale_reason: str | None

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame: ...

    def cursor(self) -> AbstractContextManager[Any]: ...

    def has_table(self, schema: str, table: str) -> bool: ...

    def columns(self, schema: str, table: str) -> list[str]: ...

    def read_at(self) -> dt.datetime: ...

    def close(self) -> None: ...


# the stores whose marts the dashboard, the report and the export read
log = logging.getLogger("mwdata.read")

READABLE = ("duckdb", "filesystem", "postgres")


class InformationSchema:
    """`has_table` and `columns` for a reader that has `query` (both engines have information_schema)."""

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        raise NotImplementedError

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


def readable(cfg: Config) -> str:
    """The store's kind, or a clear refusal of the stores read with the warehouse's own tools."""
    kind = store_kind(cfg.store)
    if kind not in READABLE:
        raise ConfigError(
            f"the dashboard, the report and the export read DuckDB, lake and PostgreSQL stores, not {kind}: "
            "read the marts in the analytics schema with your warehouse's own BI tools"
        )
    return kind


def duckdb_file(cfg: Config) -> str:
    """The DuckDB file a DuckDB store or a lake (its catalogue) is read from."""
    if store_kind(cfg.store) == "filesystem":
        from mwdata.store.lake import CATALOG, lake_root

        return str(lake_root(cfg.store) / CATALOG)
    return cfg.store.removeprefix("duckdb:///")


def open_store(cfg: Config) -> ReadStore:
    """A new reader of the configured store (the caller closes it); a clear refusal for the stores
    read with the warehouse's own tools."""
    if readable(cfg) == "postgres":
        return PostgresStore(cfg)
    from mwdata.read.snapshot import Store

    return Store(duckdb_file(cfg))


_SHARED: dict[str, PostgresStore] = {}
_SHARED_LOCK = threading.Lock()


def shared_store(cfg: Config) -> ReadStore:
    """The process-wide reader of the configured store (the dashboard's reruns share it)."""
    if readable(cfg) != "postgres":
        from mwdata.read.snapshot import get_store

        return get_store(duckdb_file(cfg))
    with _SHARED_LOCK:
        if cfg.store not in _SHARED:
            _SHARED[cfg.store] = PostgresStore(cfg)
        return _SHARED[cfg.store]


@dataclass
class PostgresStore(InformationSchema):
    """A PostgreSQL store, read through one read-only UTC session (thread-safe: one statement at a
    time). A session the server dropped (a restart, an idle timeout) is opened again on the next read."""

    cfg: Config
    stale_reason: str | None = None

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._closed = False
        self._conn: Any = None
        self._open()

    def _open(self) -> None:
        from mwdata.transform.runner import _Conn

        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = _Conn(self.cfg, read_only=True)
        self._conn.execute("SET TIME ZONE 'UTC'")
        self._conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")

    def read_at(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)  # live: every query reads the newest committed data

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        import psycopg2

        try:
            return self._read(sql, params)
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            if not self._conn._con.closed:
                raise _refused(exc) from None
            log.warning("the PostgreSQL store closed the session (%s); reconnecting", _first(exc))
        try:
            return self._read(sql, params)  # cursor() opens a new session
        except Exception as exc:
            raise _refused(exc) from None

    def _read(self, sql: str, params: Sequence[Any] | None) -> pd.DataFrame:
        import psycopg2

        with self.cursor() as con:
            try:
                with con.cursor() as cur:
                    cur.execute(sql.replace("?", "%s"), list(params or []))
                    rows, names = cur.fetchall(), [d[0] for d in cur.description]
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                raise
            except Exception as exc:
                raise _refused(exc) from None
        return _frame(rows, names)

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        """The psycopg2 connection, for SQL this class does not write itself (the metric layer's)."""
        with self._lock:
            if self._closed:
                raise StoreError("the PostgreSQL reader is closed")
            if self._conn._con.closed:  # dropped by the server since the last read
                self._open()
            yield self._conn._con

    def close(self) -> None:
        with self._lock:
            self._closed = True
            with contextlib.suppress(Exception):
                self._conn.close()


def _frame(rows: list[tuple[Any, ...]], names: list[str]) -> pd.DataFrame:
    """Rows as DuckDB's `.df()` types them: NUMERIC as float, DATE as datetime64 (psycopg2 gives
    Decimal and date objects, which pandas arithmetic and the charts do not take)."""
    df = pd.DataFrame(rows, columns=names)
    for col in df.columns:
        sample = df[col].dropna()
        if sample.empty or df[col].dtype != object:
            continue
        first = sample.iloc[0]
        if isinstance(first, Decimal):
            df[col] = df[col].astype(float)
        elif isinstance(first, dt.date) and not isinstance(first, dt.datetime):
            df[col] = pd.to_datetime(df[col])
    return df


def _first(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _refused(exc: Exception) -> StoreError:
    import psycopg2.errors

    first = _first(exc)
    if isinstance(exc, psycopg2.errors.UndefinedTable | psycopg2.errors.UndefinedColumn):
        return StoreError(
            f"the store lacks a table or column this view needs ({first}); "
            "run `mwdata build` to create or update the models"
        )
    return StoreError(f"the PostgreSQL store refused a read: {first}")
