"""The rows each counted thing counts, per mart, read from the metric definitions.

The drill-down lists select the rows `WHERE <condition>` of the metric behind the number clicked
(`mwdata.metrics.registry.row_condition`: the measure's condition and the metric's filter), so a list
adds up to its number and neither restates the other.
"""

from __future__ import annotations

from mwdata.metrics.registry import MetricError, row_condition


def _conditions(mart: str, metrics: dict[str, str]) -> dict[str, str]:
    out = {}
    for key, metric in metrics.items():
        table, condition = row_condition(metric)
        if table != f"moveworks__{mart}":
            raise MetricError(f"metric {metric} counts rows of {table}, not of moveworks__{mart}")
        out[key] = condition
    return out


# moveworks__conversations (one row per conversation)
CONVERSATION = _conditions(
    "conversations",
    {
        "conversations": "conversations",
        "engaged": "engaged_conversations",
        "escalated": "escalated_conversations",
        "engaged_dm": "engaged_dm_conversations",
        "contained": "contained_conversations",
        "plugin_served": "plugin_served_conversations",
        "plugin_used": "plugin_used_conversations",
        "resolved": "resolved_conversations",  # the time-to-resolution sample
    },
)
# moveworks__journey (one row per user interaction)
INTERACTION = _conditions(
    "journey",
    {
        "interactions": "interactions",
        "helpful": "helpful_signals",
        "unhelpful": "unhelpful_feedback",
        "feedback": "feedback_signals",
        "free_text": "topic_interactions",
        "gap": "failed_questions",
        "csat_comment": "csat_comments",
    },
)
# moveworks__plugin_calls (one row per plugin call)
PLUGIN_CALL = _conditions(
    "plugin_calls",
    {
        "calls": "plugin_calls",
        "served": "served_plugin_calls",
        "used": "used_plugin_calls",
        "unsuccessful": "plugin_unsuccessful",
    },
)
# moveworks__knowledge_resources (one row per knowledge resource served)
RESOURCE = _conditions(
    "knowledge_resources",
    {"served": "served_resources", "cited": "cited_resources", "not_cited": "not_cited_resources"},
)
# The journey explorer's outcome filter (on moveworks__conversations).
OUTCOMES: dict[str, str] = {
    "contained": CONVERSATION["contained"],
    "escalated": CONVERSATION["escalated"],
    "ticket_filed": "is_ticket_filed",
    "unhelpful": "has_unhelpful_feedback",
}
OUTCOME_LABELS: dict[str, str] = {
    "contained": "Contained",
    "escalated": "Escalated",
    "ticket_filed": "Ticket filed",
    "unhelpful": "Unhelpful",
}
