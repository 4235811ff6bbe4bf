"""`mwdata` command line: a thin Typer front over the layers.

Each group of commands lives in its own module and registers itself on `app`; this module owns the
global options (--config, --json, --verbose) and the error boundary: `MwdataError` subclasses map to
their exit codes, click usage errors to 2, escaping OS/DuckDB errors to StoreError (7).
"""

from __future__ import annotations

import sys

import typer

from mwdata.cli import common
from mwdata.errors import MwdataError, StoreError

app = typer.Typer(
    name="mwdata",
    help="Moveworks Data API → a lasting analytics store, tested metrics and dashboards.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _global(
    config: str = typer.Option(
        None, "--config", "-c", help="Path of mwdata.toml (default: ./mwdata.toml or $MWDATA_CONFIG)."
    ),
    json_logs: bool = typer.Option(
        False, "--json", help="Log one JSON object per line on stderr (for schedulers)."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug details."),
) -> None:
    common.STATE.config_path = config
    common.STATE.json_logs = json_logs
    common.setup_logging(json_logs=json_logs, verbose=verbose)


def _register() -> None:
    from mwdata.cli import dashboard, mcp, pipeline, show, simulate, transform

    for module in (simulate, pipeline, transform, dashboard, show, mcp):
        module.register(app)


def _click_errors() -> tuple[type[BaseException], ...]:
    """The ClickException classes in play: the installed typer vendors its own click, whose classes are
    not the `click` package's (found through typer's BadParameter so either layout works)."""
    vendored = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
    try:
        import click

        return (vendored, click.ClickException)
    except ImportError:  # pragma: no cover - click is a dependency of the tools, not of typer itself
        return (vendored,)


def boundary_error(exc: BaseException) -> MwdataError | None:
    """An escaping OS or database error as the StoreError it is (exit 7, naming the file and the
    cause); None for anything else (a bug, whose traceback must stay visible)."""
    if isinstance(exc, OSError):
        what = f"{exc.filename}" if exc.filename else "a file or the store"
        cause = exc.strerror or type(exc).__name__
        return StoreError(
            f"cannot use {what}: {cause}. Check that the folder exists and is writable, and that the disk "
            "is not full."
        )
    if type(exc).__module__.split(".")[0] == "duckdb":
        first = (str(exc).splitlines() or [""])[0]
        return StoreError(f"the DuckDB store failed: {type(exc).__name__}: {first}")
    return None


def main() -> None:
    """Run the CLI; the one error boundary: every failure leaves as a message and an exit code."""
    _register()
    try:
        app(standalone_mode=False)
    except MwdataError as err:
        common.fail(err)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        common.console_err.print("[red]aborted[/red]")
        sys.exit(130)
    except KeyboardInterrupt:
        common.console_err.print("[red]interrupted[/red]")
        sys.exit(130)
    except Exception as exc:
        if isinstance(exc, _click_errors()):  # usage errors: click's message, exit 2
            exc.show()  # type: ignore[attr-defined]
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        mapped = boundary_error(exc)
        if mapped is None:
            raise
        common.fail(mapped)
