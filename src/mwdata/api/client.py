"""The Data API client: one `httpx.Client`, shared pacing, retries, clear errors.

Failure handling (docs/data-api.md, "Errors" and "Rate limits"):
- 429: hold every worker for `Retry-After` (seconds or HTTP date) or an exponential backoff, and
  lower the shared rate (see `Pacer`); does not consume the retry budget until `max_retries * 4`.
- 5xx / 408, timeouts, dropped connections, truncated or non-JSON bodies: exponential backoff with
  jitter, up to `max_retries` attempts, then `ApiError`.
- 401: refresh the OAuth token once and retry; otherwise `AuthError`. 403: `ScopeError` naming the
  entity and its scope. 400/404/410 and other 4xx: `ApiError` showing the query (never a header).
- Bounds (`[api]`): one request, body included, ends at `request_deadline_seconds` (then it counts as
  a timeout and is retried); a body inflating past `max_body_mb` is an `ApiError` at once (the same
  answer would come again); retrying one request stops after `give_up_seconds` in total, and from then
  on the client fails every request at once, so a dead API ends a sync in about that time.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import httpx
import orjson

from mwdata.api.auth import Auth, make_auth
from mwdata.api.limits import ACCEPT_ENCODING, BodyTooLarge, Deadline, UnknownEncoding, read_body
from mwdata.api.odata import BadBody, check_page_order, parse_envelope, parse_error, window_filter
from mwdata.api.pacing import Pacer
from mwdata.catalog import Entity
from mwdata.config import ApiConfig
from mwdata.errors import ApiError, AuthError, ScopeError

log = logging.getLogger("mwdata.api")


@dataclass
class RequestStats:
    """Counters of one entity's requests (updated from several worker threads)."""

    requests: int = 0
    pages: int = 0
    rows: int = 0
    retries: int = 0
    throttled: int = 0
    errors: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)


@dataclass
class Page:
    records: list[dict[str, Any]]
    next_link: str | None
    last_id: str | None = None  # keyset cursor after this page (window_pages only)


class _Retry(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


class ApiClient:
    def __init__(
        self,
        cfg: ApiConfig,
        *,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        max_connections: int = 8,
    ) -> None:
        self.cfg = cfg
        self.records_url = cfg.records_url
        self._http = httpx.Client(
            timeout=cfg.timeout_seconds,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={
                "Accept": "application/json",
                "User-Agent": "mwdata",
                "Accept-Encoding": ACCEPT_ENCODING,
            },
        )
        self._deadline = Deadline()
        self._deadline.install(self._http)
        self._gave_up: str | None = None  # why the client gave up on the API: later requests fail at once
        self.auth: Auth = make_auth(cfg, self._http)
        self.pacer = Pacer(cfg.requests_per_minute, sleep=sleep)
        self._sleep = sleep
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._connected = False
        self.page_cap: int | None = None  # the server's observed maximum $top
        self._short_pages_lie = False  # a short page without a next link once had rows behind it

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ----------------------------------------------------------------------------
    def get_page(self, entity: Entity, params: dict[str, str], stats: RequestStats | None = None) -> Page:
        """One page of `entity` for these OData query options, with retries."""
        stats = stats or RequestStats()
        url = f"{self.records_url}/{entity.path}"
        failures = throttles = 0
        auth_retried = False
        started = time.monotonic()
        while True:
            if self._gave_up:
                raise ApiError(f"already gave up on the Data API in this run: {self._gave_up}")
            self.pacer.acquire()
            stats.add(requests=1)
            try:
                return self._attempt(entity, url, params, stats)
            except _Throttled as t:
                throttles += 1
                stats.add(throttled=1)
                if throttles > self.cfg.max_retries * 4:
                    raise ApiError(
                        f"the API kept answering 429 (rate limited) for {entity.path} after {throttles} "
                        f"tries; lower requests_per_minute in [api] of mwdata.toml"
                    ) from None
                hold = t.retry_after if t.retry_after is not None else self._backoff(throttles)
                self._give_up_if_late(started, hold, "HTTP 429 (rate limited)")
                self.pacer.throttled(hold)
            except _Unauthorized:
                if not auth_retried and self.auth.invalidate():
                    auth_retried = True
                    continue
                raise AuthError(
                    f"the Data API rejected the credential (HTTP 401) at {self.cfg.host}; check "
                    "MWDATA_API_KEY (or MWDATA_CLIENT_ID / MWDATA_CLIENT_SECRET) and that the credential "
                    "was created for the Data API and not deleted"
                ) from None
            except _Retry as r:
                failures += 1
                stats.add(retries=1, errors=1)
                if not self._connected and failures >= 3 and r.reason.startswith("connect"):
                    raise ApiError(
                        f"cannot connect to the Data API at {self.cfg.host} ({r.reason}); check "
                        "MWDATA_BASE_URL / MWDATA_REGION and the network"
                    ) from None
                if failures > self.cfg.max_retries:
                    raise ApiError(
                        f"giving up on {entity.path} after {failures} failed attempts (last: {r.reason}); "
                        f"query: {_describe(url, params)}"
                    ) from None
                delay = self._backoff(failures)
                self._give_up_if_late(started, delay, r.reason)
                self._sleep(delay)

    def _give_up_if_late(self, started: float, delay: float, reason: str) -> None:
        """Raise (and remember) if waiting `delay` more would retry past `give_up_seconds`."""
        limit = self.cfg.give_up_seconds
        spent = time.monotonic() - started
        if spent + delay <= limit:
            return
        self._gave_up = (
            f"no usable answer from {self.cfg.host} for {spent:.0f} s (give_up_seconds = {limit:g} in "
            f"[api]; last: {reason}); the next sync resumes where this one stopped"
        )
        raise ApiError(f"gave up on the Data API: {self._gave_up}")

    def _attempt(self, entity: Entity, url: str, params: dict[str, str], stats: RequestStats) -> Page:
        headers = {"Authorization": self.auth.header()}
        limit = int(self.cfg.max_body_mb * 2**20)
        deadline = self.cfg.request_deadline_seconds
        t0 = time.monotonic()
        try:
            with (
                self._deadline.of(deadline),
                self._http.stream("GET", url, params=params, headers=headers) as resp,
            ):
                status = resp.status_code
                body = read_body(resp, limit) if status == 200 else read_body(resp, 65536, truncate=True)
        except httpx.TimeoutException as exc:
            if time.monotonic() - t0 >= deadline - 0.05:
                raise _Retry(f"no complete answer within request_deadline_seconds = {deadline:g} s") from None
            raise _Retry(f"timeout ({type(exc).__name__})") from None
        except httpx.ConnectError as exc:
            raise _Retry(f"connect error ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise _Retry(f"connection dropped ({type(exc).__name__})") from None
        except BodyTooLarge:
            raise ApiError(
                f"the Data API's answer for {entity.path} is larger than max_body_mb = "
                f"{self.cfg.max_body_mb:g} MB once decompressed; refused without reading it further. "
                f"If the pages are genuinely this large, lower [api] page_size or raise max_body_mb; "
                f"query: {_describe(url, params)}"
            ) from None
        except UnknownEncoding as exc:
            raise ApiError(f"the Data API sent a body in an unsupported encoding {exc.args[0]!r}") from None
        except zlib.error as exc:
            raise _Retry(f"unusable body (bad compressed data: {exc})") from None
        self._connected = True
        if status == 200:
            try:
                records, next_link = parse_envelope(orjson.loads(body))
            except (orjson.JSONDecodeError, BadBody) as exc:
                raise _Retry(f"unusable body ({str(exc)[:80]})") from None
            self.pacer.succeeded()
            stats.add(pages=1, rows=len(records))
            return Page(records, next_link)
        if status == 429:
            raise _Throttled(_retry_after(resp.headers.get("Retry-After")))
        if status == 401:
            raise _Unauthorized()
        if status == 403:
            raise ScopeError(
                entity.path,
                f"the credential has no scope for '{entity.path}' (HTTP 403). In Moveworks Setup → "
                f"Credentials, add the '{entity.scope}' Data API scope, or sync without it "
                f"(--entities).",
            )
        if status >= 500 or status == 408:
            raise _Retry(f"HTTP {status}")
        code, message = parse_error(_json_or_none(body))
        detail = ": ".join(x for x in (code, message) if x) or body[:200].decode("utf-8", "replace")
        hint = {404: " (unknown entity, wrong base URL or API version?)", 410: " (API version retired?)"}
        raise ApiError(
            f"the Data API refused the query with HTTP {status}{hint.get(status, '')}: {detail}; "
            f"query: {_describe(url, params)}"
        )

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: base·2^(n-1), ±50 %, capped."""
        delay = min(self._backoff_max, self._backoff_base * 2 ** (attempt - 1))
        return delay * random.uniform(0.5, 1.5)

    # -- keyset paging -----------------------------------------------------------------------
    def window_pages(
        self,
        entity: Entity,
        lo: datetime,
        hi: datetime,
        after_id: str | None = None,
        stats: RequestStats | None = None,
        page_size: int | None = None,
    ) -> Iterator[Page]:
        """Every record with lo <= last_updated_time < hi and id > after_id, page by page, by id.

        Keyset paging (`id gt <last id>`, `$orderby=id`) instead of the server's skiptoken: a
        position that is a value, not an offset, cannot shift when rows change between requests.
        A next link only tells us the server capped `$top`; we never follow it. Only an empty page
        ends a window: a server that caps `$top` without saying so (a short page, no next link, more
        rows behind it) would otherwise lose the rest of the window silently.
        """
        size = page_size or self.cfg.page_size
        after = after_id
        short: tuple[int, int] | None = None  # (rows, $top) of the previous page: short, no next link
        while True:
            top = min(size, self.page_cap) if self.page_cap else size
            params = {
                "$filter": window_filter(entity.cursor, lo, hi, after, entity.key),
                "$orderby": entity.key,
                "$top": str(top),
            }
            page = self.get_page(entity, params, stats)
            after = check_page_order(page.records, after, entity.key)
            page.last_id = after
            yield page
            n = len(page.records)
            if n == 0:
                return
            if short is not None and n >= short[0]:  # as many rows again behind a short page: a cap
                self._silent_cap(entity, *short)
            short = None
            if n < top:
                if page.next_link is not None:
                    self.page_cap = n  # the server caps $top below our page size: ask for what it gives
                else:
                    short = (n, top)  # the end, unless the next page has rows

    def _silent_cap(self, entity: Entity, n: int, top: int) -> None:
        """A short page without a next link was followed by more rows: warn once, and from now on
        ask for what the server gives."""
        if not self._short_pages_lie:
            log.warning(
                "the Data API answered %s rows of %s for $top=%s without a next link, but more rows "
                "followed: it caps pages silently. mwdata reads on until an empty page (nothing is "
                "lost) and asks for %s rows per page from now on; lower [api] page_size to %s to "
                "silence this",
                n,
                entity.path,
                top,
                n,
                n,
            )
        self._short_pages_lie = True
        self.page_cap = min(self.page_cap or n, n)


class _Throttled(Exception):
    def __init__(self, retry_after: float | None) -> None:
        self.retry_after = retry_after


class _Unauthorized(Exception):
    pass


def _retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or HTTP date); None when absent/invalid."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _json_or_none(content: bytes) -> Any:
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return None


def _describe(url: str, params: dict[str, str]) -> str:
    """The request as a reader wants to see it: path + decoded query options (no headers, no secrets)."""
    query = "&".join(f"{k}={unquote(v)}" for k, v in params.items())
    return f"GET {url}" + (f"?{query}" if query else "")
