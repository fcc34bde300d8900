"""统计 tab: figures of a period, charts, the 考核 assessment, and the monthly / quarterly reports."""

from huifang_desktop.ui.stats.tab import StatsTab

__all__ = ["StatsTab"]
