"""Importing an office's own Excel ledgers (导入 Excel 台账, domain.md §8): the pure part.

Offices keep 客户台账, 回访台账 and 投诉台账 in Excel, each in its own shape: a title row, a blank row and
merged cells above the header, header names of their own (客户名称 or 单位名称, 联系电话 or 手机, 负责人 or
业务员 …), full-width digits, two phone numbers in one cell, dates typed as text, class names such as 甲类,
numbers written in Chinese, and 合计 rows. This package turns such rows into clean, checked values, one
module per step:

* :mod:`.fields` — the import settings (:class:`ImportRules`) and what each ledger's columns may be
  (:class:`ImportTarget`, :class:`TargetField` and their header synonyms);
* :mod:`.values` — value parsers: :func:`cell_text`, :func:`parse_cell_date`, :func:`parse_cell_datetime`,
  :func:`parse_chinese_number`, :func:`parse_count`, :func:`parse_grade`, :func:`split_phone_cell`,
  :func:`parse_money`, …;
* :mod:`.headers` — column matching: :func:`detect_header_row` scores the first rows by how many cells are
  known header names, :func:`suggest_mapping` maps columns to fields (synonyms, a saved mapping preferred),
  :func:`refine_mapping` corrects that by the columns' values;
* :mod:`.rows` — :func:`data_rows` skips empty rows, total rows (合计/总计/小计) and repeated header rows;
  :class:`RowIssue` and the row reader the interpreters share;
* :mod:`.customers` and :mod:`.records` — ``*_from_row`` interpret one sheet row for a target, given
  look-ups the service loads in bulk, and return a candidate or the row's problems (:class:`RowIssue`,
  naming the sheet row and column);
* :mod:`.report` — :func:`sheet_duplicates` finds rows that repeat an earlier row of the same sheet;
  :func:`group_issues` groups the problems by kind with a count, the first rows and how to fix them.

No Qt, no database, no openpyxl: the service reads the workbook and passes plain cell values (str, int,
float, bool, date, datetime or None). Import the names from this package; the modules are its rooms.
"""

from __future__ import annotations

from huifang_desktop.domain.importing.customers import (
    CustomerCandidate,
    CustomerRowContext,
    customer_from_row,
    customer_keys,
)
from huifang_desktop.domain.importing.fields import (
    DEFAULT_RULES,
    TARGET_FIELDS,
    ImportRules,
    ImportTarget,
    TargetField,
    mapping_settings_key,
    target_field,
)
from huifang_desktop.domain.importing.headers import (
    detect_header_row,
    header_score,
    mapping_by_header,
    missing_required,
    refine_mapping,
    suggest_mapping,
    unused_columns,
)
from huifang_desktop.domain.importing.records import (
    IMPORT_COMPLAINT_STATES,
    SERVICE_STATUSES,
    ComplaintCandidate,
    ComplaintRowContext,
    ServiceCandidate,
    ServiceRowContext,
    VisitCandidate,
    VisitRowContext,
    complaint_from_row,
    complaint_keys,
    service_from_row,
    service_keys,
    visit_from_row,
    visit_keys,
)
from huifang_desktop.domain.importing.report import (
    IssueGroup,
    chunks,
    describe_key,
    group_issues,
    issue_hint,
    sheet_duplicates,
    sort_issues,
)
from huifang_desktop.domain.importing.rows import (
    Columns,
    IssueKind,
    RowIssue,
    RowSkips,
    SheetRow,
    data_rows,
    is_blank_like,
    user_lookup,
)
from huifang_desktop.domain.importing.values import (
    cell_text,
    column_letter,
    excel_serial_to_datetime,
    is_empty_row,
    is_total_row,
    normalize_header,
    parse_cell_date,
    parse_cell_datetime,
    parse_chinese_number,
    parse_count,
    parse_customer_state,
    parse_grade,
    parse_kind,
    parse_money,
    parse_status,
    split_phone_cell,
)

__all__ = [
    "DEFAULT_RULES",
    "IMPORT_COMPLAINT_STATES",
    "SERVICE_STATUSES",
    "TARGET_FIELDS",
    "Columns",
    "ComplaintCandidate",
    "ComplaintRowContext",
    "CustomerCandidate",
    "CustomerRowContext",
    "ImportRules",
    "ImportTarget",
    "IssueGroup",
    "IssueKind",
    "RowIssue",
    "RowSkips",
    "ServiceCandidate",
    "ServiceRowContext",
    "SheetRow",
    "TargetField",
    "VisitCandidate",
    "VisitRowContext",
    "cell_text",
    "chunks",
    "column_letter",
    "complaint_from_row",
    "complaint_keys",
    "customer_from_row",
    "customer_keys",
    "data_rows",
    "describe_key",
    "detect_header_row",
    "excel_serial_to_datetime",
    "group_issues",
    "header_score",
    "is_blank_like",
    "is_empty_row",
    "is_total_row",
    "issue_hint",
    "mapping_by_header",
    "mapping_settings_key",
    "missing_required",
    "normalize_header",
    "parse_cell_date",
    "parse_cell_datetime",
    "parse_chinese_number",
    "parse_count",
    "parse_customer_state",
    "parse_grade",
    "parse_kind",
    "parse_money",
    "parse_status",
    "refine_mapping",
    "service_from_row",
    "service_keys",
    "sheet_duplicates",
    "sort_issues",
    "split_phone_cell",
    "suggest_mapping",
    "target_field",
    "unused_columns",
    "user_lookup",
    "visit_from_row",
    "visit_keys",
]
