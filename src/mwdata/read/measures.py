"""What each counted thing means, as one SQL predicate per measure and mart.

The page queries count `count(*) FILTER (WHERE <predicate>)` and the drill-down lists select the rows
`WHERE <predicate>`, both from these strings, so a list behind a number always adds up to it.
"""

from __future__ import annotations

# moveworks__conversations (one row per conversation)
CONVERSATION: dict[str, str] = {
    "conversations": "TRUE",
    "engaged": "is_user_engaged",
    "escalated": "is_user_engaged AND is_escalated",
    "engaged_dm": "is_user_engaged AND route = 'DM'",
    "contained": "is_contained",  # the mart's flag: user-engaged, DM, a used plugin, no escalation/unhelpful
    "plugin_served": "is_user_engaged AND plugins_served > 0",
    "plugin_used": "is_user_engaged AND plugins_used > 0",
    # the time-to-resolution proxy's sample (a day's cap keeps forgotten conversations out)
    "resolved": "minutes_to_resolution IS NOT NULL AND minutes_to_resolution <= 1440",
}
# moveworks__journey (one row per user interaction)
FREE_TEXT = "interaction_type = 'INTERACTION_TYPE_FREE_TEXT'"
INTERACTION: dict[str, str] = {
    "interactions": "TRUE",
    "helpful": "feedback = 'HELPFUL'",
    "unhelpful": "feedback = 'UNHELPFUL'",
    "feedback": "feedback IN ('HELPFUL', 'UNHELPFUL')",
    "free_text": FREE_TEXT,
    # a knowledge gap: a free-text question answered without a citation, marked unhelpful or escalated
    "gap": "is_knowledge_gap",  # the mart's flag, as the knowledge_gaps metric counts it
    "csat_comment": "is_csat_comment",
}
# moveworks__plugin_calls (one row per plugin call)
PLUGIN_CALL: dict[str, str] = {
    "calls": "TRUE",
    "served": "served",
    "used": "used",
    "unsuccessful": "is_unsuccessful",  # the mart's flag (not served), as plugin_unsuccessful counts it
}
# moveworks__knowledge_resources (one row per knowledge resource served)
RESOURCE: dict[str, str] = {
    "served": "TRUE",
    "cited": "cited",
    "not_cited": "NOT cited",
}
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


def count(predicate: str) -> str:
    """`count(*) FILTER (WHERE …)`, or `count(*)` for the measure of every row."""
    return "count(*)" if predicate == "TRUE" else f"count(*) FILTER (WHERE {predicate})"
