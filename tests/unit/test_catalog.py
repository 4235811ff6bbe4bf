"""The catalogue matches the real sample responses field for field."""

import json

import pytest

from mwdata import catalog
from tests.conftest import SAMPLES_DIR as SAMPLES


@pytest.mark.parametrize("entity", catalog.ENTITIES, ids=lambda e: e.path)
def test_sample_fields_are_catalogued(entity: catalog.Entity) -> None:
    records = json.loads((SAMPLES / f"{entity.path}.json").read_text())["value"]
    seen = set().union(*(r.keys() for r in records))
    # conversations' `type` and `detail` arrived in April 2026, after the samples were captured
    assert seen <= set(entity.field_names)
    assert set(entity.field_names) - seen <= {"type", "detail"}


@pytest.mark.parametrize("entity", catalog.ENTITIES, ids=lambda e: e.path)
def test_sample_nulls_only_where_nullable(entity: catalog.Entity) -> None:
    records = json.loads((SAMPLES / f"{entity.path}.json").read_text())["value"]
    for f in entity.fields:
        if not f.nullable:
            assert all(r.get(f.name) is not None for r in records if f.name in r), f.name


def test_lookup_by_path_or_table() -> None:
    assert catalog.entity("plugin-calls") is catalog.entity("plugin_calls") is catalog.PLUGIN_CALLS
    with pytest.raises(KeyError, match="known"):
        catalog.entity("tickets")
