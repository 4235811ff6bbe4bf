"""Configuration: `mwdata.toml` (non-secret settings) + environment variables (secrets, overrides).

Secrets (API key, OAuth client secret, SMTP password) come only from the environment or from a file
readable by its owner alone (mode 0600); a secret written inline in `mwdata.toml` is refused, so a
config file can be committed or shared without leaking anything (invariant 5).
Each layer owns one section; add fields to your section, with defaults, and document them in
`init_template()`.
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mwdata.errors import ConfigError

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


@dataclass(frozen=True)
class ApiConfig:
    region: str = "us"
    base_url: str | None = None  # overrides region; e.g. the simulator's http://127.0.0.1:8765
    version: str = "v1"
    api_key: Secret | None = None
    client_id: str | None = None
    client_secret: Secret | None = None
    token_url: str | None = None  # default: {host}/oauth/v1/token
    requests_per_minute: float = 600.0
    page_size: int = 1000
    timeout_seconds: float = 60.0
    max_retries: int = 8

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
    start: str | None = None  # ISO date/time of the backfill start; default: oldest retained day
    lookback_hours: float = 72.0
    window_hours: float = 24.0
    workers: int = 2
    batch_size: int = 5000
    entities: tuple[str, ...] = ("conversations", "interactions", "plugin-calls", "plugin-resources", "users")


@dataclass(frozen=True)
class TransformConfig:
    hr_file: str | None = None
    pii: str = "show"  # show | hash | drop, for utterance text and e-mail addresses
    target_schema: str = "analytics"
    # HR rows not matched by e-mail: sources of users' external_ids the HR external_id may match
    # (empty = any), and sources whose external ids are HR employee ids (empty = no such match)
    hr_external_id_sources: tuple[str, ...] = ()
    hr_employee_id_sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportConfig:
    output_dir: str = "reports"
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: Secret | None = None
    smtp_starttls: bool = False
    mail_from: str | None = None
    mail_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertConfig:
    webhook_url: Secret | None = None  # chat webhooks carry their token in the URL
    max_freshness_hours: float = 48.0
    retention_margin_days: float = 7.0
    timeout_seconds: float = 10.0  # per webhook attempt (three attempts)


@dataclass(frozen=True)
class Config:
    store: str = DEFAULT_STORE
    api: ApiConfig = field(default_factory=ApiConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    transform: TransformConfig = field(default_factory=TransformConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    alerts: AlertConfig = field(default_factory=AlertConfig)
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


SECRET_FIELDS = {
    ("api", "api_key"),
    ("api", "client_secret"),
    ("report", "smtp_password"),
    ("alerts", "webhook_url"),
}
ENV: dict[str, tuple[str, str]] = {
    "MWDATA_BASE_URL": ("api", "base_url"),
    "MWDATA_REGION": ("api", "region"),
    "MWDATA_API_VERSION": ("api", "version"),
    "MWDATA_API_KEY": ("api", "api_key"),
    "MWDATA_CLIENT_ID": ("api", "client_id"),
    "MWDATA_CLIENT_SECRET": ("api", "client_secret"),
    "MWDATA_TOKEN_URL": ("api", "token_url"),
    "MWDATA_REQUESTS_PER_MINUTE": ("api", "requests_per_minute"),
    "MWDATA_STORE": ("", "store"),
    "MWDATA_HR_FILE": ("transform", "hr_file"),
    "MWDATA_PII": ("transform", "pii"),
    "MWDATA_SMTP_PASSWORD": ("report", "smtp_password"),
    "MWDATA_ALERT_WEBHOOK": ("alerts", "webhook_url"),
}
SECTIONS: dict[str, type] = {
    "api": ApiConfig,
    "sync": SyncConfig,
    "transform": TransformConfig,
    "report": ReportConfig,
    "alerts": AlertConfig,
}


def read_secret_file(path: str) -> str:
    """Read a secret from a file that only its owner can read (like ssh refuses a world-readable key)."""
    p = Path(path).expanduser()
    try:
        mode = p.stat().st_mode
    except OSError as exc:
        raise ConfigError(f"secret file {p} cannot be read: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"secret file {p} is readable by others; run: chmod 600 {p}")
    return p.read_text().strip()


def _coerce(section: str, name: str, raw: Any, target: type) -> Any:
    where = f"[{section}] {name}" if section else name
    ftype = {f.name: f.type for f in fields(target)}.get(name)
    if ftype is None:
        known = ", ".join(f.name for f in fields(target))
        raise ConfigError(f"unknown setting {where}; known settings here: {known}")
    if (section, name) in SECRET_FIELDS:
        return Secret(str(raw)) if raw not in (None, "") else None
    t = str(ftype)
    try:
        if t.startswith("tuple"):
            items = raw.split(",") if isinstance(raw, str) else list(raw)
            return tuple(str(i).strip() for i in items if str(i).strip())
        if t.startswith("bool"):
            if isinstance(raw, bool):
                return raw
            return str(raw).strip().lower() in ("1", "true", "yes", "on")
        if t.startswith("int"):
            return int(raw)
        if t.startswith("float"):
            return float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{where} must be {t}, got {raw!r}") from None
    return None if raw is None else str(raw)


def load_config(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> Config:
    """Read `mwdata.toml` (if present; an explicit path must exist), then apply environment overrides."""
    env = dict(os.environ if env is None else env)
    explicit = path is not None or "MWDATA_CONFIG" in env
    file = Path(path or env.get("MWDATA_CONFIG") or DEFAULT_CONFIG_FILE)
    data: dict[str, Any] = {}
    if file.exists():
        try:
            data = tomllib.loads(file.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file} is not valid TOML: {exc}") from None
    elif explicit:
        raise ConfigError(f"config file {file} not found; create one with: mwdata init")

    values: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    top: dict[str, Any] = {}
    for key, raw in data.items():
        if key in SECTIONS:
            if not isinstance(raw, dict):
                raise ConfigError(f"[{key}] must be a table in {file}")
            for name, value in raw.items():
                if name.endswith("_file") and (key, name[: -len("_file")]) in SECRET_FIELDS:
                    values[key][name[: -len("_file")]] = _coerce(
                        key, name[:-5], read_secret_file(value), SECTIONS[key]
                    )
                    continue
                if (key, name) in SECRET_FIELDS:
                    raise ConfigError(
                        f"[{key}] {name} must not be written in {file}: secrets come from the environment "
                        f'or from {name}_file = "<path of a chmod-600 file>"'
                    )
                values[key][name] = _coerce(key, name, value, SECTIONS[key])
        elif key == "store":
            top["store"] = str(raw)
            if "://" in top["store"] and urlsplit(top["store"]).password is not None:
                raise ConfigError(
                    f"the store URL in {file} holds a password: secrets come from the environment "
                    "(MWDATA_STORE_PASSWORD, or MWDATA_STORE_PASSWORD_FILE naming a chmod-600 file)"
                )
        else:
            raise ConfigError(
                f"unknown section or key {key!r} in {file}; known: store, {', '.join(SECTIONS)}"
            )

    for var, (section, name) in ENV.items():
        if var in env and env[var] != "":
            if section:
                values[section][name] = _coerce(section, name, env[var], SECTIONS[section])
            else:
                top[name] = env[var]
    cfg = Config(
        source=str(file) if file.exists() else None,
        **top,
        **{s: SECTIONS[s](**v) for s, v in values.items()},
    )
    if cfg.transform.pii not in ("show", "hash", "drop"):
        raise ConfigError(f"[transform] pii must be show, hash or drop, got {cfg.transform.pii!r}")
    cfg.api.host  # validates the region early  # noqa: B018
    return cfg


def with_overrides(cfg: Config, **sections: dict[str, Any]) -> Config:
    """A copy of `cfg` with some fields of some sections replaced (used by CLI options and tests)."""
    changes: dict[str, Any] = {}
    for name, updates in sections.items():
        if name == "store":
            changes["store"] = updates
        else:
            changes[name] = replace(getattr(cfg, name), **updates)
    return replace(cfg, **changes)


def init_template() -> str:
    """The commented `mwdata.toml` written by `mwdata init` (no secrets: those come from the environment)."""
    return """# mwdata configuration. Secrets never go in this file: set them in the environment
# (MWDATA_API_KEY, or MWDATA_CLIENT_ID + MWDATA_CLIENT_SECRET, MWDATA_SMTP_PASSWORD) or point to a
# file only you can read (chmod 600) with api_key_file / client_secret_file / smtp_password_file.
# Every setting can be overridden by its environment variable (see the docs).

# Where the data goes: a DuckDB file (default), or a warehouse URL (postgresql://..., snowflake://...).
store = "mwdata.duckdb"                 # MWDATA_STORE

[api]
region = "us"                           # us, eu, ca, gov, jp, uk, us-prod4, us-prod3 (MWDATA_REGION)
# base_url = "http://127.0.0.1:8765"    # overrides region, e.g. the local simulator (MWDATA_BASE_URL)
version = "v1"                          # v1 (current) or v1beta2 (MWDATA_API_VERSION)
# api_key_file = "~/.config/mwdata/api_key"          # or MWDATA_API_KEY
# client_id = "..."                                    # OAuth2 client credentials (MWDATA_CLIENT_ID)
# client_secret_file = "~/.config/mwdata/client_secret"  # or MWDATA_CLIENT_SECRET
# token_url = "https://api.moveworks.ai/oauth/v1/token"  # default: <regional host>/oauth/v1/token
requests_per_minute = 600               # shared by all workers; lowered automatically after a 429
page_size = 1000                        # records per request ($top)
timeout_seconds = 60
max_retries = 8                         # per request, on 5xx / timeouts / dropped connections

[sync]
# start = "2026-05-01"                  # first backfill from here (default: oldest retained day)
lookback_hours = 72                     # re-read this much before the watermark (rows appear late)
window_hours = 24                       # size of a checkpointed window of last_updated_time
workers = 2                             # windows read in parallel, under the shared pacing
batch_size = 5000                       # records per committed batch (bounds memory)
entities = ["conversations", "interactions", "plugin-calls", "plugin-resources", "users"]

[transform]
pii = "show"                            # show | hash | drop (utterance text, e-mail addresses)
# hr_file = "hr.csv"
# hr_external_id_sources = ["SNOW"]      # HR external_id matches these users' external_ids sources (default: any)
# hr_employee_id_sources = ["WORKDAY"]   # users' external ids from these sources are HR employee ids
target_schema = "analytics"

[report]
output_dir = "reports"
# smtp_host = "smtp.example.com"
# mail_from = "analytics@example.com"
# mail_to = ["it-ops@example.com"]

[alerts]
max_freshness_hours = 48                # `mwdata status --check` / `mwdata run` flag data older than this
retention_margin_days = 7               # ... and loudly when the last good sync nears the 30-day TTL
# The alert webhook (Slack, Teams, a generic receiver) is a secret: MWDATA_ALERT_WEBHOOK, or
# webhook_url_file = "/etc/mwdata/webhook"   (a chmod-600 file holding the URL)
"""
