"""Configuration: `mwdata.toml` (non-secret settings) + environment variables (secrets, overrides).

Secrets (API key, OAuth client secret, SMTP password, PII salt, alert webhook) come only from the
environment or from a file readable by its owner alone (mode 0600); a secret written inline in
`mwdata.toml` is refused, so a config file can be committed or shared without leaking anything
(invariant 5 in docs/architecture.md).

The schema is declared once: every setting is a dataclass field whose `setting(...)` metadata holds
its constraints (range, choices, pattern, a converter), its environment variable and whether it is a
secret. `load_config` parses, then `validate` checks every field against its declaration, so a bad
value is a ConfigError naming the section, the key, the value and what is allowed — never a silent
default and never a failure deep inside a sync. A section is one dataclass plus one field of `Config`.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import os
import re
import stat
import tomllib
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields, replace
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mwdata.catalog import RETENTION_DAYS
from mwdata.catalog import entity as lookup_entity
from mwdata.errors import ConfigError

log = logging.getLogger("mwdata.config")

DEFAULT_CONFIG_FILE = "mwdata.toml"
DEFAULT_STORE = "mwdata.duckdb"

REGIONS: dict[str, str] = {
    "us": "https://api.moveworks.ai",
    "eu": "https://api.am-eu-central.moveworks.ai",
    "ca": "https://api.am-ca-central.moveworks.ai",
    "gov": "https://api.moveworksgov.ai",
    "jp": "https://api.jp.moveworks.com",
    "uk": "https://api.uk.moveworks.com",
    "us-prod4": "https://api.prod4.us.moveworks.com",
    "us-prod3": "https://api.prod3.us.moveworks.com",
}
TRUE = ("true", "1", "yes", "on")
FALSE = ("false", "0", "no", "off")


class Secret:
    """A string that never prints itself (repr/str are masked)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class Hidden(ValueError):
    """A converter's complaint about a value that must not be echoed (it may hold a credential)."""


@dataclass(frozen=True)
class Rule:
    """The declared constraints of one setting (see `setting`)."""

    env: str | None = None
    secret: bool = False
    lo: float | None = None  # inclusive minimum
    gt: float | None = None  # exclusive minimum
    hi: float | None = None  # inclusive maximum
    choices: tuple[str, ...] = ()
    pattern: tuple[str, str] | None = None  # (regex matched in full, what it means)
    nonempty: bool = False
    convert: Callable[[Any], Any] | None = None  # value -> normalised value; ValueError(what is expected)


def setting(default: Any = None, **rule: Any) -> Any:
    """A config field with its constraints, e.g. `page_size: int = setting(1000, lo=1, hi=10000)`."""
    return field(default=default, metadata={"rule": Rule(**rule)})


def rule_of(f: Any) -> Rule:
    return f.metadata.get("rule") or Rule()


# ---- converters (raise ValueError("must be ...") or Hidden) ----


def is_loopback(host: str | None) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1)."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _http_url(value: str) -> str:
    """An http(s) URL with a host and no user name or password in it."""
    u = urlsplit(value.strip())
    if u.scheme.lower() not in ("http", "https") or not u.hostname:
        raise Hidden("must be an http:// or https:// URL with a host")
    if "@" in u.netloc:
        raise Hidden(
            "must not hold a user name or password (user:password@host): credentials come from the "
            "environment or a chmod-600 file"
        )
    try:
        u.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        raise Hidden("has an invalid port") from None
    return value.strip()


_RECORDS_PATH = re.compile(r"(?P<prefix>.*?)(?:/export/(?P<version>v\d+(?:beta\d+)?)(?:/records?)?)?/*")


def split_base_url(value: str) -> tuple[str, str | None]:
    """`https://host[/prefix][/export/<version>/records]` -> (`https://host[/prefix]`, version or None).

    Moveworks' docs give the "Base API URI" with its path (`.../export/v1/records`, GOV `.../record`);
    the bare host is accepted too. Query strings and fragments are refused."""
    url = _http_url(value)
    u = urlsplit(url)
    if u.query or u.fragment:
        raise Hidden("must not have a query string or fragment")
    m = _RECORDS_PATH.fullmatch(u.path)
    assert m is not None  # the pattern matches any path
    return f"{u.scheme.lower()}://{u.netloc}{m['prefix']}", m["version"]


def _base_url(value: str) -> str:
    split_base_url(value)  # checked here; split into host and version by `_joined`
    return value.strip()


def _address(value: str) -> str:
    if ";" in value:
        raise ValueError(
            'must list addresses separated by commas or as a TOML list (mail_to = ["a@example.com", '
            '"b@example.com"]), not by semicolons'
        )
    addr = parseaddr(value)[1]
    if addr.count("@") != 1 or addr.startswith("@") or addr.endswith("@") or any(c.isspace() for c in addr):
        raise ValueError("must be an e-mail address like it-ops@example.com")
    return value.strip()


def _addresses(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_address(v) for v in values)


def _entities(values: tuple[str, ...]) -> tuple[str, ...]:
    try:
        return tuple(dict.fromkeys(lookup_entity(v).path for v in values))
    except KeyError as exc:
        raise ValueError(f"must list known entities ({exc.args[0]})") from None


def _iso_time(value: str) -> str:
    try:
        datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("must be an ISO date or date-time like 2026-05-01 or 2026-05-01T00:00:00Z") from None
    return value.strip()


IDENTIFIER = (r"[A-Za-z_][A-Za-z0-9_]{0,62}", "a SQL identifier (letters, digits, _)")


# ---- the schema ----


@dataclass(frozen=True)
class ApiConfig:
    region: str = setting("us", env="MWDATA_REGION", choices=tuple(REGIONS))
    # overrides region; e.g. the simulator's http://127.0.0.1:8765 or a "Base API URI" with its path
    base_url: str | None = setting(None, env="MWDATA_BASE_URL", convert=_base_url)
    version: str = setting(
        "v1", env="MWDATA_API_VERSION", pattern=(r"v\d+(beta\d+)?", "an API version like v1 or v1beta2")
    )
    org: str | None = setting(None, env="MWDATA_ORG", nonempty=True)  # label of the Moveworks org
    api_key: Secret | None = setting(None, env="MWDATA_API_KEY", secret=True)
    client_id: str | None = setting(None, env="MWDATA_CLIENT_ID", nonempty=True)
    client_secret: Secret | None = setting(None, env="MWDATA_CLIENT_SECRET", secret=True)
    token_url: str | None = setting(None, env="MWDATA_TOKEN_URL", convert=_http_url)  # {host}/oauth/v1/token
    requests_per_minute: float = setting(600.0, env="MWDATA_REQUESTS_PER_MINUTE", lo=0, hi=1_000_000)
    page_size: int = setting(1000, lo=1, hi=10_000)
    timeout_seconds: float = setting(60.0, gt=0, hi=3600)
    max_retries: int = setting(8, lo=0, hi=100)
    request_deadline_seconds: float = setting(120.0, gt=0, hi=86_400)  # one request, body included
    max_body_mb: float = setting(64.0, gt=0, hi=10_240)  # decompressed response body
    give_up_seconds: float = setting(300.0, gt=0, hi=86_400)  # retrying one request, in total

    @property
    def host(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        if self.region not in REGIONS:
            raise ConfigError(
                f"unknown region {self.region!r}; use one of {', '.join(REGIONS)} or set base_url"
            )
        return REGIONS[self.region]

    @property
    def records_url(self) -> str:
        return f"{self.host}/export/{self.version}/records"


@dataclass(frozen=True)
class SyncConfig:
    # ISO date/time of the backfill start; default: oldest retained day
    start: str | None = setting(None, convert=_iso_time)
    lookback_hours: float = setting(72.0, lo=0, hi=RETENTION_DAYS * 24)
    window_hours: float = setting(24.0, lo=0.1, hi=8760)
    workers: int = setting(2, lo=1, hi=32)
    batch_size: int = setting(5000, lo=1, hi=1_000_000)
    entities: tuple[str, ...] = setting(
        ("conversations", "interactions", "plugin-calls", "plugin-resources", "users"),
        nonempty=True,
        convert=_entities,
    )


@dataclass(frozen=True)
class TransformConfig:
    hr_file: str | None = setting(None, env="MWDATA_HR_FILE", nonempty=True)
    # show | hash | drop, for utterance text and e-mail addresses
    pii: str = setting("show", env="MWDATA_PII", choices=("show", "hash", "drop"))
    pii_salt: Secret | None = setting(None, env="MWDATA_PII_SALT", secret=True)  # key of the hashes
    target_schema: str = setting("analytics", pattern=IDENTIFIER)
    # HR rows not matched by e-mail: sources of users' external_ids the HR external_id may match
    # (empty = any), and sources whose external ids are HR employee ids (empty = no such match)
    hr_external_id_sources: tuple[str, ...] = setting(())
    hr_employee_id_sources: tuple[str, ...] = setting(())
    # incremental builds (DuckDB, PostgreSQL): rows synced after the newest row the last build saw are
    # "changed"; when a sync was writing while that build started (PostgreSQL, the lake), after that row
    # minus this margin (its batches stamped earlier may commit later); a full refresh every N days
    # (0 = only with --full-refresh, a PII-mode or project change, or after a failed build)
    incremental_margin_hours: float = setting(1.0, lo=0, hi=RETENTION_DAYS * 24)
    full_refresh_every_days: float = setting(0.0, lo=0, hi=3650)


@dataclass(frozen=True)
class ReportConfig:
    output_dir: str = setting("reports", nonempty=True)
    smtp_host: str | None = setting(None, nonempty=True)
    smtp_port: int = setting(25, lo=1, hi=65535)
    smtp_tls: str = setting("starttls", choices=("starttls", "ssl", "none"))
    smtp_ca_file: str | None = setting(None, nonempty=True)  # CA bundle to verify the server with
    smtp_user: str | None = setting(None, nonempty=True)
    smtp_password: Secret | None = setting(None, env="MWDATA_SMTP_PASSWORD", secret=True)
    mail_from: str | None = setting(None, convert=_address)
    mail_to: tuple[str, ...] = setting((), convert=_addresses)


@dataclass(frozen=True)
class AlertConfig:
    # chat webhooks carry their token in the URL
    webhook_url: Secret | None = setting(None, env="MWDATA_ALERT_WEBHOOK", secret=True, convert=_http_url)
    max_freshness_hours: float = setting(48.0, gt=0, hi=8760)
    retention_margin_days: float = setting(7.0, lo=0, hi=RETENTION_DAYS)
    timeout_seconds: float = setting(10.0, gt=0, hi=600)  # per webhook attempt (three attempts)


def _token(value: str) -> str:
    if len(value.strip()) < 16:
        raise Hidden(
            "must be at least 16 characters; make one with: "
            'python -c "import secrets; print(secrets.token_urlsafe(32))"'
        )
    return value.strip()


def _host_names(value: tuple[str, ...]) -> tuple[str, ...]:
    for name in value:
        if not re.fullmatch(r"(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?", name):
            raise ValueError(f"must be host names like dash.example.com or *.example.com, not {name!r}")
    return tuple(n.lower() for n in value)


@dataclass(frozen=True)
class DashboardConfig:
    # access token required by `mwdata dashboard` (first request ?token=, then a cookie); unset: none
    token: Secret | None = setting(None, env="MWDATA_DASHBOARD_TOKEN", secret=True, convert=_token)
    # host names (besides loopback and the listen address) a browser may use, e.g. a reverse proxy's
    allowed_hosts: tuple[str, ...] = setting((), convert=_host_names)


@dataclass(frozen=True)
class McpConfig:
    # bearer token required by `mwdata mcp --transport http` (it refuses to start without one)
    token: Secret | None = setting(None, env="MWDATA_MCP_TOKEN", secret=True, convert=_token)


@dataclass(frozen=True)
class Config:
    store: str = setting(DEFAULT_STORE, env="MWDATA_STORE", nonempty=True)
    api: ApiConfig = field(default_factory=ApiConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    transform: TransformConfig = field(default_factory=TransformConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    alerts: AlertConfig = field(default_factory=AlertConfig)
    dashboard: DashboardConfig = field(default_factory=DashboardConfig)
    mcp: McpConfig = field(default_factory=McpConfig)
    source: str | None = None  # the file it was read from, for messages

    @property
    def is_duckdb(self) -> bool:
        return store_kind(self.store) == "duckdb"


def store_kind(store: str) -> str:
    """`duckdb` for a file path (or `duckdb:///path`), else the destination scheme (`postgres`, ...)."""
    if "://" not in store:
        return "duckdb"
    scheme = store.split("://", 1)[0].lower()
    return {"postgresql": "postgres", "file": "filesystem"}.get(scheme, scheme)


SECTIONS: dict[str, type] = {
    f.name: f.default_factory  # type: ignore[misc]
    for f in fields(Config)
    if f.default_factory is not MISSING
}
TOP_LEVEL = tuple(f.name for f in fields(Config) if f.name not in SECTIONS and f.name != "source")


def _fields(section: str) -> dict[str, Any]:
    cls = SECTIONS.get(section, Config)
    return {f.name: f for f in fields(cls) if section or f.name in TOP_LEVEL}


SECRET_FIELDS = {(s, n) for s in ("", *SECTIONS) for n, f in _fields(s).items() if rule_of(f).secret}
ENV: dict[str, tuple[str, str]] = {
    rule_of(f).env: (s, n)  # type: ignore[misc]
    for s in ("", *SECTIONS)
    for n, f in _fields(s).items()
    if rule_of(f).env
}
DEPRECATED = {("report", "smtp_starttls")}  # bool: true -> smtp_tls = "starttls", false -> "none"


def read_secret_file(path: str) -> str:
    """Read a secret from a file that only its owner can read (like ssh refuses a world-readable key)."""
    p = Path(path).expanduser()
    try:
        mode = p.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(f"secret file {p} is readable by others; run: chmod 600 {p}")
        return p.read_text().strip()
    except OSError as exc:
        raise ConfigError(f"secret file {p} cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"secret file {p} is not text (UTF-8)") from None


def _where(section: str, name: str) -> str:
    return f"[{section}] {name}" if section else name


def _kind(f: Any) -> str:
    t = str(f.type).replace(" | None", "")
    return "tuple" if t.startswith("tuple") else t


def _bad(where: str, what: str, raw: Any, origin: str | None, echo: bool = True) -> ConfigError:
    got = f", got {raw!r}" if echo else ""
    return ConfigError(f"{where} {what}{got}" + (f" (set by {origin})" if origin else ""))


def _coerce(section: str, name: str, raw: Any, origin: str | None = None) -> Any:
    """A raw TOML or environment value -> the field's type; ConfigError if it is not of that type."""
    where = _where(section, name)
    known = _fields(section)
    if name not in known:
        raise ConfigError(f"unknown setting {where}; known settings here: {', '.join(known)}")
    f = known[name]
    kind = _kind(f)
    if rule_of(f).secret:
        text = str(raw).strip()
        if any(ord(c) < 32 or ord(c) == 127 for c in text):
            raise _bad(
                where, "holds a control character (a pasted line break?); re-enter it", raw, origin, False
            )
        return Secret(text) if text else None
    if raw is None:
        return None
    if kind == "bool":
        text = str(raw).strip().lower()
        if isinstance(raw, bool) or text in TRUE + FALSE:
            return raw if isinstance(raw, bool) else text in TRUE
        raise _bad(where, "must be true or false (also yes/no, on/off, 1/0)", raw, origin)
    if kind == "int":
        if isinstance(raw, bool | float):
            raise _bad(where, "must be an integer", raw, origin)
        try:
            return int(str(raw).strip())
        except ValueError:
            raise _bad(where, "must be an integer", raw, origin) from None
    if kind == "float":
        try:
            value = float(str(raw).strip()) if not isinstance(raw, bool) else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise _bad(where, "must be a number", raw, origin)
        return value
    if kind == "tuple":
        if not isinstance(raw, str | list):
            raise _bad(where, "must be a list of strings (or one comma-separated string)", raw, origin)
        items = raw.split(",") if isinstance(raw, str) else raw
        return tuple(str(i).strip() for i in items if str(i).strip())
    if not isinstance(raw, str):
        raise _bad(where, "must be a string", raw, origin)
    return raw.strip()


def _describe(r: Rule, kind: str) -> str:
    noun = "an integer" if kind == "int" else "a number"

    def fmt(v: float) -> str:
        return str(int(v)) if float(v).is_integer() else f"{v:g}"

    if r.lo is not None and r.hi is not None:
        return f"{noun} from {fmt(r.lo)} to {fmt(r.hi)}"
    if r.gt is not None:
        return f"{noun} greater than {fmt(r.gt)}" + (f" and at most {fmt(r.hi)}" if r.hi is not None else "")
    return f"{noun} of at least {fmt(r.lo)}" if r.lo is not None else noun


def _check_field(where: str, f: Any, value: Any, origin: str | None) -> Any:
    r, kind = rule_of(f), _kind(f)
    if value is None:
        return None
    if kind in ("int", "float"):
        if (
            (r.lo is not None and value < r.lo)
            or (r.gt is not None and value <= r.gt)
            or (r.hi is not None and value > r.hi)
        ):
            raise _bad(where, f"must be {_describe(r, kind)}", value, origin)
        return value
    if r.nonempty and not (value.reveal() if isinstance(value, Secret) else value):
        raise _bad(where, "must not be empty", value, origin)
    items = value if kind == "tuple" else (value,)
    for item in items if r.choices else ():
        if item not in r.choices:
            raise _bad(where, f"must be one of {', '.join(r.choices)}", item, origin)
    if r.pattern and not re.fullmatch(r.pattern[0], value):
        raise _bad(where, f"must be {r.pattern[1]}", value, origin)
    if r.convert is not None:
        try:
            if isinstance(value, Secret):
                return Secret(r.convert(value.reveal()))
            return r.convert(value)
        except Hidden as exc:
            raise _bad(where, str(exc), value, origin, echo=False) from None
        except ValueError as exc:
            raise _bad(where, str(exc), value, origin, echo=not r.secret) from None
    return value


def validate(cfg: Config, origins: dict[tuple[str, str], str] | None = None) -> Config:
    """Check every setting against its declaration, then the rules that join settings; a normalised
    copy of `cfg` or a ConfigError naming the section, key, bad value and what is allowed."""
    origins = origins or {}
    top: dict[str, Any] = {}
    for name, f in _fields("").items():
        top[name] = _check_field(name, f, getattr(cfg, name), origins.get(("", name)))
    for section in SECTIONS:
        obj = getattr(cfg, section)
        top[section] = replace(
            obj,
            **{
                name: _check_field(_where(section, name), f, getattr(obj, name), origins.get((section, name)))
                for name, f in _fields(section).items()
            },
        )
    cfg = replace(cfg, **top)
    return _joined(cfg, origins)


def _joined(cfg: Config, origins: dict[tuple[str, str], str]) -> Config:
    """The rules that involve more than one setting."""
    api, rep, tr = cfg.api, cfg.report, cfg.transform
    if api.base_url:
        host, version = split_base_url(api.base_url)
        if version and ("api", "version") in origins and version != api.version:
            raise ConfigError(
                f"[api] base_url names API version {version} but [api] version is {api.version}; "
                "drop one of them"
            )
        api = replace(api, base_url=host, version=version or api.version)
        cfg = replace(cfg, api=api)
    for label, url in (("[api] base_url", api.base_url), ("[api] token_url", api.token_url)):
        u = urlsplit(url or "")
        if u.scheme == "http" and not is_loopback(u.hostname):
            log.warning(
                "%s uses plain http:// to %s: the API key and the data cross the network unencrypted; "
                "use https://",
                label,
                u.hostname,
            )
    if tr.pii == "hash" and (tr.pii_salt is None or len(tr.pii_salt.reveal()) < 16):
        raise ConfigError(
            '[transform] pii = "hash" needs a secret salt of at least 16 characters, so that hashed '
            "e-mails cannot be reversed by hashing a list of known addresses: set MWDATA_PII_SALT, or "
            'pii_salt_file = "<path of a chmod-600 file>" in [transform]. Make one with: '
            'python -c "import secrets; print(secrets.token_hex(32))" and keep it: a new salt changes '
            "every hashed value."
        )
    if rep.smtp_tls == "none" and rep.smtp_host and not is_loopback(rep.smtp_host):
        raise ConfigError(
            f'[report] smtp_tls = "none" is allowed only for a loopback SMTP server, not {rep.smtp_host}: '
            'the password and the report would cross the network in clear. Use smtp_tls = "starttls" '
            '(port 587) or "ssl" (port 465)'
        )
    return cfg


def _tls_alias(report: dict[str, Any], origins: dict[tuple[str, str], str], file: Path) -> None:
    """The deprecated `smtp_starttls` bool -> `smtp_tls` (true -> starttls, false -> none)."""
    raw = report.pop("smtp_starttls")
    text = str(raw).strip().lower()
    if not isinstance(raw, bool) and text not in TRUE + FALSE:
        raise _bad("[report] smtp_starttls", "must be true or false", raw, str(file))
    mapped = "starttls" if (raw if isinstance(raw, bool) else text in TRUE) else "none"
    if "smtp_tls" in report and report["smtp_tls"] != mapped:
        raise ConfigError(
            f"[report] smtp_starttls (deprecated) and smtp_tls disagree in {file}; keep only smtp_tls"
        )
    log.warning('[report] smtp_starttls is deprecated; write smtp_tls = "%s" instead', mapped)
    report["smtp_tls"] = mapped
    origins[("report", "smtp_tls")] = f"smtp_starttls in {file}"


def load_config(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> Config:
    """Read `mwdata.toml` (if present; an explicit path must exist), apply environment overrides,
    then validate every setting (see `validate`)."""
    env = dict(os.environ if env is None else env)
    explicit = path is not None or "MWDATA_CONFIG" in env
    file = Path(path or env.get("MWDATA_CONFIG") or DEFAULT_CONFIG_FILE)
    data: dict[str, Any] = {}
    if file.exists():
        try:
            data = tomllib.loads(file.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file} is not valid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {file} cannot be read: {exc}") from None
    elif explicit:
        raise ConfigError(f"config file {file} not found; create one with: mwdata init")

    raw: dict[str, dict[str, Any]] = {"": {}, **{s: {} for s in SECTIONS}}
    origins: dict[tuple[str, str], str] = {}
    for key, value in data.items():
        if key in SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"[{key}] must be a table in {file}")
            for name, v in value.items():
                base = name.removesuffix("_file")
                if name != base and (key, base) in SECRET_FIELDS:
                    if not isinstance(v, str) or not v.strip():
                        raise ConfigError(f"[{key}] {name} must be the path of a file in {file}")
                    raw[key][base] = read_secret_file(v)
                    origins[(key, base)] = f"{name} in {file}"
                elif (key, name) in SECRET_FIELDS:
                    raise ConfigError(
                        f"[{key}] {name} must not be written in {file}: secrets come from the environment "
                        f'or from {name}_file = "<path of a chmod-600 file>"'
                    )
                else:
                    raw[key][name] = v
                    origins[(key, name)] = str(file)
        elif key in TOP_LEVEL:
            raw[""][key] = value
            origins[("", key)] = str(file)
            if key == "store" and "://" in str(value) and urlsplit(str(value)).password is not None:
                raise ConfigError(
                    f"the store URL in {file} holds a password: secrets come from the environment "
                    "(MWDATA_STORE_PASSWORD, or MWDATA_STORE_PASSWORD_FILE naming a chmod-600 file)"
                )
        else:
            raise ConfigError(
                f"unknown section or key {key!r} in {file}; known: {', '.join(TOP_LEVEL + tuple(SECTIONS))}"
            )
    if "smtp_starttls" in raw["report"]:
        _tls_alias(raw["report"], origins, file)
    for var, (section, name) in ENV.items():
        if var in env and env[var] != "":
            raw[section][name] = env[var]
            origins[(section, name)] = var

    typed = {
        s: {n: _coerce(s, n, v, origins.get((s, n))) for n, v in vals.items()} for s, vals in raw.items()
    }
    cfg = Config(
        source=str(file) if file.exists() else None,
        **typed[""],
        **{s: SECTIONS[s](**typed[s]) for s in SECTIONS},
    )
    return validate(cfg, origins)


def with_overrides(cfg: Config, **sections: Any) -> Config:
    """A copy of `cfg` with some fields of some sections replaced (used by CLI options and tests),
    validated like a loaded config."""
    changes: dict[str, Any] = {}
    for name, updates in sections.items():
        if name in SECTIONS:
            changes[name] = replace(getattr(cfg, name), **updates)
        else:
            changes[name] = updates
    return validate(replace(cfg, **changes))


def init_template() -> str:
    """The commented `mwdata.toml` written by `mwdata init` (no secrets: those come from the environment)."""
    return """# mwdata configuration. Secrets never go in this file: set them in the environment
# (MWDATA_API_KEY, or MWDATA_CLIENT_ID + MWDATA_CLIENT_SECRET, MWDATA_SMTP_PASSWORD, MWDATA_PII_SALT)
# or point to a file only you can read (chmod 600) with api_key_file / client_secret_file /
# smtp_password_file / pii_salt_file. Some settings can be overridden by an environment variable (see
# the docs). Every value is checked when the file is read: a bad one stops mwdata with a clear error.

# Where the data goes: a DuckDB file (default), or a warehouse URL (postgresql://..., snowflake://...).
store = "mwdata.duckdb"                 # MWDATA_STORE

[api]
region = "us"                           # us, eu, ca, gov, jp, uk, us-prod4, us-prod3 (MWDATA_REGION)
# base_url = "https://api.moveworks.ai/export/v1/records"  # overrides region (MWDATA_BASE_URL): the
#                                       # "Base API URI" of your region, with or without its path, or
#                                       # the local simulator, e.g. http://127.0.0.1:8765
version = "v1"                          # v1 (current) or v1beta2 (MWDATA_API_VERSION)
# org = "acme"                          # label of your Moveworks org (MWDATA_ORG): with the API host it
#                                       # names the tenant a store is filled from
# api_key_file = "~/.config/mwdata/api_key"          # or MWDATA_API_KEY
# client_id = "..."                                    # OAuth2 client credentials (MWDATA_CLIENT_ID)
# client_secret_file = "~/.config/mwdata/client_secret"  # or MWDATA_CLIENT_SECRET
# token_url = "https://api.moveworks.ai/oauth/v1/token"  # default: <regional host>/oauth/v1/token
requests_per_minute = 600               # shared by all workers; lowered automatically after a 429
page_size = 1000                        # records per request ($top), 1 to 10000
timeout_seconds = 60                    # per network operation (connect, each read)
max_retries = 8                         # per request, on 5xx / timeouts / dropped connections
request_deadline_seconds = 120          # total time of one request, body included
max_body_mb = 64                        # cap on one decompressed response body
give_up_seconds = 300                   # total time to keep retrying one request

[sync]
# start = "2026-05-01"                  # first backfill from here (default: oldest retained day)
lookback_hours = 72                     # re-read this much before the watermark (rows appear late)
window_hours = 24                       # size of a checkpointed window of last_updated_time (0.1 to 8760)
workers = 2                             # windows read in parallel, under the shared pacing (1 to 32)
batch_size = 5000                       # records per committed batch (bounds memory)
entities = ["conversations", "interactions", "plugin-calls", "plugin-resources", "users"]

[transform]
pii = "show"                            # show | hash | drop (utterance text, e-mail addresses)
# "hash" needs a secret salt (16+ characters): MWDATA_PII_SALT, or
# pii_salt_file = "~/.config/mwdata/pii_salt"          (a chmod-600 file)
# hr_file = "hr.csv"
# hr_external_id_sources = ["SNOW"]      # HR external_id matches these users' external_ids sources (default: any)
# hr_employee_id_sources = ["WORKDAY"]   # users' external ids from these sources are HR employee ids
target_schema = "analytics"
incremental_margin_hours = 1            # incremental builds: look back this much more if a sync was writing
full_refresh_every_days = 0             # rebuild every model whole every N days (0: only when needed)

[report]
output_dir = "reports"
# smtp_host = "smtp.example.com"
# smtp_port = 587
# smtp_tls = "starttls"                 # starttls (default) | ssl (port 465) | none (loopback hosts only)
# smtp_ca_file = "/etc/ssl/private-ca.pem"  # CA to verify the server with (default: the system's)
# smtp_user = "reporter"                # password: MWDATA_SMTP_PASSWORD or smtp_password_file
# mail_from = "analytics@example.com"
# mail_to = ["it-ops@example.com"]

[alerts]
max_freshness_hours = 48                # `mwdata status --check` / `mwdata run` flag data older than this
retention_margin_days = 7               # ... and loudly when the last good sync nears the 30-day TTL
# The alert webhook (Slack, Teams, a generic receiver) is a secret: MWDATA_ALERT_WEBHOOK, or
# webhook_url_file = "/etc/mwdata/webhook"   (a chmod-600 file holding the URL)

[dashboard]
# An access token for `mwdata dashboard` (needed beyond loopback): MWDATA_DASHBOARD_TOKEN, or
# token_file = "~/.config/mwdata/dashboard_token"   (a chmod-600 file)
# allowed_hosts = ["dash.example.com"]  # names a reverse proxy forwards (loopback and --host always)

[mcp]
# The bearer token `mwdata mcp --transport http` requires (stdio needs none): MWDATA_MCP_TOKEN, or
# token_file = "~/.config/mwdata/mcp_token"   (a chmod-600 file)
"""
