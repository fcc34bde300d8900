"""Printed forms and ledgers from the database (domain.md §10, issue #6).

Each public function reads what one printed document needs, checks that the acting user may see it
(the same visibility rules as :mod:`huifang_desktop.services.visits`), fills the values of a template from
``forms/`` and renders it with :mod:`huifang_desktop.printing`. It returns a :class:`PrintedDocument`
(the PDF bytes plus what the preview and the audit log need); with ``out`` it also writes the file.

Auditing: making a document for the preview is not a print. What leaves the program is logged as one
``打印`` row: a file written by :func:`save_pdf` (or ``out=``), or a print / save the preview reports back
through :func:`log_output`. Each row names the form, the page count and where it went.

Blank and unsigned forms: a planned visit prints a blank 回访记录表 with the customer, contact, phone,
visit type (and, where the office's template has fields for them, address and planned day) pre-printed, for
the customer to sign on site. A record or report the supervisor signed prints the signer and date (a stamp
in the header and the sign-off box); any other one prints the 草稿 watermark (``PrintOptions``).

Adding a form (e.g. the 投诉处理表, ``complaint_pdf``): read the record, build its values with the
template's field names, then ``_form_document(ctx, "complaint", [FormJob(values, draft=..., signed=...)],
entity="complaint", ...)``; copies (一式N联) come from the template.

The package: :mod:`.documents` (settings, :class:`PrintedDocument`, files and the audit row),
:mod:`.rendering` (templates, ``_form_document``, the stamp and the tamper mark), :mod:`.numbers` (编号 → id),
:mod:`.empty_forms`, :mod:`.record_form` (回访记录表), :mod:`.report_form` (回访报告表), :mod:`.ledger`
(回访台账), :mod:`.complaint_form` (投诉处理表) and :mod:`.inquiry_form` (投诉查办单). Callers import from the package:
``from huifang_desktop.services import printing; printing.visit_record_pdf(…)``.
"""

from __future__ import annotations

from huifang_desktop.services.printing.complaint_form import COMPLAINT_FORM, complaint_pdf
from huifang_desktop.services.printing.documents import (
    OPTIONS_KEY,
    OUTPUT_FILE,
    OUTPUT_PRINTER,
    PRINT_ACTION,
    VISIT_RECORD_FORM,
    VISIT_REPORT_FORM,
    CancelCheck,
    PrintCancelled,
    PrintedDocument,
    PrintError,
    PrintOptions,
    ProgressCallback,
    check_output,
    font_file,
    load_print_options,
    log_output,
    may_output,
    print_options_in,
    save_pdf,
    save_print_options,
    write_pdf,
)
from huifang_desktop.services.printing.empty_forms import EMPTY_FORMS, empty_form_pdf
from huifang_desktop.services.printing.inquiry_form import INQUIRY_FORM, inquiry_pdf
from huifang_desktop.services.printing.numbers import complaint_id_of, record_id_of, report_id_of
from huifang_desktop.services.printing.record_form import (
    DAY_COVER_FORM,
    blank_visit_record_pdf,
    day_plans_pdf,
    draft_visit_record_pdf,
    plan_form_pdf,
    visit_record_pdf,
    visit_records_pdf,
)
from huifang_desktop.services.printing.rendering import use_forms_dir
from huifang_desktop.services.printing.report_form import report_draft_pdf, visit_report_pdf

__all__ = [
    "COMPLAINT_FORM",
    "DAY_COVER_FORM",
    "EMPTY_FORMS",
    "INQUIRY_FORM",
    "OPTIONS_KEY",
    "OUTPUT_FILE",
    "OUTPUT_PRINTER",
    "PRINT_ACTION",
    "VISIT_RECORD_FORM",
    "VISIT_REPORT_FORM",
    "CancelCheck",
    "PrintCancelled",
    "PrintError",
    "PrintOptions",
    "PrintedDocument",
    "ProgressCallback",
    "blank_visit_record_pdf",
    "check_output",
    "complaint_id_of",
    "complaint_pdf",
    "day_plans_pdf",
    "draft_visit_record_pdf",
    "empty_form_pdf",
    "font_file",
    "inquiry_pdf",
    "load_print_options",
    "log_output",
    "may_output",
    "plan_form_pdf",
    "print_options_in",
    "record_id_of",
    "report_draft_pdf",
    "report_id_of",
    "save_pdf",
    "save_print_options",
    "use_forms_dir",
    "visit_record_pdf",
    "visit_records_pdf",
    "visit_report_pdf",
    "write_pdf",
]
