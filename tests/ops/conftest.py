"""Fixtures for the operations tests."""

from tests.api.conftest import scripted  # noqa: F401 (fixture)
