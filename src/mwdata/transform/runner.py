"""Run the packaged dbt project against the configured store through dbt's Python runner.

The project ships inside the package (`mwdata/transform/dbt`); dbt reads a copy of it in the
cache, parsed once per content and target (`parse_cache`), and writes target/ and logs/ into a
private temporary directory of the process, with a profile generated from the config (mode 0600; a PostgreSQL password travels through `env_var()`, never in a
file), loads the HR extract into `raw.hr_employees`, runs dbt and turns its results into
`RunResult` rows, which `check` also stores in `_mwdata.check_results` for the data-health page.
"""

from __future__ import annotations

import atexit
import contextlib
import csv
import dataclasses
import gc
import hashlib
import io
import logging
import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from mwdata.config import Config, store_kind
from mwdata.errors import (
    ConfigError,
    DataQualityError,
    InputFileError,
    MwdataError,
    StoreError,
    TransformError,
)
from mwdata.store.schema import POSTGRES_TYPES, RAW_SCHEMA, STATE_SCHEMA, create_all_sql
from mwdata.transform import parse_cache
from mwdata.transform.project import HR_COLUMNS, HR_OPTIONAL_COLUMNS, HR_TABLE, HR_TABLE_COLUMNS

log = logging.getLogger("mwdata.transform")

CHECK_TABLE = f"{STATE_SCHEMA}.check_results"
DUCKDB_MEMORY_LIMIT = "1GB"
PG_PASSWORD_ENV = "MWDATA_DBT_PG_PASSWORD"
PASSWORD_ENV = "MWDATA_DBT_PASSWORD"  # the warehouse secret, read by the profile through env_var()
WAREHOUSE_PROFILES = ("postgres", "snowflake", "bigquery", "databricks")
# The key of the PII digests reaches dbt only through the environment: DuckDB's through the profile
# (dbt scrubs DBT_ENV_SECRET_* values from its output) into a session variable set by the plugin,
# PostgreSQL's as a session setting in PGOPTIONS, read by libpq. Never a var, never in the SQL.
PII_KEY_ENV = "DBT_ENV_SECRET_MWDATA_PII_KEY"
PII_KEY_SETTING = "mwdata.pii_key"
PII_PLUGIN = "mwdata.transform.dbt_plugin"
PII_STORES = ("duckdb", "filesystem", "postgres")
_EPHEMERAL_KEY = secrets.token_hex(32)  # pii = drop without a salt: match keys live for one process
BUILDS_TABLE = f"{STATE_SCHEMA}.transform_builds"
INCREMENT_TABLE = f"{STATE_SCHEMA}.transform_increment"  # read by macros/incremental.sql
INCREMENTAL_STORES = ("duckdb", "postgres")
QUARANTINE_MART = "moveworks__quarantine"
TRUE_WORDS = {"true", "t", "yes", "y", "1"}
FALSE_WORDS = {"false", "f", "no", "n", "0", ""}


@dataclass(frozen=True)
class NodeResult:
    """One dbt node's outcome: a model, seed, test or source freshness check."""

    name: str
    resource_type: str  # model | seed | test | source
    model: str | None  # the model/source a test is attached to
    status: str  # success | pass | warn | fail | error | skipped | runtime error
    severity: str  # error | warn
    failures: int | None
    message: str
    seconds: float

    @property
    def is_error(self) -> bool:
        return self.status in ("error", "fail", "runtime error")


@dataclass
class RunResult:
    command: str
    results: list[NodeResult] = field(default_factory=list)
    seconds: float = 0.0
    invocation_id: str = ""
    increment: Increment | None = None  # how `build` built the incremental models

    def count(self, *statuses: str) -> int:
        return sum(1 for r in self.results if r.status in statuses)

    @property
    def errors(self) -> list[NodeResult]:
        return [r for r in self.results if r.is_error]

    @property
    def warnings(self) -> list[NodeResult]:
        return [r for r in self.results if r.status == "warn"]

    @property
    def summary(self) -> str:
        kinds: dict[str, int] = {}
        for r in self.results:
            kinds[r.resource_type] = kinds.get(r.resource_type, 0) + 1
        parts = ", ".join(f"{n} {k}s" for k, n in sorted(kinds.items()))
        return (
            f"{parts}: {len(self.errors)} errors, {len(self.warnings)} warnings, "
            f"{self.count('success', 'pass')} ok in {self.seconds:.1f}s"
        )


# -- profile ----------------------------------------------------------------------------------------
def profile(cfg: Config) -> tuple[dict[str, Any], dict[str, str]]:
    """The dbt profile for the configured store, and the environment variables it reads."""
    kind = store_kind(cfg.store)
    schema = cfg.transform.target_schema
    if kind in ("duckdb", "filesystem"):
        path = cfg.store.removeprefix("duckdb:///") if cfg.store.startswith("duckdb:///") else cfg.store
        if kind == "filesystem":  # the lake's DuckDB catalogue: raw.* are views over its Parquet files
            from mwdata.store.lake import CATALOG, lake_root

            try:
                path = str(lake_root(cfg.store) / CATALOG)
            except MwdataError as exc:
                raise TransformError(str(exc)) from None
        out = {
            "type": "duckdb",
            "path": str(Path(path).expanduser().resolve()),
            "schema": schema,
            "threads": 2,
        }
        if cfg.transform.pii != "show":
            key = "{{ env_var('" + PII_KEY_ENV + "', '') }}"
            out["plugins"] = [{"module": PII_PLUGIN, "config": {"pii_key": key}}]
        return out, {}
    if kind not in WAREHOUSE_PROFILES:
        raise TransformError(
            f"mwdata build runs on DuckDB, PostgreSQL, Snowflake, BigQuery and Databricks stores, not {kind}; "
            "use the dbt project as a package in your own dbt project (see docs/models.md)"
        )
    from mwdata.store.dlt import parse_target

    try:
        t = parse_target(cfg.store)
    except ConfigError as exc:
        raise TransformError(str(exc)) from None
    s = t.settings
    secret = "{{ env_var('" + PASSWORD_ENV + "', '') }}"
    env: dict[str, str] = {}
    if kind == "postgres":
        out = {
            "type": "postgres",
            "host": s["host"],
            "port": s["port"],
            "user": s["username"],
            "password": "{{ env_var('" + PG_PASSWORD_ENV + "', '') }}",
            "dbname": s["database"],
            "schema": schema,
            "threads": 2,
        }
        return out, {PG_PASSWORD_ENV: t.secrets.get("password") or ""}
    if kind == "snowflake":
        out = {
            "type": "snowflake",
            "account": s["host"],
            "user": s["username"],
            "database": s["database"],
            "schema": schema,
            "threads": 2,
        }
        out.update({k: s[k] for k in ("warehouse", "role", "authenticator") if s.get(k)})
        if s.get("private_key_path"):
            out["private_key_path"] = s["private_key_path"]
            if t.secrets.get("private_key_passphrase"):
                out["private_key_passphrase"] = secret
                env[PASSWORD_ENV] = t.secrets["private_key_passphrase"]
        else:
            out["password"] = secret
            env[PASSWORD_ENV] = t.secrets.get("password") or ""
        return out, env
    if kind == "bigquery":
        out = {
            "type": "bigquery",
            "project": s["project_id"],
            "dataset": schema,
            "location": s["location"],
            "threads": 2,
        }
        key_file = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
        if key_file:
            out.update({"method": "service-account", "keyfile": str(Path(key_file).expanduser())})
        else:
            out["method"] = "oauth"  # application-default credentials (gcloud auth application-default login)
        return out, env
    out = {
        "type": "databricks",
        "host": s["server_hostname"],
        "http_path": s["http_path"],
        "catalog": s["catalog"],
        "schema": schema,
        "token": secret,
        "threads": 2,
    }
    return out, {PASSWORD_ENV: t.secrets.get("access_token") or ""}


def pii_key(cfg: Config) -> str | None:
    """The key of the PII digests (64 hex characters), derived from [transform] pii_salt; None with
    pii = show. pii = drop needs no salt: its digests are only join keys, so a key of this process
    will do."""
    t = cfg.transform
    if t.pii == "show":
        return None
    value = t.pii_salt.reveal() if t.pii_salt is not None else ""
    if not value:
        if t.pii == "hash":
            raise ConfigError(
                '[transform] pii = "hash" needs a secret salt, or the hashed e-mails could be reversed by '
                "hashing a list of addresses: set MWDATA_PII_SALT, or [transform] pii_salt_file to a file "
                "only you can read (e.g. `openssl rand -hex 32 > ~/.mwdata-pii-salt; chmod 600 "
                "~/.mwdata-pii-salt`). Keep it: the hashes change with it"
            )
        return _EPHEMERAL_KEY
    return hashlib.sha256(b"mwdata-pii-v1\0" + value.encode()).hexdigest()


def _pii_env(cfg: Config) -> dict[str, str]:
    """The environment that carries the PII key to dbt's connections (see PII_KEY_ENV)."""
    key = pii_key(cfg)
    if key is None:
        return {}
    kind = store_kind(cfg.store)
    if kind not in PII_STORES:
        raise ConfigError(
            f"[transform] pii = {cfg.transform.pii!r} builds on DuckDB and PostgreSQL stores, not {kind}: "
            "the keyed hash needs a session setting mwdata can pass without it reaching dbt's logs. "
            'Use pii = "show" and your warehouse\'s own masking policies'
        )
    if kind == "postgres":
        options = os.environ.get("PGOPTIONS", "")
        return {"PGOPTIONS": f"{options} -c {PII_KEY_SETTING}={key}".strip()}
    return {PII_KEY_ENV: key}


_WORKDIRS: dict[str, Path] = {}


def _remove_workdirs() -> None:
    for tmp in _WORKDIRS.values():
        shutil.rmtree(tmp, ignore_errors=True)
    _WORKDIRS.clear()


atexit.register(_remove_workdirs)


@contextmanager
def _workdir(cfg: Config) -> Iterator[tuple[Path, Path]]:
    """A private run directory (0700) for this process and profile: the profile (0600), and dbt's
    target/ and logs/ (dbt's partial parsing reuses a parse within one process). The project itself
    is the shared read-only copy of `parse_cache`. Removed at exit."""
    prof, _ = profile(cfg)
    key = hashlib.sha256(yaml.safe_dump(prof, sort_keys=True).encode()).hexdigest()
    tmp = _WORKDIRS.get(key)
    if tmp is None or not tmp.is_dir():
        tmp = Path(tempfile.mkdtemp(prefix="mwdata-dbt-"))
        pdir = tmp / "profiles"
        pdir.mkdir(mode=0o700)
        pfile = pdir / "profiles.yml"
        pfile.write_text(yaml.safe_dump({"mwdata": {"target": "mwdata", "outputs": {"mwdata": prof}}}))
        pfile.chmod(0o600)
        _WORKDIRS[key] = tmp
    yield parse_cache.project_copy(), tmp


# -- store access (DuckDB or PostgreSQL) ------------------------------------------------------------
class _Conn:
    """The few statements the runner issues itself, on either store."""

    def __init__(self, cfg: Config, read_only: bool = False) -> None:
        self.kind = store_kind(cfg.store)
        if self.kind == "filesystem":  # the lake: its DuckDB catalogue
            self.kind = "duckdb"
        self._con: Any
        if self.kind == "duckdb":
            import duckdb

            from mwdata.store.duckdb import check_file, check_store, store_error

            path = profile(cfg)[0]["path"]
            check_file(Path(path))  # a foreign, damaged or newer store is refused, never written
            try:
                self._con = duckdb.connect(path, read_only=read_only)
            except duckdb.Error as exc:
                raise store_error(Path(path), "opening", exc) from None
            try:
                check_store(self._con, Path(path))
            except BaseException:
                self._con.close()
                raise
        elif self.kind == "postgres":
            import psycopg2

            from mwdata.store.dlt import parse_target

            t = parse_target(cfg.store)
            s = t.settings
            try:
                self._con = psycopg2.connect(
                    host=s["host"],
                    port=s["port"],
                    dbname=s["database"],
                    user=s["username"],
                    password=t.secrets.get("password") or None,
                    connect_timeout=s["connect_timeout"],
                )
            except psycopg2.Error as exc:
                raise StoreError(
                    f"cannot connect to the PostgreSQL store: {t.redact(str(exc).strip())}"
                ) from None
            self._con.autocommit = True
        else:  # the other warehouses through dlt's SQL client (the store's own connection)
            from mwdata.store.dlt import DltStore, parse_target

            self._store = DltStore(parse_target(cfg.store))
            self._con = self._store

    @contextmanager
    def _errors(self, sql: str) -> Iterator[None]:
        """Driver errors (DuckDB, psycopg2, dlt's clients differ) as one StoreError, not a traceback."""
        try:
            yield
        except MwdataError:
            raise
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise StoreError(f"the store refused `{sql.split()[0]} ...` ({self.kind}): {first}") from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._errors(sql):
            if self.kind == "duckdb":
                self._con.execute(sql, list(params))
            elif self.kind == "postgres":
                with self._con.cursor() as cur:
                    cur.execute(sql.replace("?", "%s"), list(params))
            else:
                self._store.sql.execute_sql(sql.replace("?", "%s"), *params)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._errors(sql):
            if self.kind == "duckdb":
                return list(self._con.execute(sql, list(params)).fetchall())
            if self.kind == "postgres":
                with self._con.cursor() as cur:
                    cur.execute(sql.replace("?", "%s"), list(params))
                    return list(cur.fetchall())
            return list(self._store.sql.execute_sql(sql.replace("?", "%s"), *params) or [])

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self.kind not in ("duckdb", "postgres"):
            for r in rows:
                self.execute(sql, r)
            return
        with self._errors(sql):
            if self.kind == "duckdb":
                self._con.executemany(sql, [list(r) for r in rows])
            else:
                with self._con.cursor() as cur:
                    cur.executemany(sql.replace("?", "%s"), [list(r) for r in rows])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction on DuckDB and PostgreSQL (the warehouses run statement by statement)."""
        if self.kind not in ("duckdb", "postgres"):
            yield
            return
        self.execute("BEGIN")
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):
                self.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    def bulk_insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert many rows at once: DuckDB from an Arrow table, PostgreSQL with COPY (row-by-row
        INSERTs took 126 s for 100k HR rows on DuckDB)."""
        if not rows:
            return
        cols = ", ".join(columns)
        sql = f"INSERT INTO {table} ({cols}) ..."
        if self.kind == "duckdb":
            import pyarrow as pa

            data = pa.table({c: [r[i] for r in rows] for i, c in enumerate(columns)})
            with self._errors(sql):
                self._con.register("_mwdata_bulk", data)
                try:
                    self._con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _mwdata_bulk")
                finally:
                    self._con.unregister("_mwdata_bulk")
        elif self.kind == "postgres":
            buf = io.StringIO()
            buf.writelines(",".join(map(_copy_field, r)) + "\n" for r in rows)
            buf.seek(0)
            with self._errors(sql), self._con.cursor() as cur:
                cur.copy_expert(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv)", buf)
        else:
            marks = ", ".join("?" for _ in columns)
            self.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)

    def close(self) -> None:
        self._con.close()


def _copy_field(v: Any) -> str:
    """One field of COPY's CSV format: null unquoted and empty, text always quoted (so "" is an
    empty string, not null; csv's QUOTE_NONNUMERIC quotes None too)."""
    if v is None:
        return ""
    if isinstance(v, bool | int | float):
        return str(v).lower() if isinstance(v, bool) else str(v)
    return '"' + str(v).replace('"', '""') + '"'


def _sql_types(kind: str) -> tuple[str, str, str, str]:
    """(text, timestamp, bigint, boolean) column types of the store's SQL."""
    if kind in ("duckdb", "postgres"):
        return "VARCHAR", "TIMESTAMPTZ", "BIGINT", "BOOLEAN"
    from mwdata.store.dlt import DIALECTS

    d = DIALECTS[kind]
    return d.text, d.timestamp, d.bigint, d.boolean


def _prepare_store(cfg: Config, con: _Conn) -> None:
    """Make sure the raw tables exist (an empty store builds empty marts) and load the HR extract."""
    if con.kind in ("duckdb", "postgres"):
        stmts = create_all_sql() if con.kind == "duckdb" else create_all_sql(POSTGRES_TYPES)
    else:
        from mwdata.catalog import ENTITIES
        from mwdata.store.dlt import DIALECTS

        d = DIALECTS[con.kind]
        stmts = [f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}"] + [d.create_raw_sql(e) for e in ENTITIES]
    rows = read_hr_file(cfg.transform.hr_file) if cfg.transform.hr_file else []
    for stmt in stmts:
        con.execute(stmt)
    # Emptied, not dropped: on PostgreSQL the staging view depends on it (a DROP failed the second
    # build); dropped (with its view, which the build recreates) only when its columns changed.
    have = [
        str(c).lower()
        for (c,) in con.query(
            "SELECT column_name FROM information_schema.columns WHERE lower(table_schema) = ? "
            "AND lower(table_name) = ? ORDER BY ordinal_position",
            [RAW_SCHEMA, HR_TABLE],
        )
    ]
    if have and have != list(HR_TABLE_COLUMNS):
        con.execute(f"DROP TABLE {RAW_SCHEMA}.{HR_TABLE}" + (" CASCADE" if con.kind == "postgres" else ""))
    text, _, _, boolean = _sql_types(con.kind)
    cols = ", ".join(f"{c} {boolean if c == 'is_test_user' else text}" for c in HR_TABLE_COLUMNS)
    con.execute(f"CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.{HR_TABLE} ({cols})")
    _load_hr(con, rows)


def _load_hr(con: _Conn, rows: Sequence[tuple[Any, ...]]) -> None:
    """Replace the loaded HR rows in one transaction: a failure anywhere keeps the old rows. Emptied
    and refilled, not swapped by rename: on PostgreSQL the staging view is bound to the table itself."""
    table = f"{RAW_SCHEMA}.{HR_TABLE}"
    with con.transaction():
        con.execute(f"DELETE FROM {table}")
        con.bulk_insert(table, HR_TABLE_COLUMNS, rows)


def read_hr_file(path: str) -> list[tuple[Any, ...]]:
    """Read and validate the whole HR extract (CSV with a header; contract in docs/models.md) before
    anything is written, so a missing or malformed file leaves the loaded HR table as it was.

    Optional columns (`external_id`) may be absent from the header: their values are then null.
    Errors name the line (the physical line a record ends on) but never an e-mail address: the
    message may travel to logs and alert webhooks.
    """
    p = Path(path).expanduser()
    if not p.is_file():
        what = "is not a file" if p.exists() else "does not exist"
        raise InputFileError(
            f"[transform] hr_file {p} {what}; the HR table loaded by the last build is kept and nothing "
            "was built. Fix the path (or remount the share) and rerun, or remove hr_file to build "
            "without HR segments"
        )
    try:
        with open(p, newline="", encoding="utf-8-sig") as f:
            return _hr_rows(p, csv.reader(f))
    except UnicodeDecodeError:
        raise InputFileError(f"HR file {p} is not UTF-8 text (save it as CSV, UTF-8)") from None
    except csv.Error as exc:
        raise InputFileError(f"HR file {p} is not valid CSV: {exc}") from None
    except OSError as exc:
        raise InputFileError(f"cannot read HR file {p}: {exc.strerror or exc}") from None


def _hr_rows(p: Path, reader: Any) -> list[tuple[Any, ...]]:
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in HR_COLUMNS if c not in header]
    if missing:
        raise InputFileError(
            f"HR file {p} lacks the column(s) {', '.join(missing)}; its header must hold "
            f"{', '.join(HR_COLUMNS)}, optionally {', '.join(HR_OPTIONAL_COLUMNS)} "
            f"(got {', '.join(header) or 'nothing'})"
        )
    at = [header.index(c) if c in header else None for c in HR_TABLE_COLUMNS]
    email, flag_at = header.index("email"), header.index("is_test_user")
    out: list[tuple[Any, ...]] = []
    lines: dict[str, list[int]] = {}
    end = reader.line_num
    for fields in reader:
        start, end = end + 1, reader.line_num
        at_line = f"line {start}" if start == end else f"lines {start}-{end} (one record: a quote left open?)"
        if not any(v.strip() for v in fields):
            continue  # a blank line
        if len(fields) != len(header):
            raise InputFileError(
                f"HR file {p}, {at_line}: {len(fields)} values where the header has {len(header)} "
                f'({", ".join(header)}); quote a value that holds a comma ("Paris, FR") and give '
                "every row all the columns (empty between the commas when unknown)"
            )
        key = fields[email].strip().lower()
        if not key:
            raise InputFileError(f"HR file {p}, {at_line}: email is empty")
        lines.setdefault(key, []).append(start)
        flag = fields[flag_at].strip().lower()
        if flag not in TRUE_WORDS | FALSE_WORDS:
            raise InputFileError(
                f"HR file {p}, {at_line}: is_test_user must be true/false, got {fields[flag_at].strip()!r}"
            )
        out.append(
            tuple(
                (flag in TRUE_WORDS)
                if i == flag_at
                else ((fields[i].strip() or None) if i is not None else None)
                for i in at
            )
        )
    dups = [ns for ns in lines.values() if len(ns) > 1]
    if dups:
        shown = "; ".join(", ".join(map(str, ns)) for ns in dups[:5])
        raise InputFileError(
            f"HR file {p}: {len(dups)} e-mail address(es) appear on more than one row (lines {shown}"
            f"{'; ...' if len(dups) > 5 else ''}), which would count those people twice in every "
            "headcount; keep one row per person (e-mails compare case-insensitively, trimmed)"
        )
    return out


CHECK_DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA}",
    f"CREATE TABLE IF NOT EXISTS {CHECK_TABLE} (run_at TIMESTAMPTZ, invocation_id VARCHAR, test_name VARCHAR, "
    "model VARCHAR, resource_type VARCHAR, status VARCHAR, severity VARCHAR, failures BIGINT, message VARCHAR)",
)


def store_results(cfg: Config, result: RunResult, run_at: datetime | None = None) -> None:
    """Append the tests' and freshness checks' outcomes to `_mwdata.check_results`."""
    when = run_at or datetime.now(UTC)
    rows = [
        (
            when,
            result.invocation_id,
            r.name,
            r.model,
            r.resource_type,
            r.status,
            r.severity,
            r.failures,
            r.message,
        )
        for r in result.results
        if r.resource_type in ("test", "source")
    ]
    con = _Conn(cfg)
    try:
        text, ts, bigint, _ = _sql_types(con.kind)
        for stmt in CHECK_DDL:
            con.execute(stmt.replace("TIMESTAMPTZ", ts).replace("VARCHAR", text).replace("BIGINT", bigint))
        con.executemany(f"INSERT INTO {CHECK_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    finally:
        con.close()


def _record_build(cfg: Config) -> None:
    """Note the pii mode the marts were just built with (`mwdata export` refuses marts built with
    pii = show when the setting now hides PII)."""
    con = _Conn(cfg)
    try:
        text, ts, _, _ = _sql_types(con.kind)
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA}")
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {BUILDS_TABLE} (built_at {ts}, target_schema {text}, pii {text})"
        )
        con.execute(
            f"INSERT INTO {BUILDS_TABLE} VALUES (?, ?, ?)",
            [datetime.now(UTC), cfg.transform.target_schema, cfg.transform.pii],
        )
    finally:
        con.close()


def _explain_quarantine(cfg: Config, result: RunResult) -> None:
    """Give the quarantine test a message naming the records (dbt's only counts rows), and log it."""
    hits = [
        i
        for i, r in enumerate(result.results)
        if r.resource_type == "test" and r.name.startswith("quarantined_records") and r.status == "warn"
    ]
    if not hits:
        return
    rel = f"{cfg.transform.target_schema}.{QUARANTINE_MART}"
    con = _Conn(cfg)
    try:
        ((n,),) = con.query(f"SELECT count(*) FROM {rel}")
        rows = con.query(f"SELECT entity, record_id, reason FROM {rel} ORDER BY entity, record_id LIMIT 5")
    finally:
        con.close()
    listed = "; ".join(f"{e} {i}: {why}" for e, i, why in rows)
    message = (
        f"{n} raw record(s) quarantined, left out of the marts (listed in {rel}): {listed}"
        f"{'; ...' if n > len(rows) else ''}. They stay in raw; a corrected version synced later replaces them"
    )
    log.warning(message)
    for i in hits:
        result.results[i] = dataclasses.replace(result.results[i], failures=int(n), message=message)


# -- dbt ------------------------------------------------------------------------------------------
def _vars(cfg: Config) -> str:
    t = cfg.transform
    return yaml.safe_dump(
        {
            "mwdata_pii": t.pii,
            "mwdata_hr_external_id_sources": list(t.hr_external_id_sources),
            "mwdata_hr_employee_id_sources": list(t.hr_employee_id_sources),
        },
        default_flow_style=True,
    ).strip()


def _node_results(res: Any) -> list[NodeResult]:
    out: list[NodeResult] = []
    for r in getattr(res.result, "results", None) or []:
        node = r.node
        rtype = str(getattr(node, "resource_type", "")).split(".")[-1].lower()
        model = None
        if rtype == "test":
            attached = getattr(node, "attached_node", None)
            model = attached.split(".")[-1] if attached else None
            if model is None:
                deps = list(getattr(getattr(node, "depends_on", None), "nodes", []) or [])
                model = deps[0].split(".")[-1] if deps else None
        elif rtype == "source":
            model = f"{node.source_name}.{node.name}"
        severity = str(getattr(getattr(node, "config", None), "severity", "error") or "error").lower()
        status = str(getattr(r.status, "value", r.status)).lower()
        out.append(
            NodeResult(
                name=node.name if rtype != "source" else f"freshness:{node.source_name}.{node.name}",
                resource_type=rtype,
                model=model,
                status=status,
                severity=severity,
                failures=int(r.failures) if getattr(r, "failures", None) is not None else None,
                message=str(r.message or "")[:2000],
                seconds=float(getattr(r, "execution_time", 0.0) or 0.0),
            )
        )
    return out


def _release_duckdb() -> None:
    """dbt-duckdb caches its DuckDB handle for the life of the process; close it so the store can be
    opened again (read-only by the dashboard, or by the next run with another configuration)."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - dbt-duckdb is a dependency
        return
    env = DuckDBConnectionManager._ENV
    conn = getattr(env, "conn", None)
    if conn is not None:
        with contextlib.suppress(Exception):
            conn.close()
    DuckDBConnectionManager.close_all_connections()
    gc.collect()


def run_dbt(cfg: Config, command: Sequence[str], prepare: bool = True) -> RunResult:
    """Invoke dbt (`build`, `test`, `source freshness`...) on the packaged project; results per node."""
    from dbt.cli.main import dbtRunner

    from mwdata.store.duckdb import private_files

    start = datetime.now(UTC)
    _, env = profile(cfg)
    env = {**env, **_pii_env(cfg)}  # before anything is written: a missing salt is a ConfigError
    if prepare:
        con = _Conn(cfg)
        try:
            _prepare_store(cfg, con)
        finally:
            con.close()
    with _workdir(cfg) as (project, run):
        dbt_vars = _vars(cfg)
        args = [
            *command,
            "--project-dir", str(project),
            "--profiles-dir", str(run / "profiles"),
            "--target-path", str(run / "target"),
            "--vars", dbt_vars,
        ]  # fmt: skip
        parse_key = parse_cache.key(profile(cfg)[0], dbt_vars)
        parsed = parse_cache.load(parse_key)
        saved = {k: os.environ.get(k) for k in [*env, "DBT_SEND_ANONYMOUS_USAGE_STATS", "DO_NOT_TRACK"]}
        os.environ.update(env)
        os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
        os.environ["DO_NOT_TRACK"] = "1"
        private_files(True)  # dbt's WAL and spill files next to the store: owner-only, as the sync's
        try:
            # no dbt.log: it went to this private directory, removed at exit, and writing dbt's debug
            # events cost ~10 % of a small build's CPU
            res = dbtRunner(manifest=parsed).invoke(
                ["--quiet", "--no-use-colors", "--no-write-json", "--log-level-file", "none",
                 "--log-path", str(run / "logs"), *args]
            )  # fmt: skip
            if parsed is None:
                parse_cache.save(parse_key, run / "target")
        finally:
            private_files(False)
            _release_duckdb()
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    if res.exception is not None and not getattr(res.result, "results", None):
        raise TransformError(f"dbt {' '.join(command)} failed: {res.exception}") from None
    out = RunResult(
        command=" ".join(command),
        results=_node_results(res),
        seconds=(datetime.now(UTC) - start).total_seconds(),
        invocation_id=str(uuid.uuid4()),
    )
    return out


def manifest(cfg: Config) -> dict[str, Any]:
    """The packaged project's parse for this configuration's target, as the content of dbt's
    manifest.json (what orchestrators such as dagster-dbt read): taken from the parse cache, or
    parsed once by `dbt parse` with the same profile and vars as every build (nothing is written to
    the store)."""
    key = parse_cache.key(profile(cfg)[0], _vars(cfg))
    parsed = parse_cache.load(key)
    if parsed is None:
        run_dbt(cfg, ["parse"], prepare=False)
        parsed = parse_cache.load(key)
    if parsed is None:
        raise TransformError(
            f"dbt parse left no manifest (is the cache directory {parse_cache.cache_root()} writable?)"
        )
    # writable_manifest() stamps dbt's tracking flags, which exist only inside a dbt invocation;
    # the kept parse's own metadata stays as it was
    parsed.fill_tracking_metadata = lambda: None
    return dict(parsed.writable_manifest().to_dict())


@dataclass(frozen=True)
class Increment:
    """How one `mwdata build` builds the incremental models (docs/models.md, "Incremental builds")."""

    full_refresh: bool
    reason: str  # why a full refresh ("" when incremental)
    since: datetime | None  # rows with _synced_at after this are changed; None on a full refresh
    watermark: datetime | None  # newest _synced_at in raw when the build started
    fingerprint: str


def _fingerprint(cfg: Config) -> str:
    """What the incremental models' rows depend on besides the data: the project (models, macros,
    seeds), dbt's versions and the vars (the PII mode among them). A change forces a full refresh."""
    doc = f"{parse_cache._project_digest()}\0{_vars(cfg)}\0{cfg.transform.target_schema}"
    return hashlib.sha256(doc.encode()).hexdigest()[:24]


def _increment_ddl(con: _Conn) -> None:
    text, ts, _, boolean = _sql_types(con.kind)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA}")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {INCREMENT_TABLE} (target_schema {text}, since {ts}, pending {boolean}, "
        f"watermark {ts}, pii {text}, fingerprint {text}, full_refresh_at {ts}, built_at {ts})"
    )


def _begin_increment(cfg: Config, con: _Conn, full_refresh: bool) -> Increment | None:
    """Decide between an incremental build and a full refresh, and write the `since` the models read.
    None on stores whose models are tables (no incremental build there)."""
    if con.kind not in INCREMENTAL_STORES:
        return None
    from mwdata.catalog import ENTITIES

    t = cfg.transform
    _increment_ddl(con)
    stamps = [con.query(f'SELECT max(_synced_at) FROM {RAW_SCHEMA}."{e.table}"')[0][0] for e in ENTITIES]
    present = [_utc(x) for x in stamps if x is not None]
    watermark = max(present) if present else None
    if watermark is not None and _sync_may_be_writing(cfg, con):
        # a batch stamped before the newest row may still commit: the next build looks back further
        watermark -= timedelta(hours=t.incremental_margin_hours)
    fingerprint = _fingerprint(cfg)
    rows = con.query(
        f"SELECT pending, watermark, pii, fingerprint, full_refresh_at FROM {INCREMENT_TABLE} "
        "WHERE target_schema = ?",
        [t.target_schema],
    )
    reason = ""
    if full_refresh:
        reason = "--full-refresh"
    elif not rows:
        reason = "no earlier incremental build"
    else:
        pending, last, pii, last_fp, refreshed = rows[0]
        if pending:
            reason = "the last build did not finish (or built a --select subset)"
        elif pii != t.pii:
            reason = f"the PII mode changed ({pii} -> {t.pii})"
        elif last_fp != fingerprint:
            reason = "the dbt project, dbt or a setting the models read changed"
        elif t.full_refresh_every_days and (
            refreshed is None
            or datetime.now(UTC) - _utc(refreshed) >= timedelta(days=t.full_refresh_every_days)
        ):
            reason = f"the last full refresh is {t.full_refresh_every_days:g}+ days old"
    since = None
    if not reason:
        last = rows[0][1]  # an empty store had no watermark: every row is new
        since = _utc(last) if last is not None else datetime(1970, 1, 1, tzinfo=UTC)
    with con.transaction():
        if rows:
            con.execute(
                f"UPDATE {INCREMENT_TABLE} SET since = ?, pending = ? WHERE target_schema = ?",
                [since, True, t.target_schema],
            )
        else:
            con.execute(
                f"INSERT INTO {INCREMENT_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [t.target_schema, since, True, None, None, None, None, None],
            )
    inc = Increment(bool(reason), reason, since, watermark, fingerprint)
    if reason:
        log.info("full refresh of the incremental models: %s", reason)
    else:
        log.info("incremental build: rows synced after %s", since.isoformat() if since else None)
    return inc


def _sync_may_be_writing(cfg: Config, con: _Conn) -> bool:
    """Whether a sync may commit rows while this build reads the watermark. A DuckDB store has one
    writer (the sync's lock and DuckDB's own file lock: this build could not have opened it); on
    PostgreSQL a sync holds its advisory lock for its whole run; a lake's files are written without
    a lock this build can see, so it always takes the margin."""
    if store_kind(cfg.store) == "filesystem":
        return True
    if con.kind != "postgres":
        return False
    from mwdata.store.dlt import PG_LOCK_HELD, PG_LOCK_KEY

    ((n,),) = con.query(f"SELECT count(*) FROM pg_locks l WHERE {PG_LOCK_HELD}", list(PG_LOCK_KEY))
    return bool(n)


def _finish_increment(cfg: Config, inc: Increment) -> None:
    """The models are built: the next build starts from this one's watermark."""
    con = _Conn(cfg)
    try:
        now = datetime.now(UTC)
        con.execute(
            f"UPDATE {INCREMENT_TABLE} SET pending = ?, watermark = ?, pii = ?, fingerprint = ?, built_at = ?"
            + (", full_refresh_at = ?" if inc.full_refresh else "")
            + " WHERE target_schema = ?",
            [False, inc.watermark, cfg.transform.pii, inc.fingerprint, now]
            + ([now] if inc.full_refresh else [])
            + [cfg.transform.target_schema],
        )
    finally:
        con.close()


def _utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def build(
    cfg: Config,
    select: Sequence[str] = (),
    after_models: Callable[[Config], object] | None = None,
    full_refresh: bool = False,
) -> RunResult:
    """Load seeds and build every model, then run every data test. Raises TransformError if a model
    or seed fails. Failing tests never stop the marts from being built (dbt build would skip the
    models downstream of a failed test): their outcomes are stored and left to `check` to judge.
    `after_models` runs once the models are built, before the tests (`mwdata build` writes the
    semantic layer's exports there: `mwdata.metrics.exports.build`).

    On DuckDB and PostgreSQL the large models are incremental: only what changed since the last
    build is re-derived, unless `full_refresh` (or a PII-mode or project change, a failed last build,
    `[transform] full_refresh_every_days`) rebuilds them whole (docs/models.md, "Incremental builds")."""
    sel = ["--select", *select] if select else []
    _pii_env(cfg)  # before anything is written: a missing salt is a ConfigError
    con = _Conn(cfg)
    try:
        _prepare_store(cfg, con)
        inc = _begin_increment(cfg, con, full_refresh)
    finally:
        con.close()
    refresh = (
        ["--full-refresh"] if inc is None and full_refresh or inc is not None and inc.full_refresh else []
    )
    models = run_dbt(
        cfg, ["build", "--resource-type", "seed", "--resource-type", "model", *sel, *refresh], prepare=False
    )
    broken = [r for r in models.errors if r.resource_type in ("model", "seed")]
    if broken:
        first = broken[0]
        line = first.message.splitlines()[0] if first.message else ""
        raise TransformError(f"{len(broken)} model(s) failed to build; first: {first.name}: {line}")
    _record_build(cfg)
    if inc is not None and not select:
        _finish_increment(cfg, inc)
    if after_models is not None:
        try:
            after_models(cfg)
        except StoreError as exc:
            if not select:
                raise
            log.warning("after the partial build (--select): %s", exc)
    tests = run_dbt(cfg, ["test", *sel], prepare=False)
    result = RunResult(
        command="build",
        results=models.results + tests.results,
        seconds=models.seconds + tests.seconds,
        invocation_id=tests.invocation_id,
        increment=inc,
    )
    _explain_quarantine(cfg, result)
    store_results(cfg, result)
    return result


def check(cfg: Config, raise_on_error: bool = True, built: RunResult | None = None) -> RunResult:
    """Run every data test and the source freshness checks; store the results; raise
    DataQualityError when an error-severity check fails (warnings never fail). `built`: the result
    of the build just made (`mwdata run`), whose data tests are then judged rather than run again."""
    if built is None:
        tests = run_dbt(cfg, ["test"])
    else:
        tests = dataclasses.replace(built, results=[r for r in built.results if r.resource_type == "test"])
    fresh = run_dbt(cfg, ["source", "freshness"], prepare=False)
    result = RunResult(
        command="check",
        results=tests.results + fresh.results,
        seconds=tests.seconds + fresh.seconds,
        invocation_id=tests.invocation_id,
    )
    _explain_quarantine(cfg, result)
    store_results(cfg, result)
    if result.errors and raise_on_error:
        names = ", ".join(r.name for r in result.errors[:5])
        raise DataQualityError(
            f"{len(result.errors)} data-quality check(s) failed ({names}{', ...' if len(result.errors) > 5 else ''}); "
            f"see `mwdata check` output or the data-health page"
        )
    return result
