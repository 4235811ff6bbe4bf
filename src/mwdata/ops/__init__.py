"""Operations: running the chain, whether the store is healthy, and telling someone when it is not.

Beside the CLI, above the layers: `ops.run` drives `mwdata run` (sync -> build -> check -> report,
then health and alert), `ops.demo` drives `mwdata demo`. This module is the one implementation of
the health check and the alert behind `mwdata status --check` and `mwdata run`:
- `findings()` reads the store's sync state and names what needs a human: an entity never synced,
  an entity whose last sync failed or died (a missing scope, an empty answer where rows were
  expected, a crash), a last good sync so old that the API's 30-day retention is about to drop records the store never
  received (unrecoverable), a sync that has not succeeded for longer than the freshness limit, and
  activity data whose newest record is older than that limit although syncs succeed (the API's
  export stalled — syncs look fine while nothing new arrives).
- `send_alert()` POSTs one JSON document to the configured webhook (Slack, Teams and most generic
  receivers read its `text`); it retries briefly and never raises, so a dead webhook cannot mask
  the exit code of the run that wanted to alert.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from mwdata.catalog import RETENTION_DAYS
from mwdata.config import Config, Secret
from mwdata.errors import MwdataError
from mwdata.store.base import ABORTED, FAILED

log = logging.getLogger("mwdata.ops")

NEVER, RETENTION, FRESHNESS, STALLED = "never_synced", "retention", "freshness", "stalled"
LAST_RUN_FAILED = "last_run_failed"
# Entities that gain rows every working day; a quiet roster (users) is normal, quiet activity is not.
ACTIVITY = ("conversations", "interactions")


@dataclass(frozen=True)
class Finding:
    kind: str  # NEVER | LAST_RUN_FAILED | RETENTION | FRESHNESS | STALLED
    entity: str | None
    message: str


def read_status(cfg: Config) -> Any:
    """The store's sync state (`StoreStatus`), whatever the store kind; works while a sync writes."""
    if cfg.is_duckdb:
        from mwdata.store.duckdb import read_status as duckdb_status

        return duckdb_status(cfg.store.removeprefix("duckdb:///"))
    from mwdata.store.dlt import read_status as warehouse_status

    return warehouse_status(cfg)


def hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def findings(cfg: Config, st: Any, now: datetime) -> list[Finding]:
    """What is wrong with the store's freshness, worst first per entity (see the module docstring)."""
    if not st.exists or not st.entities:
        return [Finding(NEVER, None, f"the store {st.path} has never been synced")]
    out: list[Finding] = []
    limit = cfg.alerts.max_freshness_hours
    threat = timedelta(days=RETENTION_DAYS - cfg.alerts.retention_margin_days)
    for e in st.entities:
        if e.entity not in cfg.sync.entities:
            continue
        if e.last_run_outcome in (FAILED, ABORTED):
            why = f": {e.last_run_message}" if e.last_run_message else ""
            out.append(
                Finding(LAST_RUN_FAILED, e.entity, f"{e.entity}: the last sync {e.last_run_outcome}{why}")
            )
        if e.last_success is None:
            out.append(Finding(NEVER, e.entity, f"{e.entity}: never synced successfully"))
            continue
        age = now - e.last_success
        if age > threat:
            left = timedelta(days=RETENTION_DAYS) - age
            out.append(
                Finding(
                    RETENTION,
                    e.entity,
                    f"{e.entity}: DATA IS ABOUT TO BE LOST — last good sync {age.days} days ago; the API keeps "
                    f"{RETENTION_DAYS} days, so records older than {max(left.days, 0)} more days will be gone "
                    "for good. Run mwdata sync now.",
                )
            )
        elif hours(age) > limit:
            out.append(
                Finding(
                    FRESHNESS,
                    e.entity,
                    f"{e.entity}: no successful sync for {hours(age):.0f} h (limit {limit:g} h)",
                )
            )
        elif e.entity in ACTIVITY and e.newest_record and hours(now - e.newest_record) > limit:
            out.append(
                Finding(
                    STALLED,
                    e.entity,
                    f"{e.entity}: syncs succeed but the newest record is {hours(now - e.newest_record):.0f} h "
                    f"old (limit {limit:g} h): is the Data API's export delayed?",
                )
            )
    return out


def _store_label(store: str) -> str:
    """The store without credentials: a file name, or scheme://host/database."""
    if "://" not in store:
        return store
    u = urlsplit(store)
    return f"{u.scheme}://{u.hostname or ''}{u.path}"


def alert_payload(
    cfg: Config,
    *,
    problems: list[Finding],
    step: str | None = None,
    error: MwdataError | None = None,
) -> dict[str, Any]:
    """The alert document: a one-line `text` for chat tools plus fields for routing and detail."""
    kinds = [f.kind for f in problems]
    if error is not None:
        kind = "failure"
    elif RETENTION in kinds:
        kind = RETENTION
    elif kinds:
        kind = kinds[0]
    else:
        kind = "ok"
    critical = error is not None or RETENTION in kinds or NEVER in kinds
    severity = "critical" if critical else "warning" if kind != "ok" else "info"
    host = socket.gethostname()
    headline = (
        f"mwdata run failed at {step}: {error}"
        if error is not None
        else f"mwdata: {len(problems)} data freshness problem(s)"
        if problems
        else "mwdata run succeeded, the store is fresh"
    )
    lines = [f"[{severity.upper()}] {headline} (host {host}, store {_store_label(cfg.store)})"]
    lines += [f"- {f.message}" for f in problems]
    return {
        "text": "\n".join(lines),
        "severity": severity,
        "kind": kind,
        "step": step,
        "exit_code": error.exit_code if error is not None else (10 if problems else 0),
        "error": type(error).__name__ if error is not None else None,
        "message": str(error) if error is not None else None,
        "findings": [asdict(f) for f in problems],
        "host": host,
        "store": _store_label(cfg.store),
        "at": datetime.now(UTC).isoformat(),
    }


def send_alert(
    url: Secret | str, payload: dict[str, Any], *, attempts: int = 3, timeout: float = 10.0
) -> bool:
    """POST the alert; True when the receiver accepted it (2xx). Never raises, never logs the URL
    (chat webhooks carry their token in it)."""
    target = url.reveal() if isinstance(url, Secret) else url
    try:
        host = urlsplit(target).hostname or "?"
    except ValueError:
        host = "?"
    body = json.dumps(payload, default=str).encode()
    for attempt in range(1, attempts + 1):
        try:
            resp = httpx.post(
                target, content=body, headers={"Content-Type": "application/json"}, timeout=timeout
            )
            if resp.is_success:
                log.info("alert sent to the webhook on %s", host)
                return True
            problem = f"HTTP {resp.status_code}"
        except Exception as exc:  # an alert must never mask the exit code it reports (bad URL, TLS, ...)
            problem = type(exc).__name__
        if attempt < attempts:
            time.sleep(min(2.0**attempt, 10.0) / 4)
    log.error("ALERT NOT DELIVERED: the webhook on %s failed %d times (last: %s)", host, attempts, problem)
    return False


def alert(
    cfg: Config, *, problems: list[Finding], step: str | None = None, error: MwdataError | None = None
) -> None:
    """Send the alert if a webhook is configured (otherwise the exit code and the log are the alert)."""
    if cfg.alerts.webhook_url is None:
        return
    send_alert(
        cfg.alerts.webhook_url,
        alert_payload(cfg, problems=problems, step=step, error=error),
        timeout=cfg.alerts.timeout_seconds,
    )
