"""Every metric the dashboard and the report show has one definition, in the metric registry."""

from __future__ import annotations

from mwdata.read.definitions import METRICS, definition


def test_every_shown_metric_is_in_the_registry() -> None:
    missing = [name for name in METRICS if not definition(name).in_registry]
    assert not missing, f"metrics shown by the dashboard but absent from the registry: {missing}"
    for name in METRICS:
        d = definition(name)
        assert d.label and len(d.description) > 10


def test_definition_text_says_where_it_comes_from() -> None:
    d = definition("containment_rate")
    assert "project definition" in d.text or "published" in d.text
