"""The Parquet lake: `store = "file:///data/mwdata-lake"` — versions appended as Parquet by dlt.

dlt's filesystem destination writes each batch as a Parquet file under `<lake>/raw/<table>/`
(`<load_id>.<file_id>.parquet`: typed columns, the whole record as JSON text in `_record`,
`_synced_at`, `_run_id`). A lake has no transactions and no MERGE, so it keeps every version it was
given, and the raw contract (one row per id, its newest version) is a view: a small DuckDB catalogue
`<lake>/mwdata.duckdb` holds the views `raw.<table>` (newest version per id over the committed files),
the sync state `_mwdata.*` as in the DuckDB store, and `_mwdata.lake_files`, the list of committed
files. `mwdata build`, `status` and the dashboard open the catalogue like any DuckDB store; other
engines read the Parquet files and apply the same newest-per-id rule (docs/warehouses.md).

Order of a write: dlt writes the file; one DuckDB transaction registers it and rebuilds the view;
then the window's checkpoint commits (the DuckDB store's own statement). A crash before registering
leaves an unregistered file, deleted by the next `prepare()`; a crash after it leaves data ahead of
the checkpoint, which the resumed window writes again: the view keeps one row per id (the same
version twice collapses; of two versions the newer `last_updated_time` wins, then the later write),
so nothing is lost, duplicated or replaced by an older version.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from mwdata.catalog import ENTITIES, Entity
from mwdata.config import Config, store_kind
from mwdata.errors import ConfigError, StoreError
from mwdata.store.base import EntityState, Window
from mwdata.store.duckdb import DuckDBStore, _read_connection
from mwdata.store.duckdb import read_states as duck_states
from mwdata.store.duckdb import read_status as duck_status
from mwdata.store.schema import DUCKDB_TYPES, RAW_SCHEMA, STATE_SCHEMA, raw_columns

log = logging.getLogger("mwdata.store")

CATALOG = "mwdata.duckdb"
SEQ_COLUMN = "_mw_seq"
FILES_TABLE = f"{STATE_SCHEMA}.lake_files"
FILES_DDL = (
    f"CREATE TABLE IF NOT EXISTS {FILES_TABLE} (entity VARCHAR, path VARCHAR, rows BIGINT, "
    "load_id VARCHAR, run_id VARCHAR, added_at TIMESTAMPTZ)"
)


def lake_root(store: str) -> Path:
    """The lake's directory from `file:///abs/path` (or `file://relative/path`)."""
    kind = store_kind(store)
    if kind != "filesystem":
        raise ConfigError(
            f"a {kind}:// lake is not supported yet: sync to a local or mounted directory "
            '(store = "file:///path/to/lake") and copy it to the bucket (docs/warehouses.md)'
        )
    u = urlsplit(store)
    path = unquote((u.netloc or "") + u.path)
    if not path:
        raise ConfigError("a lake store must look like file:///path/to/lake")
    return Path(path).expanduser().resolve()


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def view_sql(entity: Entity, files: Sequence[str]) -> str:
    """`raw.<table>`: the newest version per id over the committed files (the raw contract)."""
    cols = []
    for name, t in raw_columns(entity):
        cols.append(f"CAST({_q(name)} AS {DUCKDB_TYPES[t]}) AS {_q(name)}")
    table = f"{RAW_SCHEMA}.{_q(entity.table)}"
    if not files:
        empty = ", ".join(f"CAST(NULL AS {DUCKDB_TYPES[t]}) AS {_q(n)}" for n, t in raw_columns(entity))
        return f"CREATE OR REPLACE VIEW {table} AS SELECT {empty} WHERE false"
    listing = ", ".join(_sql_str(f) for f in files)
    return f"""CREATE OR REPLACE VIEW {table} AS
SELECT {", ".join(cols)} FROM (
  SELECT *, row_number() OVER (
    PARTITION BY id ORDER BY last_updated_time DESC NULLS LAST, _synced_at DESC, {SEQ_COLUMN} DESC) AS _mw_rn
  FROM read_parquet([{listing}], union_by_name = true)
  WHERE id IS NOT NULL
) WHERE _mw_rn = 1"""


class LakeStore(DuckDBStore):
    """`Store` on a Parquet lake: dlt writes the files; the DuckDB catalogue keeps views and state."""

    def __init__(self, root: Path, display: str) -> None:
        super().__init__(root / CATALOG)  # the root is made owner-only when the store opens
        self.root = root
        self.display = display
        self._dlt_dir: str | None = None
        self._pipeline: Any = None

    @classmethod
    def from_config(cls, cfg: Config) -> LakeStore:
        root = lake_root(cfg.store)
        return cls(root, f"file://{root}")

    # -- dlt ------------------------------------------------------------------------------------
    @property
    def pipeline(self) -> Any:
        if self._pipeline is None:
            import mwdata.store.dlt  # noqa: F401 - sets dlt's environment (telemetry off)

            try:
                import dlt
            except ImportError:
                raise ConfigError("the lake needs its extra: pip install 'mwdata[lake]'") from None
            self._dlt_dir = tempfile.mkdtemp(prefix="mwdata-dlt-")
            digest = hashlib.sha1(str(self.root).encode()).hexdigest()[:10]
            self._pipeline = dlt.pipeline(
                pipeline_name=f"mwdata_lake_{digest}",
                pipelines_dir=self._dlt_dir,
                destination=dlt.destinations.filesystem(bucket_url=self.root.as_uri()),
                dataset_name=RAW_SCHEMA,
            )
        return self._pipeline

    def close(self) -> None:
        super().close()
        self._pipeline = None
        if self._dlt_dir is not None:
            shutil.rmtree(self._dlt_dir, ignore_errors=True)
            self._dlt_dir = None

    def _table_dir(self, entity: Entity) -> Path:
        return self.root / RAW_SCHEMA / entity.table

    def _files(self, entity: Entity) -> list[str]:
        return [
            str(p)
            for (p,) in self.con.execute(
                f"SELECT path FROM {FILES_TABLE} WHERE entity = ? ORDER BY added_at, path", [entity.path]
            ).fetchall()
        ]

    # -- lifecycle -------------------------------------------------------------------------------
    def prepare(self) -> None:
        self._prepare_state([f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}", FILES_DDL])
        tables = {
            t
            for s, t in self.con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
            if s == RAW_SCHEMA
        }
        for e in ENTITIES:
            if e.table in tables:  # an empty table `mwdata build` made before the first sync
                with self._tx():
                    self.con.execute(f"DROP TABLE {RAW_SCHEMA}.{_q(e.table)}")
            committed = set(self._files(e))
            d = self._table_dir(e)
            if d.is_dir():  # files a crashed run wrote but never registered
                for f in d.glob("*.parquet"):
                    if str(f) not in committed:
                        f.unlink(missing_ok=True)
            with self._tx():
                self.con.execute(view_sql(e, sorted(committed)))

    # -- data ------------------------------------------------------------------------------------
    def encode(self, entity: Entity, records: Sequence[dict[str, Any]]) -> pa.RecordBatch:
        from mwdata.store.dlt import encode_batch

        return encode_batch(entity, records)

    def _load(self, entity: Entity, table: pa.Table) -> list[str]:
        try:
            info = self.pipeline.run(
                table, table_name=entity.table, write_disposition="append", loader_file_format="parquet"
            )
        except Exception as exc:
            msg = " ".join(str(exc).split())[:500]
            raise StoreError(f"writing the lake {self.display} failed: {msg}") from None
        files: list[str] = []
        for load_id in info.loads_ids:
            files += sorted(str(p) for p in self._table_dir(entity).glob(f"{load_id}.*.parquet"))
        return files

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
        if chunks and rows:
            t = pa.Table.from_batches(list(chunks))
            n = t.num_rows
            now = datetime.now(UTC)
            t = t.append_column("_synced_at", pa.array([now] * n, pa.timestamp("us", tz="UTC")))
            t = t.append_column("_run_id", pa.array([run_id] * n, pa.string()))
            t = t.append_column(SEQ_COLUMN, pa.array(range(n), pa.int64()))
            files = self._load(entity, t)
            written = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
            if written != rows:  # the per-load row-count check
                for f in files:
                    Path(f).unlink(missing_ok=True)
                raise StoreError(
                    f"{self.display}: {rows} rows sent, {written} written to {entity.table}; nothing was "
                    "committed, the window resumes at its last checkpoint"
                )
            with self._tx():
                self.con.executemany(
                    f"INSERT INTO {FILES_TABLE} VALUES (?, ?, ?, ?, ?, now())",
                    [[entity.path, f, written, Path(f).name.split(".")[0], run_id] for f in files],
                )
                self.con.execute(view_sql(entity, self._files(entity)))
        super().write(
            entity,
            [],
            window,
            rows=rows,
            last_id=last_id,
            pages=pages,
            done=done,
            run_id=run_id,
            unique=unique,
        )
        return rows


# -- read API -----------------------------------------------------------------------------------
def read_status(cfg: Config, recent_runs: int = 20) -> Any:
    import dataclasses

    root = lake_root(cfg.store)
    st = duck_status(root / CATALOG, recent_runs)
    if st.exists and st.entities:  # raw.* are views here, which the DuckDB reader does not count
        counted = []
        with _read_connection(root / CATALOG) as con:  # a snapshot copy while a sync writes
            try:
                for e in st.entities:
                    n, newest = con.execute(
                        f"SELECT count(*), max(last_updated_time) FROM {RAW_SCHEMA}.{_q(e.table)}"
                    ).fetchone() or (0, None)
                    counted.append(dataclasses.replace(e, rows=int(n), newest_record=newest))
            except duckdb.Error as exc:
                raise StoreError(f"cannot read the lake {root}: {exc}") from None
        st = dataclasses.replace(st, entities=tuple(counted))
    return dataclasses.replace(st, path=f"file://{root}")


def read_states(cfg: Config, entities: Sequence[Entity]) -> dict[str, EntityState]:
    return duck_states(lake_root(cfg.store) / CATALOG, entities)
