"""The `Store` protocol the sync engine writes through (DuckDB natively, warehouses through dlt).

The engine is independent of the database: it asks the store for its state, persists a plan of
windows, then hands it batches of API records, each together with the window's checkpoint. A store
must make every `write()` atomic — the records, the window's keyset checkpoint (`last_id`), its
`done` flag and the watermark advance commit together or not at all (invariant 1) — and must upsert
so that a row never goes back to an older `last_updated_time` (invariant 2) and re-writing a batch
changes nothing (invariant 3).

State model (kept as plain tables so `mwdata status` and the dashboard can read them):
- watermark per entity: every row with `last_updated_time` < watermark was read completely by a
  committed sync (as visible then; late rows are re-read by the look-back).
- windows: [lo, hi) ranges of `last_updated_time` planned by a run, each with the id of its last
  written record (`last_id`) and `done`; a crashed run's unfinished windows resume at `last_id`.
- runs: one row per run and entity — start, end, rows, pages, retries, 429s, errors, outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from mwdata.catalog import Entity

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

    def close(self) -> None: ...
