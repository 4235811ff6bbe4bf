"""`mwdata` command line: a thin Typer front over the layers.

Each group of commands lives in its own module and registers itself on `app`; this module owns the
global options (--config, --json, --verbose) and maps `MwdataError` subclasses to exit codes.
"""

from __future__ import annotations

import sys

import typer

from mwdata.cli import common
from mwdata.errors import MwdataError

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
    from mwdata.cli import pipeline, show, simulate, transform

    for module in (simulate, pipeline, transform, show):
        module.register(app)


def main() -> None:
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
    except Exception as exc:  # click usage errors carry their own exit code
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
