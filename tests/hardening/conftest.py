"""Fixtures the hardening tests share with other suites (re-exported so pytest finds them here)."""

from tests.api.conftest import scripted
from tests.sync.conftest import odata

__all__ = ["odata", "scripted"]
