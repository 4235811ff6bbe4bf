"""CLI: `mwdata simulate` — serve the simulated Data API on loopback until Ctrl-C."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer

from mwdata.cli import common
from mwdata.cli.signals import stop_on_signals, wait_for_stop
from mwdata.errors import ConfigError, MwdataError


def _parse_key(spec: str) -> tuple[str, tuple[str, ...] | None]:
    key, _, scopes = spec.partition(":")
    if not key:
        raise ConfigError(f"--api-key {spec!r}: expected KEY or KEY:entity,entity")
    return key, tuple(s for s in scopes.split(",") if s) if scopes else None


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""

    @app.command()
    def simulate(
        host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
        port: int = typer.Option(8765, help="Port (0 = any free port)."),
        seed: int = typer.Option(1, help="Generator seed: same seed, same data."),
        users: int = typer.Option(200, help="Users to generate."),
        days: int = typer.Option(35, help="Days of history to generate."),
        conversations_per_user_per_day: float = typer.Option(
            0.3, help="Mean conversations per user per day."
        ),
        end: str = typer.Option("", help="Last generated day (ISO date, UTC); default: today."),
        weekend_share: float = typer.Option(
            0.15, help="Weekend and public-holiday activity vs a business day."
        ),
        holidays: bool = typer.Option(True, help="Offices' public holidays are quiet days."),
        rollout_share: float = typer.Option(
            0.3, help="Departments go live in three waves over this share of the history (0 = all at once)."
        ),
        articles: int = typer.Option(300, help="Knowledge catalogue size (articles and files)."),
        popularity_skew: float = typer.Option(1.1, help="Zipf exponent of topic and article popularity."),
        gap_article_share: float = typer.Option(0.1, help="Share of articles served but almost never cited."),
        interception_engagement: float = typer.Option(0.4, help="Share of interceptions the user answers."),
        incidents: bool = typer.Option(
            True, help="Schedule an announcement spike, a failing plugin and a channel outage."
        ),
        spike_factor: float = typer.Option(3.0, help="Question volume on the announcement day vs normal."),
        failing_plugin: str = typer.Option("Create Ticket", help="The plugin that fails for a day."),
        outage_platform: str = typer.Option("slack", help="The channel that is down for a day."),
        from_samples: Path | None = typer.Option(
            None, help="Serve fixed {entity}.json envelope files instead."
        ),
        api_key: list[str] = typer.Option(
            ["key-all"], help="KEY (all scopes) or KEY:conversations,users (repeatable)."
        ),
        client: list[str] = typer.Option(
            ["cid:secret"], help="OAuth client CLIENT_ID:SECRET with all scopes (repeatable)."
        ),
        token_lifetime: float = typer.Option(3600, help="OAuth access token lifetime, seconds."),
        page_size: int = typer.Option(500, help="Server page size."),
        max_top: int = typer.Option(1000, help="Largest $top honoured."),
        rate_limit: float = typer.Option(0, help="Requests per minute per credential (0 = unlimited)."),
        retry_after: bool = typer.Option(False, help="Send Retry-After on 429."),
        latency: float = typer.Option(0.0, help="Seconds added to every request."),
        fail_rate: float = typer.Option(0.0, help="Share of requests answered 500/502/503."),
        truncate_rate: float = typer.Option(0.0, help="Share of responses cut short then closed."),
        drop_rate: float = typer.Option(0.0, help="Share of connections closed without a response."),
        fault_seed: int = typer.Option(0, help="Seed of the fault RNGs."),
        nextlink_spelling: str = typer.Option("@odata.nextLink", help="Key of the next-page link."),
        error_shape: str = typer.Option("flat", help="flat {code,message} or nested {error:{...}}."),
        omit_empty_value: bool = typer.Option(False, help="Leave `value` out of empty pages."),
        retention_days: int = typer.Option(30, help="Rows older than this are no longer served."),
        hr_out: Path | None = typer.Option(None, help="Also write the companion HR extract (CSV) here."),
        print_config: bool = typer.Option(False, help="Print a JSON summary and exit without serving."),
    ) -> None:
        """Serve a simulated Moveworks Data API (generated or fixed data) until Ctrl-C."""
        from mwdata.simulator import (
            GeneratorConfig,
            SimulatorConfig,
            SimulatorServer,
            generate,
            load_fixed_dataset,
        )

        try:
            if from_samples is not None:
                ds = load_fixed_dataset(from_samples)
            else:
                try:
                    end_dt = datetime.fromisoformat(end).replace(tzinfo=UTC) if end else None
                except ValueError:
                    raise ConfigError(f"--end {end!r}: expected an ISO date such as 2026-11-28") from None
                today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
                ds = generate(GeneratorConfig(seed=seed, users=users, days=days,
                    conversations_per_user_per_day=conversations_per_user_per_day, end=end_dt or today,
                    weekend_share=weekend_share, holidays=holidays, rollout_share=rollout_share,
                    articles=articles, popularity_skew=popularity_skew, gap_article_share=gap_article_share,
                    interception_engagement=interception_engagement, incidents=incidents,
                    spike_factor=spike_factor, failing_plugin=failing_plugin,
                    outage_platform=outage_platform))  # fmt: skip
            clients: dict[str, tuple[str, tuple[str, ...] | None]] = {}
            for spec in client:
                cid, _, secret = spec.partition(":")
                if not cid or not secret:
                    raise ConfigError(f"--client {spec!r}: expected CLIENT_ID:SECRET")
                clients[cid] = (secret, None)
            cfg = SimulatorConfig(
                api_keys=dict(_parse_key(k) for k in api_key), clients=clients, token_lifetime_s=token_lifetime,
                page_size=page_size, max_top=max_top, rate_limit_per_minute=rate_limit or None,
                retry_after=retry_after, error_shape=error_shape, nextlink_spelling=nextlink_spelling,
                omit_empty_value=omit_empty_value, latency_s=latency, fail_rate=fail_rate,
                truncate_rate=truncate_rate, drop_rate=drop_rate, seed=fault_seed, retention_days=retention_days,
            )  # fmt: skip
            if hr_out is not None:
                ds.write_hr_csv(hr_out)
            sim = SimulatorServer(ds, cfg, host=host, port=port)
            if print_config:
                summary = {"entities": {p: sim.count(p) for p in ds.records}, "now": sim.now().isoformat(),
                           "api_keys": list(cfg.api_keys), "hr_rows": len(ds.hr_rows),
                           "incidents": [dict(i, day=i["day"].isoformat()) for i in ds.incidents]}  # fmt: skip
                common.console.print_json(json.dumps(summary))
                return
            try:
                sim.start()
            except OSError as exc:
                raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        except MwdataError as err:
            common.fail(err)
        with (
            sim,
            stop_on_signals() as stop,
        ):  # handlers first: a signal right after the URL still stops cleanly
            common.console.print(
                f"Simulated Data API at [bold]{sim.records_url}[/bold]  (now = {sim.now():%Y-%m-%d %H:%M} UTC)"
            )
            for p in ds.records:
                common.console.print(f"  {p:<18} {sim.count(p):>9,} rows served")
            common.console.print(f"API key: {sim.api_key}   OAuth: POST {sim.base_url}/oauth/v1/token")
            if hr_out is not None:
                common.console.print(f"HR extract: {hr_out}")
            for i in ds.incidents:
                common.console.print(f"  incident {i['day']:%a %Y-%m-%d} {i['kind']}: {i['detail']}")
            common.console.print("Ctrl-C (or SIGTERM) to stop.")
            wait_for_stop(stop)
        common.console.print(f"stopped after {sim.stats.requests} requests")
