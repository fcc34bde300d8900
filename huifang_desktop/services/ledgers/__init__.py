"""台账 (ledgers, domain.md §8): the five ledgers behind one API — 客户台账, 回访台账, 投诉台账, 售后服务台账 and
终端客户信息台帐.

Every ledger is described by its :func:`columns` (key, label, type, width, summed or not, sortable or not,
shown by default, and the getter that reads the cell from the ledger's query row by field name) and read with
one :class:`LedgerFilter` (text, a date range, 负责人 or "mine", a state, a kind and a grade — each ledger names
what they mean in :func:`choices`):

* :func:`page` — one page of rows after a keyset cursor (the last row's ``key``); filters and sorting run
  in SQL on indexed columns, so the first page of a million-row ledger costs as much as of a small one.
  The 回访台账 holds two kinds of rows — planned visits (with their record once made) and visits made
  without a plan (计划外) — read as two index-ordered queries merged by date.
* :func:`totals` — the 合计 row: the row count and the sums of the summed columns, computed in SQL.
* :func:`stream` — every row in order (a server cursor), for :func:`export` and :func:`print_document`;
  :func:`named` reads a row's cells by column key.
* :func:`export` — the ledger as an .xlsx workbook (:mod:`huifang_desktop.exports.ledger_xlsx`): title with
  company and period, frozen header, widths, real dates and numbers, auto-filter, 合计 row and a 说明 sheet
  with the filter and who exported when; progress and cancel for the GUI's worker thread; audited.
* :func:`print_document` — a landscape table (header on every page, 本页合计 and 总计 of the summed columns).
* Saved filters and the column choice are kept **per user** (setting ``ledger_prefs:<user id>``); the
  built-in filters (本月, 上月, 本年, 我的…, 逾期 …) are computed from today.

Visibility is the customer files' rule (whole office or own department). Exporting a ledger the office
marked 绝密 (``LedgerOptions.top_secret``, by default the two customer ledgers, 002) needs a supervisor.

These definitions are the one path for every ledger: the 台账 tab, the command line (``export customers``,
``export visits``, ``export complaints`` …), the 投诉登记 tab's 导出台账 (:func:`export_complaints`, the
投诉台账 under the register's own filter) and the printed 回访台账 (``ledgers.visit_ledger_pdf``, printed through ``services.printing``) read
the same columns and rows.

The package: :mod:`.model` (types), :mod:`.base` (what the ledgers share), one module per ledger
(:mod:`.customer_ledger`, :mod:`.visit_ledger`, :mod:`.complaint_ledger`, :mod:`.service_ledger`,
:mod:`.end_customer_ledger`), :mod:`.reading`, :mod:`.filters` (saved filters and columns), :mod:`.describe`,
:mod:`.export` and :mod:`.printed`.
"""

from __future__ import annotations

from huifang_desktop.services.ledgers.describe import archived_note, describe_filter, period_text
from huifang_desktop.services.ledgers.export import export, export_complaints, suggested_file_name
from huifang_desktop.services.ledgers.filters import (
    delete_filter,
    save_filter,
    save_visible_columns,
    saved_filters,
    visible_columns,
)
from huifang_desktop.services.ledgers.model import (
    ALL,
    ARCHIVED,
    HISTORY,
    IN_WARRANTY,
    NO_WARRANTY,
    OUT_OF_WARRANTY,
    OVERDUE_STATE,
    PAGE_SIZE,
    UNARCHIVED,
    UNPLANNED,
    ColumnType,
    ExportCancelled,
    ExportResult,
    FilterChoices,
    Ledger,
    LedgerColumn,
    LedgerError,
    LedgerFilter,
    LedgerOptions,
    LedgerPage,
    LedgerRow,
    LedgerTotals,
    ReadAt,
    SavedFilter,
    load_options,
    month_filter,
    save_options,
)
from huifang_desktop.services.ledgers.printed import print_document
from huifang_desktop.services.ledgers.reading import (
    choices,
    columns,
    is_top_secret,
    named,
    page,
    stream,
    totals,
)
from huifang_desktop.services.ledgers.visit_print import (
    DONE_COLUMN,
    LEDGER_NOWRAP,
    LEDGER_PRINT_WIDTHS,
    ledger_columns,
    visit_ledger_pdf,
)

__all__ = [
    "ALL",
    "ARCHIVED",
    "DONE_COLUMN",
    "HISTORY",
    "IN_WARRANTY",
    "LEDGER_NOWRAP",
    "LEDGER_PRINT_WIDTHS",
    "NO_WARRANTY",
    "OUT_OF_WARRANTY",
    "OVERDUE_STATE",
    "PAGE_SIZE",
    "UNARCHIVED",
    "UNPLANNED",
    "ColumnType",
    "ExportCancelled",
    "ExportResult",
    "FilterChoices",
    "Ledger",
    "LedgerColumn",
    "LedgerError",
    "LedgerFilter",
    "LedgerOptions",
    "LedgerPage",
    "LedgerRow",
    "LedgerTotals",
    "ReadAt",
    "SavedFilter",
    "archived_note",
    "choices",
    "columns",
    "delete_filter",
    "describe_filter",
    "export",
    "export_complaints",
    "is_top_secret",
    "ledger_columns",
    "load_options",
    "month_filter",
    "named",
    "page",
    "period_text",
    "print_document",
    "save_filter",
    "save_options",
    "save_visible_columns",
    "saved_filters",
    "stream",
    "suggested_file_name",
    "totals",
    "visible_columns",
    "visit_ledger_pdf",
]
