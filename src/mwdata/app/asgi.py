"""ASGI entry of the dashboard (`mwdata dashboard` runs `streamlit run` on this file).

Streamlit's own app (`st.App` on main.py) behind `guard.Guard`, which checks the Host/Origin of
every request and WebSocket and, when configured, the access token. Its policy is resolved here at
startup from mwdata's config and the listen address, so a bad setting stops the server at once. The
lifespan's end (a clean stop, SIGTERM or SIGINT) closes the snapshots and removes their folder.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import streamlit as st
from starlette.middleware import Middleware

from mwdata.app import guard
from mwdata.errors import MwdataError
from mwdata.read import snapshot


def policy() -> guard.Policy:
    from streamlit import config

    from mwdata.config import load_config

    cfg = load_config()
    d = cfg.dashboard
    address = str(config.get_option("server.address") or "")
    return guard.Policy.for_listen(address, d.allowed_hosts, d.token.reveal() if d.token else None)


@asynccontextmanager
async def _lifespan(_app: Any) -> AsyncIterator[None]:
    try:
        yield None
    finally:
        snapshot.close_all()


try:
    POLICY = policy()
except MwdataError as err:
    print(f"mwdata dashboard: {err}", file=sys.stderr)
    raise SystemExit(err.exit_code) from None

app = st.App(
    str(Path(__file__).with_name("main.py")),
    middleware=[Middleware(guard.Guard, policy=POLICY)],  # type: ignore[arg-type]
    lifespan=_lifespan,
)
