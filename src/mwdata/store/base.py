"""The `Store` protocol the sync engine writes through (DuckDB natively, warehouses through dlt).

The engine is independent of the database: it asks the store for its state, persists a plan of
windows, then hands it batches of API records, each together with the window's checkpoint. A store
must make every `write()` atomic — the records, the window's keyset checkpoint (`last_id`), its
`done` flag and the watermark advance commit together or not at all (invariant 1) — and must upsert
so that a row never goes back to an older `last_updated_time` (invariant 2) and re-writing a batch
changes nothing (invariant 3; the invariants are in docs/architecture.md).

State model (kept as plain tables so `mwdata status` and the dashboard can read them):
- watermark per entity: every row with `last_updated_time` < watermark was read completely by a
  committed sync (as visible then; late rows are re-read by the look-back).
- windows: [lo, hi) ranges of `last_updated_time` planned by a run, each with the id of its last
  written record (`last_id`) and `done`; a crashed run's unfinished windows resume at `last_id`.
- runs: one row per run and entity — start, end, rows, pages, retries, 429s, errors, outcome.
- meta: the store's layout version and the tenant (API host + org) it was filled from.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from mwdata.catalog import Entity
from mwdata.errors import ConfigError

RUNNING = "running"
SUCCESS = "success"
FAILED = "failed"
ABORTED = "aborted"  # found still 'running' by a later run: the process died


@dataclass
class Window:
    """A half-open range [lo, hi) of `last_updated_time` of one entity, read by keyset paging."""

    entity: str  # Entity.path
    lo: datetime
    hi: datetime
    last_id: str | None = None
    done: bool = False
    advances_watermark: bool = True  # False for an explicit --since window that leaves a gap
    window_id: int | None = None  # assigned by Store.plan()
    run_id: str | None = None
    rows: int = 0
    pages: int = 0


@dataclass
class EntityState:
    entity: str
    watermark: datetime | None
    pending: list[Window]  # unfinished windows of earlier (crashed) runs, oldest first


@dataclass
class RunStats:
    rows: int = 0
    pages: int = 0
    requests: int = 0
    retries: int = 0
    throttled: int = 0
    errors: int = 0


class Store(Protocol):
    def lock(self) -> AbstractContextManager[None]:
        """Exclusive writer lock (process-wide, released if the process dies); LockedError if held."""
        ...

    def prepare(self) -> None:
        """Create the raw tables and the state tables if missing; mark stale 'running' runs aborted."""
        ...

    def state(self, entity: Entity) -> EntityState: ...

    def plan(self, run_id: str, windows: Sequence[Window], *, replace_pending: bool = False) -> None:
        """Persist new windows (assigns `window_id`); `replace_pending` drops unfinished old ones."""
        ...

    def start_run(self, run_id: str, entity: Entity, started_at: datetime, detail: str) -> None: ...

    def encode(self, entity: Entity, records: Sequence[dict[str, Any]]) -> Any:
        """One page of API records in the store's own compact form (called by reader threads, so the
        queue to the writer holds compact batches rather than Python dicts)."""
        ...

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
        """Atomically upsert the records of `chunks` (from `encode`; `rows` of them, `unique` if no id
        repeats), checkpoint `window` at `last_id`, and, if `done`, close the window and advance the
        watermark. Returns the number of rows inserted or updated."""
        ...

    def finish_run(
        self, run_id: str, entity: Entity, stats: RunStats, outcome: str, message: str | None
    ) -> None: ...

    def count_rows(self, entity: Entity, lo: datetime, hi: datetime) -> int:
        """Stored rows of `entity` with lo <= last_updated_time < hi (0 if its table does not exist)."""
        ...

    def meta(self) -> dict[str, str]:
        """The `_mwdata.meta` facts (after `prepare()`)."""
        ...

    def set_meta(self, values: dict[str, str | None]) -> None:
        """Set (or, for None, remove) facts in `_mwdata.meta`, in one transaction."""
        ...

    def close(self) -> None: ...


# -- the tenant a store belongs to -------------------------------------------------------------
TENANT_HOST, TENANT_ORG = "tenant_host", "tenant_org"


@dataclass(frozen=True)
class Tenant:
    """Whose data a store holds: the Data API's host (lower case, no port or path) and the org label."""

    host: str
    org: str | None = None

    @classmethod
    def of(cls, api: Any) -> Tenant:
        host = (urlsplit(api.host).hostname or "").lower().rstrip(".")
        org = (getattr(api, "org", None) or "").strip() or None
        return cls(host, org)

    def __str__(self) -> str:
        return f"{self.host} (org {self.org})" if self.org else self.host

    @classmethod
    def bound(cls, meta: dict[str, str]) -> Tenant | None:
        """The tenant a store's `_mwdata.meta` names (None before its first sync)."""
        host = meta.get(TENANT_HOST)
        return cls(host, meta.get(TENANT_ORG) or None) if host else None


def bind_tenant(store: Store, tenant: Tenant, *, rebind: bool = False) -> None:
    """Remember the tenant of a store's first sync; refuse (ConfigError) a sync from another one.

    Two tenants differ when their hosts differ, or both have an org and the orgs differ; an org named
    later than the first sync is added to the binding. `rebind` records `tenant` whatever was there."""
    old = Tenant.bound(store.meta())
    if old is not None and not rebind:
        if old.host != tenant.host or (old.org and tenant.org and old.org != tenant.org):
            raise ConfigError(
                f"the store {getattr(store, 'path', '')} holds the data of the tenant {old}, but this sync "
                f"reads {tenant}: one store must not mix two tenants' histories. Point [api] base_url / "
                "region / org (or MWDATA_BASE_URL, MWDATA_ORG) back at the store's tenant, or use another "
                "store (--store, [store] or MWDATA_STORE). If it is the same tenant under a new address, "
                "run `mwdata sync --rebind-tenant` once"
            )
        tenant = Tenant(tenant.host, tenant.org or old.org)
    if old != tenant:
        store.set_meta({TENANT_HOST: tenant.host, TENANT_ORG: tenant.org})
