"""CLI: `mwdata report`, `export`, `run` and `demo` — the BI end of the chain (the dashboard is in
`mwdata.cli.dashboard`)."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from mwdata.cli import common
from mwdata.config import Config
from mwdata.errors import output_dir

log = logging.getLogger("mwdata.cli")


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
        from mwdata.read.export import export_postgres, export_store
        from mwdata.read.stores import duckdb_file, readable

        cfg = common.config()
        schemas = (cfg.transform.target_schema, "raw") if raw else (cfg.transform.target_schema,)
        kind = readable(cfg)
        output_dir(out, "export folder")
        if kind == "postgres":
            done = export_postgres(cfg, out, fmt, schemas)
        else:
            done = export_store(duckdb_file(cfg), out, fmt, schemas, pii=cfg.transform.pii)
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
        full_refresh: bool = typer.Option(
            False, "--full-refresh", help="Rebuild the incremental models whole (the sync is unaffected)."
        ),
    ) -> None:
        """sync + build + check + report, for cron; exits with the failing step's code, else 10 if stale.

        After the steps the store's health is read (never synced, retention threat, no recent
        success, activity stalled); on a failure or a finding the alert webhook is called."""
        from mwdata.ops.run import run as run_pipeline

        run_pipeline(
            common.config(),
            report=not no_report,
            days=days,
            email=email,
            alert_on_success=alert_on_success,
            full_refresh=full_refresh,
        )

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
        from mwdata.cli.dashboard import serve_dashboard
        from mwdata.ops.demo import run_demo

        if small:
            users, days = 150, 21
        cfg = run_demo(Path(out), users=users, days=days, seed=seed)
        if serve:
            serve_dashboard(cfg, host, port, open_message="Demo ready. ")
        else:
            common.console.print(
                f"Demo store ready: {cfg.store}; serve it with: MWDATA_CONFIG={cfg.source} mwdata dashboard"
            )
