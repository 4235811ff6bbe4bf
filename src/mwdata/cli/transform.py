"""`mwdata build`, `mwdata check` and `mwdata metrics ...`: the transform and metrics layers."""

from __future__ import annotations

from datetime import date
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
        full_refresh: bool = typer.Option(
            False,
            "--full-refresh",
            help="Rebuild the incremental models whole instead of re-deriving what changed since the last build.",
        ),
    ) -> None:
        """Build every model of the dbt project (staging -> marts) on the store and run its tests.

        On DuckDB and PostgreSQL the large models are incremental: a build re-derives the records and
        conversations changed since the last one (docs/models.md, "Incremental builds")."""
        from mwdata.metrics.exports import build as run_build

        result = run_build(common.config(), select=select or (), full_refresh=full_refresh)
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

    metrics = typer.Typer(help="The metrics (dbt semantic layer).", no_args_is_help=True)
    app.add_typer(metrics, name="metrics")

    @metrics.command("list")
    def metrics_list(
        parts: bool = typer.Option(False, "--parts", help="Also list the building blocks (numerators...)."),
    ) -> None:
        """List every metric of the semantic layer."""
        from mwdata.metrics import load_registry

        table = Table()
        for col in ("name", "label", "source", "type", "marts", "grain", "dimensions"):
            table.add_column(col)
        for m in load_registry(include_parts=parts):
            table.add_row(
                m.name, m.label, m.source, m.type, ", ".join(m.marts), m.grain, ", ".join(m.dimensions)
            )
        common.console.print(table)

    @metrics.command("query")
    def metrics_query(
        name: str = typer.Argument(..., help="The metric (see `mwdata metrics list`)."),
        by: list[str] = typer.Option(None, "--by", help="Group by this dimension (repeatable)."),
        grain: str = typer.Option(None, "--grain", help="day, week or month: one row per period."),
        since: str = typer.Option(None, "--since", help="First UTC day (YYYY-MM-DD), inclusive."),
        until: str = typer.Option(None, "--until", help="Last UTC day (YYYY-MM-DD), inclusive."),
        where: list[str] = typer.Option(
            None, "--where", help="DIM=VALUE filter (repeat a DIM for several values)."
        ),
        fmt: str = typer.Option("table", "--format", help="table, csv or json."),
        include_test_users: bool = typer.Option(
            False, "--include-test-users", help="Count HR test users too."
        ),
    ) -> None:
        """A metric's value (or series per --grain), from its definition in the semantic layer."""
        from mwdata.metrics import MetricError, query
        from mwdata.metrics.query import connection

        if fmt not in ("table", "csv", "json"):
            raise MetricError(f"--format must be table, csv or json, got {fmt!r}")
        filters: dict[str, list[str]] = {}
        for w in where or []:
            dim, sep, value = w.partition("=")
            if not sep or not dim.strip():
                raise MetricError(f"--where takes DIM=VALUE, got {w!r}")
            filters.setdefault(dim.strip(), []).append(value)
        cfg = common.config()
        with connection(cfg) as con:
            df = query(
                con,
                name,
                grain=grain,
                by=by or (),
                since=_day(since, "--since"),
                until=_day(until, "--until"),
                where=filters,
                include_test_users=include_test_users,
                schema=cfg.transform.target_schema,
            )
        if fmt == "csv":
            print(df.to_csv(index=False), end="")
        elif fmt == "json":
            print(df.to_json(orient="records", date_format="iso"))
        else:
            table = Table(title=name)
            for col in df.columns:
                table.add_column(str(col), justify="right" if df[col].dtype.kind in "fi" else "left")
            for row in df.itertuples(index=False):
                table.add_row(
                    *(
                        "" if v is None or v != v else f"{v:.6g}" if isinstance(v, float) else str(v)
                        for v in row
                    )
                )
            common.console.print(table)

    @metrics.command("docs")
    def metrics_docs(
        out: Path = typer.Option(Path("docs/metrics.md"), "--out", "-o", help="Where to write the page."),
    ) -> None:
        """Write the metric reference page (docs/metrics.md) from the semantic layer."""
        from mwdata.metrics.docs import render

        out.write_text(render())
        common.console.print(f"wrote {out}")


def _day(text: str | None, option: str) -> date | None:
    from mwdata.metrics import MetricError

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise MetricError(f"{option} takes a day YYYY-MM-DD, got {text!r}") from None
