"""`mwdata init`, `mwdata sync`, `mwdata status`: configure, load and watch the store."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mwdata import ops
from mwdata.cli import common
from mwdata.config import DEFAULT_CONFIG_FILE, Config, init_template
from mwdata.errors import ConfigError, FreshnessError
from mwdata.sync.plan import EntityPlan
from mwdata.sync.runner import SyncOptions, SyncResult, parse_time, window_summary


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""
    app.command("init")(init_cmd)
    app.command("sync")(sync_cmd)
    app.command("status")(status_cmd)


def init_cmd(
    path: str = typer.Argument(DEFAULT_CONFIG_FILE, help="Where to write the configuration."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented mwdata.toml (no secrets: those come from the environment)."""
    p = Path(path)
    if p.exists() and not force:
        raise ConfigError(f"{p} already exists; use --force to overwrite it")
    p.write_text(init_template())
    common.console.print(
        f"wrote {p}. Next: export MWDATA_API_KEY=... (or MWDATA_CLIENT_ID / MWDATA_CLIENT_SECRET), "
        "then run: mwdata sync"
    )


def sync_cmd(
    entities: str = typer.Option(
        None, "--entities", "-e", help="Comma list, e.g. conversations,interactions."
    ),
    since: str = typer.Option(None, "--since", help="Backfill from this ISO date/time (UTC)."),
    until: str = typer.Option(None, "--until", help="Backfill up to this ISO date/time (default: now)."),
    full_refresh: bool = typer.Option(
        False, "--full-refresh", help="Re-read the whole retention window (keeps stored history)."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Check credentials and show the plan; write nothing."
    ),
    workers: int = typer.Option(None, "--workers", "-w", min=1, max=32, help="Windows read in parallel."),
    store: str = typer.Option(
        None, "--store", help="Store path or URL (default from config / MWDATA_STORE)."
    ),
    rebind_tenant: bool = typer.Option(
        False,
        "--rebind-tenant",
        help="The store belongs to the tenant (API host + org) now configured, e.g. after a host move.",
    ),
) -> None:
    """Load new and changed records from the Data API into the store (resumable, exact, rate-aware)."""
    from mwdata.sync.pipeline import sync

    cfg = common.config()
    if store:
        cfg = dataclasses.replace(cfg, store=store)
    options = SyncOptions(
        entities=tuple(x.strip() for x in entities.split(",") if x.strip()) if entities else None,
        since=parse_time(since, "--since") if since else None,
        until=parse_time(until, "--until") if until else None,
        full_refresh=full_refresh,
        dry_run=dry_run,
        workers=workers,
        now=_now_override(),
    )
    if full_refresh and (since or until):
        raise ConfigError("--full-refresh cannot be combined with --since/--until")
    show_bar = not common.STATE.json_logs and not dry_run
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("windows · {task.fields[rows]:,} rows"),
        TimeElapsedColumn(),
        console=common.console_err,
        transient=True,
        disable=not show_bar,
    )
    tasks: dict[str, Any] = {}

    def on_plan(plans: list[EntityPlan]) -> None:
        for p in plans:
            tasks[p.entity] = progress.add_task(p.entity, total=len(p.windows), rows=0)

    def on_progress(entity: str, rows: int, done: bool) -> None:
        task = tasks[entity]
        rows_now = progress.tasks[task].fields["rows"] + rows
        progress.update(task, advance=1 if done else 0, rows=rows_now)

    with progress:
        result = sync(cfg, options, progress=on_progress, on_plan=on_plan, rebind_tenant=rebind_tenant)
    _report(cfg, result)
    err = result.first_error()
    if err is not None:
        raise err


def _now_override() -> datetime | None:
    """MWDATA_SYNC_NOW fixes the run's upper bound (reproducible runs against a simulator clock)."""
    raw = os.environ.get("MWDATA_SYNC_NOW")
    return parse_time(raw, "MWDATA_SYNC_NOW") if raw else None


def _report(cfg: Config, result: SyncResult) -> None:
    if result.dry_run:
        plan = window_summary([e.plan for e in result.entities if e.plan is not None])
        if common.STATE.json_logs:
            print(
                json.dumps(
                    {
                        "dry_run": True,
                        "store": cfg.store,
                        "records_url": cfg.api.records_url,
                        "upper": result.upper.isoformat(),
                        "plan": plan,
                    }
                )
            )
            return
        t = Table(title=f"sync plan (dry run) up to {result.upper:%Y-%m-%d %H:%M:%S} UTC → {cfg.store}")
        for col in ("entity", "windows", "resumed", "from", "to"):
            t.add_column(col)
        for row in plan:
            t.add_row(
                *(
                    str(row[c] if row[c] is not None else "-")
                    for c in ("entity", "windows", "resumed", "from", "to")
                )
            )
        common.console.print(t)
        common.console.print(f"Data API: {cfg.api.records_url}", soft_wrap=True, markup=False)
        common.console.print("credentials and scopes OK; nothing was written")
        return
    rows = [
        {
            "entity": e.entity,
            "rows": e.rows,
            "pages": e.pages,
            "windows": e.windows,
            "requests": e.stats.requests,
            "retries": e.stats.retries,
            "throttled": e.stats.throttled,
            "outcome": e.outcome,
        }
        for e in result.entities
    ]
    if common.STATE.json_logs:
        print(json.dumps({"run_id": result.run_id, "store": cfg.store, "ok": result.ok, "entities": rows}))
        return
    t = Table(title=f"sync {result.run_id} → {cfg.store}")
    for col in ("entity", "rows", "pages", "windows", "requests", "retries", "429s", "outcome"):
        t.add_column(col, justify="left" if col in ("entity", "outcome") else "right")
    for r in rows:
        style = "green" if r["outcome"] == "success" else "red"
        t.add_row(
            str(r["entity"]),
            f"{r['rows']:,}",
            str(r["pages"]),
            str(r["windows"]),
            str(r["requests"]),
            str(r["retries"]),
            str(r["throttled"]),
            f"[{style}]{r['outcome']}[/{style}]",
        )
    common.console.print(t)


def status_cmd(
    store: str = typer.Option(None, "--store", help="Store path (default from config / MWDATA_STORE)."),
    check: bool = typer.Option(
        False, "--check", help="Exit with an error (code 10) when data is stale or about to be lost."
    ),
) -> None:
    """Per entity: rows, watermark, freshness lag, last run and its outcome; warns before data loss."""
    cfg = common.config()
    if store:
        cfg = dataclasses.replace(cfg, store=store)
    st = ops.read_status(cfg)
    now = datetime.now(UTC)
    warnings = [f.message for f in ops.findings(cfg, st, now)]
    if common.STATE.json_logs:
        print(
            json.dumps(
                {
                    "store": st.path,
                    "records_url": cfg.api.records_url,
                    "tenant": st.tenant,
                    "exists": st.exists,
                    "entities": [
                        {
                            **{k: v for k, v in vars(e).items()},
                            "freshness_lag_hours": ops.hours(now - e.watermark) if e.watermark else None,
                        }
                        for e in st.entities
                    ],
                    "warnings": warnings,
                },
                default=_json_default,
            )
        )
    else:
        if not st.exists:
            common.console.print(f"no store at {st.path} yet; run: mwdata sync")
        t = Table(title=f"mwdata status — {st.path}")
        for col in ("entity", "rows", "watermark (UTC)", "lag", "last run", "outcome", "last success"):
            t.add_column(col, justify="right" if col in ("rows", "lag") else "left")
        for e in st.entities:
            outcome = e.last_run_outcome or "-"
            style = {"success": "green", "running": "yellow"}.get(outcome, "red")
            t.add_row(
                e.entity,
                f"{e.rows:,}",
                _fmt(e.watermark),
                f"{ops.hours(now - e.watermark):.1f} h" if e.watermark else "-",
                _fmt(e.last_run_started),
                f"[{style}]{outcome}[/{style}]"
                + (f" ({e.pending_windows} windows to resume)" if e.pending_windows else ""),
                _fmt(e.last_success),
            )
        common.console.print(t)
        common.console.print(f"Data API: {cfg.api.records_url}", soft_wrap=True, markup=False)
        if st.tenant:
            common.console.print(f"Store bound to tenant: {st.tenant}", soft_wrap=True, markup=False)
        for w in warnings:
            common.console.print(f"[bold red]WARNING[/bold red] {w}")
    if check and warnings:
        raise FreshnessError("; ".join(warnings))


def _fmt(ts: datetime | None) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if ts else "-"


def _json_default(o: object) -> str:
    if isinstance(o, datetime):
        return o.astimezone(UTC).isoformat()
    return str(o)
