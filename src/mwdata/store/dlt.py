"""Warehouse stores (PostgreSQL, Snowflake, BigQuery, Databricks) loaded through dlt; the Parquet lake.

dlt carries each batch to the warehouse: the batch (typed columns + the whole record as JSON text) is
written as a Parquet loader file and appended by dlt to a staging table `raw_staging.<table>`, each
row tagged with the batch's id. Then ONE transaction of our own, on dlt's SQL client:
  1. checks that every row of the batch arrived in staging (row count),
  2. MERGEs the batch into `raw.<table>` newer-only: a stored row is replaced only by a strictly newer
     `last_updated_time`, or by the same stamp with other content (read later, so newer: the API can
     stamp two versions alike); re-writing the same version is a no-op, so re-runs are idempotent,
  3. checks that no id of the batch is now stored twice (PostgreSQL also enforces the primary key),
  4. moves the window's checkpoint, the watermark and the run counters, and deletes the batch from
     staging.
So the invariants hold as in the DuckDB store: a crash before the commit leaves the state where it
was (the window resumes at its last checkpoint, re-reading is idempotent) and only litter in staging,
which `prepare()` clears. dlt's own `merge` is not used: it replaces rows whatever their version, and
its table jobs do not commit with our state (docs/DECISIONS.md).

The SQL is generic MERGE / UPDATE / INSERT with per-dialect types, quoting and JSON parsing
(`Dialect`); PostgreSQL is tested for real, the others up to the connection (the generated dlt
settings and the compiled SQL). Secrets: a password comes from `MWDATA_STORE_PASSWORD` (or a chmod-600
file named by `MWDATA_STORE_PASSWORD_FILE`), or from a URL given in the environment (`MWDATA_STORE`);
it never appears in messages, status output or the store (`redact`). The lake (`file://`, `s3://`…)
is `mwdata.store.lake`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import orjson
import pyarrow as pa

from mwdata.catalog import ENTITIES, Entity, FieldType
from mwdata.config import Config, read_secret_file, store_kind
from mwdata.errors import ConfigError, LockedError, MwdataError, StoreError
from mwdata.store.base import ABORTED, RUNNING, SUCCESS, EntityState, RunStats, Tenant, Window
from mwdata.store.lock import FileLock, holder
from mwdata.store.schema import (
    META_TABLE,
    POSTGRES_TYPES,
    RAW_SCHEMA,
    SCHEMA_VERSION,
    STATE_SCHEMA,
    VERSION_KEY,
    check_schema_version,
    raw_columns,
)

# dlt reads its settings from the environment; these must be set before a pipeline is made.
DLT_ENV = {
    "RUNTIME__DLTHUB_TELEMETRY": "false",  # no usage data leaves the machine
    "RESTORE_FROM_DESTINATION": "false",  # our state lives in _mwdata, not in dlt's pipeline state
}
for _k, _v in DLT_ENV.items():
    os.environ[_k] = _v

log = logging.getLogger("mwdata.store")

STAGING_SCHEMA = "raw_staging"
BATCH_COLUMN = "_mw_batch"
SEQ_COLUMN = "_mw_seq"  # order of reading within a batch: of two versions with one stamp, the later wins
PASSWORD_ENV = "MWDATA_STORE_PASSWORD"
PASSWORD_FILE_ENV = "MWDATA_STORE_PASSWORD_FILE"
WAREHOUSES = ("postgres", "snowflake", "bigquery", "databricks")
LAKES = ("filesystem", "s3", "gs", "gcs", "az", "abfss")
_EXTRA = {
    "postgres": "postgres",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "databricks": "databricks",
}
PG_LOCK_KEY = (0x6D776461, 1)  # pg advisory lock (classid 'mwda', objid 1): one sync per database
# rows of pg_locks: the sync's advisory lock, granted, in this database (advisory locks are per
# database, pg_locks lists the whole server's: another store on the same server is not this one's writer)
PG_LOCK_HELD = (
    "l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


# -- SQL dialects -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Dialect:
    """The few differences of SQL between warehouses that the store's statements meet."""

    name: str
    types: dict[FieldType | str, str]  # logical type -> column type
    text: str
    timestamp: str
    bigint: str
    boolean: str
    json_parse: str  # how a JSON text becomes the json column type: "CAST({} AS JSONB)"
    json_text: str  # a json column as comparable text: "CAST({} AS TEXT)"
    quote_char: str = '"'  # "" = identifiers bare (Snowflake folds them to upper case, as dbt does)
    primary_key: bool = False  # an enforced primary key on raw.<table>.id (PostgreSQL)
    now: str = "CURRENT_TIMESTAMP"
    reserved: frozenset[str] = frozenset()  # bare names the engine refuses: quoted in its folded case
    # False where the SQL client's transactions do nothing (Databricks): then a batch is safe by
    # order, not atomicity — merge (idempotent), verify, and only then move the checkpoint.
    transactions: bool = True

    def q(self, name: str) -> str:
        if not self.quote_char:
            return f'"{name.upper()}"' if name.lower() in self.reserved else name
        c = self.quote_char
        return c + name.replace(c, c + c) + c

    def table(self, schema: str, name: str) -> str:
        return f"{self.q(schema)}.{self.q(name)}"

    # DDL
    def create_raw_sql(self, entity: Entity) -> str:
        cols = ",\n  ".join(f"{self.q(n)} {self.types[t]}" for n, t in raw_columns(entity))
        pk = f",\n  PRIMARY KEY ({self.q('id')})" if self.primary_key else ""
        return f"CREATE TABLE IF NOT EXISTS {self.table(RAW_SCHEMA, entity.table)} (\n  {cols}{pk}\n)"

    def state_ddl(self) -> list[str]:
        T, TS, B, BOOL = self.text, self.timestamp, self.bigint, self.boolean
        cols = {
            "sync_state": f"entity {T}, watermark {TS}, last_run_id {T}, updated_at {TS}",
            "sync_windows": (
                f"window_id {B}, run_id {T}, entity {T}, lo {TS}, hi {TS}, last_id {T}, done {BOOL}, "
                f"advances_watermark {BOOL}, {self.q('rows')} {B}, pages {B}, updated_at {TS}"
            ),
            "sync_runs": (
                f"run_id {T}, entity {T}, started_at {TS}, ended_at {TS}, {self.q('rows')} {B}, pages {B}, "
                f"requests {B}, retries {B}, throttled {B}, errors {B}, outcome {T}, message {T}, detail {T}"
            ),
            META_TABLE: f"meta_key {T}, meta_value {T}, updated_at {TS}",
        }
        return [f"CREATE SCHEMA IF NOT EXISTS {self.q(STATE_SCHEMA)}"] + [
            f"CREATE TABLE IF NOT EXISTS {self.state(t)} ({c})" for t, c in cols.items()
        ]

    def state(self, table: str) -> str:
        return self.table(STATE_SCHEMA, table)

    # the batch upsert
    def merge_sql(self, entity: Entity) -> str:
        """Staged batch -> raw table, newest version per id, replacing only strictly older rows.
        Parameters (in order): synced_at, run_id, batch id."""
        q = self.q
        cols = [n for n, _ in raw_columns(entity)]
        picked = []
        for f in entity.fields:
            expr = f"x.{q(f.name)}"
            picked.append(f"{self.json_parse.format(expr) if f.type == 'json' else expr} AS {q(f.name)}")
        picked.append(f"{self.json_parse.format('x.' + q('_record'))} AS {q('_record')}")
        picked.append(f"CAST(%s AS {self.timestamp}) AS {q('_synced_at')}")
        picked.append(f"CAST(%s AS {self.text}) AS {q('_run_id')}")
        lut = q("last_updated_time")
        staged = self.table(STAGING_SCHEMA, entity.table)
        rec = q("_record")
        newer = (
            f"(s.{lut} > t.{lut} OR (t.{lut} IS NULL AND s.{lut} IS NOT NULL) OR (s.{lut} = t.{lut} "
            f"AND {self.json_text.format('s.' + rec)} <> {self.json_text.format('t.' + rec)}))"
        )
        return f"""MERGE INTO {self.table(RAW_SCHEMA, entity.table)} AS t
USING (
  SELECT {", ".join(picked)}
  FROM (
    SELECT b.*, ROW_NUMBER() OVER (
      PARTITION BY b.{q("id")} ORDER BY b.{lut} DESC NULLS LAST, b.{q(SEQ_COLUMN)} DESC) AS _mw_rn
    FROM {staged} AS b
    WHERE b.{q(BATCH_COLUMN)} = %s AND b.{q("id")} IS NOT NULL
  ) AS x
  WHERE x._mw_rn = 1
) AS s
ON t.{q("id")} = s.{q("id")}
WHEN MATCHED AND {newer} THEN
  UPDATE SET {", ".join(f"{q(c)} = s.{q(c)}" for c in cols if c != "id")}
WHEN NOT MATCHED THEN
  INSERT ({", ".join(q(c) for c in cols)}) VALUES ({", ".join(f"s.{q(c)}" for c in cols)})"""

    def duplicates_sql(self, entity: Entity) -> str:
        """Ids of the batch stored more than once (parameter: batch id) — the per-load duplicate check
        where the warehouse does not enforce a primary key."""
        q = self.q
        raw, staged = self.table(RAW_SCHEMA, entity.table), self.table(STAGING_SCHEMA, entity.table)
        return (
            f"SELECT count(*) FROM (SELECT r.{q('id')} FROM {raw} AS r WHERE r.{q('id')} IN "
            f"(SELECT b.{q('id')} FROM {staged} AS b WHERE b.{q(BATCH_COLUMN)} = %s) "
            f"GROUP BY r.{q('id')} HAVING count(*) > 1) AS d"
        )


DIALECTS: dict[str, Dialect] = {
    "postgres": Dialect(
        "postgres", POSTGRES_TYPES, "TEXT", "TIMESTAMPTZ", "BIGINT", "BOOLEAN", "CAST({} AS JSONB)", "CAST({} AS TEXT)",
        primary_key=True,
    ),
    "snowflake": Dialect(
        "snowflake",
        {"string": "VARCHAR", "timestamp": "TIMESTAMP_TZ", "boolean": "BOOLEAN", "json": "VARIANT"},
        "VARCHAR", "TIMESTAMP_TZ", "BIGINT", "BOOLEAN", "PARSE_JSON({})", "TO_JSON({})", quote_char="",
        reserved=frozenset({"rows"}),  # the state tables' one column named like a Snowflake keyword
    ),
    "bigquery": Dialect(
        "bigquery",
        {"string": "STRING", "timestamp": "TIMESTAMP", "boolean": "BOOL", "json": "JSON"},
        "STRING", "TIMESTAMP", "INT64", "BOOL", "SAFE.PARSE_JSON({})", "TO_JSON_STRING({})", quote_char="`",
    ),
    "databricks": Dialect(
        "databricks",
        {"string": "STRING", "timestamp": "TIMESTAMP", "boolean": "BOOLEAN", "json": "STRING"},
        "STRING", "TIMESTAMP", "BIGINT", "BOOLEAN", "{}", "{}", quote_char="`", transactions=False,
    ),
}  # fmt: skip


# -- configuration: store URL -> dlt destination --------------------------------------------------
@dataclass(frozen=True)
class Target:
    """A warehouse named by the store URL: what dlt is given, and how it is shown (never a secret)."""

    kind: str
    display: str  # the URL without its password
    settings: dict[str, Any]  # non-secret destination settings (host, database, warehouse, ...)
    secrets: dict[str, Any] = field(default_factory=dict, repr=False)  # password / token / key

    @property
    def dialect(self) -> Dialect:
        return DIALECTS[self.kind]

    def redact(self, text: str) -> str:
        """`text` with every secret and the full URL removed (for messages)."""
        for v in self.secrets.values():
            for s in _secret_strings(v):
                text = text.replace(s, "***").replace(quote(s, safe=""), "***")
        return text

    def destination(self) -> Any:
        """The dlt destination factory, credentials included (built only when the store is opened)."""
        import dlt

        creds: Any
        if self.kind == "postgres":
            from dlt.destinations.impl.postgres.configuration import PostgresCredentials

            creds = PostgresCredentials()
            creds.database = self.settings["database"]
            creds.host = self.settings["host"]
            creds.port = self.settings["port"]
            creds.username = self.settings["username"]
            creds.password = self.secrets.get("password") or ""
            creds.connect_timeout = self.settings["connect_timeout"]
            creds.query = dict(self.settings.get("query") or {})
            return dlt.destinations.postgres(credentials=creds)
        if self.kind == "snowflake":
            return dlt.destinations.snowflake(credentials={**self.settings, **self.secrets})
        if self.kind == "bigquery":
            info = self.secrets.get("service_account")
            creds = {**info, "project_id": self.settings["project_id"]} if info else None
            return dlt.destinations.bigquery(
                credentials=creds, location=self.settings.get("location") or "US"
            )
        if self.kind == "databricks":
            return dlt.destinations.databricks(credentials={**self.settings, **self.secrets})
        raise ConfigError(f"no warehouse destination for {self.kind!r}")  # pragma: no cover


def _secret_strings(v: Any) -> list[str]:
    if isinstance(v, str):
        return [v] if len(v) >= 3 else []
    if isinstance(v, Mapping):
        return [s for x in v.values() for s in _secret_strings(x)]
    return []


def _password(u: Any, env: Mapping[str, str]) -> str | None:
    if env.get(PASSWORD_FILE_ENV):
        return read_secret_file(env[PASSWORD_FILE_ENV])
    if env.get(PASSWORD_ENV):
        return env[PASSWORD_ENV]
    return unquote(u.password) if u.password else None


def _display(u: Any) -> str:
    netloc = u.hostname or ""
    if u.username:
        netloc = f"{unquote(u.username)}@{netloc}"
    if u.port:
        netloc += f":{u.port}"
    return f"{u.scheme}://{netloc}{u.path}"


def parse_target(store: str, env: Mapping[str, str] | None = None) -> Target:
    """The warehouse named by `store` (`postgresql://user@host:5432/db`, `snowflake://user@account/db
    ?warehouse=WH&role=R`, `bigquery://project?location=EU`, `databricks://host/catalog?http_path=/sql/
    ...`), secrets from the environment. ConfigError (no secret in it) when the URL is incomplete."""
    env = os.environ if env is None else env
    kind = store_kind(store)
    if kind not in WAREHOUSES:
        known = ", ".join(["postgresql", "snowflake", "bigquery", "databricks", "file", "s3", "gs", "az"])
        raise ConfigError(f"unknown store kind {kind!r}: use a DuckDB file path or a URL ({known}://...)")
    try:
        u = urlsplit(store)
        port = u.port
    except ValueError as exc:
        raise ConfigError(f"the {kind} store URL is malformed ({exc}); see docs/warehouses.md") from None
    query = dict(parse_qsl(u.query))
    secret = _password(u, env)
    display = _display(u)
    path = unquote(u.path.strip("/"))
    if kind == "postgres":
        if not u.hostname or not path:
            raise ConfigError(
                f"postgres store must look like postgresql://user@host:5432/database, got {display}"
            )
        settings: dict[str, Any] = {
            "host": u.hostname,
            "port": port or 5432,
            "database": path,
            "username": unquote(u.username or "postgres"),
            "connect_timeout": int(query.pop("connect_timeout", 10)),
            "query": query,
        }
        return Target(kind, display, settings, {"password": secret} if secret else {})
    if kind == "snowflake":
        if not u.hostname or not path or not u.username:
            raise ConfigError(
                "snowflake store must look like snowflake://user@account/database?warehouse=WH&role=ROLE"
                f", got {display}"
            )
        settings = {"host": u.hostname, "database": path, "username": unquote(u.username)}
        settings.update({k: v for k, v in query.items() if k in ("warehouse", "role", "authenticator")})
        if "private_key_path" in query:
            settings["private_key_path"] = query["private_key_path"]
        secrets = {"password": secret} if secret else {}
        if env.get("MWDATA_STORE_PRIVATE_KEY_PASSPHRASE"):
            secrets["private_key_passphrase"] = env["MWDATA_STORE_PRIVATE_KEY_PASSPHRASE"]
        if not secrets and "private_key_path" not in settings:
            raise ConfigError(
                f"snowflake store {display}: set {PASSWORD_ENV} (or ?private_key_path=... for key-pair auth)"
            )
        return Target(kind, display, settings, secrets)
    if kind == "bigquery":
        if not u.hostname:
            raise ConfigError(
                f"bigquery store must look like bigquery://project-id?location=EU, got {display}"
            )
        settings = {"project_id": u.hostname, "location": query.get("location", "US")}
        secrets = {}
        key_file = env.get("GOOGLE_APPLICATION_CREDENTIALS")
        if key_file:
            try:
                secrets["service_account"] = orjson.loads(read_secret_file(key_file))
            except orjson.JSONDecodeError:
                raise ConfigError(
                    f"GOOGLE_APPLICATION_CREDENTIALS {key_file} is not a service-account JSON key"
                ) from None
        return Target(kind, display, settings, secrets)
    # databricks
    if not u.hostname or not path or "http_path" not in query:
        raise ConfigError(
            "databricks store must look like databricks://<workspace host>/<catalog>?http_path=/sql/1.0/"
            f"warehouses/<id>, got {display}"
        )
    if not secret:
        raise ConfigError(f"databricks store {display}: set {PASSWORD_ENV} to a personal access token")
    settings = {"server_hostname": u.hostname, "catalog": path, "http_path": query["http_path"]}
    return Target(kind, display, settings, {"access_token": secret})


# -- encoding: a page of records -> an Arrow batch with the raw columns ------------------------------
_TIMESTAMP = pa.timestamp("us", tz="UTC")


def _text(v: Any) -> str | None:
    if v is None or isinstance(v, str):
        return v
    return orjson.dumps(v).decode()


def _ts(v: Any) -> datetime | None:
    if not isinstance(v, str):
        return None
    s = v.strip()
    try:
        d = datetime.fromisoformat(s)
    except ValueError:
        head, dot, frac = s.partition(".")  # more than microseconds: keep six digits
        digits = "".join(c for c in frac if c.isdigit())
        try:
            d = datetime.fromisoformat(f"{head}.{digits[:6]}{frac[len(digits) :]}" if dot else s)
        except ValueError:
            return None
    return d.replace(tzinfo=UTC) if d.tzinfo is None else d.astimezone(UTC)


def _timestamps(values: list[Any]) -> pa.Array:
    try:  # Arrow's ISO 8601 parser does the common case in C++
        return pa.array(values, pa.string()).cast(_TIMESTAMP)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([_ts(v) for v in values], _TIMESTAMP)


def encode_batch(entity: Entity, records: Sequence[dict[str, Any]]) -> pa.RecordBatch:
    """Typed columns as the raw contract (JSON fields as JSON text, parsed by the warehouse) and the
    whole record as `_record`. A value of the wrong type becomes NULL in its column and survives in
    `_record` (invariant 6 in docs/architecture.md), as in the DuckDB store."""
    arrays: list[pa.Array] = []
    names: list[str] = []
    for f in entity.fields:
        vals = [r.get(f.name) for r in records]
        if f.type == "timestamp":
            arr = _timestamps([v if isinstance(v, str) else None for v in vals])
        elif f.type == "boolean":
            arr = pa.array([v if isinstance(v, bool) else None for v in vals], pa.bool_())
        elif f.type == "json":
            arr = pa.array([None if v is None else orjson.dumps(v).decode() for v in vals], pa.string())
        else:
            arr = pa.array([_text(v) for v in vals], pa.string())
        arrays.append(arr)
        names.append(f.name)
    arrays.append(pa.array([orjson.dumps(r).decode() for r in records], pa.string()))
    names.append("_record")
    return pa.RecordBatch.from_arrays(arrays, names=names)


# -- the store ----------------------------------------------------------------------------------------
class DltStore:
    """`Store` on a warehouse: batches through dlt into staging, merge + state in one transaction."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.dialect = target.dialect
        self.path = target.display  # shown by `mwdata status` and in messages
        self._dir: str | None = None
        self._pipeline: Any = None
        self._sql: Any = None
        self._lock_conn: Any = None
        self._file_lock: FileLock | None = None
        self._merge: dict[str, str] = {}

    # -- connections ---------------------------------------------------------------------------
    def _fail(self, what: str, exc: BaseException) -> StoreError:
        msg = str(exc).strip().splitlines()
        detail = " ".join(line.strip() for line in msg[:3]) if msg else type(exc).__name__
        return StoreError(
            f"{what} the {self.target.kind} store {self.path} failed: {self.target.redact(detail)}"
        )

    @property
    def pipeline(self) -> Any:
        if self._pipeline is None:
            import dlt

            for name in ("dlt", "dlt.pipeline"):
                logging.getLogger(name).setLevel(logging.WARNING)
            self._dir = tempfile.mkdtemp(prefix="mwdata-dlt-")
            digest = hashlib.sha1(self.path.encode()).hexdigest()[:10]
            try:
                self._pipeline = dlt.pipeline(
                    pipeline_name=f"mwdata_{digest}",
                    pipelines_dir=self._dir,
                    destination=self.target.destination(),
                    dataset_name=STAGING_SCHEMA,
                )
            except ImportError as exc:
                raise ConfigError(
                    f"the {self.target.kind} store needs its extra: pip install 'mwdata[{_EXTRA[self.target.kind]}]' "
                    f"({exc.name or exc} is missing)"
                ) from None
            except Exception as exc:  # a bad setting
                raise self._fail("setting up", exc) from None
        return self._pipeline

    @property
    def sql(self) -> Any:
        """dlt's SQL client on the destination, opened once and kept."""
        if self._sql is None:
            try:
                client = self.pipeline.sql_client()
                client.open_connection()
            except StoreError:
                raise
            except Exception as exc:
                raise self._fail("connecting to", exc) from None
            self._sql = client
            if self.dialect.name == "postgres":
                self._exec("SET TIME ZONE 'UTC'")
        return self._sql

    def _exec(self, sql: str, *args: Any) -> list[Any]:
        return list(self.sql.execute_sql(sql, *args) or [])

    def _count(self, sql: str, *args: Any) -> int:
        rows = self._exec(sql, *args)
        return int(rows[0][0] or 0) if rows else 0

    def exists(self, schema: str, table: str) -> bool:
        """Whether a table exists — asked by selecting from it, which every warehouse answers alike
        (information_schema differs: BigQuery's is per dataset and region)."""
        from dlt.destinations.exceptions import DatabaseUndefinedRelation

        try:
            self._exec(f"SELECT 1 FROM {self.dialect.table(schema, table)} WHERE 1 = 0")
        except DatabaseUndefinedRelation:
            return False
        return True

    @contextmanager
    def _tx(self, what: str = "writing") -> Iterator[None]:
        try:
            with self.sql.begin_transaction() if self.dialect.transactions else contextlib.nullcontext():
                yield
        except (StoreError, LockedError):
            raise
        except Exception as exc:
            raise self._fail(what, exc) from None

    # -- lifecycle -----------------------------------------------------------------------------
    def lock(self) -> AbstractContextManager[None]:
        return self._locked()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        if self.dialect.name == "postgres":
            self._pg_lock()
        else:  # one writer per warehouse and host (see docs/warehouses.md)
            self._file_lock = FileLock(self._lock_path(), what=self.path)
            self._file_lock.acquire()
        try:
            self.sql  # noqa: B018 - connect once the lock is ours
            yield
        finally:
            self._unlock()

    def _lock_path(self) -> str:
        digest = hashlib.sha1(self.path.encode()).hexdigest()[:16]
        return os.path.join(tempfile.gettempdir(), f"mwdata-{digest}.lock")

    def writer_alive(self) -> bool:
        """Whether a sync holds this store's lock now (for `status`: a 'running' run of a dead one is
        shown aborted)."""
        if self.dialect.name != "postgres":
            return holder(self._lock_path()) is not None
        return bool(
            self._count(
                f"SELECT count(*) FROM pg_locks l WHERE {PG_LOCK_HELD}",
                *PG_LOCK_KEY,
            )
        )

    def schema_version(self) -> int | None:
        """The layout version (`_mwdata.meta`; 1 for a store made before it; None if new); a store of
        a newer mwdata is refused."""
        if not self.exists(STATE_SCHEMA, META_TABLE):
            return 1 if self.exists(STATE_SCHEMA, "sync_runs") else None
        rows = self._exec(
            f"SELECT meta_value FROM {self.dialect.state(META_TABLE)} WHERE meta_key = %s", VERSION_KEY
        )
        return check_schema_version(rows[0][0] if rows else None, self.path)

    def meta(self) -> dict[str, str]:
        return dict(self._exec(f"SELECT meta_key, meta_value FROM {self.dialect.state(META_TABLE)}"))

    def set_meta(self, values: dict[str, str | None]) -> None:
        with self._tx():
            self._set_meta(values)

    def _set_meta(self, values: dict[str, str | None]) -> None:
        t = self.dialect.state(META_TABLE)
        for k, v in values.items():
            self._exec(f"DELETE FROM {t} WHERE meta_key = %s", k)
            if v is not None:
                self._exec(f"INSERT INTO {t} VALUES (%s, %s, {self.dialect.now})", k, v)

    def _pg_lock(self) -> None:
        """A session advisory lock on a connection of its own: the server drops it when the process
        dies (even by SIGKILL: the socket closes), so a crash never leaves a stale lock."""
        import psycopg2

        s = self.target.settings
        try:
            con = psycopg2.connect(
                host=s["host"],
                port=s["port"],
                dbname=s["database"],
                user=s["username"],
                password=self.target.secrets.get("password") or None,
                connect_timeout=s["connect_timeout"],
                application_name="mwdata sync",
                **{k: v for k, v in (s.get("query") or {}).items() if k in ("sslmode", "sslrootcert")},
            )
        except psycopg2.Error as exc:
            raise self._fail("connecting to", exc) from None
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s, %s)", PG_LOCK_KEY)
            row = cur.fetchone()
            if not row or not row[0]:
                cur.execute(
                    "SELECT a.pid, coalesce(host(a.client_addr), 'local') FROM pg_locks l "
                    f"JOIN pg_stat_activity a ON a.pid = l.pid WHERE {PG_LOCK_HELD}",
                    PG_LOCK_KEY,
                )
                holder = cur.fetchone()
                con.close()
                who = f"server pid {holder[0]}, client {holder[1]}" if holder else "unknown"
                raise LockedError(
                    f"another mwdata sync ({who}) is writing {self.path}; wait for it to finish, or stop "
                    "that process (the lock is released as soon as its connection closes)"
                )
        self._lock_conn = con

    def _unlock(self) -> None:
        if self._lock_conn is not None:
            con, self._lock_conn = self._lock_conn, None
            with contextlib.suppress(Exception):
                con.close()  # closing the session releases the advisory lock
        if self._file_lock is not None:
            self._file_lock.release()
            self._file_lock = None

    def close(self) -> None:
        if self._sql is not None:
            with contextlib.suppress(Exception):
                self._sql.close_connection()
            self._sql = None
        self._unlock()
        self._pipeline = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def prepare(self) -> None:
        d = self.dialect
        try:
            version = self.schema_version()  # a newer store is left untouched
        except MwdataError:
            raise
        except Exception as exc:
            raise self._fail("reading", exc) from None
        # DDL outside a transaction (BigQuery allows only DML in one; every statement is idempotent)
        try:
            self._exec(f"CREATE SCHEMA IF NOT EXISTS {d.q(RAW_SCHEMA)}")
            for e in ENTITIES:
                self._exec(d.create_raw_sql(e))
            for ddl in d.state_ddl():
                self._exec(ddl)
        except Exception as exc:
            raise self._fail("preparing", exc) from None
        with self._tx("preparing"):
            if version is None or version < SCHEMA_VERSION:  # 1 -> 2 adds the meta table
                self._set_meta({VERSION_KEY: str(SCHEMA_VERSION)})
            self._exec(
                f"UPDATE {d.state('sync_runs')} SET outcome = %s, ended_at = coalesce(ended_at, {d.now}), "
                "message = 'the sync process died before finishing (killed or crashed); the next sync "
                "resumes at the last checkpoint' WHERE outcome = %s",
                ABORTED,
                RUNNING,
            )
        self._clear_staging()

    def _clear_staging(self) -> None:
        """Rows a crashed run loaded into staging but never merged (their window re-reads them)."""
        for e in ENTITIES:
            if self.exists(STAGING_SCHEMA, e.table):
                with self._tx("clearing staging of"):
                    self._exec(f"DELETE FROM {self.dialect.table(STAGING_SCHEMA, e.table)} WHERE TRUE")

    # -- state ---------------------------------------------------------------------------------
    def state(self, entity: Entity) -> EntityState:
        return _state(self._exec, self.dialect, entity)

    def plan(self, run_id: str, windows: Sequence[Window], *, replace_pending: bool = False) -> None:
        d = self.dialect
        with self._tx():
            if replace_pending:
                for path in {w.entity for w in windows}:
                    self._exec(f"DELETE FROM {d.state('sync_windows')} WHERE entity = %s AND NOT done", path)
            top = self._count(f"SELECT coalesce(max(window_id), 0) FROM {d.state('sync_windows')}")
            for i, w in enumerate(windows, start=top + 1):
                w.window_id, w.run_id = i, run_id
                self._exec(
                    f"INSERT INTO {d.state('sync_windows')} VALUES "
                    f"(%s, %s, %s, %s, %s, %s, %s, %s, 0, 0, {d.now})",
                    i,
                    run_id,
                    w.entity,
                    w.lo,
                    w.hi,
                    w.last_id,
                    w.done,
                    w.advances_watermark,
                )

    def start_run(self, run_id: str, entity: Entity, started_at: datetime, detail: str) -> None:
        with self._tx():
            self._exec(
                f"INSERT INTO {self.dialect.state('sync_runs')} VALUES "
                "(%s, %s, %s, NULL, 0, 0, 0, 0, 0, 0, %s, NULL, %s)",
                run_id,
                entity.path,
                started_at,
                RUNNING,
                detail,
            )

    def finish_run(
        self, run_id: str, entity: Entity, stats: RunStats, outcome: str, message: str | None
    ) -> None:
        d = self.dialect
        if outcome == SUCCESS:
            self.verify(entity)
        with self._tx():
            self._exec(
                f"UPDATE {d.state('sync_runs')} SET ended_at = {d.now}, requests = %s, retries = %s, "
                "throttled = %s, errors = %s, outcome = %s, message = %s WHERE run_id = %s AND entity = %s",
                stats.requests,
                stats.retries,
                stats.throttled,
                stats.errors,
                outcome,
                message,
                run_id,
                entity.path,
            )
            if outcome == SUCCESS:
                self._exec(
                    f"DELETE FROM {d.state('sync_windows')} WHERE entity = %s AND done AND run_id <> %s",
                    entity.path,
                    run_id,
                )

    def verify(self, entity: Entity) -> None:
        """The whole table's check at the end of a run: every id once (StoreError otherwise)."""
        q = self.dialect.q
        dup = self._count(
            f"SELECT count(*) - count(DISTINCT {q('id')}) FROM {self.dialect.table(RAW_SCHEMA, entity.table)}"
        )
        if dup:
            raise StoreError(f"{self.path}: raw.{entity.table} holds {dup} duplicate id(s)")

    def count_rows(self, entity: Entity, lo: datetime, hi: datetime) -> int:
        q = self.dialect.q
        return self._count(
            f"SELECT count(*) FROM {self.dialect.table(RAW_SCHEMA, entity.table)} "
            f"WHERE {q('last_updated_time')} >= %s AND {q('last_updated_time')} < %s",
            lo,
            hi,
        )

    # -- data ----------------------------------------------------------------------------------
    def encode(self, entity: Entity, records: Sequence[dict[str, Any]]) -> pa.RecordBatch:
        return encode_batch(entity, records)

    def _load(self, entity: Entity, table: pa.Table) -> None:
        """dlt appends the batch to `raw_staging.<table>` from a Parquet loader file."""
        try:
            self.pipeline.run(
                table,
                table_name=entity.table,
                write_disposition="append",
                loader_file_format="parquet",
            )
        except Exception as exc:
            raise self._fail("loading a batch into", exc) from None

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
        d = self.dialect
        batch: str | None = None
        if chunks and rows:
            table = pa.Table.from_batches(list(chunks))
            batch = uuid.uuid4().hex
            table = table.append_column(BATCH_COLUMN, pa.array([batch] * table.num_rows, pa.string()))
            table = table.append_column(SEQ_COLUMN, pa.array(range(table.num_rows), pa.int64()))
            self._load(entity, table)
        changed = 0
        staged_table = d.table(STAGING_SCHEMA, entity.table)
        with self._tx():
            if batch is not None:
                staged = self._count(
                    f"SELECT count(*) FROM {staged_table} WHERE {d.q(BATCH_COLUMN)} = %s", batch
                )
                if staged != rows:
                    raise StoreError(
                        f"{self.path}: {rows} rows sent to raw_staging.{entity.table}, {staged} arrived; "
                        "nothing was committed, the window resumes at its last checkpoint"
                    )
                sql = self._merge.get(entity.path) or self._merge.setdefault(entity.path, d.merge_sql(entity))
                with self.sql.execute_query(sql, datetime.now(UTC), run_id, batch) as cur:
                    changed = max(int(getattr(cur, "rowcount", 0) or 0), 0)
                if not d.primary_key:
                    dups = self._count(d.duplicates_sql(entity), batch)
                    if dups:
                        raise StoreError(
                            f"{self.path}: the merge left {dups} duplicate id(s) in {entity.table}"
                        )
                self._exec(f"DELETE FROM {staged_table} WHERE {d.q(BATCH_COLUMN)} = %s", batch)
            self._exec(
                f"UPDATE {d.state('sync_windows')} SET last_id = %s, {d.q('rows')} = {d.q('rows')} + %s, "
                f"pages = pages + %s, done = %s, updated_at = {d.now} WHERE window_id = %s",
                last_id,
                rows,
                pages,
                done,
                window.window_id,
            )
            if done and window.advances_watermark:
                self._advance_watermark(entity, run_id)
            self._exec(
                f"UPDATE {d.state('sync_runs')} SET {d.q('rows')} = {d.q('rows')} + %s, pages = pages + %s "
                "WHERE run_id = %s AND entity = %s",
                rows,
                pages,
                run_id,
                entity.path,
            )
        window.done = done
        window.last_id = last_id
        window.rows += rows
        window.pages += pages
        return changed

    def _advance_watermark(self, entity: Entity, run_id: str) -> None:
        """Watermark = start of the oldest unfinished window, or the end of the newest one; never back."""
        d = self.dialect
        w = d.state("sync_windows")
        rows = self._exec(
            f"SELECT coalesce((SELECT min(lo) FROM {w} WHERE entity = %s AND advances_watermark AND NOT done), "
            f"(SELECT max(hi) FROM {w} WHERE entity = %s AND advances_watermark))",
            entity.path,
            entity.path,
        )
        new = rows[0][0] if rows else None
        if new is None:
            return
        st = d.state("sync_state")
        if self._count(f"SELECT count(*) FROM {st} WHERE entity = %s", entity.path):
            self._exec(
                f"UPDATE {st} SET watermark = CASE WHEN watermark IS NULL OR watermark < %s THEN %s "
                f"ELSE watermark END, last_run_id = %s, updated_at = {d.now} WHERE entity = %s",
                new,
                new,
                run_id,
                entity.path,
            )
        else:
            self._exec(f"INSERT INTO {st} VALUES (%s, %s, %s, {d.now})", entity.path, new, run_id)


def _utc(v: Any) -> Any:
    return v.astimezone(UTC) if isinstance(v, datetime) and v.tzinfo is not None else v


def _state(exec_: Any, d: Dialect, entity: Entity) -> EntityState:
    row = exec_(f"SELECT watermark FROM {d.state('sync_state')} WHERE entity = %s", entity.path)
    pending = [
        Window(entity.path, _utc(lo), _utc(hi), last_id, False, bool(adv), int(wid), run_id, int(r), int(p))
        for wid, run_id, lo, hi, last_id, adv, r, p in exec_(
            f"SELECT window_id, run_id, lo, hi, last_id, advances_watermark, {d.q('rows')}, pages "
            f"FROM {d.state('sync_windows')} WHERE entity = %s AND NOT done ORDER BY lo, window_id",
            entity.path,
        )
    ]
    return EntityState(entity.path, _utc(row[0][0]) if row else None, pending)


# -- read API for `mwdata status` and --dry-run ---------------------------------------------------
@contextmanager
def _reader(cfg: Config) -> Iterator[DltStore | None]:
    """A store connection without the writer lock (reads committed state while a sync writes)."""
    if store_kind(cfg.store) not in WAREHOUSES:
        yield None
        return
    store = DltStore(parse_target(cfg.store))
    try:
        yield store
    except MwdataError:
        raise
    except Exception as exc:
        raise store._fail("reading", exc) from None
    finally:
        store.close()


def read_status(cfg: Config, recent_runs: int = 20) -> Any:
    """The same `StoreStatus` shape as `mwdata.store.duckdb.read_status`, from a warehouse or lake."""
    from mwdata.store.duckdb import settle_dead_runs

    if store_kind(cfg.store) in LAKES:
        from mwdata.store.lake import read_status as lake_status

        return lake_status(cfg, recent_runs)
    with _reader(cfg) as store:
        assert store is not None
        st = _read_status(store, recent_runs)
        return settle_dead_runs(st, store.writer_alive()) if st.exists else st


def _read_status(store: DltStore, recent_runs: int) -> Any:
    from mwdata.store.duckdb import EntityStatus, StoreStatus

    d = store.dialect
    if not store.exists(STATE_SCHEMA, "sync_runs"):
        return StoreStatus(store.path, False, (), ())
    store.schema_version()
    out = []
    for e in ENTITIES:
        rows, newest = store._exec(
            f"SELECT count(*), max(last_updated_time) FROM {d.table(RAW_SCHEMA, e.table)}"
        )[0]
        wm = store._exec(f"SELECT watermark FROM {d.state('sync_state')} WHERE entity = %s", e.path)
        last = store._exec(
            f"SELECT run_id, started_at, ended_at, outcome, {d.q('rows')}, message "
            f"FROM {d.state('sync_runs')} WHERE entity = %s ORDER BY started_at DESC LIMIT 1",
            e.path,
        )
        ok = store._exec(
            f"SELECT max(ended_at) FROM {d.state('sync_runs')} WHERE entity = %s AND outcome = %s",
            e.path,
            SUCCESS,
        )
        pending = store._count(
            f"SELECT count(*) FROM {d.state('sync_windows')} WHERE entity = %s AND NOT done", e.path
        )
        run_id, started, ended, outcome, run_rows, message = last[0] if last else (None,) * 6
        out.append(
            EntityStatus(
                entity=e.path,
                table=e.table,
                rows=int(rows),
                watermark=_utc(wm[0][0]) if wm else None,
                newest_record=_utc(newest),
                last_run_id=run_id,
                last_run_started=_utc(started),
                last_run_ended=_utc(ended),
                last_run_outcome=outcome,
                last_run_rows=run_rows,
                last_run_message=message,
                last_success=_utc(ok[0][0]) if ok else None,
                pending_windows=pending,
            )
        )
    with store.sql.execute_query(
        f"SELECT * FROM {d.state('sync_runs')} ORDER BY started_at DESC, entity LIMIT %s", recent_runs
    ) as cur:
        names = [c[0] for c in cur.description or ()]
        runs = tuple({k: _utc(v) for k, v in zip(names, r, strict=True)} for r in cur.fetchall())
    tenant = Tenant.bound(store.meta() if store.exists(STATE_SCHEMA, META_TABLE) else {})
    return StoreStatus(store.path, True, tuple(out), runs, str(tenant) if tenant else None)


def read_states(cfg: Config, entities: Sequence[Entity]) -> dict[str, EntityState]:
    """Watermarks and unfinished windows, read-only (for --dry-run); empty states if no store yet."""
    if store_kind(cfg.store) in LAKES:
        from mwdata.store.lake import read_states as lake_states

        return lake_states(cfg, entities)
    empty = {e.path: EntityState(e.path, None, []) for e in entities}
    with _reader(cfg) as store:
        assert store is not None
        if not store.exists(STATE_SCHEMA, "sync_windows"):
            return empty
        store.schema_version()
        return {e.path: _state(store._exec, store.dialect, e) for e in entities}


def open_store(cfg: Config) -> Any:
    """The store for a warehouse URL or a lake location (`mwdata.sync.pipeline.open_store`)."""
    kind = store_kind(cfg.store)
    if kind in LAKES:
        from mwdata.store.lake import LakeStore

        return LakeStore.from_config(cfg)
    return DltStore(parse_target(cfg.store))
