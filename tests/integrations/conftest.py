"""Fixtures of the integration tests: the mart-shaped store the dashboard and read tests share."""

from __future__ import annotations

from tests.app.conftest import mart_store  # noqa: F401 (fixture)
