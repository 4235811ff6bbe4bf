"""The simulated Data API: a real threaded HTTP/1.1 server on loopback serving a Dataset
(the protocol of docs/data-api.md).

Records are versioned (re-emission adds a version); what is served follows a simulated clock: a version is
visible once its `last_updated_time <= now`, and rows older than `now - retention_days` are gone.
Paging uses an opaque `$skiptoken` holding the query and an offset: offset paging over changing data,
which is the real API's hazard, kept on purpose.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import logging
import math
import random
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import numpy as np
import orjson

from mwdata.catalog import BY_PATH, ENTITIES, Entity
from mwdata.errors import ConfigError
from mwdata.simulator.generator import Dataset, ts
from mwdata.simulator.odata import (
    QueryError,
    compile_filter,
    id_lower_bound,
    instant,
    lut_window,
    order,
    parse_orderby,
    split_keyset,
)
from mwdata.simulator.store import RecordStore, RecordView, lut_micros

Record = dict[str, Any]
log = logging.getLogger("mwdata.simulator")
# What a client closing or resetting its connection raises in the handler: normal, not a server fault.
_CLIENT_GONE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One debug line for a connection the client closed or reset; the default traceback otherwise."""

        exc = sys.exc_info()[1]
        if isinstance(exc, _CLIENT_GONE):
            log.debug("connection from %s:%s closed by the client (%s)", *client_address[:2], exc)
            return
        super().handle_error(request, client_address)


@dataclass(frozen=True)
class SimulatorConfig:
    """Every knob of the simulated API (see docs/simulator.md)."""

    api_keys: dict[str, tuple[str, ...] | None] = field(
        default_factory=lambda: {"key-all": None, "key-conv": ("conversations",)}
    )  # key -> entity paths it may read (None = all)
    clients: dict[str, tuple[str, tuple[str, ...] | None]] = field(
        default_factory=lambda: {"cid": ("secret", None), "client-id": ("secret", None)}
    )  # OAuth client_id -> (secret, scopes)
    token_lifetime_s: float = 3600
    page_size: int = 500
    max_top: int = 1000
    rate_limit_per_minute: float | None = None
    retry_after: bool = False
    error_shape: str = "flat"  # "flat" {code, message} | "nested" {error: {code, message}}
    nextlink_spelling: str = "@odata.nextLink"
    omit_empty_value: bool = False
    latency_s: float = 0.0
    fail_rate: float = 0.0
    truncate_rate: float = 0.0
    drop_rate: float = 0.0
    seed: int = 0
    now: datetime | None = None
    retention_days: int = 30
    visibility: bool = True  # False: serve every latest version whatever the clock says

    def __post_init__(self) -> None:
        if self.error_shape not in ("flat", "nested"):
            raise ConfigError(f"error_shape must be 'flat' or 'nested', not {self.error_shape!r}")
        if self.page_size < 1 or self.max_top < 1:
            raise ConfigError("page_size and max_top must be at least 1")
        for name in ("fail_rate", "truncate_rate", "drop_rate"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(f"{name} must be between 0 and 1")


@dataclass
class Stats:
    requests: int = 0
    pages: int = 0
    rows_served: int = 0
    throttled: int = 0
    server_errors: int = 0
    truncated: int = 0
    dropped: int = 0
    client_errors: int = 0
    tokens_issued: int = 0


class _Index:
    """Sort keys of one entity's versions, rebuilt when versions are added: `uniq` the distinct ids in
    order, `rank` each version's id position in it, `luts`, and `perm` the versions by (id, lut)."""

    __slots__ = ("n", "uniq", "rank", "luts", "perm")

    def __init__(self, store: RecordStore) -> None:
        self.n = len(store)
        self.uniq = sorted(set(store.ids))
        pos = {s: i for i, s in enumerate(self.uniq)}
        self.rank = np.fromiter((pos[s] for s in store.ids), dtype=np.int64, count=self.n)
        self.luts = np.array(store.luts, dtype=np.int64)
        self.perm = np.lexsort((self.luts, self.rank))  # stable: equal stamps keep their append order

    def extend(self, store: RecordStore) -> bool:
        """Take in versions appended since; False when one has a new id (the ranks must be rebuilt)."""
        if self.n == len(store):
            return True
        new = store.ids[self.n :]
        ranks = [bisect.bisect_left(self.uniq, s) for s in new]
        if any(r >= len(self.uniq) or self.uniq[r] != s for r, s in zip(ranks, new, strict=True)):
            return False
        self.rank = np.concatenate((self.rank, np.array(ranks, dtype=np.int64)))
        self.luts = np.concatenate((self.luts, np.array(store.luts[self.n :], dtype=np.int64)))
        self.n = len(store)
        self.perm = np.lexsort((self.luts, self.rank))
        return True

    def position(self, after: str, inclusive: bool) -> tuple[int, str]:
        """(rank, searchsorted side) of the first id after `after` (or at it, when inclusive)."""
        p = bisect.bisect_left(self.uniq, after)
        exact = p < len(self.uniq) and self.uniq[p] == after
        return p, "right" if exact and not inclusive else "left"


class _Visible:
    """The latest visible, retained version of every id at one data version: indices in id order."""

    __slots__ = ("idx", "rank", "by_lut", "by_lut_luts")

    def __init__(self, idx: np.ndarray, rank: np.ndarray) -> None:
        self.idx, self.rank = idx, rank
        self.by_lut: np.ndarray | None = None
        self.by_lut_luts: np.ndarray | None = None


class _ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class SimulatorServer:
    """The simulated API on 127.0.0.1 (a free port unless given), served from a background thread."""

    def __init__(self, dataset: Dataset, config: SimulatorConfig | None = None, *, host: str = "127.0.0.1",
                 port: int = 0) -> None:  # fmt: skip
        self.config = config or SimulatorConfig()
        self.dataset = dataset
        self._lock = threading.RLock()
        # the dataset's encoded records are shared (bytes are immutable); new versions go to own lists
        self._stores: dict[str, RecordStore] = {e.path: RecordStore() for e in ENTITIES}
        for path, rows in dataset.records.items():
            self._stores[path] = rows.copy() if isinstance(rows, RecordStore) else RecordStore(rows)
        self._index: dict[str, _Index] = {}
        end = self.config.now or dataset.end or datetime.now(UTC)
        self._now = end if end.tzinfo else end.replace(tzinfo=UTC)
        self._data_version = 0
        self._current: dict[str, tuple[int, _Visible]] = {}
        self._results: dict[tuple[Any, ...], list[int]] = {}
        self._windows: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = {}
        self._tokens: dict[str, tuple[float, tuple[str, ...] | None]] = {}
        self._buckets: dict[str, tuple[float, float]] = {}
        self._hook: Callable[..., None] | None = None
        self.stats = Stats()
        self._rngs = self._make_rngs()
        self._host, self._port = host, port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> SimulatorServer:
        if self._httpd is None:
            handler = type("Handler", (_Handler,), {"sim": self})
            self._httpd = _HTTPServer((self._host, self._port), handler)
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, name="mwdata-simulator", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the simulator is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def records_url(self) -> str:
        return f"{self.base_url}/export/v1beta2/records"

    @property
    def api_key(self) -> str:
        for k, scopes in self.config.api_keys.items():
            if scopes is None:
                return k
        raise ConfigError("no API key with all scopes is configured")

    # -- clock and data ----------------------------------------------------------------------------
    def now(self) -> datetime:
        return self._now

    def set_now(self, when: datetime) -> None:
        with self._lock:
            self._now = when if when.tzinfo else when.replace(tzinfo=UTC)
            self._changed()

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self._now = self._now + timedelta(**delta)
            self._changed()
            return self._now

    def update_config(self, **knobs: Any) -> None:
        names = {f.name for f in fields(SimulatorConfig)}
        bad = set(knobs) - names
        if bad:
            raise ConfigError(f"unknown simulator knob(s): {', '.join(sorted(bad))}")
        with self._lock:
            self.config = replace(self.config, **knobs)
            if "seed" in knobs:
                self._rngs = self._make_rngs()
            if "now" in knobs and knobs["now"] is not None:
                self.set_now(knobs["now"])
            self._changed()

    def on_request(self, callback: Callable[..., None] | None) -> None:
        """Call `callback(entity_path, query)` before each page is computed (None removes it)."""
        self._hook = callback

    def truth(self, entity: str) -> Sequence[Record]:
        """What a perfect sync holds now: the latest visible, retained version of every id, in id order
        (decoded as it is read)."""
        path = BY_PATH[entity].path
        return RecordView(self._stores[path].bodies, self._visible(path).idx)

    def count(self, entity: str) -> int:
        """len(truth(entity)) without decoding anything."""
        return len(self._visible(BY_PATH[entity].path).idx)

    def reemit(self, entity: str, fraction: float = 0.01, seed: int = 0) -> list[str]:
        """Give a fraction of the served rows a new version stamped `now`; returns their ids."""
        path = BY_PATH[entity].path
        rng = random.Random(seed)
        with self._lock:
            # 1 ms before now: visible now, and inside a sync window [lo, now) run at this clock.
            # Rows already stamped there are left alone: the real API never gives two different
            # versions of a record the same last_updated_time (the clock may stand still here).
            stamp = ts(self._now - timedelta(milliseconds=1))
            store, vis = self._stores[path], self._visible(path).idx
            luts = self._indexed(path).luts
            rows = vis[luts[vis] < lut_micros(stamp)].tolist()
            k = min(len(rows), max(1, round(len(rows) * fraction))) if rows else 0
            picked = [store[j] for j in rng.sample(rows, k)]
            for old in picked:
                rec = dict(old, last_updated_time=stamp)
                if (
                    path == "plugin-calls"
                    and rec.get("served")
                    and not rec.get("used")
                    and rng.random() < 0.5
                ):
                    rec["used"] = True
                    rec["plugin_update_time"] = stamp
                store.append(rec)
            self._changed()
            return [r["id"] for r in picked]

    def upsert(self, entity: str, records: list[Record]) -> None:
        """Add records (new ids or new versions)."""
        path = BY_PATH[entity].path
        with self._lock:
            for r in records:
                self._stores[path].append(r)
            self._changed()

    def _changed(self) -> None:
        self._data_version += 1
        self._results.clear()
        self._windows.clear()

    def _indexed(self, path: str) -> _Index:
        with self._lock:
            store = self._stores[path]
            ix = self._index.get(path)
            if ix is None or not ix.extend(store):
                ix = self._index[path] = _Index(store)
            return ix

    def _visible(self, path: str) -> _Visible:
        """Latest visible version per id, in id order (cached per data version)."""
        with self._lock:
            dv = self._data_version
            hit = self._current.get(path)
            if hit is not None and hit[0] == dv:
                return hit[1]
            ix = self._indexed(path)
            rank, luts = ix.rank[ix.perm], ix.luts[ix.perm]
            if self.config.visibility:
                now = instant(ts(self._now))
                seen = luts <= now
            else:
                now, seen = None, np.ones(ix.n, dtype=bool)
            # versions are sorted by (id, lut): the visible ones of an id are a prefix of its run, and the
            # latest visible is the last of that prefix
            last = np.ones(ix.n, dtype=bool)
            if ix.n:
                last[:-1] = (rank[1:] != rank[:-1]) | ~seen[1:]
            keep = seen & last
            if now is not None and not self.dataset.fixed:
                keep &= luts >= now - self.config.retention_days * 86_400_000_000
            vis = _Visible(ix.perm[keep], rank[keep])
            self._current[path] = (dv, vis)
            return vis

    # -- request handling --------------------------------------------------------------------------
    def _make_rngs(self) -> dict[str, random.Random]:
        return {k: random.Random(f"{self.config.seed}-{k}") for k in ("fail", "truncate", "drop", "code")}

    def _roll(self, name: str, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._rngs[name].random() < rate

    def _auth(self, header: str | None) -> tuple[str, tuple[str, ...] | None]:
        if not header:
            raise _ApiError(401, "AUTHENTICATION_FAILED", "missing Authorization header")
        cred = header[7:].strip() if header[:7].lower() == "bearer " else header.strip()
        if cred in self.config.api_keys:
            return cred, self.config.api_keys[cred]
        tok = self._tokens.get(cred)
        if tok is not None:
            if tok[0] < time.monotonic():
                raise _ApiError(401, "AUTHENTICATION_FAILED", "access token expired; request a new one")
            return cred, tok[1]
        raise _ApiError(401, "AUTHENTICATION_FAILED", "invalid credential")

    def _throttle(self, cred: str) -> None:
        rpm = self.config.rate_limit_per_minute
        if not rpm:
            return
        rate, cap = rpm / 60.0, max(1.0, rpm / 6000.0)  # burst: a hundredth of a second's worth
        with self._lock:
            t = time.monotonic()
            level, last = self._buckets.get(cred, (cap, t))
            level = min(cap, level + (t - last) * rate)
            if level < 1:
                self._buckets[cred] = (level, t)
                self.stats.throttled += 1
                hdr = (
                    {"Retry-After": str(max(1, math.ceil((1 - level) / rate)))}
                    if self.config.retry_after
                    else {}
                )
                raise _ApiError(429, "RATE_LIMIT_EXCEEDED", "too many requests", hdr)
            self._buckets[cred] = (level - 1, t)

    def issue_token(self, body: bytes) -> bytes:
        try:
            req = orjson.loads(body or b"{}")
        except orjson.JSONDecodeError:
            raise _ApiError(400, "INVALID_REQUEST", "token request body must be JSON") from None
        if not isinstance(req, dict) or req.get("grant_type") != "client_credentials":
            raise _ApiError(400, "INVALID_REQUEST", "grant_type must be client_credentials")
        client = self.config.clients.get(str(req.get("client_id")))
        if client is None or not secrets.compare_digest(str(req.get("client_secret")), client[0]):
            raise _ApiError(401, "AUTHENTICATION_FAILED", "invalid client credentials")
        token = secrets.token_urlsafe(24)
        life = self.config.token_lifetime_s
        with self._lock:
            self._tokens[token] = (time.monotonic() + life, client[1])
            self.stats.tokens_issued += 1
        return orjson.dumps(
            {"data": {"access_token": token, "expires_in": int(life), "token_type": "Bearer"}}
        )

    def answer(self, path: str, query: str, auth: str | None) -> tuple[int, str, bytes, dict[str, str]]:
        """(status, content type, body, headers) of a GET."""
        parts = [p for p in path.split("/") if p]
        if (
            len(parts) < 4
            or parts[0] != "export"
            or parts[1] not in ("v1", "v1beta2")
            or parts[2] != "records"
        ):
            raise _ApiError(404, "NOT_FOUND", f"no such resource: {path}")
        name = parts[3]
        entity = BY_PATH.get(name)
        if entity is None:
            known = ", ".join(e.path for e in ENTITIES)
            raise _ApiError(404, "NOT_FOUND", f"unknown entity {name!r}; known: {known}")
        cred, scopes = self._auth(auth)
        if scopes is not None and entity.path not in scopes:
            raise _ApiError(
                403, "FORBIDDEN", f"credential lacks the '{entity.scope}' scope for {entity.path}"
            )
        self._throttle(cred)
        count_only = len(parts) == 5 and parts[4] == "$count"
        if len(parts) > 4 and not count_only:
            raise _ApiError(404, "NOT_FOUND", f"no such resource: {path}")
        q = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        if "$skiptoken" in q:
            try:
                state = orjson.loads(base64.urlsafe_b64decode(q["$skiptoken"].encode()))
                q, offset = state["q"], int(state["offset"])
            except Exception:
                raise _ApiError(400, "INVALID_REQUEST", "invalid $skiptoken") from None
        else:
            offset = 0
        hook = self._hook
        if hook is not None:
            hook(entity.path, dict(q))
        skip = _int(q, "$skip", 0)
        top = _int(q, "$top", None)
        if top is not None and top > self.config.max_top:
            top = self.config.max_top
        start = skip + offset
        limit = self.config.page_size if top is None else max(0, min(self.config.page_size, top - offset))
        total: int | None = None
        fast = (
            None
            if count_only or q.get("$count", "").lower() == "true"
            else self._keyset(entity, q, start, limit)
        )
        if fast is not None:
            chunk, more = fast
        else:
            rows = self._query(entity, q)
            total = len(rows)
            if count_only:
                return 200, "text/plain", str(total).encode(), {}
            chunk = rows[start : start + limit]
            more = start + limit < total
        page = len(chunk)
        if top is not None and offset + page >= top:
            more = False
        select = [s.strip() for s in q.get("$select", "").split(",") if s.strip()]
        for s in select:
            if s not in entity.field_names:
                raise _ApiError(400, "INVALID_REQUEST", f"$select: unknown field {s!r} on {entity.path}")
        base = f"{self.base_url}/export/{parts[1]}/records/{entity.path}"
        out = bytearray(b'{"@odata.context":' + orjson.dumps(f"{base}/$metadata#{entity.path}"))
        if total is not None and q.get("$count", "").lower() == "true":
            out += b',"@odata.count":' + str(total).encode()
        if chunk or not self.config.omit_empty_value:
            out += b',"value":['
            bodies = self._stores[entity.path].bodies
            if select:
                out += b",".join(orjson.dumps({k: r.get(k) for k in select}) for r in _decode(bodies, chunk))
            else:
                out += b",".join([bodies[j] for j in chunk])
            out += b"]"
        if more and page:
            token = base64.urlsafe_b64encode(orjson.dumps({"q": q, "offset": offset + page})).decode()
            out += b"," + orjson.dumps(self.config.nextlink_spelling) + b":"
            out += orjson.dumps(f"{base}?$skiptoken={quote(token)}")
        out += b"}"
        with self._lock:
            self.stats.pages += 1
            self.stats.rows_served += len(chunk)
        return 200, "application/json", bytes(out), {}

    def _keyset(
        self, entity: Entity, q: dict[str, str], start: int, limit: int
    ) -> tuple[list[int], bool] | None:
        """Fast path for `id gt '<x>' and ...` ordered by id: bisect, then filter only as far as the page."""
        if q.get("$orderby", "id").strip() not in ("id", "id asc"):
            return None
        try:
            split = split_keyset(q.get("$filter"))
        except QueryError as exc:
            raise _ApiError(400, "INVALID_REQUEST", str(exc)) from None
        if split is not None:
            return self._keyset_window(entity, split, start, limit)
        try:
            bound = id_lower_bound(q.get("$filter"))
            if bound is None:
                return None
            pred = compile_filter(entity, q.get("$filter"))
        except QueryError as exc:
            raise _ApiError(400, "INVALID_REQUEST", str(exc)) from None
        vis = self._visible(entity.path)
        p, side = self._indexed(entity.path).position(*bound)
        i = int(np.searchsorted(vis.rank, p, side=side))  # type: ignore[call-overload]
        bodies = self._stores[entity.path].bodies
        out: list[int] = []
        seen = 0
        for lo in range(i, len(vis.idx), 4096):  # in chunks: no copy of the whole tail per page
            for j in vis.idx[lo : lo + 4096].tolist():
                if pred is None or pred(orjson.loads(bodies[j])):
                    if seen >= start:
                        if len(out) == limit:
                            return out, True
                        out.append(j)
                    seen += 1
        return out, False

    def _keyset_window(
        self, entity: Entity, split: tuple[str, bool, str], start: int, limit: int
    ) -> tuple[list[int], bool]:
        """A flat conjunction with an id bound: the rows matching the rest of the filter (one time window,
        typically) are selected once per data version and kept in id order with their id ranks; each page
        is then a bisect and a slice, whatever the window's share of the entity."""
        after, inclusive, rest = split
        path = entity.path
        with self._lock:
            key = ("keyset", path, self._data_version, rest)
            hit = self._windows.get(key)
        if hit is None:
            try:
                pred = compile_filter(entity, rest)
                window = lut_window(rest)
            except QueryError as exc:
                raise _ApiError(400, "INVALID_REQUEST", str(exc)) from None
            vis = self._visible(path)
            ix = self._indexed(path)
            if window is not None:  # the sync's shape: bisect the lut-sorted rows, sort the slice by id
                by_lut, luts = self._by_lut(path, vis)
                lo, hi = np.searchsorted(luts, window[0]), np.searchsorted(luts, window[1])
                rows = by_lut[lo:hi]
                rows = rows[np.argsort(ix.rank[rows], kind="stable")]
            elif pred is not None:
                bodies = self._stores[path].bodies
                rows = np.array(
                    [j for j in vis.idx.tolist() if pred(orjson.loads(bodies[j]))], dtype=np.int64
                )
            else:
                rows = vis.idx
            hit = (rows, ix.rank[rows])
            with self._lock:
                if key[2] == self._data_version:
                    while len(self._windows) >= 64:  # oldest first (dicts keep insertion order)
                        del self._windows[next(iter(self._windows))]
                    self._windows[key] = hit
        rows, ranks = hit
        p, side = self._indexed(path).position(after, inclusive)
        i = int(np.searchsorted(ranks, p, side=side)) + start  # type: ignore[call-overload]
        return rows[i : i + limit].tolist(), i + limit < len(rows)

    def _by_lut(self, path: str, vis: _Visible) -> tuple[np.ndarray, np.ndarray]:
        """The visible rows sorted by last_updated_time, with their instants (cached with `vis`)."""
        with self._lock:
            if vis.by_lut is None or vis.by_lut_luts is None:
                luts = self._indexed(path).luts
                vis.by_lut = vis.idx[np.argsort(luts[vis.idx], kind="stable")]
                vis.by_lut_luts = luts[vis.by_lut]
            return vis.by_lut, vis.by_lut_luts

    def _query(self, entity: Entity, q: dict[str, str]) -> list[int]:
        vis = self._visible(entity.path)
        key = (entity.path, self._data_version, q.get("$filter"), q.get("$orderby"))
        hit = self._results.get(key)
        if hit is not None:
            return hit
        try:
            pred = compile_filter(entity, q.get("$filter"))
            keys = parse_orderby(entity, q.get("$orderby"))
        except QueryError as exc:
            raise _ApiError(400, "INVALID_REQUEST", str(exc)) from None
        rows: list[int] = vis.idx.tolist()
        ordered = bool(keys) and keys != [("id", False)]
        if pred is not None or ordered:
            bodies = self._stores[entity.path].bodies
            recs = [(j, orjson.loads(bodies[j])) for j in rows]
            if pred is not None:
                recs = [(j, r) for j, r in recs if pred(r)]
            if ordered:
                by_obj = {id(r): j for j, r in recs}
                rows = [by_obj[id(r)] for r in order(entity, [r for _, r in recs], keys)]
            else:
                rows = [j for j, _ in recs]
        with self._lock:
            if len(self._results) > 256:
                self._results.clear()
            self._results[key] = rows
        return rows

    def error_body(self, code: str, message: str) -> bytes:
        body: dict[str, Any] = {"code": code, "message": message}
        return orjson.dumps({"error": body} if self.config.error_shape == "nested" else body)


def _decode(bodies: list[bytes], idx: list[int]) -> Iterator[Record]:
    return (orjson.loads(bodies[j]) for j in idx)


def _int(q: dict[str, str], name: str, default: int | None) -> Any:
    if name not in q:
        return default
    try:
        n = int(q[name])
    except ValueError:
        raise _ApiError(400, "INVALID_REQUEST", f"{name} must be a non-negative integer") from None
    if n < 0:
        raise _ApiError(400, "INVALID_REQUEST", f"{name} must be a non-negative integer")
    return n


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle on, the body waits for the client's delayed ACK
    # (~40 ms on Linux loopback) on every response.
    disable_nagle_algorithm = True
    sim: SimulatorServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: the simulator's stats say what happened."""

    def _send(self, status: int, ctype: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _fail(self, err: _ApiError) -> None:
        sim = self.sim
        if err.status >= 500:
            sim.stats.server_errors += 1
        elif err.status != 429:
            sim.stats.client_errors += 1
        self._send(err.status, "application/json", sim.error_body(err.code, err.message), err.headers)

    def _faults(self) -> bool:
        """Apply latency/drop/5xx; True when the request was already answered (or dropped)."""
        sim, cfg = self.sim, self.sim.config
        if cfg.latency_s > 0:
            time.sleep(cfg.latency_s)
        if sim._roll("drop", cfg.drop_rate):
            sim.stats.dropped += 1
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if sim._roll("fail", cfg.fail_rate):
            with sim._lock:
                status = sim._rngs["code"].choice((500, 502, 503))
            self._fail(_ApiError(status, "INTERNAL_ERROR", f"simulated HTTP {status}"))
            return True
        return False

    def do_GET(self) -> None:  # noqa: N802
        sim = self.sim
        with sim._lock:
            sim.stats.requests += 1
        url = urlsplit(self.path)
        try:
            if self._faults():
                return
            status, ctype, body, headers = sim.answer(url.path, url.query, self.headers.get("Authorization"))
        except _ApiError as err:
            self._fail(err)
            return
        if sim._roll("truncate", sim.config.truncate_rate) and len(body) > 2:
            sim.stats.truncated += 1
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(status, ctype, body, headers)

    def do_POST(self) -> None:  # noqa: N802
        sim = self.sim
        with sim._lock:
            sim.stats.requests += 1
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            if urlsplit(self.path).path.rstrip("/") != "/oauth/v1/token":
                raise _ApiError(404, "NOT_FOUND", f"no such resource: {self.path}")
            self._send(200, "application/json", sim.issue_token(body))
        except _ApiError as err:
            self._fail(err)
