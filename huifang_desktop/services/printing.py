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
"""

from __future__ import annotations

import functools
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, aliased

from huifang_desktop.domain.complaints import ComplaintState
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, can
from huifang_desktop.domain.validation import MAX_DB_ID, clean_text, format_phone, parse_date, to_halfwidth
from huifang_desktop.domain.visits import (
    DEFAULT_SCALE,
    SATISFACTION_SCALES,
    PlanState,
    VisitMethod,
    VisitResult,
    VisitType,
    signature_substitute,
)
from huifang_desktop.exports.visits_xlsx import LEDGER_HEADERS, LEDGER_TITLE, LEDGER_WIDTHS
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.errors import NotFound, PermissionDenied, ServiceError
from huifang_desktop.services.outputs import check_suffix, period_text
from huifang_desktop.services.outputs import os_reason as _os_reason
from huifang_desktop.services.policy import SCALE_KEY, check_visible, customer_scope
from huifang_desktop.services.settings import (
    SETTINGS_KEY,
    OfficeSettings,
    load_settings,
    set_value,
    settings_from,
    value_in,
    values_in,
)
from huifang_desktop.services.visits import (
    RECORD_RETURNED,
    RECORD_SIGNED,
    ReportDraft,
    VisitRecordDraft,
    ledger_rows,
    list_plans,
)
from huifang_desktop.storage.models import (
    Complaint,
    ComplaintEvent,
    Customer,
    Department,
    User,
    VisitPlan,
    VisitRecord,
    VisitReport,
)

ProgressCallback = Callable[[int, int], None]
CancelCheck = Callable[[], bool]

PRINT_ACTION = "打印"
OUTPUT_PRINTER = "打印机"
OUTPUT_FILE = "PDF 文件"
OPTIONS_KEY = "print_options"

VISIT_RECORD_FORM = "visit_record"
VISIT_REPORT_FORM = "visit_report"

_CHUNK = 500  # ids per IN (…) look-up
_CANCELLED = PlanState.CANCELLED.value
_CANCEL_EVERY = 1000  # ledger rows read between two looks at the cancel button


@dataclass(frozen=True, slots=True)
class PrintOptions:
    """Office settings of printing (key ``print_options``); every value is a default.

    ``watermark_unsigned``: forms not signed off print the 草稿 watermark. ``signoff_role``: the word of the
    sign-off stamp (已审阅). ``ledger_max_rows``: a ledger longer than this is refused (narrow the dates).
    """

    watermark_unsigned: bool = True
    signoff_role: str = "审阅"
    ledger_max_rows: int = 20000

    def __post_init__(self) -> None:
        if self.ledger_max_rows < 1:
            raise ValidationError(FieldError("ledger_max_rows", "台账打印上限", "至少为 1 行"))

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PrintOptions:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def load_print_options(ctx: ServiceContext) -> PrintOptions:
    with ctx.sessions() as s:
        return print_options_in(s)


def print_options_in(s: Session) -> PrintOptions:
    return _print_options_from(value_in(s, OPTIONS_KEY))


def _print_options_from(data: Any) -> PrintOptions:
    return PrintOptions.from_dict(data) if isinstance(data, dict) else PrintOptions()


def _print_settings_in(s: Session) -> tuple[PrintOptions, OfficeSettings, tuple[str, ...]]:
    """The printing options, the office settings (its name, the visibility rule) and the levels of its
    satisfaction scale (满意度, best first), in one query."""
    stored = values_in(s, (OPTIONS_KEY, SETTINGS_KEY, SCALE_KEY))
    scale = SATISFACTION_SCALES.get(str(stored.get(SCALE_KEY, DEFAULT_SCALE.key)), DEFAULT_SCALE)
    return _print_options_from(stored.get(OPTIONS_KEY)), settings_from(stored.get(SETTINGS_KEY)), scale.levels


def _scale_levels(ctx: ServiceContext) -> tuple[str, ...]:
    with ctx.sessions() as s:
        return _print_settings_in(s)[2]


def save_print_options(ctx: ServiceContext, options: PrintOptions) -> None:
    """Store the office's printing settings (supervisor and up; audited by ``set_value``)."""
    ctx.require(Permission.MANAGE_SETTINGS, "修改打印设置")
    set_value(ctx, OPTIONS_KEY, options.to_dict(), what="打印设置")


class PrintError(ServiceError):
    """A document that cannot be made or written; the message names the form or the file."""


class PrintCancelled(ServiceError):
    """The user cancelled a batch; nothing was written or logged."""


@dataclass(frozen=True, slots=True)
class PrintedDocument:
    """One PDF ready for the preview, the printer or a file, with what the audit row says about it."""

    pdf: bytes
    pages: int
    form: str  # 回访记录表 / 回访报告表 / 回访台账
    title: str  # window title of the preview
    file_name: str  # suggested file name
    entity: str  # audit: table
    entity_id: int | None  # audit: row (None for a batch)
    label: str  # audit: what was printed, e.g. "HF20261124-001 KH000001 甲公司"
    detail: Mapping[str, Any] = field(default_factory=dict)  # audit: extra (ids of a batch, period …)
    top_secret: bool = False  # a 绝密 ledger: printed or saved only with Permission.EXPORT_TOP_SECRET


# --- files and the audit log ---------------------------------------------------------------------------

def write_pdf(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (a temp file renamed when complete); no audit.

    Raises :class:`PrintError` in Chinese naming the file (disk full, no permission, missing folder …).
    """
    target = Path(path)
    try:
        folder = target.is_dir()
    except OSError as exc:  # a name too long for the file system …
        raise PrintError(f"无法保存文件 {target}：{_os_reason(exc)}。请换一个位置或文件名后重试。") from exc
    if folder:
        raise PrintError(f"无法保存 {target}：这是一个文件夹，请给出文件名。")
    check_suffix(target, ".pdf", PrintError)
    tmp = target.with_name(f".{target.name}.part")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise PrintError(f"无法保存文件 {target}：{_os_reason(exc)}。请换一个位置或文件名后重试。") from exc
    return target


def may_output(ctx: ServiceContext, doc: PrintedDocument) -> bool:
    """The acting user may print or save ``doc`` (a 绝密 document needs Permission.EXPORT_TOP_SECRET)."""
    return not doc.top_secret or ctx.may(Permission.EXPORT_TOP_SECRET)


def check_output(ctx: ServiceContext, doc: PrintedDocument) -> None:
    """PermissionDenied unless :func:`may_output`."""
    if not may_output(ctx, doc):
        raise PermissionDenied(f"{doc.form}属于绝密资料，打印或另存为 PDF 需要主管或经理。")


def log_output(ctx: ServiceContext, doc: PrintedDocument, output: str, target: str = "") -> None:
    """Log a document that left the program: ``output`` is 打印机 or PDF 文件, ``target`` the printer or path."""
    check_output(ctx, doc)
    with ctx.sessions() as s, s.begin():
        audit(s, ctx, PRINT_ACTION, doc.entity, doc.entity_id, doc.label,
              new={"form": doc.form, "pages": doc.pages, "output": output, "target": target, **doc.detail})


def save_pdf(ctx: ServiceContext, doc: PrintedDocument, path: str | Path) -> Path:
    """Write the document to ``path`` and log it (the command line's and the tests' way to print)."""
    check_output(ctx, doc)
    target = write_pdf(path, doc.pdf)
    log_output(ctx, doc, OUTPUT_FILE, str(target))
    return target


def font_file() -> Path:
    """The CJK font the PDFs embed (the preview draws their text with it)."""
    from huifang_desktop.printing.fonts import font_path

    return font_path()


# --- rendering -----------------------------------------------------------------------------------------

_office_forms_dir: Path | None = None


def use_forms_dir(folder: Path | None) -> None:
    """The office's own templates (``forms/`` in the data folder), set once at start by the program;
    a call that passes ``forms_dir`` itself still wins."""
    global _office_forms_dir
    _office_forms_dir = folder


def _template(name: str, forms_dir: Path | None) -> Any:
    from huifang_desktop.printing import TemplateError, load_template

    try:
        return load_template(name, forms_dir if forms_dir is not None else _office_forms_dir)
    except TemplateError as exc:
        raise PrintError(f"表单模板有误，无法打印：{exc}") from exc


def _progress_adapter(progress: ProgressCallback | None, cancelled: CancelCheck | None
                      ) -> Callable[[int, int], bool] | None:
    if progress is None and cancelled is None:
        return None

    def step(done: int, total: int) -> bool:
        if progress is not None:
            progress(done, total)
        return not (cancelled is not None and cancelled())

    return step


def _form_document(ctx: ServiceContext, template_name: str, jobs: Sequence[Any], *, entity: str,
                   entity_id: int | None, label: str, title: str, file_name: str,
                   detail: Mapping[str, Any] | None = None, forms_dir: Path | None = None,
                   progress: ProgressCallback | None = None, cancelled: CancelCheck | None = None,
                   out: str | Path | None = None, company: str | None = None) -> PrintedDocument:
    """Render ``jobs`` (:class:`~huifang_desktop.printing.FormJob`) into one PDF; ``out``: also save it.
    ``company``: the office's name when the caller has read the settings already."""
    from huifang_desktop.printing import RenderCancelled, render_forms

    if out is not None:
        check_suffix(Path(out), ".pdf", PrintError)  # before the work
    template = _template(template_name, forms_dir)
    buffer = io.BytesIO()
    try:
        if company is None:
            company = load_settings(ctx).company
        pages = render_forms(template, jobs, buffer, company=company, printed_at=ctx.now(),
                             progress=_progress_adapter(progress, cancelled))
    except RenderCancelled:
        raise PrintCancelled("已取消打印，没有生成文件。") from None
    except ValueError as exc:  # a row of the office's template that no page can hold
        raise PrintError(f"无法打印{template.title}：{exc}") from exc
    doc = PrintedDocument(buffer.getvalue(), pages, template.title, title, _safe_name(file_name), entity,
                          entity_id, label, dict(detail or {}))
    if out is not None:
        save_pdf(ctx, doc, out)
    return doc


def _safe_name(name: str) -> str:
    """A file name any system accepts (no / \\ : * ? " < > |)."""
    return "".join("_" if ch in '/\\:*?"<>|' else ch for ch in name).strip() or "打印.pdf"


def _signature(options: PrintOptions, signer: str | None, signed_at: datetime | None, role: str = "") -> Any:
    """The stamp (已审阅) with signer and date; ``role`` (客服主管, 公司经理) is added to the signer's name."""
    from huifang_desktop.printing import SignatureInfo

    if not signer or signed_at is None:
        return None
    return SignatureInfo(signer, signed_at, options.signoff_role)


def _tampered(s: Session, kind: str, item_id: int) -> bool:
    """签字后被修改: the stored row no longer matches the hashes taken when it was signed."""
    from huifang_desktop.domain.signoff import Integrity
    from huifang_desktop.services.review import integrity_of

    return integrity_of(s, kind, item_id) is Integrity.TAMPERED


# --- the office's numbers (编号) -------------------------------------------------------------------------

def _number_text(number_or_id: str | int) -> str:
    return to_halfwidth(clean_text(str(number_or_id))).replace(" ", "").upper()


def record_id_of(ctx: ServiceContext, number_or_id: str | int) -> int:
    """A visit record's id from its 编号 (HF20261124-001) or its id. A record of a customer the acting user
    may not see is "not found" with the same message as a number that does not exist (no probing)."""
    text = _number_text(number_or_id)
    scope = customer_scope(ctx)
    q = select(VisitRecord.id).join(Customer, Customer.id == VisitRecord.customer_id)
    q = scope.where(q)
    with ctx.sessions() as s:
        found = s.execute(q.where(VisitRecord.number == text)).scalar() if text else None
        if found is None and text.isdigit() and int(text) <= MAX_DB_ID:
            found = s.execute(q.where(VisitRecord.id == int(text))).scalar()
    if found is None:
        raise NotFound(f"没有编号为 {text or '（空）'} 的回访记录。")
    return int(found)


def report_id_of(ctx: ServiceContext, number_or_id: str | int) -> int:
    """A visit report's id from its 编号 or its id; a report the acting user may not print is "not found"
    with the same message as a number that does not exist."""
    text = _number_text(number_or_id)
    with ctx.sessions() as s:
        row = s.execute(select(VisitReport.id, VisitReport.clerk_id)
                        .where(VisitReport.number == text)).one_or_none() if text else None
        if row is None and text.isdigit() and int(text) <= MAX_DB_ID:
            row = s.execute(select(VisitReport.id, VisitReport.clerk_id)
                            .where(VisitReport.id == int(text))).one_or_none()
        if row is not None:
            try:
                _check_report_visible(ctx, s, row.clerk_id)
            except PermissionDenied:
                row = None
    if row is None:
        raise NotFound(f"没有编号为 {text or '（空）'} 的回访报告。")
    return int(row.id)


def complaint_id_of(ctx: ServiceContext, number_or_id: str | int) -> int:
    """A complaint's id from its 投诉编号 (TS20261124-001) or its id, visibility-checked
    (:func:`huifang_desktop.services.complaints.find_id`)."""
    from huifang_desktop.services.complaints import find_id

    return find_id(ctx, _number_text(number_or_id))


# --- empty forms (written by hand) -----------------------------------------------------------------------

EMPTY_FORMS: dict[str, tuple[str, str]] = {  # kind -> (template, what the menu and messages call it)
    "record": ("visit_record", "回访记录表"),
    "complaint": ("complaint", "投诉处理表"),
}


def empty_form_pdf(ctx: ServiceContext, kind: str, out: str | Path | None = None, *,
                   forms_dir: Path | None = None) -> PrintedDocument:
    """An empty 回访记录表 (``record``) or 投诉处理表 (``complaint``) to fill in by hand — a visit or a walk-in
    complaint taken on paper: nothing pre-printed, the 编号 left to write in, no watermark; its QR code
    names the form kind only (domain/formcode.py ``encode_kind``)."""
    from huifang_desktop.printing import FormJob

    if kind not in EMPTY_FORMS:
        choices = "、".join(EMPTY_FORMS)
        raise ValidationError(FieldError("kind", "表单", f"“{kind}”不是可打印的空白表单（可选：{choices}）"))
    template, form = EMPTY_FORMS[kind]
    day = ctx.today()
    values = {"satisfaction_levels": list(_scale_levels(ctx))}  # the office's scale; nothing else printed
    return _form_document(ctx, template, [FormJob(values)], entity="form", entity_id=None,
                          label=f"空白{form}", title=f"{form}（空白）",
                          file_name=f"{form}_空白_{day:%Y%m%d}.pdf", detail={"empty": kind},
                          forms_dir=forms_dir, out=out)


# --- 回访记录表 -------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _CustomerBrief:
    """What a printed record shows of its customer, and what the visibility check needs."""

    code: str
    name: str
    grade: str
    address: str
    department_id: int | None


@dataclass(frozen=True, slots=True)
class _RecordData:
    record: Any  # the visit_record row's columns by name (a Core row: no ORM objects for a read-only form)
    customer: _CustomerBrief
    visitor: str
    signer: str | None
    planned_on: date | None


@functools.cache
def _record_select() -> Any:
    """Built once, the ids a bound parameter: building the select, or even its ``where``, and loading ORM
    objects cost more than the query itself for one form (bench/bench_print.py)."""
    visitor = aliased(User)
    signer = aliased(User)
    record = VisitRecord.__table__
    return (select(*record.c, Customer.code.label("customer_code"), Customer.name.label("customer_name"),
                   Customer.grade.label("customer_grade"), Customer.address.label("customer_address"),
                   Customer.department_id.label("customer_department_id"),
                   visitor.display_name.label("visitor_name"), signer.display_name.label("signer_name"),
                   VisitPlan.due.label("planned_on"))
            .join(Customer, Customer.id == record.c.customer_id)
            .outerjoin(visitor, visitor.id == record.c.visitor_id)
            .outerjoin(signer, signer.id == record.c.signed_by_id)
            .outerjoin(VisitPlan, VisitPlan.id == record.c.plan_id)
            .where(record.c.id.in_(bindparam("ids", expanding=True))))


def _customer_signature(method: str, signed: bool) -> str | None:
    """The 客户签字 box: 电话回访 etc. where no signature is needed, 已签字, or a blank line to sign on."""
    substitute = signature_substitute(method) if method in {m.value for m in VisitMethod} else None
    if substitute is not None:
        return substitute
    return "已签字" if signed else None


def _customer_signed_on(method: str, signed: bool, visited_at: Any) -> Any:
    """The date beside 已签字 (the visit's day); None leaves 年 月 日 to fill in (not signed yet, or no
    signature needed)."""
    if not signed or _customer_signature(method, signed) != "已签字":
        return None
    return visited_at.date() if isinstance(visited_at, datetime) else visited_at


def _review_comment(status: str, comment: str, signed: bool) -> str:
    """The 主管审阅意见 box: the signer's comment, or the reason a returned form came back."""
    if signed:
        return comment
    if status == RECORD_RETURNED and comment:
        return f"退回修改：{comment}"
    return ""


def _record_values(d: _RecordData, levels: Sequence[str] = DEFAULT_SCALE.levels) -> dict[str, Any]:
    r, c = d.record, d.customer
    signed = r.status == RECORD_SIGNED and d.signer is not None
    return {
        "number": r.number, "customer_name": c.name, "customer_code": c.code, "customer_grade": c.grade,
        "customer_address": c.address, "contact_name": r.contact_name,
        "contact_phone": format_phone(r.contact_phone),
        "visit_type": r.visit_type, "method": r.method, "visited_at": r.visited_at, "visitor": d.visitor,
        "visitor_sign": d.visitor,
        "planned_on": d.planned_on, "content": r.content, "feedback": r.feedback, "problems": r.problems,
        "measures": r.measures, "satisfaction": r.satisfaction, "handling": r.handling,
        "transfer_department": r.transfer_department, "transfer_answer": r.transfer_answer,
        "next_visit_on": r.next_visit_on, "result": r.result,
        "customer_signed": _customer_signature(r.method, r.customer_signed),
        "customer_signed_on": _customer_signed_on(r.method, r.customer_signed, r.visited_at),
        "supervisor_comment": _review_comment(r.status, r.supervisor_comment, signed),
        "supervisor": d.signer if signed else None, "signed_at": r.signed_at if signed else None,
        "status": r.status, "satisfaction_levels": list(levels),
    }


def _record_job(s: Session, d: _RecordData, options: PrintOptions, levels: Sequence[str] = DEFAULT_SCALE.levels
                ) -> Any:
    from huifang_desktop.domain.signoff import Integrity
    from huifang_desktop.printing import FormJob
    from huifang_desktop.services.review import row_integrity

    r = d.record
    signed = r.status == RECORD_SIGNED
    signature = _signature(options, d.signer, r.signed_at, r.signed_role) if signed else None
    return FormJob(_record_values(d, levels), draft=options.watermark_unsigned and not signed, signed=signature,
                   revision=r.revision or 0, tampered=row_integrity("回访记录表", r, s) is Integrity.TAMPERED)


def _record_label(d: _RecordData) -> str:
    return f"{d.record.number} {d.customer.code} {d.customer.name}"


def _load_records(s: Session, ids: Sequence[int]) -> dict[int, _RecordData]:
    found: dict[int, _RecordData] = {}
    conn = s.connection()  # a Core read: it sees what is committed or flushed, not a pending ORM change
    for i in range(0, len(ids), _CHUNK):
        for row in conn.execute(_record_select(), {"ids": list(ids[i:i + _CHUNK])}):
            customer = _CustomerBrief(row.customer_code, row.customer_name, row.customer_grade,
                                      row.customer_address, row.customer_department_id)
            found[row.id] = _RecordData(row, customer, row.visitor_name or "", row.signer_name, row.planned_on)
    return found


def visit_record_pdf(ctx: ServiceContext, record_id: int, out: str | Path | None = None, *,
                     forms_dir: Path | None = None) -> PrintedDocument:
    """The filled 回访记录表 of a saved record: signer and date when signed off, else the 草稿 watermark."""
    with ctx.sessions() as s:  # one connection for the settings and the record: a clerk prints one at a time
        options, office, levels = _print_settings_in(s)
        data = _load_records(s, [record_id]).get(record_id)
        if data is None:
            raise NotFound(f"回访记录 {record_id} 不存在。")
        check_visible(ctx, data.customer, office)
        job = _record_job(s, data, options, levels)
        label = _record_label(data)
        number = data.record.number
    return _form_document(ctx, VISIT_RECORD_FORM, [job], entity="visit_record", entity_id=record_id,
                          label=label, title=f"回访记录表 {number}", file_name=f"回访记录表_{number}.pdf",
                          forms_dir=forms_dir, out=out, company=office.company)


def visit_records_pdf(ctx: ServiceContext, record_ids: Sequence[int], out: str | Path | None = None, *,
                      progress: ProgressCallback | None = None, cancelled: CancelCheck | None = None,
                      forms_dir: Path | None = None) -> PrintedDocument:
    """Many filled 回访记录表 in one PDF (a filtered ledger's records), in the order given."""
    if not record_ids:
        raise ValidationError(FieldError("record_ids", "回访记录", "没有要打印的回访记录"))
    scope = customer_scope(ctx)
    with ctx.sessions() as s:
        options, _office, levels = _print_settings_in(s)
        found = _load_records(s, list(record_ids))
        missing = [i for i in record_ids if i not in found]
        if missing:
            raise NotFound(f"回访记录 {missing[0]} 不存在。")
        for d in found.values():
            scope.check(d.customer)
        jobs = [_record_job(s, found[i], options, levels) for i in record_ids]
        numbers = [found[i].record.number for i in record_ids]
    first, last = numbers[0], numbers[-1]
    return _form_document(ctx, VISIT_RECORD_FORM, jobs, entity="visit_record", entity_id=None,
                          label=f"回访记录表 {len(jobs)} 份（{first} 等）", title=f"回访记录表 {len(jobs)} 份",
                          file_name=f"回访记录表_{first}_{last}.pdf" if len(jobs) > 1 else f"回访记录表_{first}.pdf",
                          detail={"records": list(record_ids)}, forms_dir=forms_dir, progress=progress,
                          cancelled=cancelled, out=out)


def _blank_values(plan: VisitPlan | None, c: Customer, owner: str,
                  levels: Sequence[str] = DEFAULT_SCALE.levels) -> dict[str, Any]:
    """Pre-printed: customer, contact and phone, address, visit type, planned day. The rest stays blank."""
    return {
        "number": "", "customer_name": c.name, "customer_code": c.code, "customer_grade": c.grade,
        "customer_address": c.address, "contact_name": c.primary_contact,
        "contact_phone": format_phone(c.primary_phone),
        "visit_type": plan.visit_type if plan is not None else None,
        "method": plan.method if plan is not None else None,  # the planned method, ticked
        "planned_on": plan.due if plan is not None else None, "visitor": owner,
        "satisfaction_levels": list(levels),
    }


def _blank_job(plan: VisitPlan | None, c: Customer, owner: str,
               levels: Sequence[str] = DEFAULT_SCALE.levels) -> Any:
    from huifang_desktop.printing import FormJob

    return FormJob(_blank_values(plan, c, owner, levels))


def blank_visit_record_pdf(ctx: ServiceContext, plan_id: int | None, out: str | Path | None = None, *,
                           customer_id: int | None = None, forms_dir: Path | None = None) -> PrintedDocument:
    """A blank 回访记录表 for a planned visit (or, without a plan, for ``customer_id``), for an on-site visit:
    customer, contact, phone, address, visit type and planned day pre-printed; no watermark."""
    office, levels = load_settings(ctx), _scale_levels(ctx)
    with ctx.sessions() as s:
        plan = s.get(VisitPlan, plan_id) if plan_id is not None else None
        if plan_id is not None and plan is None:
            raise NotFound(f"回访计划 {plan_id} 不存在。")
        cid = plan.customer_id if plan is not None else customer_id
        if cid is None:
            raise ValidationError(FieldError("customer_id", "客户", "请选择客户"))
        c = s.get(Customer, cid)
        if c is None:
            raise NotFound(f"客户档案 {cid} 不存在。")
        check_visible(ctx, c, office)
        if plan is not None and plan.state == _CANCELLED:
            raise ValidationError(FieldError("plan_id", "回访计划", "该计划已取消，不能打印回访记录表"))
        owner_id = plan.owner_id if plan is not None else c.owner_id
        owner = s.get(User, owner_id) if owner_id else None
        job = _blank_job(plan, c, owner.display_name if owner else "", levels)
        day = plan.due if plan is not None else ctx.today()
        label = f"空白表 {c.code} {c.name} {day:%Y-%m-%d}"
        code = c.code
    return _form_document(ctx, VISIT_RECORD_FORM, [job], entity="visit_plan" if plan_id else "customer",
                          entity_id=plan_id if plan_id else cid, label=label,
                          title=f"回访记录表（空白）{code} {day:%Y-%m-%d}",
                          file_name=f"回访记录表_空白_{code}_{day:%Y%m%d}.pdf", forms_dir=forms_dir, out=out)


def _typed_time(value: datetime | date | str | None) -> datetime | date | str | None:
    """A date or time as typed in an unsaved form: printed as the program reads it, or as typed when it
    does not read (the preview shows what is on screen; saving says what is wrong with it)."""
    if not isinstance(value, str):
        return value
    try:
        return parse_date(value, label="日期") or None
    except ValidationError:
        return value


def draft_visit_record_pdf(ctx: ServiceContext, draft: VisitRecordDraft, out: str | Path | None = None, *,
                           forms_dir: Path | None = None) -> PrintedDocument:
    """The 回访记录表 as typed in the form, before it is saved: the plan's customer and planned day with every
    field on screen, no number, and the 草稿 watermark (nothing is stored, so it can be neither signed nor
    found again)."""
    office, levels = load_settings(ctx), _scale_levels(ctx)
    with ctx.sessions() as s:
        c = s.get(Customer, draft.customer_id)
        if c is None:
            raise NotFound(f"客户档案 {draft.customer_id} 不存在。")
        check_visible(ctx, c, office)
        plan = s.get(VisitPlan, draft.plan_id) if draft.plan_id is not None else None
        visitor = s.get(User, draft.visitor_id) if draft.visitor_id else None
        values = _blank_values(plan, c, "", levels)
        code = c.code
    values.update({
        "contact_name": draft.contact_name, "contact_phone": draft.contact_phone, "visit_type": draft.visit_type,
        "method": draft.method, "visited_at": _typed_time(draft.visited_at),
        "visitor": visitor.display_name if visitor is not None else ctx.user.display_name,
        "visitor_sign": visitor.display_name if visitor is not None else ctx.user.display_name,
        "content": draft.content, "feedback": draft.feedback, "problems": draft.problems,
        "measures": draft.measures, "satisfaction": draft.satisfaction, "handling": draft.handling,
        "transfer_department": draft.transfer_department, "transfer_answer": "",
        "next_visit_on": _typed_time(draft.next_visit_on), "result": draft.result,
        "customer_signed": _customer_signature(draft.method, draft.customer_signed),
        "customer_signed_on": _customer_signed_on(draft.method, draft.customer_signed,
                                                  _typed_time(draft.visited_at)),
        "supervisor_comment": "", "supervisor": None, "signed_at": None, "status": "未保存",
    })
    from huifang_desktop.printing import FormJob

    job = FormJob(values, draft=True)
    return _form_document(ctx, VISIT_RECORD_FORM, [job], entity="customer", entity_id=draft.customer_id,
                          label=f"未保存的回访记录表 {code} {c.name}", title=f"回访记录表（未保存）{code}",
                          file_name=f"回访记录表_未保存_{code}.pdf", forms_dir=forms_dir, out=out,
                          company=office.company)


def plan_form_pdf(ctx: ServiceContext, plan_id: int, out: str | Path | None = None, *,
                  forms_dir: Path | None = None) -> PrintedDocument:
    """The 回访记录表 of a plan: the filled record when the visit was recorded, else the blank form."""
    with ctx.sessions() as s:
        plan = s.get(VisitPlan, plan_id)
        if plan is None:
            raise NotFound(f"回访计划 {plan_id} 不存在。")
        record_id = plan.record_id
    if record_id is not None:
        return visit_record_pdf(ctx, record_id, out, forms_dir=forms_dir)
    return blank_visit_record_pdf(ctx, plan_id, out, forms_dir=forms_dir)


DAY_COVER_FORM = "day_cover"


def _by_owner(plans: Sequence[Any]) -> list[list[Any]]:
    """Consecutive plans of one owner (the list is sorted by owner)."""
    groups: list[list[Any]] = []
    for plan in plans:
        if groups and groups[-1][0].owner_id == plan.owner_id:
            groups[-1].append(plan)
        else:
            groups.append([plan])
    return groups


def day_plans_pdf(ctx: ServiceContext, day: date, owner_id: int | None = None, *, team: bool = False,
                  progress: ProgressCallback | None = None, cancelled: CancelCheck | None = None,
                  out: str | Path | None = None, forms_dir: Path | None = None) -> PrintedDocument:
    """One 回访记录表 per visit planned for ``day`` (cancelled ones left out), in one PDF: the filled record
    of a visit already made, a blank form for one still to make (回访人 = the plan's owner, the planned
    method ticked). Sorted and grouped by clerk, each clerk's forms after a 回访任务单 cover sheet listing
    their visits (customer, contact, phone, type, method), so the stack can be handed out as printed. ``owner_id`` / ``team`` as in
    :func:`~huifang_desktop.services.visits.list_plans` (the calendar's scope)."""
    if out is not None:
        check_suffix(Path(out), ".pdf", PrintError)
    plans = [p for p in list_plans(ctx, start=day, end=day, owner_id=owner_id, team=team)
             if p.state != _CANCELLED]
    if not plans:
        raise ValidationError(FieldError("day", "日期", f"{day:%Y-%m-%d} 没有要打印的回访计划"))
    from huifang_desktop.domain.customers import pinyin_initials
    from huifang_desktop.printing import FormJob

    options, levels = load_print_options(ctx), _scale_levels(ctx)
    # the stack a supervisor hands out: grouped by clerk (by the pinyin of the name, unassigned last), each
    # clerk's visits by customer code
    plans.sort(key=lambda p: (p.owner_id is None, pinyin_initials(p.owner or ""), p.owner or "",
                              p.owner_id or 0, p.customer_code, p.id))
    ids = [p.id for p in plans]
    cover = _template(DAY_COVER_FORM, forms_dir)
    with ctx.sessions() as s:
        rows: dict[int, tuple[VisitPlan, Customer, str]] = {}
        owner = aliased(User)
        for i in range(0, len(ids), _CHUNK):
            q = (select(VisitPlan, Customer, owner.display_name)
                 .join(Customer, Customer.id == VisitPlan.customer_id)
                 .outerjoin(owner, owner.id == VisitPlan.owner_id)
                 .where(VisitPlan.id.in_(ids[i:i + _CHUNK])))
            for plan, cust, name in s.execute(q):
                rows[plan.id] = (plan, cust, name or "")
        records = _load_records(s, [p.record_id for p, _, _ in rows.values() if p.record_id is not None])
        jobs = []
        done: list[int] = []
        clerks = 0
        for group in _by_owner(plans):
            listed = []
            for no, row in enumerate(group, start=1):
                plan, cust, name = rows[row.id]
                listed.append({"no": no, "code": cust.code, "customer": cust.name,
                               "contact": cust.primary_contact, "phone": format_phone(cust.primary_phone),
                               "type": plan.visit_type, "method": plan.method,
                               "state": row.record_number or "待回访"})
            owner_name = group[0].owner or "（未指定回访人）"
            jobs.append(FormJob({"clerk": owner_name, "day": day, "count": f"{len(group)} 份",
                                 "visits": listed}, template=cover))
            clerks += 1
            for row in group:
                plan, cust, name = rows[row.id]
                data = records.get(plan.record_id) if plan.record_id is not None else None
                if data is not None:
                    jobs.append(_record_job(s, data, options, levels))
                    done.append(data.record.id)
                else:
                    jobs.append(_blank_job(plan, cust, name, levels))
    return _form_document(
        ctx, VISIT_RECORD_FORM, jobs, entity="visit_plan", entity_id=None,
        label=f"{day:%Y-%m-%d} 回访计划 {len(ids)} 份", title=f"回访记录表 {day:%Y-%m-%d}（{len(ids)} 份）",
        file_name=f"回访记录表_{day:%Y%m%d}.pdf",
        detail={"day": day.isoformat(), "plans": ids, "records": done, "blank": len(ids) - len(done),
                "clerks": clerks},
        forms_dir=forms_dir, progress=progress, cancelled=cancelled, out=out)


# --- 回访报告表 -------------------------------------------------------------------------------------------

# The 回访统计 columns of forms/visit_report.toml (key) and the results each one counts.
_RESULT_COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("success", (VisitResult.SUCCESS.value,)),
    ("no_answer", (VisitResult.NO_ANSWER.value,)),
    ("refused", (VisitResult.REFUSED.value, VisitResult.UNREACHABLE.value)),
    ("again", (VisitResult.CALL_AGAIN.value,)),
)


def _report_counts(s: Session, clerk_id: int, start: date, end: date) -> list[dict[str, Any]]:
    """回访统计 rows per visit type: planned (the clerk's plans due in the period), done, and by result."""
    lo = datetime.combine(start, datetime.min.time())
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time())
    done: dict[str, dict[str, int]] = {}
    for vt, result, n in s.execute(
            select(VisitRecord.visit_type, VisitRecord.result, func.count())
            .where(VisitRecord.visitor_id == clerk_id, VisitRecord.visited_at >= lo,
                   VisitRecord.visited_at < hi)
            .group_by(VisitRecord.visit_type, VisitRecord.result)):
        done.setdefault(vt, {})[result] = int(n)
    planned = {vt: int(n) for vt, n in s.execute(
        select(VisitPlan.visit_type, func.count())
        .where(VisitPlan.owner_id == clerk_id, VisitPlan.due >= start, VisitPlan.due <= end,
               VisitPlan.state != _CANCELLED)
        .group_by(VisitPlan.visit_type))}
    order = [t.value for t in VisitType]
    types = sorted(set(done) | set(planned), key=lambda t: (order.index(t) if t in order else len(order), t))
    rows = []
    for vt in types:
        by_result = done.get(vt, {})
        row: dict[str, Any] = {"type": f"{vt}回访", "planned": planned.get(vt, 0),
                               "done": sum(by_result.values())}
        for key, results in _RESULT_COLUMNS:
            row[key] = sum(by_result.get(r, 0) for r in results)
        rows.append(row)
    return rows


def _satisfaction_text(summary: Mapping[str, Any]) -> str:
    levels = summary.get("satisfaction") or {}
    if not levels:
        return ""
    answered = sum(int(n) for n in levels.values())
    text = "、".join(f"{k} {n} 次" for k, n in levels.items())
    satisfied = summary.get("satisfied")
    if satisfied is not None and answered:
        text += f"；满意率 {int(satisfied) / answered * 100:.1f}%（{satisfied}/{answered}）"
    average = summary.get("average_score")
    if average is not None:
        text += f"；平均 {float(average):.1f} 分"
    return text


def _period_text(start: date, end: date) -> str:
    return f"{start:%Y-%m-%d}" if start == end else f"{start:%Y-%m-%d} 至 {end:%Y-%m-%d}"


def _check_report_visible(ctx: ServiceContext, s: Session, clerk_id: int) -> None:
    """Own reports; a supervisor or manager sees the clerks' (their department's under limited visibility)."""
    if not ctx.user.id or clerk_id == ctx.user.id:
        return
    if not (can(ctx.user.role, Permission.SIGN_OFF) or can(ctx.user.role, Permission.VIEW_ALL_DEPARTMENTS)):
        raise PermissionDenied("只能打印自己的回访报告。")
    if customer_scope(ctx).limited:
        dep = s.execute(select(User.department_id).where(User.id == clerk_id)).scalar()
        if dep != ctx.user.department_id:
            raise PermissionDenied("该回访报告属于其他部门，需经理授权才能查看。")


def visit_report_pdf(ctx: ServiceContext, report_id: int, out: str | Path | None = None, *,
                     forms_dir: Path | None = None) -> PrintedDocument:
    """A saved 回访报告表: the submitted summary and texts, 回访统计 by type; signed or 草稿."""
    from huifang_desktop.printing import FormJob

    options = load_print_options(ctx)
    signer_user = aliased(User)
    clerk_user = aliased(User)
    with ctx.sessions() as s:
        row = s.execute(select(VisitReport, clerk_user.display_name, signer_user.display_name)
                        .join(clerk_user, clerk_user.id == VisitReport.clerk_id)
                        .outerjoin(signer_user, signer_user.id == VisitReport.signed_by_id)
                        .where(VisitReport.id == report_id)).one_or_none()
        if row is None:
            raise NotFound(f"回访报告 {report_id} 不存在。")
        r, clerk, signer = row
        _check_report_visible(ctx, s, r.clerk_id)
        try:
            summary = json.loads(r.summary or "{}")
        except ValueError:
            summary = {}
        signed = r.status == RECORD_SIGNED and signer is not None
        values = {
            "number": r.number, "clerk": clerk, "period": _period_text(r.period_start, r.period_end),
            "counts": _report_counts(s, r.clerk_id, r.period_start, r.period_end),
            "satisfaction": _satisfaction_text(summary), "problems": r.problems, "actions": r.actions,
            "evaluation": r.evaluation,
            "supervisor_comment": _review_comment(r.status, r.supervisor_comment, signed),
            "supervisor": signer if signed else None, "signed_at": r.signed_at if signed else None,
            "status": r.status, "due_on": r.due_on,
        }
        job = FormJob(values, draft=options.watermark_unsigned and not signed,
                      signed=_signature(options, signer, r.signed_at, r.signed_role) if signed else None,
                      revision=r.revision or 0, tampered=_tampered(s, "回访报告表", r.id))
        number = r.number
        label = f"{r.number} {clerk}"
    return _form_document(ctx, VISIT_REPORT_FORM, [job], entity="visit_report", entity_id=report_id,
                          label=label, title=f"回访报告表 {number}", file_name=f"回访报告表_{number}.pdf",
                          forms_dir=forms_dir, out=out)


def report_draft_pdf(ctx: ServiceContext, draft: ReportDraft, evaluation: str = "", problems: str = "",
                     actions: str = "", *, forms_dir: Path | None = None) -> PrintedDocument:
    """A 回访报告表 not yet submitted (from the report dialog): no number, always the 草稿 watermark."""
    from huifang_desktop.printing import FormJob

    with ctx.sessions() as s:
        _check_report_visible(ctx, s, draft.clerk_id)
        counts = _report_counts(s, draft.clerk_id, draft.start, draft.end)
    values = {
        "number": "", "clerk": draft.clerk, "period": _period_text(draft.start, draft.end), "counts": counts,
        "satisfaction": _satisfaction_text(draft.summary()), "problems": problems, "actions": actions,
        "evaluation": evaluation,
    }
    period = _period_text(draft.start, draft.end)
    return _form_document(ctx, VISIT_REPORT_FORM, [FormJob(values, draft=True)], entity="visit_report",
                          entity_id=None, label=f"草稿 {draft.clerk} {period}", title=f"回访报告表（草稿）{period}",
                          file_name=f"回访报告表_草稿_{draft.start:%Y%m%d}.pdf",
                          detail={"clerk_id": draft.clerk_id, "period": period}, forms_dir=forms_dir)


# --- 回访台账 (landscape table) -----------------------------------------------------------------------------

DONE_COLUMN = "已回访"  # 1 for a visit made, else 0: the 本页合计 / 总计 rows count the visits of a page
# Widths (mm on landscape A4, 273 mm between the margins) sized for the printed values at 8.5 pt: a number
# HF20261124-001 on one line, a date on one line, a visit time on two (date / time).
LEDGER_PRINT_WIDTHS: dict[str, float] = {
    "编号": 26, "客户编号": 19, "客户名称": 36, "等级": 8, "回访类型": 13, "回访方式": 11, "计划日期": 19,
    "回访时间": 19, "回访人": 11, "结果": 13, "满意度": 11, "状态": 14, "负责人": 11, "问题点": 23, "转交部门": 18,
    "签字单": 11, DONE_COLUMN: 10,
}
_CENTERED = frozenset({"等级", "回访类型", "回访方式", "结果", "满意度", "计划日期", "回访时间", "签字单"})


def ledger_columns() -> list[tuple[str, float, str]]:
    """The printed 回访台账: the Excel ledger's columns, plus the counted 已回访 column."""
    labels = [*LEDGER_HEADERS, DONE_COLUMN]
    widths = dict(zip(LEDGER_HEADERS, LEDGER_WIDTHS, strict=True)) | LEDGER_PRINT_WIDTHS
    return [(h, float(widths[h]), "right" if h == DONE_COLUMN else "center" if h in _CENTERED else "left")
            for h in labels]


def _ledger_print_rows(rows: Iterable[Sequence[Any]], limit: int, cancelled: CancelCheck | None
                       ) -> Iterator[tuple[Any, ...]]:
    visited = LEDGER_HEADERS.index("回访时间")
    try:
        for n, row in enumerate(rows, start=1):
            if n > limit:
                raise ValidationError(FieldError("period", "打印期间",
                                                 f"台账超过 {limit} 行，请缩小日期范围后分批打印"))
            if cancelled is not None and n % _CANCEL_EVERY == 0 and cancelled():
                raise PrintCancelled("已取消打印，没有生成文件。")
            yield (*row, 1 if row[visited] is not None else 0)
    finally:
        close = getattr(rows, "close", None)
        if close is not None:  # stopping early: the streamed query (a server cursor on PostgreSQL) is closed
            close()


# The printed 回访台账 (issue 22): 7.5 pt, tight rows — at least 20 rows a landscape page. Names (up to four
# characters and more), codes, dates, times and the short choices never wrap (their columns are as wide as
# their longest value); 客户名称, 状态, 问题点 and 转交部门 share the rest by their usual length and wrap to two
# lines at most, a longer text is cut (“…[n]”) and printed whole in the appendix after the table.
LEDGER_NOWRAP = frozenset({"编号", "客户编号", "等级", "回访类型", "回访方式", "计划日期", "回访时间", "回访人", "结果",
                           "满意度", "负责人", DONE_COLUMN})


def _ledger_fit(appendix: bool) -> tuple[Any, Any]:
    from huifang_desktop.printing.render import TableFit, TableStyle

    style = TableStyle(font_size=7.5, header_font_size=8.0, title_size=14.0, leading=1.25, padding=0.6,
                       min_row_height=4.6)
    return style, TableFit(nowrap=LEDGER_NOWRAP, max_lines=2, appendix=appendix, key_column="编号",
                           alt_key=("客户编号",))


def visit_ledger_pdf(ctx: ServiceContext, start: date | None = None, end: date | None = None,
                     out: str | Path | None = None, *, progress: ProgressCallback | None = None,
                     cancelled: CancelCheck | None = None, appendix: bool = True) -> PrintedDocument:
    """The 回访台账 of plans due (and unplanned visits made) in [start, end] as a landscape A4 table: the
    column header on every page, 本页合计 of visits made on each page and 总计 on the last. Column widths
    follow the content; texts longer than two lines are cut, their whole text in an appendix
    (``appendix=False``: left out)."""
    from huifang_desktop.printing import RenderCancelled, render_table

    ctx.require(Permission.EDIT_CUSTOMERS, "打印回访台账")
    if start is not None and end is not None and end < start:
        raise ValidationError(FieldError("end", "截止日期", "不能早于开始日期"))
    if out is not None:
        check_suffix(Path(out), ".pdf", PrintError)  # before the work
    options = load_print_options(ctx)
    rows = list(_ledger_print_rows(ledger_rows(ctx, start, end), options.ledger_max_rows, cancelled))
    period = period_text(start, end)
    done = sum(1 for r in rows if r[-1])
    buffer = io.BytesIO()
    try:
        style, fit = _ledger_fit(appendix)
        pages = render_table(LEDGER_TITLE, ledger_columns(), rows, buffer,
                             subtitle=f"计划日期：{period}　共 {len(rows)} 条，已回访 {done} 条",
                             totals_columns=[DONE_COLUMN], company=load_settings(ctx).company,
                             printed_at=ctx.now(), progress=_progress_adapter(progress, cancelled),
                             style=style, fit=fit)
    except RenderCancelled:
        raise PrintCancelled("已取消打印，没有生成文件。") from None
    tag = "全部" if period == "全部" else f"{start:%Y%m%d}" if start else "最早"
    tag += f"_{end:%Y%m%d}" if end else ""
    doc = PrintedDocument(buffer.getvalue(), pages, LEDGER_TITLE, f"回访台账（{period}）",
                          _safe_name(f"回访台账_{tag}.pdf"), "visit_plan", None, f"回访台账 {period}",
                          {"period": period, "rows": len(rows), "appendix": appendix})
    if out is not None:
        save_pdf(ctx, doc, out)
    return doc


__all__ = [
    "OUTPUT_FILE",
    "OUTPUT_PRINTER",
    "PrintCancelled",
    "PrintError",
    "PrintOptions",
    "PrintedDocument",
    "blank_visit_record_pdf",
    "complaint_id_of",
    "day_plans_pdf",
    "empty_form_pdf",
    "font_file",
    "ledger_columns",
    "load_print_options",
    "log_output",
    "plan_form_pdf",
    "record_id_of",
    "report_draft_pdf",
    "report_id_of",
    "save_pdf",
    "save_print_options",
    "visit_ledger_pdf",
    "visit_record_pdf",
    "visit_records_pdf",
    "visit_report_pdf",
    "write_pdf",
]


# --- 投诉处理表 -------------------------------------------------------------------------------------------

COMPLAINT_FORM = "complaint"
_SIGN_ROLE = {"clerk": "处理人", "supervisor": "部门主管", "manager": "公司经理"}


def complaint_pdf(ctx: ServiceContext, complaint_id: int, out: str | Path | None = None, *,
                  forms_dir: Path | None = None) -> PrintedDocument:
    """The filled 投诉处理表 with its state history, the reply (答复内容) and signatures (handler, and the
    reviewer at the level that signed, kept on the page of the history); open and not yet signed off → 草稿
    watermark (a closed or withdrawn complaint is final: no watermark); changed after signing → 签字后被修改.
    客户满意度 offers the office's satisfaction scale."""
    from huifang_desktop.printing import FormJob
    from huifang_desktop.services.complaints import get_complaint

    detail = get_complaint(ctx, complaint_id)  # checks visibility
    with ctx.sessions() as s:
        options, _office, levels = _print_settings_in(s)
        c = s.get(Complaint, complaint_id)
        assert c is not None
        customer = s.get(Customer, c.customer_id) if c.customer_id else None
        department = s.get(Department, c.department_id) if c.department_id else None
        signer = s.get(User, c.signed_by_id) if c.signed_by_id else None
        events = s.execute(select(ComplaintEvent).where(ComplaintEvent.complaint_id == c.id)
                           .order_by(ComplaintEvent.at, ComplaintEvent.id)).scalars().all()
        signed = c.review_status == RECORD_SIGNED and signer is not None
        tampered = _tampered(s, "投诉处理表", c.id) if c.review_status or c.content_hash else False
        visit = ""
        if c.visit_satisfied is not None:
            visit = ("满意" if c.visit_satisfied else "不满意") + (f"（{c.visited_at:%Y-%m-%d}）" if c.visited_at else "")
        elif c.state == "待回访" and c.visit_due:
            visit = f"待回访（{c.visit_due:%Y-%m-%d} 前）"
        signatures: dict[str, tuple[str, Any]] = {}
        if detail.row.handler and c.handled_at is not None:
            signatures["处理人"] = (detail.row.handler, c.handled_at)
        if signed:
            signatures[_SIGN_ROLE.get(c.signed_role or "", "部门主管")] = (signer.display_name, c.signed_at)
        values = {
            "number": c.number, "received_at": c.received_at, "state": c.state, "channel": c.channel,
            "complainant": detail.row.complainant, "contact": detail.row.phone,
            "customer_name": customer.name if customer else "", "subject": c.subject, "content": c.content,
            "category": c.category, "severity": c.severity, "deadline": c.handling_due,
            "handler": detail.row.handler, "department": department.name if department else "",
            "investigation": c.investigation, "cause": c.cause, "measures": c.measures, "result": c.result,
            "reply_at": c.replied_at, "reply_way": c.reply_way, "reply_text": c.reply_text,
            "closing_visit": visit, "satisfaction": c.satisfaction, "satisfaction_levels": list(levels),
            "history": [{"time": f"{e.at:%Y-%m-%d %H:%M}", "user": e.username, "action": e.action,
                         "note": (f"{e.from_state}→{e.to_state} " if e.to_state and e.from_state else "") + e.note}
                        for e in events],
            "signatures": signatures, "supervisor_comment": c.supervisor_comment if signed else "",
        }
        final = c.state in (ComplaintState.CLOSED.value, ComplaintState.WITHDRAWN.value)
        job = FormJob(values, draft=options.watermark_unsigned and not signed and not final,
                      signed=_signature(options, signer.display_name, c.signed_at, c.signed_role)
                      if signed and signer is not None else None,
                      revision=c.revision or 0, tampered=tampered)
        number = c.number
    return _form_document(ctx, COMPLAINT_FORM, [job], entity="complaint", entity_id=complaint_id,
                          label=f"{number} {detail.row.subject}", title=f"投诉处理表 {number}",
                          file_name=f"投诉处理表_{number}.pdf", forms_dir=forms_dir, out=out)
