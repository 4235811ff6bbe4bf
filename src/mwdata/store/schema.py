"""The raw-table contract every store honours and the dbt sources read.

Schema `raw`, one table per entity named `Entity.table`; one typed column per catalogue field
(timestamps as timezone-aware UTC, nested objects as JSON) plus load metadata:
  `_record`     the whole original record as JSON (unknown fields survive: invariant 6 in docs/architecture.md)
  `_synced_at`  when mwdata wrote this version
  `_run_id`     the sync run that wrote it
Primary key `id`; a row always holds the newest version seen (greatest `last_updated_time`).
"""

from __future__ import annotations

from mwdata.catalog import ENTITIES, Entity, FieldType
from mwdata.errors import StoreError

RAW_SCHEMA = "raw"
# mwdata's own tables (sync state, run log, check results). Not "mwdata": DuckDB names a file's
# catalog after the file, and `mwdata.x` in a file named mwdata.duckdb would be ambiguous.
STATE_SCHEMA = "_mwdata"
# `_mwdata.meta` (meta_key, meta_value): the store's own facts — its layout version and the tenant it
# was filled from. Version 1 is the layout before the meta table existed (no table = version 1).
META_TABLE = "meta"
# 3: DuckDB's raw tables carry `_record_digest` (the store's change test; other stores: no change).
SCHEMA_VERSION = 3
VERSION_KEY = "schema_version"
META_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_record", "json"),
    ("_synced_at", "timestamp"),
    ("_run_id", "string"),
)

DUCKDB_TYPES: dict[FieldType | str, str] = {
    "string": "VARCHAR",
    "timestamp": "TIMESTAMPTZ",
    "boolean": "BOOLEAN",
    "json": "JSON",
}
POSTGRES_TYPES: dict[FieldType | str, str] = {
    "string": "TEXT",
    "timestamp": "TIMESTAMPTZ",
    "boolean": "BOOLEAN",
    "json": "JSONB",
}


def raw_columns(entity: Entity) -> list[tuple[str, str]]:
    """(column, logical type) in table order: the catalogue's fields, then the metadata columns."""
    return [(f.name, f.type) for f in entity.fields] + list(META_COLUMNS)


def create_table_sql(
    entity: Entity,
    types: dict[FieldType | str, str] = DUCKDB_TYPES,
    primary_key: bool = True,
    column_options: dict[str, str] | None = None,
) -> str:
    """DDL of one raw table. The DuckDB store passes `primary_key=False` (its MERGE keeps `id` unique
    without the cost of an ART index) and ZSTD compression for `_record` (see docs/DECISIONS.md)."""
    opts = column_options or {}
    cols = ",\n  ".join(
        f'"{name}" {types[t]}' + (f" {opts[name]}" if name in opts else "") for name, t in raw_columns(entity)
    )
    pk = ',\n  PRIMARY KEY ("id")' if primary_key else ""
    return f'CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}."{entity.table}" (\n  {cols}{pk}\n)'


def create_all_sql(types: dict[FieldType | str, str] = DUCKDB_TYPES) -> list[str]:
    return [f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}"] + [create_table_sql(e, types) for e in ENTITIES]


def check_schema_version(found: str | int | None, where: str) -> int:
    """The store's layout version (`None`: no meta table, a version-1 store or a new one); a store
    written by a newer mwdata is refused before anything reads or changes it."""
    if found is None:
        return 1
    try:
        version = int(found)
    except (TypeError, ValueError):
        raise StoreError(
            f"{where}: {STATE_SCHEMA}.{META_TABLE} holds an unreadable {VERSION_KEY} ({found!r}); the "
            "store was changed by something other than mwdata. Restore it from a backup"
        ) from None
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{where} was written by a newer mwdata (store schema version {version}; this mwdata "
            f"knows up to {SCHEMA_VERSION}). Upgrade mwdata (pip install -U mwdata) on this machine; "
            "nothing was read or changed"
        )
    return version
