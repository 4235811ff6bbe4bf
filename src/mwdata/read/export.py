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
from dataclasses import dataclass
from pathlib import Path

import duckdb

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
    if fmt not in FORMATS:
        raise MwdataError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    if pii != "show" and RAW_SCHEMA in schemas:
        raise ConfigError(
            f'[transform] pii = "{pii}", but the raw tables hold the plaintext e-mails, names and '
            "utterances, so they are not exported (--include-raw refused). Export the marts only, or, "
            'where plaintext may leave the store, run the export with pii = "show" '
            "(MWDATA_PII=show mwdata export --include-raw); to back up, copy the store file itself"
        )
    store = Store(store_path)  # a snapshot, so an export never blocks (or is blocked by) a sync
    snap = store.refresh()
    out = Path(out_dir)
    result: list[ExportedTable] = []
    try:
        con = connect(snap.path)  # UTC: the month partitions are UTC months
        try:
            tables = con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_schema IN (SELECT unnest(?)) AND table_type = 'BASE TABLE' "
                "ORDER BY 1, 2",
                [list(schemas)],
            ).fetchall()
            if not tables:
                raise StoreError(
                    f"{store_path} has no tables in schema(s) {', '.join(schemas)}; "
                    "run `mwdata sync` and `mwdata build` first"
                )
            if pii != "show":
                _check_built_hidden(con, store_path, pii, sorted({s for s, _ in tables}))
            for schema, table in tables:
                result.append(_export_one(con, schema, table, out, fmt, partition_threshold))
        finally:
            con.close()
    finally:
        store.close()
    return result


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
