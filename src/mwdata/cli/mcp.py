"""CLI: `mwdata mcp` — the metrics as an MCP server (extra `mwdata[mcp]`, imported only here)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import typer

from mwdata.cli import common
from mwdata.errors import ConfigError


def _require_sdk() -> None:
    if importlib.util.find_spec("mcp") is None or importlib.util.find_spec("mcp.server.mcpserver") is None:
        raise ConfigError(
            "`mwdata mcp` needs the MCP SDK (mcp 2.x), an optional extra: pip install 'mwdata[mcp]'"
        )


def register(app: typer.Typer) -> None:
    """Add `mwdata mcp` to the app."""

    @app.command()
    def mcp(
        transport: str = typer.Option(
            "stdio", "--transport", "-t", help="stdio (an MCP client starts this command) or http."
        ),
        port: int = typer.Option(
            8765, min=1, max=65535, help="http: the port on 127.0.0.1 (never beyond loopback)."
        ),
    ) -> None:
        """Serve the governed metrics to MCP clients (read-only; no SQL tool). HTTP needs a token."""
        if transport not in ("stdio", "http"):
            raise ConfigError(f"--transport must be stdio or http, got {transport!r}")
        _require_sdk()
        cfg = common.config()
        token = cfg.mcp.token.reveal() if cfg.mcp.token is not None else None
        if transport == "http" and not token:
            raise ConfigError(
                "mwdata mcp --transport http needs a bearer token: set MWDATA_MCP_TOKEN, or "
                'token_file = "<path of a chmod-600 file>" in [mcp]. Make one with: '
                'python -c "import secrets; print(secrets.token_urlsafe(32))"'
            )
        from mwdata.read.stores import duckdb_file, readable, shared_store

        if readable(cfg) != "postgres" and not Path(duckdb_file(cfg)).exists():
            raise ConfigError(
                f"store {cfg.store} does not exist; run `mwdata sync` and `mwdata build` (or `mwdata demo`)"
            )
        from mwdata.integrations import mcp_server
        from mwdata.read.snapshot import close_all

        store = shared_store(cfg)
        try:
            store.read_at()  # a store that cannot be read fails here, before a client connects
            server = mcp_server.build_server(mcp_server.MetricTools(cfg, store))
            if transport == "http":
                common.console_err.print(
                    f"mwdata MCP server: http://{mcp_server.HOST}:{port}/mcp (bearer token required; Ctrl-C to stop)"
                )
                mcp_server.serve_http(server, token, port)
            else:
                mcp_server.serve_stdio(server)
        finally:
            store.close()
            close_all()
