"""`mwdata build`, `mwdata check` and `mwdata metrics ...`: the transform and metrics layers."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from mwdata.cli import common


def _print(result: object, title: str) -> None:
    from mwdata.transform.runner import RunResult

    assert isinstance(result, RunResult)
    shown = [r for r in result.results if r.status not in ("success", "pass")]
    if shown:
        table = Table(title=title, show_lines=False)
        for col in ("status", "check", "model", "failures", "message"):
            table.add_column(col)
        for r in sorted(shown, key=lambda r: (not r.is_error, r.name)):
            style = "red" if r.is_error else "yellow"
            table.add_row(
                f"[{style}]{r.status}[/{style}]",
                r.name[:70],
                r.model or "",
                "" if r.failures is None else str(r.failures),
                (r.message.splitlines() or [""])[0][:90],
            )
        common.console.print(table)
    common.console.print(f"[bold]{title}[/bold]: {result.summary}")


def register(app: typer.Typer) -> None:
    @app.command()
    def build(
        select: list[str] = typer.Option(None, "--select", "-s", help="dbt selection (default: everything)."),
    ) -> None:
        """Build every model of the dbt project (staging -> marts) on the store and run its tests."""
        from mwdata.transform import build as run_build

        result = run_build(common.config(), select=select or ())
        _print(result, "build")

    @app.command()
    def check() -> None:
        """Run the data-quality checks (dbt tests + source freshness); exit 9 on errors, not on warnings."""
        from mwdata.errors import DataQualityError
        from mwdata.transform import check as run_check

        result = run_check(common.config(), raise_on_error=False)
        _print(result, "check")
        if result.errors:
            raise DataQualityError(
                f"{len(result.errors)} data-quality check(s) failed; results stored in _mwdata.check_results"
            )

    metrics = typer.Typer(help="The metric registry.", no_args_is_help=True)
    app.add_typer(metrics, name="metrics")

    @metrics.command("list")
    def metrics_list() -> None:
        """List every metric of the registry."""
        from mwdata.metrics import load_registry

        table = Table()
        for col in ("name", "label", "source", "mart", "grain"):
            table.add_column(col)
        for m in load_registry():
            table.add_row(m.name, m.label, m.source, m.mart, m.grain)
        common.console.print(table)

    @metrics.command("docs")
    def metrics_docs(
        out: Path = typer.Option(Path("docs/metrics.md"), "--out", "-o", help="Where to write the page."),
    ) -> None:
        """Write the metric reference page (docs/metrics.md) from the registry."""
        from mwdata.metrics.docs import render

        out.write_text(render())
        common.console.print(f"wrote {out}")
