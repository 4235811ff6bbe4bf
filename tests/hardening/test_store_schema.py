"""Issue 16, item 12 (the store half): a layout version in `_mwdata.meta` (a newer store refused with
"upgrade mwdata", an older one upgraded in place), and the tenant a store was filled from (a sync from
another tenant refused with exit 2 naming both, unless `--rebind-tenant`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pytest

from mwdata.config import ApiConfig, Config, Secret
from mwdata.errors import ConfigError, StoreError
from mwdata.store.base import TENANT_HOST, TENANT_ORG, Tenant, bind_tenant
from mwdata.store.duckdb import DuckDBStore, read_status
from mwdata.store.schema import SCHEMA_VERSION
from tests.hardening.test_store_errors import api_server, clean, count, digest, env, recs, sync  # noqa: F401
from tests.sync.conftest import run_cli
from tests.warehouse.conftest import DSN, pg_dsn, query  # noqa: F401


def meta(store: Path) -> dict[str, str]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return dict(con.execute("SELECT meta_key, meta_value FROM _mwdata.meta").fetchall())
    finally:
        con.close()


def execute(store: Path, sql: str) -> None:
    con = duckdb.connect(str(store))
    try:
        con.execute(sql)
    finally:
        con.close()


def pg_exec(dsn: str, sql: str) -> None:
    import psycopg2

    con = psycopg2.connect(dsn)
    try:
        with con, con.cursor() as cur:
            cur.execute(sql)
    finally:
        con.close()


# -- schema version ------------------------------------------------------------------------------
def test_store_without_meta_table_read_then_upgraded(api_server, tmp_path: Path) -> None:  # noqa: F811
    srv = api_server({"interactions": recs(40)})
    store = tmp_path / "m.duckdb"
    assert sync(srv.url, store, tmp_path).returncode == 0
    execute(store, "DROP TABLE _mwdata.meta")  # the shape every store had before schema version 2
    before = digest(store)
    st = read_status(store)  # status reads it as it is, without writing
    assert next(e for e in st.entities if e.entity == "interactions").rows == 40 and digest(store) == before
    r = sync(srv.url, store, tmp_path)
    assert r.returncode == 0, r.stderr
    assert meta(store)["schema_version"] == str(SCHEMA_VERSION) and count(store) == 40


def test_a_store_of_a_newer_mwdata_is_refused_untouched(api_server, tmp_path: Path) -> None:  # noqa: F811
    srv = api_server({"interactions": recs(10)})
    store = tmp_path / "m.duckdb"
    assert sync(srv.url, store, tmp_path).returncode == 0
    execute(
        store,
        f"UPDATE _mwdata.meta SET meta_value = '{SCHEMA_VERSION + 1}' WHERE meta_key = 'schema_version'",
    )
    before = digest(store)
    for args in (("sync", "-e", "interactions"), ("status",), ("sync", "--dry-run", "-e", "interactions")):
        msg = clean(run_cli(*args, env=env(srv.url, store), cwd=tmp_path), 7)
        assert f"schema version {SCHEMA_VERSION + 1}" in msg and "Upgrade mwdata" in msg, msg
    assert digest(store) == before


def test_an_unreadable_version_is_refused(tmp_path: Path) -> None:
    s = DuckDBStore(tmp_path / "m.duckdb")
    s.prepare()
    s.set_meta({"schema_version": "two"})
    s.close()
    again = DuckDBStore(tmp_path / "m.duckdb")
    try:
        with pytest.raises(StoreError, match="unreadable schema_version"):
            again.prepare()
    finally:
        again.close()


@pytest.mark.parametrize("case", ["older", "newer"])
@pytest.mark.postgres
@pytest.mark.skipif(not DSN, reason="MWDATA_TEST_PG_DSN not set")
def test_schema_version_on_postgres(pg_dsn: str, case: str) -> None:  # noqa: F811
    from mwdata.store.dlt import DltStore, parse_target

    def store() -> DltStore:
        return DltStore(parse_target(pg_dsn))

    s = store()
    with s.lock():
        s.prepare()
    s.close()
    if case == "older":
        pg_exec(pg_dsn, "DROP TABLE _mwdata.meta")
    else:
        pg_exec(pg_dsn, f"UPDATE _mwdata.meta SET meta_value = '{SCHEMA_VERSION + 1}'")
    s = store()
    try:
        with s.lock():
            if case == "newer":
                with pytest.raises(StoreError, match="newer mwdata"):
                    s.prepare()
                assert query(pg_dsn, "SELECT meta_value FROM _mwdata.meta") == [(str(SCHEMA_VERSION + 1),)]
            else:
                s.prepare()
                assert s.meta() == {"schema_version": str(SCHEMA_VERSION)}
    finally:
        s.close()


# -- tenant binding ------------------------------------------------------------------------------
def test_a_sync_from_another_tenant_is_refused_and_writes_nothing(api_server, tmp_path: Path) -> None:  # noqa: F811
    srv = api_server({"interactions": recs(30)})
    store = tmp_path / "m.duckdb"
    port = srv.url.rsplit(":", 1)[1]
    r = run_cli("sync", "-e", "interactions", env=env(srv.url, store, MWDATA_ORG="acme"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert meta(store)[TENANT_HOST] == "127.0.0.1" and meta(store)[TENANT_ORG] == "acme"
    runs = read_status(store).runs
    other_org = env(srv.url, store, MWDATA_ORG="globex")
    other_host = env(f"http://localhost:{port}", store, MWDATA_ORG="acme")
    for e, old, new in ((other_org, "org acme", "org globex"), (other_host, "127.0.0.1", "localhost")):
        msg = clean(run_cli("sync", "-e", "interactions", env=e, cwd=tmp_path), 2)
        assert old in msg and new in msg and "--rebind-tenant" in msg, msg
        assert read_status(store).runs == runs  # no run started, nothing written
    # the same tenant without its org label is still the same tenant: the binding keeps the org
    assert run_cli("sync", "-e", "interactions", env=env(srv.url, store), cwd=tmp_path).returncode == 0
    assert meta(store)[TENANT_ORG] == "acme"
    r = run_cli("sync", "-e", "interactions", "--rebind-tenant", env=other_org, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert meta(store)[TENANT_ORG] == "globex" and count(store) == 30


def test_bind_tenant_rules(tmp_path: Path) -> None:
    s = DuckDBStore(tmp_path / "m.duckdb")
    s.prepare()
    api = ApiConfig(base_url="https://API.Moveworks.AI:443/export/v1beta2", api_key=Secret("k"))
    t = Tenant.of(api)
    assert t == Tenant("api.moveworks.ai") and str(t) == "api.moveworks.ai"
    bind_tenant(s, t)
    bind_tenant(s, Tenant("api.moveworks.ai", "acme"))  # an org named later joins the binding
    assert s.meta()[TENANT_ORG] == "acme"
    with pytest.raises(ConfigError, match="api.moveworks.ai \\(org acme\\).*api.am-eu.moveworks.ai"):
        bind_tenant(s, Tenant("api.am-eu.moveworks.ai", "acme"))
    bind_tenant(s, Tenant("api.am-eu.moveworks.ai"), rebind=True)
    assert TENANT_ORG not in s.meta() and s.meta()[TENANT_HOST] == "api.am-eu.moveworks.ai"
    cfg = Config(store=str(tmp_path / "m.duckdb"), api=dataclasses.replace(api, org="acme"))
    assert Tenant.of(cfg.api) == Tenant("api.moveworks.ai", "acme")
    s.close()


def test_build_refuses_a_newer_store_and_keeps_the_files_private(api_server, tmp_path: Path) -> None:  # noqa: F811
    srv = api_server({"interactions": recs(20)})
    store = tmp_path / "m.duckdb"
    assert sync(srv.url, store, tmp_path).returncode == 0
    r = run_cli("build", env=env(srv.url, store), cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (store.stat().st_mode & 0o777) == 0o600
    execute(
        store,
        f"UPDATE _mwdata.meta SET meta_value = '{SCHEMA_VERSION + 1}' WHERE meta_key = 'schema_version'",
    )
    before = digest(store)
    msg = clean(run_cli("build", env=env(srv.url, store), cwd=tmp_path, timeout=300), 7)
    assert "newer mwdata" in msg and digest(store) == before, msg
