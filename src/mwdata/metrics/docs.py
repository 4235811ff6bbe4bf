"""Render docs/metrics.md from the semantic layer (`mwdata metrics docs`; a test keeps the file current)."""

from __future__ import annotations

from mwdata.metrics.registry import Metric, get_metric, load_registry

KIND_TEXT = {
    "retention": "mwdata intersects the users of the period and of the previous one (MetricFlow has no such step)",
    "undated_denominator": "the denominator is not dated (a roster or headcount): mwdata takes its current total",
    "share_of_total": "the denominator drops the share's dimension (meta share_of) from the filters and groups: the share of the total",
    "bundle": "returned as columns dau, wau, mau (trailing 1, 7 and 30 days) at a day grain",
}


def _inputs(m: Metric) -> list[str]:
    if m.type == "ratio":
        return [f"- Numerator: {_ref(m.numerator)}", f"- Denominator: {_ref(m.denominator)}"]
    if m.type == "derived":
        return [f"- Derived from: {', '.join(_ref(n) for n in m.inputs)}"]
    return [f"- Measure: {', '.join(f'`{x}`' for x in m.measures)} of {', '.join(f'`{t}`' for t in m.marts)}"]


def _ref(name: str | None) -> str:
    if not name:
        return "?"
    p = get_metric(name)
    return f"`{p.name}` ({p.description.rstrip('.')}; {', '.join(f'`{t}`' for t in p.marts)})"


def _metric(m: Metric) -> list[str]:
    origin = "published by Moveworks" if m.published else "mwdata project definition"
    if m.reference:
        origin += f" ([Moveworks]({m.reference}))"
    lines = [f"### {m.label} (`{m.name}`)", "", m.description, "", f"- Source: {origin}"]
    if m.reading:
        lines.append(f"- Reading: {m.reading}")
    lines.append(f"- Type: {m.type}; format: {m.format}; default grain: {m.grain}; page: {m.page or '-'}")
    lines += _inputs(m)
    if m.filters:
        lines.append("- Filter: " + " and ".join(f"`{f}`" for f in m.filters))
    if m.kind != "plain":
        lines.append(f"- Computed by mwdata: {KIND_TEXT[m.kind]}")
    if m.dimensions:
        lines.append(f"- Dimensions: {', '.join(f'`{d}`' for d in m.dimensions)}")
    if m.parameters:
        lines.append("- Parameters (dbt vars): " + ", ".join(f"`{k}` = {v}" for k, v in m.parameters.items()))
    return [*lines, ""]


def render() -> str:
    metrics = load_registry()
    out = [
        "# Metrics",
        "",
        "Generated from the dbt semantic layer (`src/mwdata/transform/dbt/models/semantic/`) by",
        "`mwdata metrics docs`: do not edit by hand. Every metric has one definition there, in dbt's",
        "semantic layer format (MetricFlow reads it too: `mf query --metrics escalation_rate`); mwdata's own",
        "fields are in each metric's `config.meta`. Dates are UTC days; weeks start on Monday. Test users",
        "(HR extract) are excluded unless asked. Query a metric with `mwdata metrics query NAME` or, in",
        "Python, `mwdata.metrics.query(con, name, grain=, by=, since=, until=, where=)`.",
        "",
    ]
    for source, title in (("moveworks", "Published by Moveworks"), ("project", "Project definitions")):
        out += [f"## {title}", ""]
        for m in metrics:
            if m.source == source:
                out += _metric(m)
    out += [
        "## Building blocks",
        "",
        "Numerators, denominators and inputs of the metrics above (queryable like them).",
        "",
        "| name | label | definition | of |",
        "|---|---|---|---|",
    ]
    for m in load_registry(include_parts=True):
        if m.is_part:
            out.append(f"| `{m.name}` | {m.label} | {m.description} | {m.part_of} |")
    out += [
        "",
        "## Data health",
        "",
        "Not a metric of the marts: the outcomes of `mwdata check` (dbt tests and source freshness) in",
        "`_mwdata.check_results`, shown on the data-health page. Its thresholds are dbt vars of",
        "`dbt_project.yml`: `mwdata_freshness_warn_hours`, `mwdata_volume_window_days`, `mwdata_volume_band`,",
        "`mwdata_orphan_warn_rate`, `mwdata_orphan_error_rate`.",
    ]
    return "\n".join(out).rstrip() + "\n"
