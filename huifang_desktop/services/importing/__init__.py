"""Import an office's own Excel ledgers (导入 Excel 台账, domain.md §8): customers, visit history, complaints,
service records.

The pure rules (header detection, column mapping, value parsing, row interpretation, duplicates within the
sheet) are in :mod:`huifang_desktop.domain.importing`; this package reads the file, loads the look-ups in
bulk, checks duplicates against the database in bulk and writes. One module per step:

* :mod:`.common` — the office's import settings and saved column mappings, the errors, bulk look-up helpers;
* :mod:`.reading` — :func:`read_workbook`: limits checked from the zip directory before any XML is parsed,
  then the cell values and hidden rows (``.csv`` too);
* :mod:`.preview` — :func:`preview`: the first rows, the header row, the suggested mapping;
* :mod:`.validation` and :mod:`.checkers` — :func:`validate`: a :class:`ValidationReport` with every bad row
  by its sheet row number, the column and why, duplicates within the sheet and against the database; nothing
  is written;
* :mod:`.writing`, :mod:`.writers` and :mod:`.record_writers` — :func:`run_import`;
* :mod:`.undo` — :func:`list_import_runs`, :func:`undo_import`.

Flow: :func:`read_workbook` → :func:`preview` (header row, suggested mapping; the office's saved mapping
preferred) → :func:`validate` → :func:`run_import`.

Writing is **all or nothing**: every chosen row is written in **one** transaction, in batches of
``ImportRules.batch_size`` rows (SQLAlchemy Core executemany; one audit row per batch with its counts and the
file name). Cancelling between batches, or any error, rolls the whole transaction back: nothing of the import
is left in the database (``ImportResult.cancelled``). Numbers (客户编号, 回访编号, 投诉编号) come from the
counters, reserved a batch at a time; numbers kept from the sheet move the counter past them.

Imported visit rows are history: records without plans and without follow-up plans, status 历史导入 (checked
on paper before, never signed in the program: no signer, no signature, so no 签字后被修改 alarm; locked like a
signed record; counted as done visits in the statistics like any record). Imported complaints get their
state directly (``record_writers._complaint_row``): closed ones are closed with their 结案日期, open ones keep
the deadlines their 投诉日期 gives, so an old open complaint shows as overdue.

Speed: no per-row query. Look-ups (users, customers by name/code) and duplicate checks (phones, names,
codes, numbers) are ``IN (…)`` queries in chunks of ``_CHUNK`` keys.

Import the names from this package; the modules are its rooms.
"""

from __future__ import annotations

from huifang_desktop.domain.importing import (
    ImportRules,
    ImportTarget,
    IssueKind,
    RowIssue,
    TargetField,
    column_letter,
    mapping_by_header,
)
from huifang_desktop.services.importing.checkers import find_existing_customers
from huifang_desktop.services.importing.common import (
    ImportCancelled,
    WorkbookError,
    load_import_rules,
    save_mapping,
    saved_mapping,
    target_fields,
)
from huifang_desktop.services.importing.preview import SheetPreview, preview
from huifang_desktop.services.importing.reading import SheetData, WorkbookData, read_workbook
from huifang_desktop.services.importing.undo import ImportRunInfo, UndoResult, list_import_runs, undo_import
from huifang_desktop.services.importing.validation import ColumnMapping, ValidationReport, validate
from huifang_desktop.services.importing.writing import ImportResult, create_owner_accounts, run_import

__all__ = [
    "ColumnMapping",
    "ImportCancelled",
    "ImportResult",
    "ImportRules",
    "ImportRunInfo",
    "ImportTarget",
    "IssueKind",
    "RowIssue",
    "SheetData",
    "SheetPreview",
    "TargetField",
    "UndoResult",
    "ValidationReport",
    "WorkbookData",
    "WorkbookError",
    "column_letter",
    "create_owner_accounts",
    "find_existing_customers",
    "list_import_runs",
    "load_import_rules",
    "mapping_by_header",
    "preview",
    "read_workbook",
    "run_import",
    "save_mapping",
    "saved_mapping",
    "target_fields",
    "undo_import",
    "validate",
]
