"""Number formatting shared by the dashboard and the report (no Streamlit import)."""

from __future__ import annotations


def format_delta(diff: float, fmt: str) -> str:
    """`+12` for counts; `+1.3 pp` (percentage points) for rates, never a misleading `+1.3%`."""
    if fmt.endswith("%}"):
        return f"{diff * 100:+.1f} pp"
    text = fmt.format(diff)
    return text if text.startswith("-") else "+" + text
