"""审阅 (review and sign-off) of 回访记录表, 回访报告表 and closed complaints' 投诉处理表; the audit log viewer.

The rules are in :mod:`huifang_desktop.domain.signoff` (pure): statuses, the content and signature hashes, the
tamper check, when a review is due. This module applies them to the database.

* **Queue** (:func:`review_queue`): everything 待审阅 the acting supervisor may see, grouped by clerk and by
  type, oldest first, with counts and overdue marks. A supervisor's own work is left to someone else unless
  the office allows signing one's own (``ReviewRules.allow_self_sign``).
* **Sign** (:func:`sign`, :func:`batch_sign`): stores signer, role, time, 指导意见 and both hashes, in one
  transaction with its audit row. The caller passes the version it showed, so nobody signs a text they did
  not read (ConflictError when the item changed meanwhile).
* **Return** (:func:`return_for_rework`) with a reason → 退回, in the clerk's list (:func:`returned_items`);
  the clerk corrects it (``visits.update_record``, ``visits.save_report``, ``complaints.save_handling``) or
  sends it back unchanged (:func:`resubmit`) → 待审阅.
* **Lock**: signed items are refused by the editing services (LockedError) — a record also while a signed
  report summarises it. **Reopen** (:func:`reopen`, supervisor/manager, with a reason) clears the signature,
  increments ``revision`` and returns the item to its clerk; the reopen, the edits after it and the new
  signature are all in the audit log.
* **Tamper check** (:func:`verify`, :func:`tampered_items`): a stored row that no longer matches its hashes —
  even when changed by SQL outside the program — is ``签字后被修改``.
* **Audit log** (:func:`audit_log`, :func:`export_audit`): filtered by user, record, action and date, paged;
  exported to .xlsx. The log is append-only: nothing in the program updates or deletes its rows.

Settings (JSON, table ``setting``): ``review_rules`` (:class:`~huifang_desktop.domain.signoff.ReviewRules`).
"""

from __future__ import annotations

import functools
import json
import random
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, case, func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, Role, can
from huifang_desktop.domain.signoff import (
    HASH_FIELDS,
    Integrity,
    ReviewAction,
    ReviewKind,
    ReviewRules,
    ReviewStatus,
    SignOff,
    StoredSignature,
    check_integrity,
    content_hash,
    due_function,
    is_review_overdue,
    next_status,
    require_reason,
    signature_hash,
)
from huifang_desktop.domain.stats import EventKind
from huifang_desktop.domain.validation import clean_text, format_phone, optional_text
from huifang_desktop.exports.visits_xlsx import write_visit_ledger
from huifang_desktop.services import signing
from huifang_desktop.services.context import SYSTEM_USER, ServiceContext, audit
from huifang_desktop.services.errors import ConflictError, NotFound, PermissionDenied, ServiceError
from huifang_desktop.services.outputs import checked_target, period_text, write_failed
from huifang_desktop.services.settings import get_value, load_settings, set_value
from huifang_desktop.storage.models import (
    Attachment,
    AuditLog,
    Complaint,
    ComplaintAttachment,
    Customer,
    Department,
    User,
    VisitRecord,
    VisitReport,
)

RULES_KEY = "review_rules"
AUDIT_PAGE_SIZE = 200
AUDIT_TITLE = "操作日志"
AUDIT_HEADERS: tuple[str, ...] = ("时间", "用户", "操作", "对象", "原值", "新值", "备注", "审计链序号",
                                  "上一行校验值", "本行校验值")
AUDIT_WIDTHS: tuple[float, ...] = (19, 10, 14, 40, 48, 48, 30, 10, 66, 66)
_CHUNK = 500  # ids per IN (…) look-up

PENDING = ReviewStatus.PENDING.value
RETURNED = ReviewStatus.RETURNED.value
SIGNED = ReviewStatus.SIGNED.value

_MODELS: dict[ReviewKind, Any] = {ReviewKind.RECORD: VisitRecord, ReviewKind.REPORT: VisitReport,
                                  ReviewKind.COMPLAINT: Complaint}

ENTITY_LABELS: dict[str, str] = {
    "customer": "客户档案", "visit_plan": "回访计划", "visit_record": "回访记录", "visit_report": "回访报告",
    "scan_page": "未识别扫描页",
    "complaint": "投诉", "user": "用户", "department": "部门", "setting": "设置", "database": "数据库",
    "audit_log": "操作日志",
}
FIELD_LABELS: dict[str, str] = {
    "page": "页码", "signed_form_received_at": "签字单回收时间", "signed_form_days": "签字单回收提醒天数",
    "status": "状态", "state": "状态", "reason": "原因", "comment": "指导意见", "signer": "签字人", "role": "角色",
    "signed_at": "签字时间", "revision": "修订次数", "content_hash": "内容校验值", "integrity": "签字校验",
    "contact_name": "联系人", "contact_phone": "联系电话", "visit_type": "回访类型", "method": "回访方式",
    "visited_at": "回访时间", "visitor_id": "回访人", "content": "回访内容", "feedback": "客户意见/反馈",
    "problems": "问题点", "measures": "措施", "satisfaction": "满意度", "handling": "处理情况",
    "transfer_department": "转交部门", "transfer_answer": "转交处理结果", "transfer_done_at": "转交答复时间",
    "next_visit_on": "下次回访时间", "result": "结果", "customer_signed": "客户签字", "summary": "回访汇总",
    "actions": "处理措施", "evaluation": "评价", "period": "报告期间", "total": "回访次数", "due_on": "应交日期",
    "investigation": "调查情况", "cause": "原因", "reply_text": "答复内容", "replied_at": "答复时间",
    "reply_way": "答复方式", "handler": "负责人", "severity": "严重程度", "number": "编号", "due": "期限",
    "name": "名称", "grade": "等级", "owner": "负责人", "file": "文件", "kind": "类型", "rows": "行数",
    "category": "类别", "address": "地址", "region": "区域", "source": "来源", "industry": "行业",
    "birthday": "生日", "created_on": "建档日期", "notes": "备注", "contacts": "联系人", "deadline": "期限",
    "grade_reason": "定级原因", "pinned": "手动定级", "archived": "归档", "active": "启用", "username": "用户名",
    "department": "部门", "visitor": "回访人", "earliest": "最早日期", "channel": "渠道", "received_at": "受理时间",
    "occurrence": "次数", "chase_count": "催办次数", "level": "级别", "size": "大小", "sha256": "校验值",
    "count": "数量", "to": "至", "clerks": "回访人数", "empty": "空白表单", "head": "负责主管",
    # printed and exported documents
    "form": "表单", "output": "输出方式", "pages": "页数", "target": "输出到", "records": "回访记录",
    "plans": "回访计划", "blank": "空白表", "day": "日期", "clerk_id": "回访人", "sheets": "工作表",
    "filter": "筛选条件", "aside": "原文件另存为",
    # users, log-in, keys (state: the user's resulting role and active flag, see signing.with_state)
    "host": "计算机", "locked_until": "锁定至", "public_key": "签字公钥", "password": "密码摘要",
    "user_id": "用户", "customer_id": "客户", "department_id": "部门", "owner_id": "负责人",
    "handler_id": "负责人", "signer_id": "签字人", "technician_id": "服务人员", "plan_id": "回访计划",
    # assessments
    "amount": "金额", "points": "扣分", "confirmed_at": "确认时间", "confirmed_by_id": "确认人",
    # 设置 (OfficeSettings and the rule books)
    "company": "单位名称", "visibility": "客户档案可见范围", "grade_a": "A级年采购量", "grade_b": "B级年采购量",
    "grade_c": "C级年采购量", "grading_window_days": "定级统计天数", "categories": "类别",
    "sources": "客户来源", "regions": "区域", "customer_code_prefix": "客户编号前缀",
    "retention_years": "保存年限", "require_visit_text": "成功回访须填内容和意见",
    "login_attempts": "允许输错密码次数", "lockout_minutes": "锁定分钟数", "holidays": "节假日",
    "workdays": "调休上班日",
    "rules": "规则", "key": "规则", "sample_rate": "抽查比例", "allow_self_sign": "允许本人签字",
    "top_secret": "绝密台账", "columns": "显示列",
    # rule books inside 修改设置 rows: visit rules, follow-ups, complaint policy, assessment rules
    "anchor": "起算日期", "windows": "回访时限", "window": "回访时限", "repeat_every": "重复间隔",
    "repeat_unit": "重复单位", "unit": "单位", "until": "重复截止", "fallback_months": "无日期时推算（月）",
    "shift_to_workday": "遇节假日顺延", "target_rate": "目标回访率", "trigger": "触发事件", "who": "回访人",
    "min_units": "数量不少于", "below_units": "数量少于", "enabled": "启用", "follow_up": "跟进回访",
    "max_attempts": "最多回访次数", "phone_from_attempt": "第几次起改电话", "phone_method": "电话方式",
    "retry_results": "需再次回访的结果", "retry_unsatisfied": "不满意时再次回访", "horizon_months": "计划范围（月）",
    "routine_days": "例行回访间隔（天）", "routine_method": "例行回访方式", "routine_rule_keys": "例行回访规则",
    "closing_visit_days": "结案回访天数", "closing_visit_in_workdays": "结案回访按工作日计",
    "consultation_reply_hours": "咨询答复时限（小时）", "escalate_overdue": "逾期自动升级",
    "first_reply_workdays": "首次答复时限（工作日）", "handler_roles": "负责人角色",
    "handling_workdays": "处理时限（工作日）", "number_pattern": "编号格式", "repeat_similarity": "重复投诉相似度",
    "repeat_window_days": "重复投诉统计天数", "special_handling_workdays": "专项处理时限（工作日）",
    "suggestion_reply_workdays": "建议答复时限（工作日）", "workday_end": "下班时间", "assessed_roles": "考核对象",
    "delivery_triggers": "交货类触发事件", "monthly_due_workdays": "月度台账期限（工作日）",
    "repeat_multiplier": "重复倍数", "rule_key": "回访规则", "severity_who": "投诉结案回访人",
    "technical_grades": "技术回访客户等级", "technical_method": "技术回访方式", "technical_months": "技术回访间隔（月）",
    "sampling_salt": "抽样种子", "transfer_hours": "转交答复时限（小时）",
    # a ledger filter (筛选条件)
    "text": "关键字", "start": "开始日期", "end": "截止日期", "mine": "仅本人", "sort": "排序",
    "descending": "倒序",
    **{kind.key: kind.value for kind in EventKind},  # 考核 rules by event (missed_visit → 例行回访未按期)
}

# ids in audit values shown as names (the kind of record each one names)
ID_KEYS: dict[str, str] = {
    "visitor_id": "user", "clerk_id": "user", "handler_id": "user", "owner_id": "user", "signer_id": "user",
    "user_id": "user", "technician_id": "user", "customer_id": "customer",
    "department_id": "department", "confirmed_by_id": "user",
}
# rows whose object is named by an internal key: (entity, stored label) → what the screen says
_OBJECT_LABELS: dict[tuple[str, str], str] = {("setting", "office"): "单位设置"}
# keys that name a record's id in one kind of row only (in the demo generator's row 客户 is a count)
ENTITY_ID_ALIASES: dict[str, dict[str, str]] = {"service_record": {"客户": "customer_id"}}
USER_STATE_LABEL = "账户"  # ``state`` as a dict: a user's resulting role and active flag (signing.with_state)
COUNTED_KEYS = frozenset({"records", "plans"})  # lists of ids: shown as how many
HIDDEN_KEYS = frozenset({"public_key", "signature", "row_hash", "prev_hash", "password", "key_box",
                         "content_hash", "hash", "sha256"})
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


# --- settings ----------------------------------------------------------------------------------------

def load_review_rules(ctx: ServiceContext) -> ReviewRules:
    data = get_value(ctx, RULES_KEY)
    return ReviewRules.from_dict(data) if isinstance(data, dict) else ReviewRules()


def save_review_rules(ctx: ServiceContext, rules: ReviewRules) -> None:
    ctx.require(Permission.MANAGE_SETTINGS, "修改审阅设置")
    # allow_self_sign is a policy field (settings.POLICY_FIELDS): set_value asks for Permission.MANAGE_POLICY
    set_value(ctx, RULES_KEY, ReviewRules.from_dict(rules.to_dict()).to_dict(), what="审阅设置")


def _calendar(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    from huifang_desktop.services.visits import work_calendar

    return work_calendar(ctx)


# --- what the UI gets --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ItemRef:
    """One item to act on; ``version`` is the version the user read (None: do not check)."""

    kind: ReviewKind
    id: int
    version: int | None = None


@dataclass(frozen=True, slots=True)
class ReviewItem:
    kind: ReviewKind
    id: int
    number: str
    title: str  # customer and visit type / report period / complaint subject
    owner_id: int | None  # the clerk: visitor, report writer, complaint handler
    owner: str
    day: date  # visit day / last day of the report period / closing day
    due: date | None  # when the review is due (items waiting for review)
    overdue: bool
    status: str
    version: int
    revision: int = 0
    comment: str = ""  # 指导意见, or the reason it was returned / reopened
    signer: str = ""
    signed_at: datetime | None = None
    integrity: Integrity = Integrity.UNSIGNED
    returned_by: str = ""
    returned_at: datetime | None = None

    @property
    def ref(self) -> ItemRef:
        return ItemRef(self.kind, self.id, self.version)

    @property
    def tampered(self) -> bool:
        return self.integrity is Integrity.TAMPERED


@dataclass(frozen=True, slots=True)
class QueueGroup:
    """One clerk's items of one type. From :func:`queue_summary` the items are not loaded yet: ``total`` and
    ``overdue_total`` give the counts and :func:`queue_group` loads them."""

    owner_id: int | None
    owner: str
    kind: ReviewKind
    items: tuple[ReviewItem, ...]
    total: int = -1  # -1: the items are all here
    overdue_total: int = -1

    @property
    def count(self) -> int:
        return self.total if self.total >= 0 else len(self.items)

    @property
    def overdue(self) -> int:
        return self.overdue_total if self.overdue_total >= 0 else sum(1 for i in self.items if i.overdue)

    @property
    def loaded(self) -> bool:
        return self.total < 0 or len(self.items) >= self.total

    @property
    def tampered(self) -> int:
        return sum(1 for i in self.items if i.tampered)


@dataclass(frozen=True, slots=True)
class ReviewQueue:
    """Items grouped by clerk, then by type; clerks with the oldest item first, items oldest first."""

    groups: tuple[QueueGroup, ...]

    @property
    def total(self) -> int:
        return sum(g.count for g in self.groups)

    @property
    def overdue(self) -> int:
        return sum(g.overdue for g in self.groups)

    @property
    def tampered(self) -> int:
        return sum(g.tampered for g in self.groups)

    def by_owner(self) -> list[tuple[int | None, str, tuple[QueueGroup, ...]]]:
        out: dict[int | None, list[QueueGroup]] = {}
        names: dict[int | None, str] = {}
        for g in self.groups:
            out.setdefault(g.owner_id, []).append(g)
            names[g.owner_id] = g.owner
        return [(owner, names[owner], tuple(groups)) for owner, groups in out.items()]

    def items(self) -> Iterator[ReviewItem]:
        for g in self.groups:
            yield from g.items


@dataclass(frozen=True, slots=True)
class PendingCounts:
    """For the start-up reminder: what waits for my review, how much of it is overdue, what came back."""

    pending: int
    overdue: int
    returned_to_me: int
    returned_by_kind: tuple[tuple[ReviewKind, int], ...] = ()  # the same items by kind, none left out


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    at: datetime
    user: str  # display name (the login name when the user is gone)
    username: str
    action: str
    entity: str
    entity_id: int | None
    label: str
    old: str  # readable: "字段：值；…" (names instead of ids; no hashes or key material)
    new: str
    note: str
    change: str = ""  # 变更: "字段：旧值 → 新值；…" for the keys in both old and new
    raw_old: str = ""  # the stored JSON, for the detail view
    raw_new: str = ""
    seq: int | None = None  # position in the audit chain
    prev_hash: str = ""
    row_hash: str = ""

    @property
    def object_text(self) -> str:
        kind = ENTITY_LABELS.get(self.entity, self.entity)
        return f"{kind} {self.label}".strip() if self.label else kind


@dataclass(frozen=True, slots=True)
class ReviewDetail:
    item: ReviewItem
    fields: tuple[tuple[str, str], ...]  # (label, value) in the order of the paper form
    history: tuple[AuditRow, ...]  # the item's audit trail, oldest first
    signer_role: str  # role label at signing
    actions: frozenset[str]  # sign / return / reopen / resubmit / edit: what the acting user may do now


@dataclass(frozen=True, slots=True)
class AuditFilter:
    user_id: int | None = None
    username: str = ""  # login name (the command line's --user)
    entity: str = ""  # table: visit_record, complaint, customer …
    entity_id: int | None = None
    text: str = ""  # part of the object's label, e.g. a number HF20261124-003 or a customer name
    action: str = ""
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True, slots=True)
class AuditPage:
    rows: tuple[AuditRow, ...]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


# --- helpers -----------------------------------------------------------------------------------------

def _status(kind: ReviewKind, row: Any) -> str:
    return row.review_status if kind is ReviewKind.COMPLAINT else row.status


def _set_status(kind: ReviewKind, row: Any, value: ReviewStatus) -> None:
    if kind is ReviewKind.COMPLAINT:
        row.review_status = value.value
    else:
        row.status = value.value


_OWNER_ATTR = {ReviewKind.RECORD: "visitor_id", ReviewKind.REPORT: "clerk_id",
               ReviewKind.COMPLAINT: "handler_id"}


def _owner_id(kind: ReviewKind, row: Any) -> int | None:
    """The clerk an item belongs to: the visitor, the report's writer, the complaint's handler."""
    return getattr(row, _OWNER_ATTR[kind])


def _status_col(kind: ReviewKind) -> Any:
    return Complaint.review_status if kind is ReviewKind.COMPLAINT else _MODELS[kind].status


def _owner_col(kind: ReviewKind) -> Any:
    return getattr(_MODELS[kind], _OWNER_ATTR[kind])


def _names(s: Session | Connection) -> dict[int, str]:
    return {uid: name for uid, name in s.execute(select(User.id, User.display_name))}


def _person(ctx: ServiceContext, what: str) -> None:
    if ctx.user is SYSTEM_USER or not ctx.user.id:
        raise PermissionDenied(f"{what}须由登录的主管或经理本人操作。")


def _limited(ctx: ServiceContext) -> bool:
    from huifang_desktop.services.customers import customer_scope

    return customer_scope(ctx).limited


def _visible(ctx: ServiceContext, kind: ReviewKind, q: Any, limited: bool) -> Any:
    """Department visibility (same setting as the customer files and the complaint register)."""
    if not limited:
        return q
    dep = ctx.user.department_id
    if kind is ReviewKind.RECORD:
        cond = Customer.department_id.is_(None) if dep is None else Customer.department_id == dep
        return q.where(VisitRecord.customer_id.in_(select(Customer.id).where(cond)))
    if kind is ReviewKind.REPORT:
        cond = User.department_id.is_(None) if dep is None else User.department_id == dep
        colleagues = select(User.id).where(cond)
        return q.where(or_(VisitReport.clerk_id == ctx.user.id, VisitReport.clerk_id.in_(colleagues)))
    from huifang_desktop.services.complaints import _visible_condition

    cond = _visible_condition(ctx)
    return q if cond is None else q.where(cond)


def _load(s: Session, ctx: ServiceContext, kind: ReviewKind, item_id: int) -> Any:
    row = s.get(_MODELS[kind], item_id)
    if row is None:
        raise NotFound(f"{kind.short} {item_id} 不存在。")
    if _limited(ctx):
        q = _visible(ctx, kind, select(_MODELS[kind].id).where(_MODELS[kind].id == item_id), True)
        if s.execute(q).first() is None:
            raise PermissionDenied(f"{kind.short} {row.number} 属于其他部门，需经理授权才能查看。")
    return row


def _attachments(s: Session, complaint_ids: Sequence[int]) -> dict[int, list[list[str]]]:
    out: dict[int, list[list[str]]] = {cid: [] for cid in complaint_ids}
    ids = list(complaint_ids)
    for i in range(0, len(ids), _CHUNK):
        q = (select(ComplaintAttachment.complaint_id, Attachment.sha256, Attachment.name, Attachment.kind)
             .join(Attachment, Attachment.id == ComplaintAttachment.attachment_id)
             .where(ComplaintAttachment.complaint_id.in_(ids[i:i + _CHUNK])))
        for cid, sha, name, kind in s.execute(q):
            out[cid].append([sha, name, kind])
    return {cid: sorted(v) for cid, v in out.items()}


def _values(kind: ReviewKind, row: Any, attachments: list[list[str]] | None = None) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in HASH_FIELDS[kind] if name != "attachments"}
    if kind is ReviewKind.COMPLAINT:
        values["attachments"] = attachments or []
    return values


def _stored(kind: ReviewKind, row: Any) -> StoredSignature:
    return StoredSignature(_status(kind, row), row.content_hash or "", row.signature_hash or "",
                           SignOff(row.signed_by_id, row.signed_role or "", row.signed_at,
                                   row.supervisor_comment or "", row.revision or 0),
                           row.signature or "", row.signed_seq)


def _checked(s: Session | Connection, kind: ReviewKind, row: Any, attachments: list[list[str]] | None = None
             ) -> Integrity:
    """The full check of one row: hashes, and the signature against the signer's key in the audit chain."""
    return check_integrity(kind, _values(kind, row, attachments), _stored(kind, row), row.id,
                           signing.verifier(s), signing.legacy_checker(s, kind))


def _integrity(s: Session, kind: ReviewKind, row: Any) -> Integrity:
    attachments = _attachments(s, [row.id])[row.id] if kind is ReviewKind.COMPLAINT else None
    return _checked(s, kind, row, attachments)


def _title(kind: ReviewKind, row: Any, customer: str = "") -> str:
    if kind is ReviewKind.RECORD:
        return f"{customer} · {row.visit_type}回访（{row.method}）"
    if kind is ReviewKind.REPORT:
        if row.period_start == row.period_end:
            return f"{row.period_start:%Y-%m-%d}"
        return f"{row.period_start:%Y-%m-%d}～{row.period_end:%Y-%m-%d}"
    return row.subject


def _day(kind: ReviewKind, row: Any) -> date:
    if kind is ReviewKind.RECORD:
        return row.visited_at.date()
    if kind is ReviewKind.REPORT:
        return row.period_end
    return (row.closed_at or row.updated_at).date()


def _due_basis(kind: ReviewKind, row: Any) -> date:
    return row.due_on if kind is ReviewKind.REPORT else _day(kind, row)


def _label(kind: ReviewKind, row: Any, customer: str = "") -> str:
    return f"{row.number} {_title(kind, row, customer)}"[:200]


def _customer_name(s: Session, kind: ReviewKind, row: Any) -> str:
    if kind is not ReviewKind.RECORD:
        return ""
    return s.execute(select(Customer.name).where(Customer.id == row.customer_id)).scalar() or ""


def _item(s: Session, ctx: ServiceContext, kind: ReviewKind, row: Any, names: Mapping[int, str],
          rules: ReviewRules | None = None, *, integrity: Integrity | None = None) -> ReviewItem:
    rules = rules or load_review_rules(ctx)
    status = _status(kind, row)
    owner = _owner_id(kind, row)
    due = overdue = None
    if status == PENDING:
        due = due_function(kind, rules, _calendar(ctx))(_due_basis(kind, row))
        overdue = is_review_overdue(due, ctx.today())
    return ReviewItem(
        kind, row.id, row.number, _title(kind, row, _customer_name(s, kind, row)), owner,
        names.get(owner, "") if owner else "", _day(kind, row), due, bool(overdue), status, row.version,
        row.revision or 0, row.supervisor_comment or "",
        names.get(row.signed_by_id, "") if row.signed_by_id else "", row.signed_at,
        integrity if integrity is not None else _integrity(s, kind, row))


def _group(items: Iterable[ReviewItem], presorted: bool = False) -> ReviewQueue:
    """Group by clerk, then by type in the order 记录 / 报告 / 投诉; clerks with the oldest item first; items
    oldest first (``presorted``: they come in that order already)."""
    buckets: dict[tuple[int | None, ReviewKind], list[ReviewItem]] = {}
    oldest: dict[int | None, tuple[date, str]] = {}
    names: dict[int | None, str] = {}
    for item in items:
        buckets.setdefault((item.owner_id, item.kind), []).append(item)
        names[item.owner_id] = item.owner or "（未指定）"
        key = (item.day, item.owner)
        if item.owner_id not in oldest or key < oldest[item.owner_id]:
            oldest[item.owner_id] = key
    order = sorted(oldest, key=lambda o: (oldest[o], names[o]))
    kinds = list(ReviewKind)
    groups = []
    for owner in order:
        for kind in kinds:
            bucket = buckets.get((owner, kind))
            if bucket:
                if not presorted:
                    bucket.sort(key=lambda i: (i.day, i.number))
                groups.append(QueueGroup(owner, names[owner], kind, tuple(bucket)))
    return ReviewQueue(tuple(groups))


def group_items(items: Iterable[ReviewItem]) -> ReviewQueue:
    """Any items as a queue: by clerk (the one with the oldest item first), then by type, oldest first."""
    return _group(items)


def _self_check(ctx: ServiceContext, kind: ReviewKind, row: Any, rules: ReviewRules, what: str) -> None:
    if not rules.allow_self_sign and ctx.user.id and _owner_id(kind, row) == ctx.user.id:
        raise PermissionDenied(f"不能{what}自己的{kind.short} {row.number}，请由其他主管或经理审阅。")


def _check_version(kind: ReviewKind, row: Any, expected: int | None) -> None:
    if expected is not None and row.version != expected:
        raise ConflictError(f"{kind.short} {row.number} 在您阅读之后已被修改，请重新阅读后再操作。")


# --- the queue ---------------------------------------------------------------------------------------

def _pending_select(kind: ReviewKind) -> Any:
    if kind is ReviewKind.RECORD:
        return (select(VisitRecord.id, VisitRecord.number, VisitRecord.visitor_id, VisitRecord.visited_at,
                       VisitRecord.version, VisitRecord.revision, VisitRecord.supervisor_comment,
                       Customer.name, VisitRecord.visit_type, VisitRecord.method)
                .join(Customer, Customer.id == VisitRecord.customer_id)
                .where(VisitRecord.status == PENDING))
    if kind is ReviewKind.REPORT:
        return (select(VisitReport.id, VisitReport.number, VisitReport.clerk_id, VisitReport.period_start,
                       VisitReport.period_end, VisitReport.due_on, VisitReport.version, VisitReport.revision,
                       VisitReport.supervisor_comment)
                .where(VisitReport.status == PENDING))
    return (select(Complaint.id, Complaint.number, Complaint.handler_id, Complaint.closed_at,
                   Complaint.updated_at, Complaint.version, Complaint.revision, Complaint.supervisor_comment,
                   Complaint.subject)
            .where(Complaint.review_status == PENDING))


@dataclass(frozen=True, slots=True)
class _QueueScope:
    rules: ReviewRules
    cal: Any
    today: date
    limited: bool
    me: int | None


def _queue_scope(ctx: ServiceContext) -> _QueueScope:
    ctx.require(Permission.SIGN_OFF, "审阅签字")
    return _QueueScope(load_review_rules(ctx), _calendar(ctx), ctx.today(), _limited(ctx),
                       ctx.user.id or None)


def _pending_where(ctx: ServiceContext, kind: ReviewKind, q: Any, scope: _QueueScope) -> Any:
    """Waiting for review, visible to the acting user, not their own work (unless the office allows it)."""
    q = _visible(ctx, kind, q.where(_status_col(kind) == PENDING), scope.limited)
    if scope.me is not None and not scope.rules.allow_self_sign:
        owner = _owner_col(kind)
        q = q.where(or_(owner.is_(None), owner != scope.me))
    return q


def _pending_items(conn: Connection, ctx: ServiceContext, kind: ReviewKind, scope: _QueueScope,
                   names: Mapping[int, str], owner: int | None | bool = False, offset: int = 0,
                   limit: int | None = None) -> list[ReviewItem]:
    """The pending items of one kind (of one clerk when ``owner`` is given; None: no clerk), oldest first
    (by the day, then the number: a stable order to page in)."""
    due = due_function(kind, scope.rules, scope.cal)
    q = _pending_where(ctx, kind, _pending_select(kind), scope)
    if owner is not False:
        col = _owner_col(kind)
        q = q.where(col.is_(None) if owner is None else col == owner)
    q = q.order_by(_day_col(kind), _MODELS[kind].number).offset(offset)
    if limit is not None:
        q = q.limit(limit)
    items = []
    for r in conn.execute(q).all():
        if kind is ReviewKind.RECORD:
            item_id, number, who, at, version, revision, comment, customer, vtype, method = r
            day = basis = at.date()
            title = f"{customer} · {vtype}回访（{method}）"
        elif kind is ReviewKind.REPORT:
            item_id, number, who, start, end, basis, version, revision, comment = r
            day = end
            title = f"{start:%Y-%m-%d}～{end:%Y-%m-%d}" if start != end else f"{start:%Y-%m-%d}"
        else:
            item_id, number, who, closed_at, updated_at, version, revision, comment, title = r
            day = basis = (closed_at or updated_at).date()
        d = due(basis)
        items.append(ReviewItem(kind, item_id, number, title, who, names.get(who, "") if who else "", day, d,
                                is_review_overdue(d, scope.today), PENDING, version, revision or 0,
                                comment or ""))
    return items


def review_queue(ctx: ServiceContext) -> ReviewQueue:
    """Everything waiting for the acting supervisor's review (待审阅), grouped by clerk and type, oldest first,
    with the review due day and overdue marks. Three indexed queries; no hashing. For a long queue the tab
    shows :func:`queue_summary` first and loads a group's items (:func:`queue_group`) when it is opened."""
    scope = _queue_scope(ctx)
    items: list[ReviewItem] = []
    with ctx.engine.connect() as conn:  # plain rows: no ORM bookkeeping for thousands of them
        names = _names(conn)
        for kind in ReviewKind:
            items += _pending_items(conn, ctx, kind, scope, names)
    return _group(items, presorted=True)


def _basis_before(kind: ReviewKind, cutoff: date) -> Any:
    """The SQL condition ``review basis day <= cutoff`` (overdue when ``cutoff`` is the overdue cut-off)."""
    nxt = datetime.combine(cutoff + timedelta(days=1), time.min)
    if kind is ReviewKind.RECORD:
        return VisitRecord.visited_at < nxt
    if kind is ReviewKind.REPORT:
        return VisitReport.due_on <= cutoff
    return func.coalesce(Complaint.closed_at, Complaint.updated_at) < nxt


def _day_col(kind: ReviewKind) -> Any:
    if kind is ReviewKind.RECORD:
        return VisitRecord.visited_at
    if kind is ReviewKind.REPORT:
        return VisitReport.period_end
    return func.coalesce(Complaint.closed_at, Complaint.updated_at)


def queue_summary(ctx: ServiceContext) -> ReviewQueue:
    """The review queue's groups (clerk × type) with their counts and overdue counts, items not loaded: one
    aggregate query per type, so the tab paints at once however long the queue is."""
    scope = _queue_scope(ctx)
    counts: dict[tuple[int | None, ReviewKind], tuple[int, int]] = {}
    oldest: dict[int | None, date] = {}
    with ctx.engine.connect() as conn:
        names = _names(conn)
        for kind in ReviewKind:
            owner = _owner_col(kind)
            late = _basis_before(kind, _overdue_cutoff(kind, scope.rules, scope.cal, scope.today))
            q = _pending_where(ctx, kind, select(owner, func.count(), func.sum(case((late, 1), else_=0)),
                                                 func.min(_day_col(kind))).select_from(_MODELS[kind]), scope)
            for who, n, n_late, first in conn.execute(q.group_by(owner)):
                counts[(who, kind)] = (int(n), int(n_late or 0))
                day = first.date() if isinstance(first, datetime) else first
                if isinstance(day, str):  # SQLite: coalesce() of two datetimes comes back as text
                    day = datetime.fromisoformat(day).date()
                if who not in oldest or day < oldest[who]:
                    oldest[who] = day
    def name(who: int | None) -> str:
        return (names.get(who, "") if who else "") or "（未指定）"

    groups = []
    for who in sorted(oldest, key=lambda o: (oldest[o], name(o))):
        for kind in ReviewKind:
            if (who, kind) in counts:
                n, n_late = counts[(who, kind)]
                groups.append(QueueGroup(who, name(who), kind, (), n, n_late))
    return ReviewQueue(tuple(groups))


def queue_group(ctx: ServiceContext, owner_id: int | None, kind: ReviewKind | str, *, offset: int = 0,
                limit: int | None = None) -> QueueGroup:
    """One clerk's items of one type waiting for review, oldest first (a group of :func:`queue_summary`);
    ``offset`` / ``limit`` page through a long one."""
    kind = ReviewKind.parse(kind)
    scope = _queue_scope(ctx)
    with ctx.engine.connect() as conn:
        names = _names(conn)
        items = _pending_items(conn, ctx, kind, scope, names, owner=owner_id, offset=offset, limit=limit)
    return QueueGroup(owner_id, (names.get(owner_id, "") if owner_id else "") or "（未指定）", kind, tuple(items))


def _overdue_cutoff(kind: ReviewKind, rules: ReviewRules, cal: Any, today: date) -> date:
    """The latest basis day whose review is overdue today (due is monotonic in the basis day)."""
    due = due_function(kind, rules, cal)
    day = today
    while not is_review_overdue(due(day), today):
        day -= timedelta(days=1)
    return day


def pending_counts(ctx: ServiceContext) -> PendingCounts:
    """Counts for the start-up reminder (count queries only): items waiting for my review and how many of
    them are overdue (supervisors and managers), and my items returned to me (everyone)."""
    me = ctx.user.id or None
    pending = overdue = 0
    if can(ctx.user.role, Permission.SIGN_OFF) or ctx.user is SYSTEM_USER:
        summary = queue_summary(ctx)
        pending, overdue = summary.total, summary.overdue
    by_kind: list[tuple[ReviewKind, int]] = []
    if me is not None:
        with ctx.sessions() as s:
            for kind in ReviewKind:
                model = _MODELS[kind]
                n = int(s.execute(select(func.count(model.id)).where(
                    _status_col(kind) == RETURNED, _owner_col(kind) == me)).scalar() or 0)
                if n:
                    by_kind.append((kind, n))
    return PendingCounts(pending, overdue, sum(n for _k, n in by_kind), tuple(by_kind))


def _rows_where(s: Session, ctx: ServiceContext, kind: ReviewKind, *conds: Any, order: Any = None,
                limit: int | None = None) -> list[Any]:
    model = _MODELS[kind]
    q = _visible(ctx, kind, select(model).where(*conds), _limited(ctx))
    if order is not None:
        q = q.order_by(order)
    if limit is not None:
        q = q.limit(limit)
    return list(s.execute(q).scalars())


def _items_with_integrity(s: Session, ctx: ServiceContext, kind: ReviewKind, rows: Sequence[Any],
                          names: Mapping[int, str], rules: ReviewRules) -> list[ReviewItem]:
    attachments = _attachments(s, [r.id for r in rows]) if kind is ReviewKind.COMPLAINT else {}
    customers: dict[int, str] = {}
    if kind is ReviewKind.RECORD and rows:
        ids = sorted({r.customer_id for r in rows})
        for i in range(0, len(ids), _CHUNK):
            q = select(Customer.id, Customer.name).where(Customer.id.in_(ids[i:i + _CHUNK]))
            customers.update({cid: name for cid, name in s.execute(q)})
    out = []
    for r in rows:
        integrity = _checked(s, kind, r, attachments.get(r.id))
        owner = _owner_id(kind, r)
        out.append(ReviewItem(
            kind, r.id, r.number, _title(kind, r, customers.get(getattr(r, "customer_id", 0), "")), owner,
            names.get(owner, "") if owner else "", _day(kind, r), None, False, _status(kind, r), r.version,
            r.revision or 0, r.supervisor_comment or "",
            names.get(r.signed_by_id, "") if r.signed_by_id else "", r.signed_at, integrity))
    return out


def signed_queue(ctx: ServiceContext, since: date | None = None) -> ReviewQueue:
    """Items signed since ``since`` (default: ``ReviewRules.signed_days`` ago), each checked against its
    hashes: a changed one is marked 签字后被修改. For reopening (撤回签字)."""
    ctx.require(Permission.SIGN_OFF, "查看已签字的表单")
    rules = load_review_rules(ctx)
    start = datetime.combine(since or ctx.today() - timedelta(days=rules.signed_days), time.min)
    items: list[ReviewItem] = []
    with ctx.sessions() as s:
        names = _names(s)
        for kind in ReviewKind:
            model = _MODELS[kind]
            rows = _rows_where(s, ctx, kind, _status_col(kind) == SIGNED, model.signed_at >= start)
            items += _items_with_integrity(s, ctx, kind, rows, names, rules)
    return _group(items)


@dataclass(frozen=True, slots=True)
class ScanCursor:
    """Where the tamper scan goes on: the kind (index into ReviewKind) and the last id read."""

    kind_index: int = 0
    after_id: int = 0


def scan_tampered(ctx: ServiceContext, cursor: ScanCursor = ScanCursor(), limit: int = _CHUNK
                  ) -> tuple[list[ReviewItem], ScanCursor | None]:
    """One step of the tamper scan: up to ``limit`` rows that are (or were) signed, checked against their
    hashes. Returns the tampered ones and the cursor of the next step (None when the scan is complete), so
    the GUI can scan a large database in small steps without a thread."""
    ctx.require(Permission.SIGN_OFF, "校验签字")
    kinds = list(ReviewKind)
    rules = load_review_rules(ctx)
    with ctx.sessions() as s:
        names = _names(s)
        index, after = cursor.kind_index, cursor.after_id
        while index < len(kinds):
            kind = kinds[index]
            model = _MODELS[kind]
            rows = _rows_where(s, ctx, kind, or_(_status_col(kind) == SIGNED, model.content_hash != "",
                                                 model.signature_hash != ""), model.id > after,
                               order=model.id, limit=limit)
            if rows:
                found = [i for i in _items_with_integrity(s, ctx, kind, rows, names, rules) if i.tampered]
                nxt = ScanCursor(index, rows[-1].id) if len(rows) == limit else ScanCursor(index + 1, 0)
                return found, (nxt if nxt.kind_index < len(kinds) else None)
            index, after = index + 1, 0
    return [], None


def tampered_items(ctx: ServiceContext) -> list[ReviewItem]:
    """Every stored item that no longer matches its signature: signed rows whose hashes differ, and unsigned
    rows still carrying a hash (signature removed outside the program)."""
    out: list[ReviewItem] = []
    cursor: ScanCursor | None = ScanCursor()
    while cursor is not None:
        found, cursor = scan_tampered(ctx, cursor)
        out += found
    return out


def verify(ctx: ServiceContext, kind: ReviewKind | str, item_id: int) -> Integrity:
    """签字有效 / 签字后被修改 / 未签字 for one stored item (recomputed from the row as stored now)."""
    kind = ReviewKind.parse(kind)
    with ctx.sessions() as s:
        return _integrity(s, kind, _load(s, ctx, kind, item_id))


def integrity_of(s: Session, kind: ReviewKind | str, item_id: int) -> Integrity:
    """The same check inside a caller's session (e.g. the printout); the caller has checked visibility."""
    kind = ReviewKind.parse(kind)
    row = s.get(_MODELS[kind], item_id)
    if row is None:
        raise NotFound(f"{kind.short} {item_id} 不存在。")
    return _integrity(s, kind, row)


def row_integrity(kind: ReviewKind | str, row: Any, s: Session | Connection | None = None) -> Integrity:
    """The same check of a record or report read as columns (any object with the table's column names as
    attributes, e.g. a Core row); a complaint also needs its attachments: use :func:`integrity_of`. With the
    session ``s`` the signature is checked too (its keys are cached in the session: cheap per form)."""
    kind = ReviewKind.parse(kind)
    if kind is ReviewKind.COMPLAINT:
        raise ValueError("a complaint's integrity needs its attachments")
    if s is None:
        return check_integrity(kind, _values(kind, row), _stored(kind, row))
    return _checked(s, kind, row)


def _last_returns(s: Session, kind: ReviewKind, ids: Sequence[int]) -> dict[int, tuple[str, datetime]]:
    out: dict[int, tuple[str, datetime]] = {}
    who = aliased(User)
    for i in range(0, len(ids), _CHUNK):
        q = (select(AuditLog.entity_id, func.coalesce(who.display_name, AuditLog.username), AuditLog.at)
             .outerjoin(who, who.id == AuditLog.user_id)
             .where(AuditLog.entity == kind.entity, AuditLog.entity_id.in_(ids[i:i + _CHUNK]),
                    AuditLog.action.in_([ReviewAction.RETURN.value, ReviewAction.REOPEN.value]))
             .order_by(AuditLog.id))
        for eid, name, at in s.execute(q):
            out[eid] = (name, at)
    return out


def returned_queue(ctx: ServiceContext, *, mine: bool = True) -> ReviewQueue:
    """Items returned (退回, also after a reopen) with the reason, who returned it and when: the acting
    user's own (``mine``), or all the supervisor may see."""
    if not mine:
        ctx.require(Permission.SIGN_OFF, "查看退回的表单")
    me = ctx.user.id or -1
    rules = load_review_rules(ctx)
    items: list[ReviewItem] = []
    with ctx.sessions() as s:
        names = _names(s)
        for kind in ReviewKind:
            conds = [_status_col(kind) == RETURNED]
            if mine:
                conds.append(_owner_col(kind) == me)
            if mine:  # one's own items are always visible
                rows = list(s.execute(select(_MODELS[kind]).where(*conds)).scalars())
            else:
                rows = _rows_where(s, ctx, kind, *conds)
            returns = _last_returns(s, kind, [r.id for r in rows])
            for item in _items_with_integrity(s, ctx, kind, rows, names, rules):
                by, at = returns.get(item.id, ("", None))
                items.append(replace(item, returned_by=by, returned_at=at))
    return _group(items)


def returned_items(ctx: ServiceContext) -> list[ReviewItem]:
    """The acting user's items returned for rework, with the supervisor's comment (oldest first)."""
    return sorted(returned_queue(ctx, mine=True).items(), key=lambda i: (i.day, i.number))


# --- one item ----------------------------------------------------------------------------------------

def _text(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    return str(value)


def _summary_text(raw: str) -> str:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return raw

    def pairs(d: Any) -> str:
        return "，".join(f"{k} {v}" for k, v in dict(d or {}).items()) or "—"

    avg = data.get("average_score")
    average = "—" if avg is None else f"{float(avg):.1f} 分"
    return (f"共回访 {data.get('total', 0)} 次。按类型：{pairs(data.get('by_type'))}。"
            f"按结果：{pairs(data.get('by_result'))}。"
            f"满意度：{pairs(data.get('satisfaction'))}（满意 {data.get('satisfied', 0)}，平均 {average}）。")


def _fields(s: Session, kind: ReviewKind, row: Any, names: Mapping[int, str]) -> tuple[tuple[str, str], ...]:
    def name(uid: int | None) -> str:
        return names.get(uid, "") if uid else ""

    if kind is ReviewKind.RECORD:
        c = s.get(Customer, row.customer_id)
        customer = f"{c.name}（{c.code}，{c.grade} 级）" if c is not None else ""
        from huifang_desktop.services.visits import _signature_text

        transfer = row.transfer_department
        if transfer and row.transfer_answer:
            transfer += f"（已答复 {_text(row.transfer_done_at)}：{row.transfer_answer}）"
        elif transfer and row.transfer_due:
            transfer += f"（须在 {_text(row.transfer_due)} 前答复）"
        out = [("编号", row.number), ("客户", customer),
               ("联系人", f"{row.contact_name}　{format_phone(row.contact_phone)}".strip()),
               ("回访类型", row.visit_type), ("回访方式", row.method), ("回访时间", _text(row.visited_at)),
               ("回访人", name(row.visitor_id)), ("回访内容", row.content), ("客户意见/反馈", row.feedback),
               ("问题点", row.problems), ("改善对策", row.measures), ("满意度", row.satisfaction),
               ("结果", row.result), ("处理情况", row.handling), ("转交部门", transfer),
               ("下次回访时间", _text(row.next_visit_on)),
               ("客户签字", _signature_text(row.method, row.customer_signed))]
    elif kind is ReviewKind.REPORT:
        out = [("编号", row.number), ("回访人", name(row.clerk_id)), ("报告期间", _title(kind, row)),
               ("应交日期", _text(row.due_on)), ("提交时间", _text(row.created_at)),
               ("回访汇总", _summary_text(row.summary)), ("发现的问题", row.problems), ("处理措施", row.actions),
               ("评价", row.evaluation)]
    else:
        customer = s.execute(select(Customer.name).where(Customer.id == row.customer_id)).scalar() \
            if row.customer_id else ""
        files = _attachments(s, [row.id])[row.id]
        visit = "" if row.visit_satisfied is None else ("满意" if row.visit_satisfied else "不满意")
        reply = f"{_text(row.replied_at)} {row.reply_way}".strip()
        if row.reply_text:
            reply += f"：{row.reply_text}"
        out = [("投诉编号", row.number), ("受理时间", _text(row.received_at)), ("渠道", row.channel),
               ("投诉人", "匿名" if row.anonymous else row.complainant), ("联系方式", format_phone(row.phone)),
               ("客户", customer or ""), ("投诉主题", row.subject), ("投诉内容", row.content),
               ("类别", row.category), ("严重程度", row.severity), ("负责人", name(row.handler_id)),
               ("调查情况", row.investigation), ("原因", row.cause), ("处理措施", row.measures),
               ("处理结果", row.result), ("答复客户", reply),
               ("结案回访", f"{_text(row.visited_at)} {visit} {row.satisfaction}".strip()),
               ("回访说明", row.visit_note), ("状态", row.state), ("关闭时间", _text(row.closed_at)),
               ("附件", "；".join(f"{k}：{n}" for _sha, n, k in files))]
    return tuple((label, _text(value)) for label, value in out)


def _actions(ctx: ServiceContext, kind: ReviewKind, row: Any, rules: ReviewRules) -> frozenset[str]:
    status = _status(kind, row)
    me = ctx.user.id or None
    mine = me is not None and _owner_id(kind, row) == me
    out: set[str] = set()
    signer = can(ctx.user.role, Permission.SIGN_OFF) and me is not None
    if status == PENDING and signer and (rules.allow_self_sign or not mine):
        out |= {"sign", "return"}
    if status == SIGNED and can(ctx.user.role, Permission.REOPEN) and me is not None:
        out.add("reopen")
    if status == RETURNED and (mine or signer):
        out.add("resubmit")
        if mine or (signer and kind is not ReviewKind.REPORT):
            out.add("edit")
    return frozenset(out)


def detail(ctx: ServiceContext, kind: ReviewKind | str, item_id: int) -> ReviewDetail:
    """One item for the review pane: every field of its form, its status and signature (checked against the
    hashes), its audit trail, and what the acting user may do with it."""
    kind = ReviewKind.parse(kind)
    rules = load_review_rules(ctx)
    with ctx.sessions() as s:
        row = _load(s, ctx, kind, item_id)
        names = _names(s)
        item = _item(s, ctx, kind, row, names, rules)
        if item.status == RETURNED:
            by, at = _last_returns(s, kind, [row.id]).get(row.id, ("", None))
            item = replace(item, returned_by=by, returned_at=at)
        history = _audit_select().where(AuditLog.entity == kind.entity, AuditLog.entity_id == row.id)
        trail = tuple(_audit_rows_named(s, s.execute(history.order_by(AuditLog.at, AuditLog.id)).all()))
        role = Role(row.signed_role).label if row.signed_role in {r.value for r in Role} else row.signed_role
        return ReviewDetail(item, _fields(s, kind, row, names), trail, role or "",
                            _actions(ctx, kind, row, rules))


def get_report(ctx: ServiceContext, report_id: int):  # type: ignore[no-untyped-def]
    """A saved 回访报告表 as :class:`huifang_desktop.services.visits.ReportRow` (for correcting a returned one)."""
    from huifang_desktop.services.visits import ReportRow

    with ctx.sessions() as s:
        r = _load(s, ctx, ReviewKind.REPORT, report_id)
        clerk = s.execute(select(User.display_name).where(User.id == r.clerk_id)).scalar() or ""
        try:
            summary = json.loads(r.summary or "{}")
        except ValueError:
            summary = {}
        return ReportRow(r.id, r.number, r.clerk_id, clerk, r.period_start, r.period_end, r.status, r.due_on,
                         r.evaluation, r.problems, r.actions, summary, r.created_at.date() > r.due_on,
                         r.version)


# --- sign, return, reopen, resubmit ------------------------------------------------------------------

def _guarded(fn: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StaleDataError:
            raise ConflictError("该表单刚被其他人修改，请重新阅读后再操作。") from None
    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper


def _sign_in(s: Session, ctx: ServiceContext, kind: ReviewKind, row: Any, comment: str, expected: int | None,
             rules: ReviewRules, names: Mapping[int, str], key: signing.UnlockedKey, note: str = "") -> None:
    _check_version(kind, row, expected)
    before = _status(kind, row)
    new_status = next_status(ReviewAction.SIGN, before, f"{kind.short} {row.number} ")
    _self_check(ctx, kind, row, rules, "签署")
    row.supervisor_comment = comment
    row.signed_by_id = ctx.user.id
    row.signed_role = ctx.user.role.value
    row.signed_at = ctx.now()
    attachments = _attachments(s, [row.id])[row.id] if kind is ReviewKind.COMPLAINT else None
    row.content_hash = content_hash(kind, _values(kind, row, attachments))
    row.signature_hash = signature_hash(row.content_hash, _stored(kind, row).sign_off)
    _set_status(kind, row, new_status)
    entry = audit(s, ctx, ReviewAction.SIGN.value, kind.entity, row.id,
                  _label(kind, row, _customer_name(s, kind, row)), old={"status": before},
                  new={"status": new_status.value, "signer": ctx.user.display_name, "role": ctx.user.role.label,
                       "signed_at": row.signed_at.isoformat(sep=" "), "revision": row.revision or 0,
                       "content_hash": row.content_hash, "comment": comment}, note=note)
    assert entry.seq is not None
    row.signed_seq = entry.seq
    row.signature = signing.signature_for(key, kind, row.id, row.content_hash, _stored(kind, row).sign_off,
                                          entry.seq)


@_guarded
def sign(ctx: ServiceContext, kind: ReviewKind | str, item_id: int, comment: str = "",
         expected_version: int | None = None, *, password: str | None = None,
         key: signing.UnlockedKey | None = None) -> ReviewItem:
    """签字通过: signer, role, time, 指导意见, the hashes of the content as stored now and the signer's
    Ed25519 signature over them (``password`` unlocks the signer's key; or a ``key`` already unlocked by
    :func:`huifang_desktop.services.signing.unlock` for a series of sign-offs); audited."""
    kind = ReviewKind.parse(kind)
    ctx.require(Permission.SIGN_OFF, "审阅签字")
    _person(ctx, "签字")
    text = optional_text(comment, label="指导意见", field="comment", max_len=4000)
    rules = load_review_rules(ctx)
    unlocked = signing.credential_key(ctx, password, key)
    with ctx.sessions() as s, s.begin():
        row = _load(s, ctx, kind, item_id)
        names = _names(s)
        _sign_in(s, ctx, kind, row, text, expected_version, rules, names, unlocked)
        s.flush()
        return _item(s, ctx, kind, row, names, rules, integrity=Integrity.INTACT)


@_guarded
def batch_sign(ctx: ServiceContext, items: Sequence[ItemRef], comment: str = "", *, password: str | None = None,
               key: signing.UnlockedKey | None = None) -> list[ReviewItem]:
    """Sign several items (the UI lets a supervisor batch-sign visit records after reading each) in one
    transaction: all or none. Each item is checked like :func:`sign`, with the version that was read; the
    password unlocks the key once for the whole batch."""
    ctx.require(Permission.SIGN_OFF, "审阅签字")
    _person(ctx, "签字")
    if not items:
        raise ValidationError(FieldError("items", "签字", "请先勾选要签字的表单"))
    text = optional_text(comment, label="指导意见", field="comment", max_len=4000)
    rules = load_review_rules(ctx)
    unlocked = signing.credential_key(ctx, password, key)
    with ctx.sessions() as s, s.begin():
        names = _names(s)
        rows = []
        for ref in dict.fromkeys(items):
            kind = ReviewKind.parse(ref.kind)
            row = _load(s, ctx, kind, ref.id)
            _sign_in(s, ctx, kind, row, text, ref.version, rules, names, unlocked,
                     note=f"批量签字（共 {len(items)} 份）")
            rows.append((kind, row))
        s.flush()
        return [_item(s, ctx, kind, row, names, rules, integrity=Integrity.INTACT) for kind, row in rows]


@_guarded
def return_for_rework(ctx: ServiceContext, kind: ReviewKind | str, item_id: int, reason: str,
                      expected_version: int | None = None) -> ReviewItem:
    """退回修改: back to the clerk with the reason (required), who corrects it and resubmits."""
    kind = ReviewKind.parse(kind)
    ctx.require(Permission.SIGN_OFF, "退回表单")
    _person(ctx, "退回")
    text = require_reason(reason, "退回原因")
    rules = load_review_rules(ctx)
    with ctx.sessions() as s, s.begin():
        row = _load(s, ctx, kind, item_id)
        _check_version(kind, row, expected_version)
        before = _status(kind, row)
        new_status = next_status(ReviewAction.RETURN, before, f"{kind.short} {row.number} ")
        _self_check(ctx, kind, row, rules, "退回")
        row.supervisor_comment = text
        _set_status(kind, row, new_status)
        audit(s, ctx, ReviewAction.RETURN.value, kind.entity, row.id,
              _label(kind, row, _customer_name(s, kind, row)), old={"status": before},
              new={"status": new_status.value, "reason": text}, note=text)
        s.flush()
        names = _names(s)
        return replace(_item(s, ctx, kind, row, names, rules), returned_by=ctx.user.display_name,
                       returned_at=ctx.now())


@_guarded
def reopen(ctx: ServiceContext, kind: ReviewKind | str, item_id: int, reason: str,
           expected_version: int | None = None) -> ReviewItem:
    """撤回签字 (supervisor or manager, reason required): the signature is cleared — the old one stays in the
    audit log, with the tamper check at that moment —, ``revision`` goes up by one and the item goes back to
    its clerk (退回); an edit or :func:`resubmit` puts it in the review queue again for a new signature."""
    kind = ReviewKind.parse(kind)
    ctx.require(Permission.REOPEN, "撤回签字")
    _person(ctx, "撤回签字")
    text = require_reason(reason, "撤回原因")
    rules = load_review_rules(ctx)
    with ctx.sessions() as s, s.begin():
        row = _load(s, ctx, kind, item_id)
        _check_version(kind, row, expected_version)
        before = _status(kind, row)
        new_status = next_status(ReviewAction.REOPEN, before, f"{kind.short} {row.number} ")
        integrity = _integrity(s, kind, row)
        names = _names(s)
        old = {"status": before, "signer": names.get(row.signed_by_id, "") if row.signed_by_id else "",
               "signed_at": row.signed_at.isoformat(sep=" ") if row.signed_at else None,
               "comment": row.supervisor_comment, "revision": row.revision or 0,
               "content_hash": row.content_hash, "integrity": integrity.value}
        row.revision = (row.revision or 0) + 1
        row.signed_by_id, row.signed_at, row.signed_role = None, None, ""
        row.content_hash, row.signature_hash, row.signature, row.signed_seq = "", "", "", None
        row.supervisor_comment = text
        _set_status(kind, row, new_status)
        note = text if integrity is Integrity.INTACT else f"{text}（撤回前校验：{integrity.value}）"
        audit(s, ctx, ReviewAction.REOPEN.value, kind.entity, row.id,
              _label(kind, row, _customer_name(s, kind, row)), old=old,
              new={"status": new_status.value, "revision": row.revision, "reason": text}, note=note)
        s.flush()
        return replace(_item(s, ctx, kind, row, names, rules), returned_by=ctx.user.display_name,
                       returned_at=ctx.now())


@_guarded
def resubmit(ctx: ServiceContext, kind: ReviewKind | str, item_id: int, note: str = "",
             expected_version: int | None = None) -> ReviewItem:
    """重新提交: the clerk (or a supervisor) sends a returned item back to the review queue (待审阅)."""
    kind = ReviewKind.parse(kind)
    ctx.require(Permission.EDIT_CUSTOMERS, "重新提交审阅")
    text = optional_text(note, label="说明", field="note", max_len=2000)
    rules = load_review_rules(ctx)
    with ctx.sessions() as s, s.begin():
        row = _load(s, ctx, kind, item_id)
        _check_version(kind, row, expected_version)
        if (ctx.user.id and _owner_id(kind, row) != ctx.user.id
                and not can(ctx.user.role, Permission.SIGN_OFF)):
            raise PermissionDenied(f"{kind.short} {row.number} 不是您的，不能重新提交。")
        before = _status(kind, row)
        new_status = next_status(ReviewAction.RESUBMIT, before, f"{kind.short} {row.number} ")
        _set_status(kind, row, new_status)
        audit(s, ctx, ReviewAction.RESUBMIT.value, kind.entity, row.id,
              _label(kind, row, _customer_name(s, kind, row)), old={"status": before},
              new={"status": new_status.value}, note=text)
        s.flush()
        return _item(s, ctx, kind, row, _names(s), rules)


# --- the audit log -----------------------------------------------------------------------------------

def _audit_select() -> Any:
    who = aliased(User)
    return (select(AuditLog.id, AuditLog.at, func.coalesce(who.display_name, AuditLog.username),
                   AuditLog.username, AuditLog.action, AuditLog.entity, AuditLog.entity_id, AuditLog.label,
                   AuditLog.old, AuditLog.new, AuditLog.note, AuditLog.seq, AuditLog.prev_hash, AuditLog.row_hash)
            .outerjoin(who, who.id == AuditLog.user_id))


class AuditNames:
    """Names for the ids an audit value carries (``visitor_id`` 4 → 小王), looked up once for a page or a
    chunk of the export: one query per kind of record, not one per row."""

    def __init__(self, names: Mapping[tuple[str, int], str] | None = None) -> None:
        self.names: dict[tuple[str, int], str] = dict(names or {})

    def name(self, kind: str, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int):
            return _text(value)
        return self.names.get((kind, value)) or f"#{value}"

    @classmethod
    def lookup(cls, conn: Session | Connection, raws: Iterable[str | None]) -> AuditNames:
        wanted: dict[str, set[int]] = {}
        for raw in raws:
            data = _decoded(raw)
            if isinstance(data, dict):
                _collect_ids(data, wanted)
        names: dict[tuple[str, int], str] = {}
        queries = {"user": lambda ids: select(User.id, User.display_name).where(User.id.in_(ids)),
                   "customer": lambda ids: select(Customer.id, Customer.code + " " + Customer.name)
                   .where(Customer.id.in_(ids)),
                   "department": lambda ids: select(Department.id, Department.name).where(Department.id.in_(ids))}
        for kind, ids in wanted.items():
            ordered = sorted(ids)
            for i in range(0, len(ordered), _CHUNK):
                for key, name in conn.execute(queries[kind](ordered[i:i + _CHUNK])):
                    names[(kind, key)] = name
        return cls(names)


def _collect_ids(data: Mapping[str, Any], wanted: dict[str, set[int]]) -> None:
    for key, value in data.items():
        kind = ID_KEYS.get(key)
        if kind and isinstance(value, int) and not isinstance(value, bool):
            wanted.setdefault(kind, set()).add(value)
        elif isinstance(value, dict):
            _collect_ids(value, wanted)


def _decoded(raw: str | None) -> Any:
    if raw is None or raw == "":
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _secret(key: str, value: Any) -> bool:
    """Key material and hashes: shown only in the detail view and the Excel export."""
    return key in HIDDEN_KEYS or (isinstance(value, str) and _HEX64.fullmatch(value) is not None)


_PERCENT_KEYS = frozenset({"sample_rate", "target_rate", "repeat_similarity"})
_BACKUP_REASONS = {"manual": "手动", "daily": "每日自动", "pre-restore": "恢复前", "start": "启动",
                   "pre-migrate": "升级前"}


@functools.cache
def _value_labels() -> dict[str, dict[str, str]]:
    """Stored values (enum values, rule keys) → what the office calls them, by the key they are logged under."""
    from huifang_desktop.domain.schedule import (
        ANCHOR_LABELS,
        ASSIGNEE_LABELS,
        DEFAULT_RULES,
        TRIGGER_LABELS,
        UNIT_LABELS,
    )
    from huifang_desktop.services.settings import VISIBILITY_DEPARTMENT, VISIBILITY_OFFICE

    roles = {r.value: r.label for r in Role}
    triggers = {k.value: v for k, v in TRIGGER_LABELS.items()}
    units = {k.value: v for k, v in UNIT_LABELS.items()}
    anchors = {k.value: v for k, v in ANCHOR_LABELS.items()}
    rules = {"routine": "例行回访", "technical": "技术回访", **{r.key: r.name for r in DEFAULT_RULES}}
    who = {k.value: v for k, v in ASSIGNEE_LABELS.items()}
    return {
        "role": roles, "roles": roles, "handler_roles": roles, "assessed_roles": roles,
        "trigger": triggers, "delivery_triggers": triggers, "unit": units, "repeat_unit": units,
        "anchor": anchors, "until": anchors, "who": who, "severity_who": who,
        "routine_rule_keys": rules, "rule_key": rules,
        "visibility": {VISIBILITY_OFFICE: "全公司", VISIBILITY_DEPARTMENT: "本部门"}, "reason": _BACKUP_REASONS,
    }


def _role_text(value: Any) -> str:
    return Role(value).label if value in {r.value for r in Role} else _text(value)


def _field_label(key: str) -> str:
    return FIELD_LABELS.get(key, key)


def _value_text(key: str, value: Any, names: AuditNames, full: bool, parent: str = "") -> str | None:
    """One audit value for people; None when it is left out (empty, or a secret outside the full view).
    ``parent``: the key of the dict or list the value is in (``handler_roles`` → its values are roles)."""
    if value is None or value == "" or (not full and _secret(key, value)):
        return None
    if key == "state" and isinstance(value, dict):  # the tamper-evidence user state: role and active only
        shown = [_role_text(value.get("role")), "启用" if value.get("active") else "停用"]
        if full:
            shown += [f"{_field_label(k)}：{_text(v)}" for k, v in value.items() if k not in ("role", "active")]
        return "，".join(t for t in shown if t)
    if key in ID_KEYS:
        return names.name(ID_KEYS[key], value)
    if key in COUNTED_KEYS and isinstance(value, list) and not full:
        return f"{len(value)} 份"
    if isinstance(value, bool):
        return "是" if value else "否"
    if key in _PERCENT_KEYS and isinstance(value, int | float):
        return f"{value * 100:g}%"
    if isinstance(value, dict):
        return _mapping_text(value, names, full, "，", parent=key) or None
    if isinstance(value, list):
        items = [_item_text(key, v, names, full) for v in value]
        return "、".join(i for i in items if i) or None
    if isinstance(value, str):
        labels = _value_labels().get(key) or _value_labels().get(parent)
        if labels and value in labels:
            return labels[value]
    return _text(value)


def _item_text(key: str, item: Any, names: AuditNames, full: bool) -> str | None:
    """One element of a logged list: a rule (or anything with a name) by its name, else its value."""
    if isinstance(item, dict):
        if not full and item.get("name"):
            return str(item["name"])
        return "（" + _mapping_text(item, names, full, "，") + "）"
    return _value_text(key, item, names, full, parent=key)


def _mapping_text(data: Mapping[str, Any], names: AuditNames, full: bool, sep: str = "；", parent: str = "") -> str:
    parts = []
    for key, value in data.items():
        text = _value_text(key, value, names, full, parent)
        if text is not None:
            label = USER_STATE_LABEL if key == "state" and isinstance(value, dict) else _field_label(key)
            parts.append(f"{label}：{text}")
    return sep.join(parts)


def readable(raw: str | None, names: AuditNames | None = None, *, full: bool = False) -> str:
    """An audit value (JSON) as text: ``字段：值；…`` with the Chinese field names, people's names instead of
    their ids, role labels and the Chinese names of rule values; empty fields are left out, and so (unless
    ``full``, the Excel export) are key material and hashes."""
    data = _decoded(raw)
    if data is None:
        return ""
    names = names or AuditNames()
    if isinstance(data, dict):
        return _mapping_text(data, names, full)
    if isinstance(data, list):
        return _value_text("", data, names, full) or ""
    return _text(data) if full or not _secret("", data) else ""


def _diff(key: str, before: Any, after: Any, names: AuditNames, where: str, out: list[str], parent: str = "") -> None:
    """``where 字段：旧 → 新`` for one changed value; nested settings are followed down to the changed field,
    lists of rules matched by their key and named by their name."""
    label = where + _field_label(key)
    if isinstance(before, dict) and isinstance(after, dict) and key != "state":
        for k, v in after.items():
            if k in before and before[k] != v:
                _diff(k, before[k], v, names, label + " · ", out, key)
        for k in after.keys() - before.keys():
            out.append(f"{label} · {_field_label(k)}：新增 {_value_text(k, after[k], names, False, key) or ''}".rstrip())
        return
    keyed = (isinstance(before, list) and isinstance(after, list) and before and after
             and all(isinstance(i, dict) and "key" in i for i in (*before, *after)))
    if keyed:
        old_items = {i["key"]: i for i in before}
        new_keys = {i["key"] for i in after}
        for item in after:
            name = str(item.get("name") or _field_label(str(item["key"])))
            if item["key"] not in old_items:
                out.append(f"{label}：新增 {name}")
            elif old_items[item["key"]] != item:
                _diff("", old_items[item["key"]], item, names, f"{label} {name}", out, key)
        for k, item in old_items.items():
            if k not in new_keys:
                out.append(f"{label}：删除 {item.get('name') or _field_label(str(k))}")
        return
    was = _value_text(key, before, names, False, parent)
    now = _value_text(key, after, names, False, parent)
    if was is None and now is None:
        return
    out.append(f"{label}：{was or '（空）'} → {now or '（空）'}")


def changes(old_raw: str | None, new_raw: str | None, names: AuditNames | None = None) -> str:
    """The 变更 column: ``字段：旧值 → 新值；…`` for every key present in both old and new (nested settings:
    ``回访规则 到货回访 · 抽查比例：1.0 → 0.5``)."""
    old, new = _decoded(old_raw), _decoded(new_raw)
    if not isinstance(old, dict) or not isinstance(new, dict):
        return ""
    names = names or AuditNames()
    parts: list[str] = []
    for key in new:
        if key in old and old[key] != new[key]:
            _diff(key, old[key], new[key], names, "", parts)
    return "；".join(parts)


def _aliased(raw: str | None, entity: str) -> str | None:
    """``raw`` with the entity's id keys renamed to their general name (service_record: 客户 → customer_id)."""
    aliases = ENTITY_ID_ALIASES.get(entity)
    if not aliases or not raw or not any(k in raw for k in aliases):
        return raw
    data = _decoded(raw)
    if not isinstance(data, dict):
        return raw
    return json.dumps({aliases.get(k, k): v for k, v in data.items()}, ensure_ascii=False)


def _audit_row(r: Any, names: AuditNames | None = None, *, full: bool = False) -> AuditRow:
    names = names or AuditNames()
    user = SYSTEM_USER.display_name if r[3] == SYSTEM_USER.username else (r[2] or r[3])
    old, new = _aliased(r[8], r[5]), _aliased(r[9], r[5])
    label = _OBJECT_LABELS.get((r[5], r[7] or ""), r[7] or "")
    return AuditRow(r[0], r[1], user, r[3], r[4], r[5], r[6], label, readable(old, names, full=full),
                    readable(new, names, full=full), r[10] or "", changes(old, new, names),
                    r[8] or "", r[9] or "", r[11], r[12] or "", r[13] or "")


def _audit_names(conn: Session | Connection, rows: Sequence[Any]) -> AuditNames:
    return AuditNames.lookup(conn, [_aliased(raw, r[5]) for r in rows for raw in (r[8], r[9])])


def _audit_rows_named(conn: Session | Connection, rows: Sequence[Any], *, full: bool = False) -> list[AuditRow]:
    names = _audit_names(conn, rows)
    return [_audit_row(r, names, full=full) for r in rows]


def _audit_filtered(q: Any, f: AuditFilter) -> Any:
    if f.user_id is not None:
        q = q.where(AuditLog.user_id == f.user_id)
    if clean_text(f.username):
        q = q.where(AuditLog.username == clean_text(f.username).lower())
    if f.entity:
        q = q.where(AuditLog.entity == f.entity)
    if f.entity_id is not None:
        q = q.where(AuditLog.entity_id == f.entity_id)
    text = clean_text(f.text)
    if text:
        q = q.where(AuditLog.label.like(f"%{text}%"))
    if clean_text(f.action):
        q = q.where(AuditLog.action == clean_text(f.action))
    if f.start is not None:
        q = q.where(AuditLog.at >= datetime.combine(f.start, time.min))
    if f.end is not None:
        q = q.where(AuditLog.at < datetime.combine(f.end + timedelta(days=1), time.min))
    return q


def _check_filter(f: AuditFilter) -> None:
    if f.start is not None and f.end is not None and f.end < f.start:
        raise ValidationError(FieldError("end", "截止日期", "不能早于开始日期"))


def audit_log(ctx: ServiceContext, f: AuditFilter = AuditFilter(), page: int = 0,
              page_size: int = AUDIT_PAGE_SIZE) -> AuditPage:
    """One page of the audit log, newest first, filtered by user, record, action and date (supervisors,
    managers, admins)."""
    ctx.require(Permission.VIEW_AUDIT, "查看操作日志")
    _check_filter(f)
    page = max(0, page)
    with ctx.sessions() as s:
        total = int(s.execute(_audit_filtered(select(func.count(AuditLog.id)), f)).scalar() or 0)
        q = _audit_filtered(_audit_select(), f).order_by(AuditLog.at.desc(), AuditLog.id.desc())
        rows = tuple(_audit_rows_named(s, s.execute(q.limit(page_size).offset(page * page_size)).all()))
    return AuditPage(rows, total, page, page_size)


def audit_actions(ctx: ServiceContext) -> list[str]:
    """The actions that occur in the log, for the filter's pick list."""
    ctx.require(Permission.VIEW_AUDIT, "查看操作日志")
    with ctx.sessions() as s:
        return [a for (a,) in s.execute(select(AuditLog.action).distinct().order_by(AuditLog.action))]


def audit_rows(ctx: ServiceContext, f: AuditFilter = AuditFilter()) -> Iterator[tuple[Any, ...]]:
    """The filtered log oldest first, streamed, in the order of :data:`AUDIT_HEADERS`. The right
    (``Permission.VIEW_AUDIT``) is checked at the call, not at the first row."""
    ctx.require(Permission.VIEW_AUDIT, "查看操作日志")
    return _audit_rows(ctx, f)


def _audit_rows(ctx: ServiceContext, f: AuditFilter) -> Iterator[tuple[Any, ...]]:
    q = _audit_filtered(_audit_select(), f).order_by(AuditLog.at, AuditLog.id)
    with ctx.engine.connect() as conn:
        result = conn.execution_options(yield_per=2000).execute(q)
        for chunk in result.partitions(2000):
            names = _audit_names(conn, chunk)
            for r in chunk:
                row = _audit_row(r, names, full=True)
                yield (row.at, row.user, row.action, row.object_text, row.old or None, row.new or None,
                       row.note or None, row.seq, row.prev_hash or None, row.row_hash or None)


def export_audit(ctx: ServiceContext, out_path: Path | str, f: AuditFilter = AuditFilter()) -> int:
    """Write the filtered audit log to an .xlsx file (时间, 用户, 操作, 对象, 原值, 新值, 备注); logs the export."""
    from huifang_desktop.services.visits import ExportError

    ctx.require(Permission.VIEW_AUDIT, "导出操作日志")
    _check_filter(f)
    out = checked_target(out_path, ExportError, suffix=".xlsx")
    period = period_text(f.start, f.end)
    company = load_settings(ctx).company
    try:
        count = write_visit_ledger(audit_rows(ctx, f), out, company=company, period_text=period,
                                   headers=AUDIT_HEADERS, widths=AUDIT_WIDTHS, title=AUDIT_TITLE, count_row=False)
    except OSError as exc:
        raise write_failed(out, exc, ExportError) from exc
    with ctx.sessions() as s, s.begin():
        audit(s, ctx, "导出操作日志", "audit_log", None, out.name,
              new={"rows": count, "period": period, "file": str(out)},
              note="；".join(f"{k}={v}" for k, v in _filter_note(f).items()))
    return count


def _filter_note(f: AuditFilter) -> dict[str, Any]:
    return {k: v for k, v in (("user", f.username or f.user_id), ("entity", f.entity), ("id", f.entity_id),
                              ("text", f.text), ("action", f.action)) if v not in (None, "")}


# --- demo history ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SeedResult:
    signed: int
    returned: int
    reopened: int
    resubmitted: int


def seed_review_history(ctx: ServiceContext, seed: int = 1,
                        keys: Mapping[int, signing.UnlockedKey] | None = None) -> SeedResult:
    """For the demo office: sign, return and reopen some of the items waiting for review, through the
    services above (so the review tab and the audit log show real history). Uses the first active supervisor
    and manager whose signing keys are in ``keys`` (unlocked by the demo generator, which knows their
    passwords); does nothing when there is nobody to sign or nothing waiting.

    Of the waiting items (oldest first), the older half is reviewed: one in eight is returned with a reason,
    the rest is signed; a few signed ones are then reopened by the manager, corrected / resubmitted by their
    clerk and signed again (revision 1)."""
    from huifang_desktop.services import users

    ctx.require(Permission.MANAGE_USERS, "生成演示数据")
    rng = random.Random(seed)
    with ctx.sessions() as s:
        people = {role: [uid for (uid,) in s.execute(select(User.id).where(
            User.role == role.value, User.active.is_(True)).order_by(User.id))] for role in (Role.SUPERVISOR,
                                                                                               Role.MANAGER)}
    keys = keys or {}
    signers = [users.get_user(ctx, uid) for uid in people[Role.SUPERVISOR] + people[Role.MANAGER] if uid in keys]
    if not signers:
        return SeedResult(0, 0, 0, 0)
    reopener = users.get_user(ctx, (people[Role.MANAGER] or people[Role.SUPERVISOR])[0])
    signer_ctx = ctx.as_user(signers[0])
    queue = _all_pending(ctx)
    older = queue[: max(0, len(queue) // 2)]
    reasons = ("客户意见记录过于简单，请补充具体问题。", "满意度与客户反馈不一致，请核实后修改。",
               "问题点未写明转交部门，请补充。", "处理措施不够具体，请写明时间和责任人。")
    comments = ("记录完整，继续保持。", "已阅，注意按时跟进。", "", "问题处理及时，同意。")
    to_return = {i.ref for i in rng.sample(older, len(older) // 8)} if len(older) >= 8 else set()
    signed: list[ReviewItem] = []
    returned = 0
    for item in older:
        acting = _signer_for(ctx, signers, item)
        if acting is None:
            continue
        if item.ref in to_return:
            return_for_rework(acting, item.kind, item.id, rng.choice(reasons), item.version)
            returned += 1
        else:
            signed.append(sign(acting, item.kind, item.id, rng.choice(comments), item.version,
                               key=keys[acting.user.id]))
    reopened = resubmitted = 0
    for item in rng.sample(signed, min(3, len(signed))):
        if item.owner_id is None:
            continue
        reopen(ctx.as_user(reopener), item.kind, item.id, "客户来电补充了情况，撤回签字请回访人补充记录。")
        reopened += 1
        owner_ctx = ctx.as_user(users.get_user(ctx, item.owner_id))
        _correct_or_resubmit(owner_ctx, item)
        resubmitted += 1
        fresh = detail(ctx, item.kind, item.id).item
        acting = _signer_for(ctx, signers, fresh) or signer_ctx
        sign(acting, item.kind, item.id, "补充后已阅，同意。", fresh.version, key=keys[acting.user.id])
    return SeedResult(len(signed) + reopened, returned, reopened, resubmitted)


def _all_pending(ctx: ServiceContext) -> list[ReviewItem]:
    """The whole queue, oldest first (the system user sees everything and has no own items)."""
    return sorted(review_queue(ctx.as_user(SYSTEM_USER)).items(), key=lambda i: (i.day, i.number))


def _signer_for(ctx: ServiceContext, signers: Sequence[Any], item: ReviewItem) -> ServiceContext | None:
    for person in signers:
        if person.id != item.owner_id:
            return ctx.as_user(person)
    return None


def _correct_or_resubmit(owner_ctx: ServiceContext, item: ReviewItem) -> None:
    """A reopened record is corrected through ``visits.update_record`` (the edit after the reopen shows in the
    log); anything else, or a record the current rules would refuse, is sent back unchanged."""
    if item.kind is ReviewKind.RECORD:
        from huifang_desktop.services import visits

        r = visits.get_record(owner_ctx, item.id)
        draft = visits.VisitRecordDraft(
            customer_id=r.customer_id, result=r.result, plan_id=r.plan_id, contact_name=r.contact_name,
            contact_phone=r.contact_phone, visit_type=r.visit_type, method=r.method, visited_at=r.visited_at,
            visitor_id=r.visitor_id, content=r.content, feedback=(r.feedback + "（客户来电补充：已解决）").strip(),
            problems=r.problems, measures=r.measures, satisfaction=r.satisfaction, handling=r.handling,
            transfer_department=r.transfer_department, next_visit_on=r.next_visit_on,
            customer_signed=r.customer_signed)
        try:
            visits.update_record(owner_ctx, item.id, draft, r.version)
            return
        except (ValidationError, ServiceError):
            pass
    current = detail(owner_ctx, item.kind, item.id).item
    resubmit(owner_ctx, item.kind, item.id, "已补充说明。", current.version)


__all__ = [
    "AUDIT_HEADERS",
    "AuditFilter",
    "AuditNames",
    "AuditPage",
    "AuditRow",
    "ItemRef",
    "PendingCounts",
    "QueueGroup",
    "ReviewDetail",
    "ReviewItem",
    "ReviewQueue",
    "ScanCursor",
    "SeedResult",
    "audit_actions",
    "audit_log",
    "audit_rows",
    "batch_sign",
    "changes",
    "detail",
    "export_audit",
    "get_report",
    "group_items",
    "integrity_of",
    "load_review_rules",
    "pending_counts",
    "queue_group",
    "queue_summary",
    "readable",
    "reopen",
    "resubmit",
    "return_for_rework",
    "returned_items",
    "returned_queue",
    "review_queue",
    "row_integrity",
    "save_review_rules",
    "scan_tampered",
    "seed_review_history",
    "sign",
    "signed_queue",
    "tampered_items",
    "verify",
]
