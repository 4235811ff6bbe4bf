"""Warehouses that cannot be reached here, tested up to the connection: the store URL and secrets
become dlt's destination settings (resolved by dlt itself), the SQL the store would run parses in
each warehouse's dialect, and `mwdata build` gets a dbt profile without secrets in it. No secret
appears in a message, a display name or a profile."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from mwdata.catalog import ENTITIES, entity
from mwdata.config import Config
from mwdata.errors import ConfigError, TransformError
from mwdata.store.dlt import DIALECTS, DltStore, Target, parse_target
from mwdata.transform.runner import PASSWORD_ENV, profile

SECRET = "s3cret-NEVER-SHOWN"
ENV = {"MWDATA_STORE_PASSWORD": SECRET}
SQLGLOT = {
    "postgres": "postgres",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "databricks": "databricks",
}


def resolved(t: Target) -> Any:
    """dlt's own resolution of the destination configuration (what a pipeline would connect with)."""
    dest = t.destination()
    initial = dest.spec()
    initial.dataset_name = "raw_staging"
    return dest.configuration(initial)


def no_secret(*things: Any) -> None:
    for x in things:
        assert SECRET not in (x if isinstance(x, str) else json.dumps(x, default=str)), x


def test_postgres_url_and_password_sources(tmp_path: Path) -> None:
    t = parse_target("postgresql://loader@db.example:5433/analytics?sslmode=require", ENV)
    assert t.settings == {
        "host": "db.example", "port": 5433, "database": "analytics", "username": "loader",
        "connect_timeout": 10, "query": {"sslmode": "require"},
    }  # fmt: skip
    assert t.secrets == {"password": SECRET} and t.display == "postgresql://loader@db.example:5433/analytics"
    c = resolved(t).credentials
    assert (c.host, c.port, c.database, c.username, c.password) == (
        "db.example",
        5433,
        "analytics",
        "loader",
        SECRET,
    )
    # in the URL (only when the URL itself comes from the environment), or from a chmod-600 file
    t = parse_target(f"postgresql://loader:{SECRET}@db.example/analytics", {})
    assert t.secrets["password"] == SECRET and SECRET not in t.display
    assert t.redact(f"could not connect with password={SECRET}") == "could not connect with password=***"
    f = tmp_path / "pw"
    f.write_text(SECRET + "\n")
    f.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        parse_target("postgresql://loader@db.example/analytics", {"MWDATA_STORE_PASSWORD_FILE": str(f)})
    f.chmod(0o600)
    t = parse_target("postgresql://loader@db.example/analytics", {"MWDATA_STORE_PASSWORD_FILE": str(f)})
    assert t.secrets["password"] == SECRET
    for bad in ("postgresql://db.example", "postgresql:///analytics", f"postgresql://u:{SECRET}@h:99999/db"):
        with pytest.raises(ConfigError) as err:
            parse_target(bad, {})
        no_secret(str(err.value))


def test_snowflake_settings() -> None:
    t = parse_target("snowflake://loader@kgiotue-wn98412/MWDATA?warehouse=COMPUTE_WH&role=LOADER", ENV)
    assert t.settings == {
        "host": "kgiotue-wn98412", "database": "MWDATA", "username": "loader",
        "warehouse": "COMPUTE_WH", "role": "LOADER",
    }  # fmt: skip
    no_secret(t.settings, t.display, repr(t))
    c = resolved(t).credentials
    assert (c.host, c.database, c.username, c.warehouse, c.role) == (
        "kgiotue-wn98412", "MWDATA", "loader", "COMPUTE_WH", "LOADER",
    )  # fmt: skip
    assert c.password == SECRET and c.session_timezone == "UTC"
    key = parse_target("snowflake://loader@acct/DB?private_key_path=/keys/rsa.p8", {})
    assert key.settings["private_key_path"] == "/keys/rsa.p8" and not key.secrets
    with pytest.raises(ConfigError, match="MWDATA_STORE_PASSWORD"):
        parse_target("snowflake://loader@acct/DB", {})
    with pytest.raises(ConfigError, match="snowflake://user@account/database"):
        parse_target("snowflake://acct/DB", ENV)


def test_bigquery_settings(tmp_path: Path) -> None:
    key = tmp_path / "sa.json"
    # the shape of a service-account key; nothing here connects, so no real key is needed
    key.write_text(json.dumps({
        "type": "service_account", "project_id": "other", "client_email": "loader@p.iam.gserviceaccount.com",
        "private_key": f"-----BEGIN PRIVATE KEY-----\n{SECRET}\n-----END PRIVATE KEY-----\n",
    }))  # fmt: skip
    key.chmod(0o600)
    t = parse_target("bigquery://my-project?location=EU", {"GOOGLE_APPLICATION_CREDENTIALS": str(key)})
    assert t.settings == {"project_id": "my-project", "location": "EU"}
    no_secret(t.settings, t.display, repr(t))
    cfg = resolved(t)
    assert cfg.location == "EU" and cfg.credentials.project_id == "my-project"
    assert cfg.credentials.client_email == "loader@p.iam.gserviceaccount.com"
    key.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        parse_target("bigquery://my-project", {"GOOGLE_APPLICATION_CREDENTIALS": str(key)})


def test_databricks_settings() -> None:
    url = "databricks://adb-123.4.azuredatabricks.net/main?http_path=/sql/1.0/warehouses/abc"
    t = parse_target(url, ENV)
    assert t.settings == {
        "server_hostname": "adb-123.4.azuredatabricks.net", "catalog": "main",
        "http_path": "/sql/1.0/warehouses/abc",
    }  # fmt: skip
    no_secret(t.settings, t.display, repr(t))
    c = resolved(t).credentials
    assert (c.server_hostname, c.catalog, c.http_path, c.access_token) == (
        "adb-123.4.azuredatabricks.net", "main", "/sql/1.0/warehouses/abc", SECRET,
    )  # fmt: skip
    with pytest.raises(ConfigError, match="personal access token"):
        parse_target(url, {})
    with pytest.raises(ConfigError, match="http_path"):
        parse_target("databricks://host/main", ENV)


def test_unknown_store_kind() -> None:
    with pytest.raises(ConfigError, match="unknown store kind 'mysql'"):
        parse_target("mysql://u@h/db", ENV)


@pytest.mark.parametrize("kind", sorted(DIALECTS))
def test_store_sql_parses_in_each_dialect(kind: str) -> None:
    """Every statement the store runs, compiled for the warehouse and parsed by its dialect."""
    d = DIALECTS[kind]
    e = entity("plugin-calls")
    lit = "'2026-11-01T00:00:00Z'"
    statements = [d.merge_sql(x) for x in ENTITIES] + [d.create_raw_sql(x) for x in ENTITIES]
    statements += d.state_ddl() + [d.duplicates_sql(e)]
    for sql in statements:
        tree = sqlglot.parse_one(sql.replace("%s", lit), read=SQLGLOT[kind])
        assert tree is not None
    merge = sqlglot.parse_one(d.merge_sql(e).replace("%s", lit), read=SQLGLOT[kind])
    assert isinstance(merge, exp.Merge)
    assert merge.this.name.lower() == "plugin_calls" and merge.this.db.lower() == "raw"
    whens = merge.args["whens"].expressions
    assert [w.args.get("matched") for w in whens] == [True, False]  # update newer-only, insert new
    text = d.merge_sql(e)
    json_parse = d.json_parse.split("{")[0]
    assert json_parse in text and "raw_staging" in text and text.count("%s") == 3


def test_compiled_merge_for_snowflake_bigquery_databricks() -> None:
    e = entity("users")
    sf, bq, dbx = (DIALECTS[k].merge_sql(e) for k in ("snowflake", "bigquery", "databricks"))
    assert sf.startswith("MERGE INTO raw.users AS t") and "PARSE_JSON(x._record) AS _record" in sf
    assert "TO_JSON(s._record) <> TO_JSON(t._record)" in sf  # same stamp, other content
    assert bq.startswith("MERGE INTO `raw`.`users` AS t") and "SAFE.PARSE_JSON(x.`_record`)" in bq
    assert "CAST(%s AS TIMESTAMP) AS `_synced_at`" in bq
    assert dbx.startswith("MERGE INTO `raw`.`users` AS t") and "x.`_record` AS `_record`" in dbx
    assert DIALECTS["snowflake"].create_raw_sql(e).count("VARIANT") >= 1
    assert "JSON" in DIALECTS["bigquery"].create_raw_sql(e) and "PRIMARY KEY" not in DIALECTS[
        "bigquery"
    ].create_raw_sql(e)
    assert "PRIMARY KEY" in DIALECTS["postgres"].create_raw_sql(e)


def test_dbt_profiles_for_each_warehouse(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MWDATA_STORE_PASSWORD", SECRET)
    sf, env = profile(Config(store="snowflake://loader@acct/MWDATA?warehouse=WH&role=R"))
    assert sf == {
        "type": "snowflake", "account": "acct", "user": "loader", "database": "MWDATA", "schema": "analytics",
        "threads": 2, "warehouse": "WH", "role": "R", "password": "{{ env_var('MWDATA_DBT_PASSWORD', '') }}",
    }  # fmt: skip
    assert env == {PASSWORD_ENV: SECRET}
    dbx, env = profile(Config(store="databricks://h.example/main?http_path=/sql/1.0/warehouses/a"))
    assert dbx["type"] == "databricks" and dbx["catalog"] == "main" and dbx["token"].startswith("{{ env_var(")
    assert env == {PASSWORD_ENV: SECRET}
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    bq, env = profile(Config(store="bigquery://proj?location=EU"))
    assert bq == {
        "type": "bigquery", "project": "proj", "dataset": "analytics", "location": "EU", "threads": 2,
        "method": "oauth",
    }  # fmt: skip
    pg, env = profile(Config(store="postgresql://loader@db/analytics"))
    assert pg["password"].startswith("{{ env_var(") and env == {"MWDATA_DBT_PG_PASSWORD": SECRET}
    no_secret(sf, dbx, bq, pg)
    with pytest.raises(TransformError, match="databricks store must look like"):
        profile(Config(store="databricks://h/main"))


def test_dlt_runs_offline_and_silent() -> None:
    """Telemetry off and no state restored from the destination, set before any pipeline exists."""
    import dlt

    assert os.environ["RUNTIME__DLTHUB_TELEMETRY"] == "false"
    assert dlt.config.get("runtime.dlthub_telemetry", bool) is False
    assert dlt.config.get("restore_from_destination", bool) is False
    store = DltStore(parse_target("postgresql://loader@db.example/analytics", ENV))
    assert store.path == "postgresql://loader@db.example/analytics" and SECRET not in repr(vars(store))


def test_a_password_in_mwdata_toml_is_refused(tmp_path: Path) -> None:
    from mwdata.config import load_config

    f = tmp_path / "mwdata.toml"
    f.write_text(f'store = "postgresql://loader:{SECRET}@db.example/analytics"\n')
    with pytest.raises(ConfigError, match="MWDATA_STORE_PASSWORD") as err:
        load_config(f, env={})
    no_secret(str(err.value))
    f.write_text('store = "postgresql://loader@db.example/analytics"\n')
    assert load_config(f, env={}).store == "postgresql://loader@db.example/analytics"
    # the whole URL from the environment may carry it (an environment variable is a secret's place)
    url = f"postgresql://loader:{SECRET}@db.example/analytics"
    assert load_config(f, env={"MWDATA_STORE": url}).store == url


def test_snowflake_quotes_its_keyword_columns_in_folded_case() -> None:
    d = DIALECTS["snowflake"]
    assert d.q("rows") == '"ROWS"' and d.q("pages") == "pages" and d.q("interactions") == "interactions"
    ddl = " ".join(d.state_ddl())
    assert ddl.count('"ROWS" BIGINT') == 2 and " rows " not in ddl
    for sql in d.state_ddl():
        assert sqlglot.parse_one(sql, read="snowflake") is not None


def test_every_delete_the_warehouse_store_issues_has_a_where() -> None:
    """BigQuery refuses a DELETE without WHERE: a lint over the store's SQL strings."""
    import ast
    import inspect

    from mwdata.store import dlt as dlt_store

    tree = ast.parse(inspect.getsource(dlt_store))
    parts = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    deletes = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr | ast.Constant) and id(node) not in parts:
            text = ast.unparse(node)
            if "DELETE FROM" in text:
                deletes.append(text)
    assert len(deletes) >= 4
    assert all(" WHERE " in t for t in deletes), [t for t in deletes if " WHERE " not in t]


def test_databricks_batches_do_not_rely_on_transactions() -> None:
    assert DIALECTS["databricks"].transactions is False
    assert all(DIALECTS[k].transactions for k in ("postgres", "snowflake", "bigquery"))
