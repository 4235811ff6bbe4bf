"""OData details of the Data API: tolerant envelope and error parsing, filter and timestamp literals.

The API's documentation disagrees with itself on spellings (docs/data-api.md, "Paging" and "Errors"): the next link is
`@odata.nextLink` or `odata.nextlink` (any case), `value` may be missing on an empty result, error
bodies are flat `{code, message}` or nested `{error: {code, message}}`. Everything here accepts all
of them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mwdata.errors import ApiError

NEXT_LINK_KEYS = ("@odata.nextlink", "odata.nextlink")


class BadBody(Exception):
    """A 200 response whose body is not a usable envelope (truncated, not JSON): retried by the client."""


def parse_envelope(body: Any) -> tuple[list[dict[str, Any]], str | None]:
    """(records, next link or None) from a decoded page body."""
    if not isinstance(body, dict):
        raise BadBody(f"expected a JSON object, got {type(body).__name__}")
    records = body.get("value")
    if records is None:
        records = []
    if not isinstance(records, list):
        raise BadBody(f"'value' is a {type(records).__name__}, not a list")
    next_link = None
    for key, val in body.items():
        if key.lower() in NEXT_LINK_KEYS and isinstance(val, str) and val:
            next_link = val
            break
    return records, next_link


def parse_error(body: Any) -> tuple[str | None, str | None]:
    """(code, message) from a flat or nested error body; (None, None) when neither shape matches."""
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict):
            body = inner
        elif isinstance(inner, str) and "message" not in body:
            return None, inner
        code, message = body.get("code"), body.get("message")
        return (str(code) if code is not None else None, str(message) if message is not None else None)
    return None, None


def ts_literal(ts: datetime) -> str:
    """A timestamp as the API writes it: ISO-8601 UTC with milliseconds and `Z`."""
    if ts.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def quote(value: str) -> str:
    """An OData string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def window_filter(cursor: str, lo: datetime, hi: datetime, after_id: str | None, key: str = "id") -> str:
    """`$filter` for keyset paging inside the half-open window [lo, hi) after `after_id`."""
    parts = [f"{cursor} ge {quote(ts_literal(lo))}", f"{cursor} lt {quote(ts_literal(hi))}"]
    if after_id is not None:
        parts.append(f"{key} gt {quote(after_id)}")
    return " and ".join(parts)


def check_page_order(records: list[dict[str, Any]], after_id: str | None, key: str = "id") -> str | None:
    """The last id of a keyset page; refuses a page that would make paging loop or skip.

    The server orders by id and filters `id gt <after_id>`; we do not compare ids ourselves (the
    server's collation decides), except that the page must move past `after_id`.
    """
    if not records:
        return after_id
    last = records[-1].get(key)
    if not isinstance(last, str):
        raise ApiError(f"a record without a string '{key}' ended a page; cannot continue keyset paging")
    if after_id is not None and last == after_id:
        raise ApiError(f"the API returned a page that does not advance past id {after_id!r}")
    return last
