"""Run a sync: preflight, lock, plan, read windows in parallel, write batches through one writer.

Threads: `workers` readers share the client (and so its pacing); each reads one window at a time by
keyset paging and cuts it into batches of about `batch_size` records; a single writer thread commits
batches in order through the `Store` (each batch with its window's checkpoint). A bounded queue
between them keeps memory proportional to the batch size (invariant 4 in
docs/architecture.md), not to the run.

Why the reading is exact while the server's data changes (docs/sync.md has the long form): every
window ends at or before the run's fixed upper bound T0. Keyset paging positions by id, so inserts
and deletes before the cursor cannot shift later rows past it. A row re-emitted during the read gets
a new `last_updated_time` ≥ T0, so it leaves the window (if already read, its old version was
stored; either way its new version is ≥ the watermark this run can reach and is read next run). Rows
that become visible late with an old stamp are re-read by the look-back; upserts keep it duplicate-free.
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from mwdata.api.client import ApiClient, RequestStats
from mwdata.catalog import RETENTION_DAYS, Entity
from mwdata.catalog import entity as lookup_entity
from mwdata.config import Config
from mwdata.errors import ApiError, ConfigError, MwdataError, ScopeError, StoreError
from mwdata.store.base import FAILED, SUCCESS, EntityState, RunStats, Store, Window
from mwdata.sync.plan import EntityPlan, plan_entity, to_ms

log = logging.getLogger("mwdata.sync")

MAX_BATCH_ROWS = 20_000  # larger batches buy little speed and can exceed the store's memory limit
ProgressFn = Callable[[str, int, bool], None]  # (entity, rows added, window finished)


@dataclass
class SyncOptions:
    entities: tuple[str, ...] | None = None  # default: cfg.sync.entities
    since: datetime | None = None
    until: datetime | None = None
    full_refresh: bool = False
    dry_run: bool = False
    workers: int | None = None
    now: datetime | None = None  # the run's upper bound (tests); default: the current time
    preflight: bool = True


@dataclass
class EntityResult:
    entity: str
    windows: int
    rows: int = 0
    pages: int = 0
    stats: RequestStats = field(default_factory=RequestStats)
    outcome: str = SUCCESS
    error: MwdataError | None = None
    plan: EntityPlan | None = None


@dataclass
class SyncResult:
    run_id: str
    upper: datetime
    entities: list[EntityResult]
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return all(e.error is None for e in self.entities)

    @property
    def rows(self) -> int:
        return sum(e.rows for e in self.entities)

    def first_error(self) -> MwdataError | None:
        """The error the run ends with: the first that is not a missing scope, else every missing
        scope in one ScopeError."""
        errors = [e.error for e in self.entities if e.error is not None]
        other = [e for e in errors if not isinstance(e, ScopeError)]
        if other:
            return other[0]
        scopes = [e for e in errors if isinstance(e, ScopeError)]
        if not scopes:
            return None
        return combined_scope_error(scopes, synced=len(scopes) < len(self.entities))


def resolve_entities(names: Sequence[str]) -> list[Entity]:
    out: list[Entity] = []
    for n in names:
        try:
            e = lookup_entity(n.strip())
        except KeyError as exc:
            raise ConfigError(str(exc.args[0])) from None
        if e not in out:
            out.append(e)
    if not out:
        raise ConfigError("no entity selected; use --entities conversations,interactions,...")
    return out


def new_run_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def preflight(client: ApiClient, entities: Sequence[Entity]) -> dict[str, ScopeError]:
    """One tiny request per entity before anything is written. Bad credentials (401) fail here,
    leaving the store untouched; so does a credential without the scope of any selected entity.
    Returns the entities refused for want of a scope (403) when others are permitted: the sync reads
    those others and records the refused ones as failed runs."""
    refused: dict[str, ScopeError] = {}
    for e in entities:
        try:
            client.get_page(e, {"$top": "1"})
        except ScopeError as err:
            refused[e.path] = err
    if refused and len(refused) == len(entities):
        raise combined_scope_error(list(refused.values()), synced=False)
    return refused


def combined_scope_error(errors: Sequence[ScopeError], *, synced: bool) -> ScopeError:
    """One ScopeError naming every refused entity (exit 4)."""
    if len(errors) == 1 and not synced:
        return errors[0]
    names = ", ".join(f"'{e.entity}'" for e in errors)
    first = errors[0]
    what = "the other entities were synced; " if synced else ""
    return ScopeError(
        first.entity,
        f"the credential has no scope for {names} (HTTP 403); {what}in Moveworks Setup → Credentials, "
        "add the missing Data API scope(s), or leave those entities out ([sync] entities / --entities)",
    )


def plan_run(
    cfg: Config,
    entities: Sequence[Entity],
    states: dict[str, EntityState],
    upper: datetime,
    options: SyncOptions,
) -> list[EntityPlan]:
    start = parse_time(cfg.sync.start, "[sync] start") if cfg.sync.start else None
    if options.since and options.until and options.since >= options.until:
        raise ConfigError("--since must be before --until")
    return [
        plan_entity(
            states[e.path],
            upper=upper,
            window_hours=cfg.sync.window_hours,
            lookback_hours=cfg.sync.lookback_hours,
            start=start,
            since=options.since,
            until=options.until,
            full_refresh=options.full_refresh,
        )
        for e in entities
    ]


def parse_time(text: str, what: str) -> datetime:
    """An ISO date or date-time (UTC if no offset) → aware datetime; ConfigError otherwise."""
    try:
        ts = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"{what} must be an ISO date or date-time like 2026-05-01T00:00:00Z, got {text!r}"
        ) from None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


@dataclass
class _Item:
    entity: Entity
    window: Window
    chunks: list[Any]
    rows: int
    unique: bool
    last_id: str | None
    pages: int
    done: bool


_STOP = object()


def run_sync(
    cfg: Config,
    client: ApiClient,
    store: Store | None,
    options: SyncOptions,
    *,
    states: dict[str, EntityState] | None = None,
    progress: ProgressFn | None = None,
    on_plan: Callable[[list[EntityPlan]], None] | None = None,
    refused: dict[str, ScopeError] | None = None,
) -> SyncResult:
    """Run one sync. `store` must be locked and prepared by the caller (see `sync_store`); for a
    dry run pass `store=None` and the current `states`. `refused`: entities the preflight found
    without scope; they are not read, and get a failed run naming the missing scope."""
    refused = refused or {}
    selected = resolve_entities(options.entities or cfg.sync.entities)
    entities = [e for e in selected if e.path not in refused]
    upper = to_ms(options.now or datetime.now(UTC))
    run_id = new_run_id(upper)
    if states is None:
        if store is None:
            raise StoreError("a store or its states are needed to plan a sync")
        states = {e.path: store.state(e) for e in entities}
    plans = plan_run(cfg, entities, states, upper, options)
    if on_plan:
        on_plan(plans)
    results = {p.entity: EntityResult(p.entity, len(p.windows), plan=p) for p in plans}
    for path, err in refused.items():
        results[path] = EntityResult(path, 0, outcome=FAILED, error=err)
    ordered = [results[e.path] for e in selected]
    if options.dry_run or store is None:
        return SyncResult(run_id, upper, ordered, dry_run=True)

    detail = orjson.dumps(
        {
            "upper": upper.isoformat(),
            "since": options.since.isoformat() if options.since else None,
            "until": options.until.isoformat() if options.until else None,
            "full_refresh": options.full_refresh,
        }
    ).decode()
    for e, p in zip(entities, plans, strict=True):
        store.plan(run_id, p.new, replace_pending=p.replace_pending)
        store.start_run(run_id, e, datetime.now(UTC), detail)
    for e in selected:
        if e.path in refused:
            store.start_run(run_id, e, datetime.now(UTC), detail)
    _execute(cfg, client, store, entities, plans, results, run_id, options, progress, upper)
    for e in selected:
        r = results[e.path]
        s = r.stats
        stats = RunStats(r.rows, r.pages, s.requests, s.retries, s.throttled, s.errors)
        message = str(r.error) if r.error else None
        r.outcome = FAILED if r.error else SUCCESS
        try:
            store.finish_run(run_id, e, stats, r.outcome, message)
        except StoreError as exc:
            log.error("could not record the end of run %s: %s", run_id, exc)
    return SyncResult(run_id, upper, [results[e.path] for e in selected])


def _execute(
    cfg: Config,
    client: ApiClient,
    store: Store,
    entities: Sequence[Entity],
    plans: Sequence[EntityPlan],
    results: dict[str, EntityResult],
    run_id: str,
    options: SyncOptions,
    progress: ProgressFn | None,
    upper: datetime,
) -> None:
    workers = max(1, options.workers or cfg.sync.workers)
    batch_size = max(1, min(cfg.sync.batch_size, MAX_BATCH_ROWS))
    if cfg.sync.batch_size > MAX_BATCH_ROWS:
        log.warning("[sync] batch_size %s capped at %s (memory bound)", cfg.sync.batch_size, MAX_BATCH_ROWS)
    by_path = {e.path: e for e in entities}
    stop = threading.Event()
    failed: set[str] = set()
    q: queue.Queue[Any] = queue.Queue(maxsize=max(1, workers))
    writer_error: list[BaseException] = []
    empty: list[tuple[Entity, Window, int]] = []  # windows the API answered with no row
    empty_lock = threading.Lock()
    retained_from = upper - timedelta(days=RETENTION_DAYS - 1)  # older rows may have left the API

    def fail(path: str, err: MwdataError) -> None:
        r = results[path]
        if r.error is None:
            r.error = err
            log.error("%s: %s", path, err)
        failed.add(path)

    def writer() -> None:
        while True:
            item = q.get()
            if item is _STOP:
                return
            if writer_error or item.entity.path in failed:
                continue
            try:
                store.write(
                    item.entity,
                    item.chunks,
                    item.window,
                    rows=item.rows,
                    unique=item.unique,
                    last_id=item.last_id,
                    pages=item.pages,
                    done=item.done,
                    run_id=run_id,
                )
            except BaseException as exc:  # a store failure stops the whole run
                writer_error.append(exc)
                stop.set()
                continue
            r = results[item.entity.path]
            r.rows += item.rows
            r.pages += item.pages
            if progress:
                progress(item.entity.path, item.rows, item.done)

    def read(w: Window) -> None:
        e = by_path[w.entity]
        if stop.is_set() or e.path in failed:
            return
        stats = results[e.path].stats
        chunks: list[Any] = []
        ids: set[Any] = set()
        rows = pages = read_rows = 0
        unique = True
        last = w.last_id
        fresh = w.last_id is None and w.rows == 0
        try:
            for page in client.window_pages(e, w.lo, w.hi, w.last_id, stats):
                if stop.is_set() or e.path in failed:
                    return
                read_rows += len(page.records)
                if page.records:
                    chunks.append(store.encode(e, page.records))
                    if unique:
                        try:
                            ids.update(r.get(e.key) for r in page.records)
                        except TypeError:
                            ids.clear()
                            unique = False
                    rows += len(page.records)
                    unique = unique and len(ids) == rows
                pages += 1
                last = page.last_id
                if rows >= batch_size:
                    q.put(_Item(e, w, chunks, rows, unique, last, pages, False))
                    chunks, rows, pages, unique = [], 0, 0, True
                    ids = set()
            if fresh and read_rows == 0 and w.lo >= retained_from:
                with empty_lock:
                    empty.append((e, w, pages))  # closed at the end, if the store agrees it is empty
                return
            q.put(_Item(e, w, chunks, rows, unique, last, pages, True))
        except MwdataError as err:
            fail(e.path, err)
            if not isinstance(err, ScopeError):
                log.debug("window %s [%s, %s) failed at id %r", e.path, w.lo, w.hi, last)

    wt = threading.Thread(target=writer, name="mwdata-writer", daemon=True)
    wt.start()
    windows = [w for p in plans for w in p.windows]
    # Oldest first across entities so the watermarks advance early; parents before children.
    windows.sort(key=lambda w: (w.lo, [e.path for e in entities].index(w.entity)))
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mwdata-read") as pool:
            futures: list[Future[None]] = [pool.submit(read, w) for w in windows]
            for f in futures:
                while True:
                    try:
                        f.result(timeout=0.5)
                        break
                    except TimeoutError:
                        continue
    except BaseException:
        stop.set()
        raise
    finally:
        q.put(_STOP)
        wt.join()
    if writer_error:
        err = writer_error[0]
        if isinstance(err, MwdataError):
            for e in entities:
                fail(e.path, err)
            return
        raise err
    try:
        _close_empty_windows(store, empty, failed, fail, run_id, progress)
    except StoreError as err:
        for e in entities:
            fail(e.path, err)


def _close_empty_windows(
    store: Store,
    empty: Sequence[tuple[Entity, Window, int]],
    failed: set[str],
    fail: Callable[[str, MwdataError], None],
    run_id: str,
    progress: ProgressFn | None,
) -> None:
    """Close the windows the API answered with no row — unless the store holds rows whose newest
    version lies in that window, which the API, keeping 30 days, should have returned: then
    something is wrong (a setting, the server, the tenant) and closing the window would move the
    watermark past rows never re-read. Those windows stay unfinished, so the next sync reads them
    again, and the entity's run fails with a message naming them.

    Checked after every other window of the run was written: a row the API re-stamped into a later
    window has by then moved out of this one in the store, so it does not count."""
    suspicious: dict[str, list[tuple[Window, int]]] = {}
    for e, w, pages in sorted(empty, key=lambda x: x[1].lo):
        if e.path in failed:
            continue
        held = store.count_rows(e, w.lo, w.hi)
        if held:
            suspicious.setdefault(e.path, []).append((w, held))
            continue
        store.write(e, [], w, rows=0, last_id=None, pages=pages, done=True, run_id=run_id)
        if progress:
            progress(e.path, 0, True)
    for path, found in suspicious.items():
        rows = sum(n for _, n in found)
        first = found[0][0]
        log.warning(
            "%s: %d window(s) came back empty although the store holds %d of their rows",
            path,
            len(found),
            rows,
        )
        fail(
            path,
            ApiError(
                f"{path}: the Data API returned no rows for {len(found)} window(s) of last_updated_time "
                f"from {first.lo:%Y-%m-%d %H:%M} UTC, although the store already holds {rows} rows "
                "there that the API should still have. Those windows were left unfinished, so the "
                "watermark did not move past them and the next sync reads them again. Check [api] "
                "page_size and the tenant (base_url, org); if the API really dropped these rows, "
                "`mwdata status` shows the windows pending"
            ),
        )


def window_summary(plans: Sequence[EntityPlan]) -> list[dict[str, Any]]:
    """A JSON-friendly view of a plan (for --dry-run)."""
    out = []
    for p in plans:
        ws = p.windows
        out.append(
            {
                "entity": p.entity,
                "windows": len(ws),
                "resumed": len(p.resume),
                "from": ws[0].lo.isoformat() if ws else None,
                "to": ws[-1].hi.isoformat() if ws else None,
            }
        )
    return out
