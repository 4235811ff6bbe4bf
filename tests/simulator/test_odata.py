"""`$filter` timestamp semantics directly: instants, whatever the text's precision or offset."""

from __future__ import annotations

import pytest

from mwdata.catalog import BY_PATH
from mwdata.simulator.odata import QueryError, compile_filter

E = BY_PATH["users"]


@pytest.mark.parametrize(
    ("value", "flt", "want"),
    [
        ("2026-11-10T00:00:00.000Z", "last_updated_time eq '2026-11-10T00:00:00Z'", True),
        ("2026-11-10T00:00:00Z", "last_updated_time eq '2026-11-10T00:00:00.000Z'", True),
        ("2026-11-10T01:00:00+01:00", "last_updated_time eq '2026-11-10T00:00:00.000Z'", True),
        ("2026-11-10T00:00:00.001Z", "last_updated_time gt '2026-11-10T00:00:00Z'", True),
        ("2026-11-10T00:00:00.000500Z", "last_updated_time gt '2026-11-10T00:00:00Z'", True),
        ("2026-11-09T23:59:59.999Z", "last_updated_time ge '2026-11-10T00:00:00.0005Z'", False),
        (None, "first_interaction_time lt '2026-11-10T00:00:00Z'", False),
        (None, "first_interaction_time eq null", True),
    ],
)
def test_timestamps_compare_as_instants(value: str | None, flt: str, want: bool) -> None:
    field = flt.split()[0]
    pred = compile_filter(E, flt)
    assert pred is not None and pred({field: value}) is want


def test_bad_filters() -> None:
    for bad in ("last_updated_time gt 5", "id eq 'a' and", "email_addr/x eq 'a'", "x eq 1", "id eq 'a' )"):
        with pytest.raises(QueryError):
            compile_filter(E, bad)
