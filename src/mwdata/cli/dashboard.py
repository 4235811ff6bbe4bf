"""CLI: `mwdata dashboard` — the one place outside `mwdata.app` that imports the dashboard.

`mwdata demo` serves its store through `serve_dashboard` too. Everything else (the report, the
export, `mwdata run`) reads through `mwdata.read` and never loads Streamlit.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import typer
from rich.markup import escape

from mwdata.cli import common
from mwdata.cli.signals import stop_on_signals
from mwdata.config import Config
from mwdata.errors import ConfigError

log = logging.getLogger("mwdata.cli")


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

    with stop_on_signals() as stopping:  # installed first: a signal during startup still cleans up
        code = server.serve(host, port, env, on_ready=ready, stopping=stopping)
    if code:
        raise server.DashboardError(f"the dashboard (Streamlit) exited with code {code}")


def register(app: typer.Typer) -> None:
    """Add `mwdata dashboard` to the app."""

    @app.command()
    def dashboard(
        host: str = typer.Option("127.0.0.1", help="Address to bind (default: loopback only)."),
        port: int = typer.Option(8501, min=1, max=65535, help="Port to listen on."),
        no_pii: bool = typer.Option(
            False,
            "--no-pii",
            help="Hide utterances, replies and e-mails (the journey explorer shows structure only).",
        ),
    ) -> None:
        """Serve the Streamlit dashboard over the store's marts."""
        from mwdata.read.stores import duckdb_file, open_store, readable

        cfg = common.config()
        if readable(cfg) != "postgres" and not Path(duckdb_file(cfg)).exists():
            raise ConfigError(
                f"store {cfg.store} does not exist; run `mwdata sync` and `mwdata build` (or `mwdata demo`)"
            )
        open_store(cfg).close()  # a PostgreSQL server must answer before the dashboard starts
        serve_dashboard(cfg, host, port, pii=not no_pii)
