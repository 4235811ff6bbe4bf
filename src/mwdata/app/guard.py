"""The dashboard's gate: every HTTP request and WebSocket handshake passes here before Streamlit.

Two checks, both on the raw ASGI scope, so nothing of Streamlit is reached when they fail:

* **Host (and Origin) allow-list, against DNS rebinding.** A page on `evil.example` whose name is
  rebound to 127.0.0.1 is "same origin" with the dashboard as far as the browser is concerned, and
  Streamlit accepts a WebSocket whose Origin matches its Host. The Host such a request carries is the
  attacker's name, though, so a Host that is not a loopback name, the listen address, an IP literal
  (when listening on every address: no rebinding can produce one) or a name in
  `[dashboard] allowed_hosts` is refused with 403; so is an `Origin` whose host fails the same test.
* **Token, against other users.** When a token is configured (`MWDATA_DASHBOARD_TOKEN` or
  `[dashboard] token_file`), the first request must carry `?token=<token>`; it is answered with a
  redirect that drops the token from the URL and sets an HttpOnly, SameSite=Strict cookie holding an
  HMAC of the token (not the token). Every later request and the WebSocket need that cookie; without
  it: 401. `/_stcore/health` stays open (it says only "ok").
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

log = logging.getLogger("mwdata.app")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "mwdata_dashboard"
OPEN_PATHS = ("/_stcore/health", "/healthz")
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARDS = ("", "0.0.0.0", "::")  # noqa: S104 (names of "every address", compared, never bound here)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _hostname(value: str | None) -> str | None:
    """The lower-case host name of a Host header (`name[:port]`, `[v6]:port`); None if malformed."""
    if not value:
        return None
    try:
        parts = urlsplit(f"//{value}")
        parts.port  # noqa: B018 (raises on a non-numeric port)
    except ValueError:
        return None
    if parts.hostname is None or parts.username is not None or parts.path or parts.query:
        return None
    return parts.hostname.rstrip(".")


@dataclass(frozen=True)
class Policy:
    hosts: frozenset[str]  # exact names; an entry "*.example.com" admits its subdomains
    any_ip: bool = False  # any IP literal (listening on every address)
    token: str | None = None

    @classmethod
    def for_listen(cls, address: str, extra: Iterable[str] = (), token: str | None = None) -> Policy:
        """The hosts a browser may name to reach a server listening on `address`."""
        names = {*LOOPBACK_NAMES, *(h.strip().lower().rstrip(".") for h in extra if h.strip())}
        wildcard = address.strip() in WILDCARDS
        if wildcard:
            names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
        else:
            names.add(address.strip().strip("[]").lower())
        return cls(frozenset(names), any_ip=wildcard, token=token or None)

    def host_ok(self, header: str | None) -> bool:
        name = _hostname(header)
        if name is None:
            return False
        if name in self.hosts or (self.any_ip and _is_ip(name)):
            return True
        return any(h.startswith("*.") and name.endswith(h[1:]) for h in self.hosts)

    def origin_ok(self, origin: str) -> bool:
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and self.host_ok(parts.netloc)

    def cookie_value(self) -> str:
        assert self.token is not None
        return hmac.new(self.token.encode(), b"mwdata-dashboard-session", hashlib.sha256).hexdigest()


class Guard:
    """ASGI middleware applying a `Policy` to every HTTP request and WebSocket handshake."""

    def __init__(self, app: ASGIApp, policy: Policy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        policy = self.policy
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        origin = headers.get("origin")
        if not policy.host_ok(headers.get("host")) or (origin is not None and not policy.origin_ok(origin)):
            log.warning("dashboard: refused a request for Host %r, Origin %r", headers.get("host"), origin)
            await _refuse(scope, send, 403, "Forbidden: this host name is not served here.\n")
            return
        if policy.token is not None and scope["path"] not in OPEN_PATHS:
            expected = policy.cookie_value()
            jar = SimpleCookie()
            try:
                jar.load(headers.get("cookie", ""))
            except Exception:  # noqa: BLE001 (a malformed Cookie header is simply no cookie)
                jar = SimpleCookie()
            sent = jar[COOKIE].value if COOKIE in jar else ""
            if not hmac.compare_digest(sent, expected):
                query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
                given = next((v for k, v in query if k == "token"), None)
                if scope["type"] == "http" and given is not None and hmac.compare_digest(given, policy.token):
                    await _login(scope, send, expected, [(k, v) for k, v in query if k != "token"])
                    return
                await _refuse(
                    scope,
                    send,
                    401,
                    "Unauthorized: this dashboard needs its access token. Open its address once with "
                    "?token=<token> appended (the token is MWDATA_DASHBOARD_TOKEN or [dashboard] token_file).\n",
                )
                return
        await self.app(scope, receive, send)


async def _refuse(scope: Scope, send: Send, status: int, text: str) -> None:
    if scope["type"] == "websocket":  # closing before accepting: the server answers the handshake 403
        await send({"type": "websocket.close", "code": 1008})
        return
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _login(scope: Scope, send: Send, cookie: str, rest: list[tuple[str, str]]) -> None:
    location = scope.get("root_path", "") + scope["path"] + (f"?{urlencode(rest)}" if rest else "")
    secure = "; Secure" if scope.get("scheme") == "https" else ""
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", location.encode()),
                (b"set-cookie", f"{COOKIE}={cookie}; Path=/; HttpOnly; SameSite=Strict{secure}".encode()),
                (b"cache-control", b"no-store"),
                (b"content-length", b"0"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})
