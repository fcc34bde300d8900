"""投诉登记 tab (domain.md §7): the register with counts and filters, the intake form, the detail pane."""
