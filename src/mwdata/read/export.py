"""`mwdata export`: copy the marts (and, when asked, the raw tables) out of a DuckDB store as Parquet or CSV.

For Power BI / Tableau / Looker users who do not query DuckDB. Exports follow [transform] pii: the
raw tables (plaintext e-mails, names, utterances) are left out unless asked for, and refused with
pii = hash|drop; marts last built with pii = show (or before builds were recorded) are refused
while the setting hides PII, until `mwdata build` rebuilds them. Large tables (more than
`partition_threshold` rows with a timestamp column) are written as hive-partitioned Parquet by month
(`<table>/month=2026-05/*.parquet`), so a BI tool can prune by month; CSV is always one file per table.
The export reads a lock-free snapshot of the store (`mwdata.read.snapshot`, in UTC), so it can run during
a sync.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from mwdata.config import Config
from mwdata.errors import ConfigError, MwdataError, StoreError
from mwdata.read.snapshot import Store, connect
from mwdata.store.schema import RAW_SCHEMA, STATE_SCHEMA

log = logging.getLogger("mwdata.export")

FORMATS = ("parquet", "csv")
PARTITION_COLUMNS = ("created_time", "date_day", "activity_date", "day", "date", "last_updated_time")


@dataclass(frozen=True)
class ExportedTable:
    schema: str
    table: str
    rows: int
    path: Path
    partitioned: bool


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def export_store(
    store_path: str | Path,
    out_dir: str | Path,
    fmt: str = "parquet",
    schemas: tuple[str, ...] = ("analytics",),
    partition_threshold: int = 1_000_000,
    pii: str = "show",
) -> list[ExportedTable]:
    """Export every table of `schemas` into `out_dir/<schema>/<table>(.parquet|.csv|/)`; `pii` is
    the [transform] pii setting the export must honour."""
    _check_request(fmt, schemas, pii)
    store = Store(store_path)  # a snapshot, so an export never blocks (or is blocked by) a sync
    snap = store.refresh()
    try:
        con = connect(snap.path)  # UTC: the month partitions are UTC months
        try:
            return _export_from(con, str(store_path), Path(out_dir), fmt, schemas, partition_threshold, pii)
        finally:
            con.close()
    finally:
        store.close()


def _check_request(fmt: str, schemas: tuple[str, ...], pii: str) -> None:
    if fmt not in FORMATS:
        raise MwdataError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    if pii != "show" and RAW_SCHEMA in schemas:
        raise ConfigError(
            f'[transform] pii = "{pii}", but the raw tables hold the plaintext e-mails, names and '
            "utterances, so they are not exported (--include-raw refused). Export the marts only, or, "
            'where plaintext may leave the store, run the export with pii = "show" '
            "(MWDATA_PII=show mwdata export --include-raw); to back up, copy the store file itself"
        )


def _export_from(
    con: duckdb.DuckDBPyConnection,
    label: str,
    out: Path,
    fmt: str,
    schemas: tuple[str, ...],
    partition_threshold: int,
    pii: str,
) -> list[ExportedTable]:
    tables = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN (SELECT unnest(?)) AND table_type = 'BASE TABLE' "
        "ORDER BY 1, 2",
        [list(schemas)],
    ).fetchall()
    if not tables:
        raise StoreError(
            f"{label} has no tables in schema(s) {', '.join(schemas)}; run `mwdata sync` and `mwdata build` first"
        )
    if pii != "show":
        _check_built_hidden(con, label, pii, sorted({s for s, _ in tables}))
    return [_export_one(con, schema, table, out, fmt, partition_threshold) for schema, table in tables]


# PostgreSQL column types -> the DuckDB type of the copy, and what the SELECT casts on the server so
# that psycopg2 hands over plain values (numeric as float, JSON as its text, anything else as text)
_PG_TYPES = {
    "text": ("VARCHAR", ""), "character varying": ("VARCHAR", ""), "character": ("VARCHAR", ""),
    "bigint": ("BIGINT", ""), "integer": ("INTEGER", ""), "smallint": ("SMALLINT", ""),
    "double precision": ("DOUBLE", ""), "real": ("DOUBLE", ""), "numeric": ("DOUBLE", "::float8"),
    "boolean": ("BOOLEAN", ""), "date": ("DATE", ""),
    "timestamp with time zone": ("TIMESTAMPTZ", ""), "timestamp without time zone": ("TIMESTAMP", ""),
    "json": ("JSON", "::text"), "jsonb": ("JSON", "::text"),
}  # fmt: skip
_CHUNK_ROWS = 50_000


def export_postgres(
    cfg: Config,
    out_dir: str | Path,
    fmt: str = "parquet",
    schemas: tuple[str, ...] = ("analytics",),
    partition_threshold: int = 1_000_000,
) -> list[ExportedTable]:
    """`export_store` for a PostgreSQL store: the tables are read in one read-only REPEATABLE READ
    transaction (one consistent state, beside a running sync), in chunks of `_CHUNK_ROWS` rows, into
    a private DuckDB file (0700 folder, removed afterwards) that the same writer exports."""
    from mwdata.transform.runner import _Conn

    _check_request(fmt, schemas, cfg.transform.pii)
    tmp = Path(tempfile.mkdtemp(prefix="mwdata-export-"))
    pg = _Conn(cfg, read_only=True)
    try:
        pg._con.autocommit = False
        pg._con.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with pg._con.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
        duck = duckdb.connect(str(tmp / "copy.duckdb"))
        try:
            duck.execute("SET TimeZone = 'UTC'")  # the month partitions are UTC months
            for schema, table in _pg_tables(pg._con, (*schemas, STATE_SCHEMA)):
                if schema != STATE_SCHEMA or table == "transform_builds":
                    _copy_table(pg._con, duck, schema, table)
            return _export_from(
                duck,
                "the PostgreSQL store",
                Path(out_dir),
                fmt,
                schemas,
                partition_threshold,
                cfg.transform.pii,
            )
        finally:
            duck.close()
    finally:
        pg.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _pg_tables(con: Any, schemas: tuple[str, ...]) -> list[tuple[str, str]]:
    with con.cursor() as cur:
        cur.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema = ANY(%s) AND table_type = 'BASE TABLE' ORDER BY 1, 2",
            [list(schemas)],
        )
        return [(str(s), str(t)) for s, t in cur.fetchall()]


def _copy_table(con: Any, duck: duckdb.DuckDBPyConnection, schema: str, table: str) -> None:
    with con.cursor() as cur:
        cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            [schema, table],
        )
        cols = [(str(c), _PG_TYPES.get(str(t), ("VARCHAR", "::text"))) for c, t in cur.fetchall()]
    duck.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(schema)}")
    rel = f"{_q(schema)}.{_q(table)}"
    duck.execute(f"CREATE TABLE {rel} ({', '.join(f'{_q(c)} {t}' for c, (t, _) in cols)})")
    select = ", ".join(f"{_q(c)}{cast} AS {_q(c)}" for c, (_, cast) in cols)
    with con.cursor(name=f"mwdata_export_{uuid.uuid4().hex[:8]}") as cur:  # server-side: bounded memory
        cur.itersize = _CHUNK_ROWS
        cur.execute(f"SELECT {select} FROM {rel}")
        while rows := cur.fetchmany(_CHUNK_ROWS):
            chunk = pd.DataFrame(rows, columns=[c for c, _ in cols])
            duck.register("mwdata_chunk", chunk)
            duck.execute(f"INSERT INTO {rel} SELECT * FROM mwdata_chunk")
            duck.unregister("mwdata_chunk")


def _check_built_hidden(
    con: duckdb.DuckDBPyConnection, store_path: str | Path, pii: str, schemas: list[str]
) -> None:
    """Refuse marts whose last build showed PII while the setting hides it (recorded by the runner)."""
    try:
        rows = con.execute(
            f"SELECT target_schema, arg_max(pii, built_at) FROM {STATE_SCHEMA}.transform_builds GROUP BY 1"
        ).fetchall()
    except duckdb.CatalogException:  # built before builds were recorded
        rows = []
    built = dict(rows)
    shown = [s for s in schemas if built.get(s, "show") == "show"]
    if shown:
        raise ConfigError(
            f'[transform] pii = "{pii}", but the tables of {", ".join(shown)} in {store_path} were last built '
            'with pii = "show" (or by an older mwdata, with unsalted hashes), so they may hold plaintext '
            "e-mails and utterances; run `mwdata build` to rebuild them with the current setting, then export"
        )


def _export_one(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, out: Path, fmt: str, threshold: int
) -> ExportedTable:
    rel = f"{_q(schema)}.{_q(table)}"
    rows = int(con.execute(f"SELECT count(*) FROM {rel}").fetchone()[0])  # type: ignore[index]
    cols = {
        r[0]: r[1]
        for r in con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchall()
    }
    # JSON columns travel as text: Parquet readers of BI tools do not know DuckDB's JSON type.
    select = ", ".join(
        f"CAST({_q(c)} AS VARCHAR) AS {_q(c)}" if t == "JSON" else _q(c) for c, t in cols.items()
    )
    (out / schema).mkdir(parents=True, exist_ok=True)
    part_col = next((c for c in PARTITION_COLUMNS if c in cols), None)
    if fmt == "parquet" and part_col and rows > threshold:
        target = out / schema / table
        if target.exists():
            shutil.rmtree(target)
        con.execute(
            f"COPY (SELECT {select}, strftime(CAST({_q(part_col)} AS DATE), '%Y-%m') AS month FROM {rel}) "
            f"TO '{_literal(target)}' (FORMAT parquet, PARTITION_BY (month), OVERWRITE_OR_IGNORE)"
        )
        log.info("exported %s.%s: %d rows, partitioned by month of %s", schema, table, rows, part_col)
        return ExportedTable(schema, table, rows, target, True)
    target = out / schema / f"{table}.{fmt}"
    options = "FORMAT parquet" if fmt == "parquet" else "FORMAT csv, HEADER"
    con.execute(f"COPY (SELECT {select} FROM {rel}) TO '{_literal(target)}' ({options})")
    log.info("exported %s.%s: %d rows", schema, table, rows)
    return ExportedTable(schema, table, rows, target, False)


def _literal(path: Path) -> str:
    """A path as the body of a SQL string literal (COPY TO takes no bound parameter)."""
    return str(path).replace("'", "''")
