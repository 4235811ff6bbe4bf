"""`sync()`: the whole job for one configuration — what `mwdata sync` and `make demo` call.

Order matters for "bad config / 401 / 403 leave the store untouched": configuration and credentials
are checked and every entity is probed (preflight) before the store is locked, created or written.
A credential missing the scope of some entities (403) syncs the others; the refused ones are
recorded as failed runs, and the sync ends with exit 4 naming them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mwdata.api.client import ApiClient
from mwdata.config import Config
from mwdata.errors import ConfigError
from mwdata.store.base import EntityState, Tenant, bind_tenant
from mwdata.sync.plan import EntityPlan
from mwdata.sync.runner import ProgressFn, SyncOptions, SyncResult, preflight, resolve_entities, run_sync


def open_store(cfg: Config) -> Any:
    """The store named by `cfg.store` (a DuckDB file path by default)."""
    if not cfg.is_duckdb:
        try:
            from mwdata.store import dlt as dlt_store
        except ImportError:
            raise ConfigError(
                "this store needs the warehouse path (mwdata.store.dlt): pip install 'mwdata[postgres]' "
                "(or the extra of your warehouse, see docs/warehouses.md)"
            ) from None
        return dlt_store.open_store(cfg)
    from mwdata.store.duckdb import DuckDBStore

    path = cfg.store.removeprefix("duckdb:///")
    return DuckDBStore(path)


def read_states(cfg: Config, entities: list[str]) -> dict[str, EntityState]:
    """Current states without writing anything (dry run)."""
    from mwdata.catalog import entity as lookup
    from mwdata.store.duckdb import read_states as duck_states

    if not cfg.is_duckdb:
        from mwdata.store.dlt import read_states as dlt_states

        return dlt_states(cfg, [lookup(e) for e in entities])
    return duck_states(cfg.store.removeprefix("duckdb:///"), [lookup(e) for e in entities])


def sync(
    cfg: Config,
    options: SyncOptions,
    *,
    progress: ProgressFn | None = None,
    on_plan: Callable[[list[EntityPlan]], None] | None = None,
    client_factory: Callable[[Config], ApiClient] | None = None,
    rebind_tenant: bool = False,
) -> SyncResult:
    """`rebind_tenant`: the store may belong to another tenant (API host + org) than the configured
    one; record the configured one (otherwise a ConfigError, before anything is written)."""
    entities = resolve_entities(options.entities or cfg.sync.entities)
    options.entities = tuple(e.path for e in entities)
    workers = max(1, options.workers or cfg.sync.workers)
    client = client_factory(cfg) if client_factory else ApiClient(cfg.api, max_connections=workers + 2)
    with client:
        refused = preflight(client, entities) if options.preflight else {}
        if options.dry_run:
            states = read_states(cfg, list(options.entities))
            return run_sync(cfg, client, None, options, states=states, on_plan=on_plan, refused=refused)
        store = open_store(cfg)
        try:
            with store.lock():
                store.prepare()
                bind_tenant(store, Tenant.of(cfg.api), rebind=rebind_tenant)
                return run_sync(
                    cfg, client, store, options, progress=progress, on_plan=on_plan, refused=refused
                )
        finally:
            store.close()
