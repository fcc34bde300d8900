"""回访日历 tab: month/week/day views of visit plans, today and overdue list, the 回访记录表 entry."""
