"""Helpers for sync tests: a minimal keyset-capable OData endpoint (for CLI paths that do not need the
full simulator), and running the `mwdata` CLI as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.api.conftest import Reply, Request, ScriptedServer, scripted  # noqa: F401 (fixture)

KEY = "sk-cli-SECRET-987654321"


def mini_odata(records: dict[str, list[dict[str, str]]], status: dict[str, int] | None = None) -> Callable:
    """Serve `records` per entity path with `$filter` (lut window + id gt), `$orderby=id`, `$top`."""
    status = status or {}

    def script(req: Request) -> Reply:
        path = req.path.rsplit("/", 1)[-1]
        if path in status:
            return Reply(status[path], {"code": "X", "message": f"HTTP {status[path]}"})
        rows = sorted(records.get(path, []), key=lambda r: r["id"])
        flt = req.query.get("$filter", "")
        parts = flt.split(" and ") if flt else []
        lo = parts[0].split("'")[1] if parts else ""
        hi = parts[1].split("'")[1] if len(parts) > 1 else "~"
        after = parts[2].split("'")[1] if len(parts) > 2 else ""
        out = [r for r in rows if r["id"] > after and lo <= r["last_updated_time"] < hi]
        return Reply(body={"value": out[: int(req.query.get("$top", "1000"))]})

    return script


def run_cli(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("MWDATA_")}
    full.update({"COLUMNS": "200", **env})
    return subprocess.run(
        [str(Path(sys.executable).parent / "mwdata"), *args],
        env=full,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def odata(scripted):  # noqa: F811
    def make(
        records: dict[str, list[dict[str, str]]], status: dict[str, int] | None = None
    ) -> ScriptedServer:
        return scripted(mini_odata(records, status))

    return make
