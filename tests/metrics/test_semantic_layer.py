"""The semantic layer itself: the packaged manifest is dbt's parse of the YAML, MetricFlow validates it,
and every metric carries the fields mwdata reads."""

from __future__ import annotations

from mwdata.metrics import load_registry, manifest, parameters
from mwdata.metrics.query import qualified
from mwdata.metrics.registry import KINDS
from mwdata.transform import project


def test_manifest_is_the_parse_of_the_yaml_and_metricflow_validates_it() -> None:
    assert manifest.MANIFEST_FILE.read_text() == manifest.generate(), "run: python -m mwdata.metrics.manifest"
    assert manifest.validate() == []


def test_every_metric_has_its_meta_and_resolvable_dimensions() -> None:
    headline = load_registry()
    # the registry's 36 but data_health (the outcomes of `mwdata check`), and 11 the dashboard pages show
    assert len(headline) == 46
    for m in headline:
        assert m.source in ("moveworks", "project") and m.label and m.description, m.name
        assert m.format in ("count", "percent", "number", "minutes", "seconds"), m.name
        assert m.grain in ("day", "week", "month") and m.page, m.name
        assert m.kind in KINDS, m.name
        for d in m.dimensions:
            qualified(m, d)  # no MetricError: MetricFlow reaches it from every input
    for m in load_registry(include_parts=True):
        if m.is_part:
            assert all(p in {x.name for x in headline} for p in m.part_of.split(", ")), m.name  # type: ignore[union-attr]


def test_parameters_are_the_dbt_vars_the_models_read() -> None:
    params = parameters()
    assert params["mwdata_freshness_warn_hours"] == project.FRESHNESS_WARN_HOURS
    sql = (project.PROJECT_DIR / "models" / "marts" / "moveworks__conversations.sql").read_text()
    assert "var('mwdata_ttr_max_minutes')" in sql
    # the failure formula lives once, in the journey's is_knowledge_gap; no mart aggregates it again
    marts = project.PROJECT_DIR / "models" / "marts"
    assert "is_knowledge_gap" in (marts / "moveworks__journey.sql").read_text()
    assert not [p.name for p in marts.glob("*.sql") if "when is_knowledge_gap" in p.read_text()]
