"""CLI: `mwdata dashboard`, `report`, `export`, `run` and `demo` — the BI end of the chain."""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.markup import escape

from mwdata.cli import common
from mwdata.config import Config
from mwdata.errors import ConfigError, MwdataError, output_dir

log = logging.getLogger("mwdata.cli")


def _duckdb_path(cfg: Config) -> str:
    if not cfg.is_duckdb:
        raise ConfigError(
            f"this command reads a DuckDB store; the configured store is {cfg.store.split('://')[0]}://… "
            "(use your warehouse's own BI connection, or point `store` at a DuckDB file)"
        )
    return cfg.store.removeprefix("duckdb:///")


def serve_dashboard(cfg: Config, host: str, port: int, pii: bool = True, open_message: str = "") -> None:
    """Run the dashboard in the foreground until Ctrl-C or SIGTERM (both stop Streamlit too)."""
    from mwdata.app import server
    from mwdata.config import is_loopback

    env = dict(os.environ)
    env["MWDATA_STORE"] = cfg.store
    env["MWDATA_DASHBOARD_PII"] = "1" if pii else "0"
    if cfg.source:
        env["MWDATA_CONFIG"] = str(Path(cfg.source).resolve())
    token = cfg.dashboard.token is not None
    if not is_loopback(host):
        log.warning(
            "the dashboard listens on %s, beyond this machine: %s",
            host,
            "every request needs the access token; without TLS in front it crosses the network in clear"
            if token
            else "ANYONE who can reach this address reads the store's data (no authentication is set); "
            "set MWDATA_DASHBOARD_TOKEN (or [dashboard] token_file) or put an authenticating reverse "
            "proxy in front, see docs/dashboard.md",
        )

    def ready(url: str) -> None:
        hint = "  (open it once with ?token=<token>)" if token else ""
        common.console.print(
            f"{open_message}[bold green]Dashboard:[/bold green] {escape(url)}{hint}  (Ctrl-C to stop)"
        )

    code = server.serve(host, port, env, on_ready=ready)
    if code:
        raise server.DashboardError(f"the dashboard (Streamlit) exited with code {code}")


def do_report(cfg: Config, days: int, email: bool, out: str | None = None) -> Path:
    from mwdata.report.render import make_report

    rep = make_report(cfg, days=days, email=email, out=out)
    common.console.print(f"report: {rep.html} (+{len(rep.csvs)} CSV files)")
    if email:
        common.console.print(f"report e-mailed to {', '.join(cfg.report.mail_to)}")
    return rep.html


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""

    @app.command()
    def dashboard(
        host: str = typer.Option("127.0.0.1", help="Address to bind (default: loopback only)."),
        port: int = typer.Option(8501, min=1, max=65535, help="Port to listen on."),
        no_pii: bool = typer.Option(False, "--no-pii", help="Hide utterances and the journey explorer."),
    ) -> None:
        """Serve the Streamlit dashboard over the store's marts."""
        cfg = common.config()
        path = _duckdb_path(cfg)
        if not Path(path).exists():
            raise ConfigError(
                f"store {path} does not exist; run `mwdata sync` and `mwdata build` (or `mwdata demo`)"
            )
        serve_dashboard(cfg, host, port, pii=not no_pii)

    @app.command()
    def report(
        days: int = typer.Option(7, min=1, help="Length of the reported period, ending on the newest day."),
        email: bool = typer.Option(False, "--email", help="Also send it over SMTP ([report] settings)."),
        out: str = typer.Option(None, help="Output folder (default: [report] output_dir)."),
    ) -> None:
        """Write the HTML report (inline PNG charts) and CSV tables; optionally e-mail them."""
        do_report(common.config(), days, email, out)

    @app.command()
    def export(
        fmt: str = typer.Option("parquet", "--format", help="parquet or csv."),
        out: str = typer.Option("export", "--out", help="Output folder."),
        raw: bool = typer.Option(
            False,
            "--include-raw/--no-raw",
            help="Also export the raw tables (plaintext PII: refused unless [transform] pii = show).",
        ),
    ) -> None:
        """Export the marts (and, asked, the raw tables) as Parquet (month-partitioned when large) or CSV."""
        from mwdata.store.export import export_store

        cfg = common.config()
        schemas = (cfg.transform.target_schema, "raw") if raw else (cfg.transform.target_schema,)
        path = _duckdb_path(cfg)
        output_dir(out, "export folder")
        done = export_store(path, out, fmt, schemas, pii=cfg.transform.pii)
        for t in done:
            kind = " (partitioned by month)" if t.partitioned else ""
            common.console.print(f"{t.schema}.{t.table}: {t.rows:,} rows -> {t.path}{kind}")

    @app.command()
    def run(
        days: int = typer.Option(7, min=1, help="Report period in days."),
        email: bool = typer.Option(False, "--email", help="E-mail the report."),
        no_report: bool = typer.Option(False, "--no-report", help="Skip the report."),
        alert_on_success: bool = typer.Option(
            False,
            "--alert-on-success",
            help="Also call the alert webhook when all is well (severity info): a heartbeat for a dead-man's switch.",
        ),
    ) -> None:
        """sync + build + check + report, for cron; exits with the failing step's code, else 10 if stale.

        After the steps the store's health is read (never synced, retention threat, no recent
        success, activity stalled); on a failure or a finding the alert webhook is called."""
        from mwdata import ops
        from mwdata.app import chain as steps
        from mwdata.errors import FreshnessError

        cfg = common.config()
        failed: tuple[str, MwdataError] | None = None
        crash: Exception | None = None
        for name, step in steps.chain(cfg, report=not no_report, days=days, email=email):
            t0 = time.monotonic()
            try:
                detail = step()
            except MwdataError as err:
                log.error("step %s failed: %s", name, err, extra={"data": {"step": name}})
                failed = (name, err)
                break
            except Exception as exc:  # a bug: alert all the same, then let its traceback out (exit 1)
                crash = exc
                # only the type goes to the alert: a foreign message may hold anything
                failed = (name, MwdataError(f"unexpected {type(exc).__name__}; the traceback is in the log"))
                log.error("step %s crashed: %s", name, failed[1], extra={"data": {"step": name}})
                break
            log.info(
                "step %s done in %.1f s%s",
                name,
                time.monotonic() - t0,
                f": {detail}" if detail else "",
                extra={"data": {"step": name}},
            )
        try:
            problems = ops.findings(cfg, ops.read_status(cfg), datetime.now(UTC))
        except MwdataError as err:  # an unreadable store is reported by the failing step already
            log.warning("store health not read: %s", err)
            problems = []
        for p in problems:
            log.warning("%s", p.message, extra={"data": {"finding": p.kind, "entity": p.entity}})
        if failed or problems or alert_on_success:
            ops.alert(
                cfg,
                problems=problems,
                step=failed[0] if failed else None,
                error=failed[1] if failed else None,
            )
        if crash is not None:
            raise crash
        if failed:
            raise failed[1]
        if problems:
            raise FreshnessError("; ".join(p.message for p in problems))

    @app.command()
    def demo(
        users: int = typer.Option(2000, min=1, help="Simulated users."),
        days: int = typer.Option(90, min=1, max=365, help="Days of history."),
        small: bool = typer.Option(False, "--small", help="A small data set (CI): 150 users, 21 days."),
        out: str = typer.Option("demo", help="Folder for the demo store, HR extract and report."),
        serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the dashboard at the end."),
        host: str = typer.Option("127.0.0.1", help="Dashboard address."),
        port: int = typer.Option(8501, min=1, max=65535, help="Dashboard port."),
        seed: int = typer.Option(1, help="Generator seed."),
    ) -> None:
        """The whole product on a simulated tenant: simulate, sync, build, check, report, dashboard."""
        from mwdata.app.chain import run_demo

        if small:
            users, days = 150, 21
        cfg = run_demo(Path(out), users=users, days=days, seed=seed)
        if serve:
            serve_dashboard(cfg, host, port, open_message="Demo ready. ")
        else:
            common.console.print(
                f"Demo store ready: {cfg.store}; serve it with: MWDATA_CONFIG={cfg.source} mwdata dashboard"
            )
