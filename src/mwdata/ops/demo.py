"""`mwdata demo`: the whole chain over a simulated tenant, in one folder.

The simulator runs in a thread on loopback with an HR extract and a retention wide enough for the
whole demo history (the real API keeps 30 days; a 90-day demo needs the simulator to keep 90, which
is said on screen); then the steps of `mwdata run` (`ops.run`) build the store and the report.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from mwdata.config import Config, Secret, load_config, with_overrides
from mwdata.errors import MwdataError
from mwdata.ops.run import build_step, check_step, report_step, sync_step

console = Console()


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.completed:,.0f} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def run_demo(out: Path, users: int, days: int, seed: int = 1) -> Config:
    """Build a complete demo store in `out` and return the config that reads it."""
    try:
        from mwdata.simulator import (  # type: ignore[attr-defined]
            GeneratorConfig,
            SimulatorConfig,
            SimulatorServer,
            generate,
        )
    except ImportError as exc:
        raise MwdataError(f"the demo needs mwdata's simulator, which this install lacks ({exc})") from None

    out.mkdir(parents=True, exist_ok=True)
    store = out / "demo.duckdb"
    for stale in (store, Path(str(store) + ".wal"), out / "reports"):
        if stale.is_dir():
            shutil.rmtree(stale)
        else:
            stale.unlink(missing_ok=True)
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)

    def step(n: int, text: str) -> None:
        console.print(f"[bold cyan][{n}/6][/bold cyan] {text}")

    step(1, f"Generating a simulated tenant: {users:,} users, {days} days (seed {seed})")
    ds = generate(GeneratorConfig(seed=seed, users=users, days=days, end=end))
    hr = out / "hr.csv"
    ds.write_hr_csv(hr)
    console.print(f"      HR extract: {hr}")
    # The real API keeps 30 days; the demo simulator keeps the whole history so a first sync shows it all.
    sim_cfg = SimulatorConfig(retention_days=days + 1)
    console.print(
        f"      The simulator keeps {days + 1} days of history for the demo (the real API keeps 30)."
    )
    with SimulatorServer(ds, sim_cfg) as sim:
        step(2, f"Simulated Data API on {sim.base_url}; syncing")
        cfg = load_config(_write_config(out, store, hr))
        cfg = with_overrides(
            cfg,
            # The simulator is on loopback: no need to pace like the real API; week-long windows keep
            # the request count of a 90-day backfill small.
            api={"base_url": sim.base_url, "api_key": Secret(sim.api_key), "requests_per_minute": 60000.0},
            sync={"start": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "window_hours": 168.0},
        )
        with _progress() as progress:
            clock = getattr(sim, "now", None)  # the simulator's clock bounds the sync, as in production
            detail = sync_step(cfg, progress, now=clock() if callable(clock) else clock)
        console.print(f"      {detail}")
    step(3, "Building the dbt models")
    built: list[Any] = []
    console.print(f"      {build_step(cfg, built)}")
    step(4, "Running the data-quality checks")
    try:
        console.print(f"      {check_step(cfg, built)}")
    except MwdataError as err:  # the demo goes on: the data-health page shows what failed
        console.print(f"      [yellow]checks reported problems[/yellow]: {err}")
    step(5, "Writing the report")
    console.print(f"      {report_step(cfg, 7, False)}")
    step(6, "Demo store ready")
    return cfg


def _write_config(out: Path, store: Path, hr: Path) -> Path:
    """An mwdata.toml for the demo (no secret in it), so `mwdata dashboard` and friends can reuse it."""
    path = out / "mwdata.toml"
    path.write_text(
        "# Written by `mwdata demo`. The simulator's URL and key are not kept: they die with the demo.\n"
        f'store = "{store.resolve()}"\n\n[transform]\nhr_file = "{hr.resolve()}"\n\n'
        f'[report]\noutput_dir = "{(out / "reports").resolve()}"\n'
    )
    return path
