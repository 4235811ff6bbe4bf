"""Credentials → `Authorization` header: API key (sent as `Bearer <key>`) or OAuth2 client credentials.

Secrets are revealed only inside `header()`; nothing here logs or formats them into messages.
OAuth tokens are refreshed ahead of expiry (a quarter of their lifetime, at most 5 minutes early, so
60-second tokens work) and once more when the API answers 401 (`invalidate()`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx
import orjson

from mwdata.api.odata import parse_error
from mwdata.config import ApiConfig, Secret
from mwdata.errors import AuthError, ConfigError


class Auth(Protocol):
    def header(self) -> str: ...

    def invalidate(self) -> bool:
        """Forget a rejected credential; True if a fresh one can be tried."""
        ...


class ApiKeyAuth:
    def __init__(self, key: Secret) -> None:
        self._key = key

    def header(self) -> str:
        return "Bearer " + self._key.reveal()

    def invalidate(self) -> bool:
        return False  # API keys do not expire: a 401 is final


class OAuthAuth:
    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: Secret,
        http: httpx.Client,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self._client_id = client_id
        self._secret = client_secret
        self._http = http
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._refresh_at = 0.0
        self._lock = threading.Lock()
        self.refreshes = 0

    def header(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._refresh_at:
                self._fetch()
            assert self._token is not None
            return "Bearer " + self._token

    def invalidate(self) -> bool:
        with self._lock:
            self._token = None
        return True

    def _fetch(self) -> None:
        body = {
            "client_id": self._client_id,
            "client_secret": self._secret.reveal(),
            "grant_type": "client_credentials",
        }
        try:
            resp = self._http.post(self.token_url, content=orjson.dumps(body), headers=_JSON_HEADERS)
        except httpx.HTTPError as exc:
            raise AuthError(
                f"cannot reach the OAuth token endpoint {self.token_url}: {type(exc).__name__}"
            ) from None
        data = _json(resp)
        if resp.status_code != 200:
            code, message = parse_error(data)
            detail = ": ".join(x for x in (code, message) if x) or f"HTTP {resp.status_code}"
            raise AuthError(
                f"the OAuth token endpoint {self.token_url} refused client id {self._client_id!r} "
                f"(HTTP {resp.status_code}, {detail}); check MWDATA_CLIENT_ID / MWDATA_CLIENT_SECRET"
            )
        payload = data.get("data", data) if isinstance(data, dict) else None
        token = payload.get("access_token") if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthError(f"the OAuth token endpoint {self.token_url} answered without an access_token")
        lifetime = payload.get("expires_in", 3600) if isinstance(payload, dict) else 3600
        try:
            lifetime = float(lifetime)
        except (TypeError, ValueError):
            lifetime = 3600.0
        now = self._clock()
        self._token = token
        self._expires_at = now + lifetime
        self._refresh_at = now + lifetime - min(300.0, lifetime / 4)
        self.refreshes += 1


_JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


def _json(resp: httpx.Response) -> Any:
    try:
        return orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        return None


def make_auth(cfg: ApiConfig, http: httpx.Client) -> Auth:
    """The configured credential; a clear ConfigError when none (or half of one) is configured."""
    if cfg.client_id or cfg.client_secret:
        if not (cfg.client_id and cfg.client_secret):
            raise ConfigError(
                "OAuth needs both MWDATA_CLIENT_ID and MWDATA_CLIENT_SECRET (or [api] client_secret_file)"
            )
        token_url = cfg.token_url or f"{cfg.host}/oauth/v1/token"
        return OAuthAuth(token_url, cfg.client_id, cfg.client_secret, http)
    if cfg.api_key:
        return ApiKeyAuth(cfg.api_key)
    raise ConfigError(
        "no Data API credential: set MWDATA_API_KEY, or MWDATA_CLIENT_ID and MWDATA_CLIENT_SECRET "
        "(or api_key_file / client_secret_file in [api] of mwdata.toml, chmod 600)"
    )
