"""Metric definitions shown next to every number, read from the metric registry (`mwdata.metrics`).

`METRICS` lists every metric the dashboard and the report show. Until the registry knows one of them,
its text here (mwdata's summary of the definition) is shown, marked "not yet in the registry", and the test
`tests/read/test_definitions.py` fails for it once the registry exists — one definition per metric.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

# name -> (label, fallback description, published by Moveworks?)
METRICS: dict[str, tuple[str, str, bool]] = {
    "active_users": ("Active users", "Distinct users with at least one interaction in the period.", True),
    "conversations": ("Conversations", "Distinct conversations started in the period.", True),
    "interactions": ("Interactions", "User interactions in the period.", True),
    "new_users": ("New users", "Users whose first interaction falls in the period.", True),
    "dau_wau_mau": (
        "DAU / WAU / MAU",
        "Distinct active users on the day, in the trailing 7 and 30 days.",
        False,
    ),
    "retained_users": ("Retained users", "Users active in the period and in the previous period.", True),
    "containment_rate": (
        "Containment rate",
        "User-engaged DM conversations with at least one used plugin, no escalation and no unhelpful "
        "feedback ÷ user-engaged DM conversations.",
        False,
    ),
    "escalation_rate": (
        "Escalation rate",
        "User-engaged conversations with a file_ticket or handoff interaction (or a used ticket/handoff "
        "plugin) ÷ user-engaged conversations.",
        False,
    ),
    "helpful_rate": ("Helpful feedback rate", "Helpful ÷ (helpful + unhelpful) feedback signals.", True),
    "channel_adoption": ("Channel adoption", "Share of active users and interactions by platform.", False),
    "segment_adoption": (
        "Segment adoption",
        "Active users ÷ headcount by department, location and role (needs the HR extract).",
        False,
    ),
    "plugin_served_rate": ("Plugin served rate", "Served plugin calls ÷ plugin calls.", True),
    "plugin_used_rate": ("Plugin used rate", "Used plugin calls ÷ served plugin calls.", True),
    "plugin_latency": (
        "Plugin latency",
        "plugin_update_time − created_time, median and p90; approval plugins include human waits.",
        True,
    ),
    "citation_rate": ("Citation rate", "Resources cited ÷ resources served.", True),
    "served_not_cited_rate": (
        "Served-not-cited rate",
        "Resources served and not cited ÷ resources served.",
        False,
    ),
    "knowledge_gaps": (
        "Knowledge gaps",
        "Topics and domains ranked by volume × failure (no cited resource, unhelpful, escalated).",
        False,
    ),
    "time_to_resolution": (
        "Time to resolution (proxy)",
        "Minutes from conversation start to the first used plugin; over 24 h and notification-origin "
        "conversations excluded. A proxy: the API has no ticket resolution times.",
        False,
    ),
    "time_saved": ("Time saved", "Used plugin calls × minutes saved per plugin (editable seed).", False),
}


@dataclass(frozen=True)
class Definition:
    name: str
    label: str
    description: str
    published: bool
    in_registry: bool

    @property
    def text(self) -> str:
        origin = "Moveworks' published definition" if self.published else "mwdata project definition"
        if not self.in_registry:
            origin += "; not yet in the registry"
        return f"{self.description} ({origin})"


def _from_registry(name: str) -> object | None:
    try:
        from mwdata.metrics import get_metric  # type: ignore[attr-defined]
    except ImportError:
        return None
    try:
        return get_metric(name)  # type: ignore[no-any-return]
    except (KeyError, LookupError, ValueError):
        return None


@cache
def definition(name: str) -> Definition:
    label, text, published = METRICS[name]
    m = _from_registry(name)
    if m is None:
        return Definition(name, label, text, published, in_registry=False)
    reg_published = getattr(m, "published", None)
    if reg_published is None:
        origin = str(getattr(m, "origin", getattr(m, "source", ""))).lower()
        reg_published = origin.startswith(("publish", "moveworks")) if origin else published
    return Definition(
        name=name,
        label=str(getattr(m, "label", None) or label),
        description=str(getattr(m, "description", None) or text).strip(),
        published=bool(reg_published),
        in_registry=True,
    )
