"""Shared CLI plumbing: consoles, logging (human or JSON), config loading, failure reporting."""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import dataclass
from typing import NoReturn

from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from mwdata.config import Config, load_config
from mwdata.errors import MwdataError

console = Console()
console_err = Console(stderr=True)


@dataclass
class CliState:
    config_path: str | None = None
    json_logs: bool = False


STATE = CliState()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        extra = getattr(record, "data", None)
        if isinstance(extra, dict):
            payload.update(extra)
        return json.dumps(payload, default=str)


def setup_logging(json_logs: bool = False, verbose: bool = False) -> None:
    root = logging.getLogger("mwdata")
    root.handlers.clear()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False
    if json_logs:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
    else:
        handler = RichHandler(console=console_err, show_path=False, rich_tracebacks=False)
    root.addHandler(handler)


def config() -> Config:
    return load_config(STATE.config_path)


def fail(err: MwdataError) -> NoReturn:
    """Print a clear one-paragraph message (no traceback) and exit with the error's code."""
    name = type(err).__name__
    if STATE.json_logs:
        print(
            json.dumps({"level": "error", "error": name, "msg": str(err), "exit_code": err.exit_code}),
            file=sys.stderr,
        )
    else:
        # the message is text, not markup: "[api] page_size" must print as written
        console_err.print(f"[bold red]error[/bold red] ({name}): {escape(str(err))}", soft_wrap=True)
    sys.exit(err.exit_code)
