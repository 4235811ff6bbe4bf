"""Shared test fixtures. Layer-specific fixtures live in conftest.py files of subfolders."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES_DIR = REPO.parent / "shared" / "samples" / "moveworks-data-api-v1beta2"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The real Data API sample responses published by Moveworks (../shared, read-only)."""
    if not SAMPLES_DIR.is_dir():
        pytest.fail(f"real samples not found at {SAMPLES_DIR}; clone the repo beside ../shared")
    return SAMPLES_DIR
