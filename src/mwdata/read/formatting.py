"""Number formatting shared by the dashboard and the report (no Streamlit import)."""

from __future__ import annotations


def format_delta(diff: float, fmt: str) -> str:
    """`+12` for counts; `+1.3 pp` (percentage points) for rates, never a misleading `+1.3%`."""
    if fmt.endswith("%}"):
        return f"{diff * 100:+.1f} pp"
    text = fmt.format(diff)
    return text if text.startswith("-") else "+" + text


UNTITLED = " (untitled)"  # appended to the id of a thing without a name (never a bare "null")


def resource_label_sql(name: str, external_id: str, resource_id: str) -> str:
    """SQL for a knowledge resource's label: its name, else "<external id or id> (untitled)"."""
    return f"coalesce({name}, coalesce({external_id}, {resource_id}) || '{UNTITLED}')"
