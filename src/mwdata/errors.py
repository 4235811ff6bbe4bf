"""One exception hierarchy; the CLI maps each class to a distinct exit code (invariant 7 in
docs/architecture.md)."""

from __future__ import annotations

import os
from pathlib import Path


class MwdataError(Exception):
    """Base of every user-facing failure. `str(err)` must be a clear, actionable message."""

    exit_code = 1


class ConfigError(MwdataError):
    """The configuration file or environment is missing or wrong."""

    exit_code = 2


class AuthError(MwdataError):
    """The API rejected the credentials (HTTP 401) or the token endpoint refused them."""

    exit_code = 3


class ScopeError(MwdataError):
    """The credential lacks the scope of an entity (HTTP 403)."""

    exit_code = 4

    def __init__(self, entity: str, message: str | None = None) -> None:
        self.entity = entity
        super().__init__(
            message
            or f"The credential has no scope for '{entity}' (HTTP 403). In Moveworks Setup → Credentials, "
            f"add the '{entity}' Data API scope, or sync without it (--entities)."
        )


class ApiError(MwdataError):
    """The API answered with an error that retrying did not cure (400, 404, persistent 5xx, bad body)."""

    exit_code = 5


class LockedError(MwdataError):
    """Another process holds the store's sync lock."""

    exit_code = 6


class StoreError(MwdataError):
    """The store cannot be opened or written."""

    exit_code = 7


class TransformError(MwdataError):
    """The dbt build failed."""

    exit_code = 8


class DataQualityError(MwdataError):
    """Data-quality checks failed (errors, not warnings)."""

    exit_code = 9


class FreshnessError(MwdataError):
    """Data is stale, or the retention window threatens unrecoverable loss."""

    exit_code = 10


class InputFileError(MwdataError):
    """A user-supplied file (e.g. the HR extract) is unreadable or violates its contract."""

    exit_code = 11


def output_dir(path: str | os.PathLike[str], what: str = "output folder") -> Path:
    """Create (if needed) a folder mwdata writes into; a StoreError naming it and the cause if it cannot."""
    p = Path(path).expanduser()
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"the {what} {p} cannot be created: {exc.strerror or exc}; choose another path (--out) "
            "or fix the permissions"
        ) from None
    if not os.access(p, os.W_OK | os.X_OK):
        raise StoreError(
            f"the {what} {p} is not writable; choose another path (--out) or fix the permissions"
        )
    return p
