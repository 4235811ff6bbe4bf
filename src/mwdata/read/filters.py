"""The dashboard's global filters, turned into SQL with bound parameters (never string-built values).

A query names, for each filter dimension, the column that carries it in its table (or nothing, when
the table cannot be cut that way); `Filters.where()` returns the clause and its parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

DIMENSIONS = ("department", "location", "role", "platform", "route", "domain")


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # dimension -> chosen values
    include_test_users: bool = False

    def __post_init__(self) -> None:
        unknown = set(self.values) - set(DIMENSIONS)
        if unknown:
            raise ValueError(f"unknown filter dimension(s) {sorted(unknown)}; known: {DIMENSIONS}")
        if self.end < self.start:
            raise ValueError("the end date is before the start date")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Filters:
        """The period of the same length just before this one (for deltas)."""
        return replace(self, start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1))

    def compares_within(self, first_day: date | None) -> bool:
        """Whether data starting on `first_day` covers the previous period, so deltas mean something."""
        return first_day is not None and self.previous().start >= first_day

    def active(self) -> dict[str, tuple[str, ...]]:
        return {k: v for k, v in self.values.items() if v}

    def restricted(self, columns: Mapping[str, str | None]) -> Filters:
        """These filters without the dimensions a page cannot apply (see `unsupported`)."""
        return replace(self, values={d: v for d, v in self.values.items() if columns.get(d) is not None})

    def where(
        self,
        columns: Mapping[str, str | None],
        date_column: str | None,
        test_column: str | None = None,
    ) -> tuple[str, list[Any]]:
        """`(sql, params)`: a WHERE body (`TRUE` when nothing applies) for the given column names.

        `columns` maps a dimension to its column; a dimension missing there does not filter this query.
        """
        parts: list[str] = []
        params: list[Any] = []
        if date_column:
            parts.append(f"CAST({date_column} AS DATE) BETWEEN ? AND ?")
            params += [self.start, self.end]
        for dim, chosen in self.active().items():
            col = columns.get(dim)
            if col is None:
                continue
            parts.append(f"{col} IN ({', '.join('?' for _ in chosen)})")
            params += list(chosen)
        if test_column and not self.include_test_users:
            parts.append(f"NOT coalesce({test_column}, FALSE)")
        return (" AND ".join(parts) or "TRUE"), params

    def unsupported(self, columns: Mapping[str, str | None]) -> list[str]:
        """Active dimensions this query cannot apply (shown as a caption, so nobody is misled)."""
        return [d for d in self.active() if columns.get(d) is None]
