"""Deal analytics: exact counts, sums, rankings and comparisons over the deal records, with charts."""

from advisor.analytics.engine import DealAnalytics
from advisor.analytics.query import CompareGroup, DealFilters, DealQuery, Side, ValueRange
from advisor.analytics.result import DealResult, GroupStat

__all__ = ["CompareGroup", "DealAnalytics", "DealFilters", "DealQuery", "DealResult", "GroupStat", "Side",
           "ValueRange"]
