"""What a deal query computed: the matching records, the headline figure, the groups."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any

from advisor.analytics.query import DealQuery

Row = dict[str, Any]


@dataclass
class GroupStat:
    """One group of a breakdown or comparison: its deals and its figure."""

    key: str
    rows: list[Row]
    value: float | None
    reported: int

    @property
    def count(self) -> int:
        """How many deals the group holds."""
        return len(self.rows)


@dataclass
class DealResult:
    """What a query computed, and every record behind it."""

    query: DealQuery
    rows: list[Row]                     # every matching deal, oldest first
    value: float | None = None          # the headline figure: a count, sum, average or median
    shown: list[Row] = field(default_factory=list)      # the rows behind the figure, in the order shown
    missing: list[Row] = field(default_factory=list)    # matching deals that did not report the measure
    groups: list[GroupStat] = field(default_factory=list)
    groups_total: int = 0               # groups before a ranking cut them to `limit`
    tied: int = 0                       # groups left out by the cut whose figure equals the last one kept
    untested: list[Row] = field(default_factory=list)  # match all but a threshold whose field is not reported

    @property
    def reported(self) -> int:
        """How many matching deals reported the measured field."""
        return len(self.rows) - len(self.missing)


def aggregate(operation: str, values: list[float], count: int) -> float | None:
    """count -> count; sum/avg/median over the reported values (None when none was reported)."""
    if operation in ("count", "list"):
        return float(count)
    if not values:
        return None
    if operation == "sum":
        return math.fsum(values)
    if operation == "avg":
        return math.fsum(values) / len(values)
    if operation == "median":
        return float(statistics.median(values))
    raise ValueError(f"operation {operation!r} does not aggregate: use count, sum, avg or median")
