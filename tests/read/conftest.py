"""Fixtures of the read-layer tests: the mart-shaped store of the dashboard tests, and the scripted API."""

from __future__ import annotations

from tests.api.conftest import scripted  # noqa: F401 (fixture)
from tests.app.conftest import mart_store  # noqa: F401 (fixture)
