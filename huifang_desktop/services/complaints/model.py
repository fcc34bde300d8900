"""What the complaint register is made of: its settings, constants, and what the UI sends and gets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from huifang_desktop.domain.complaints import (
    OPEN_STATES,
    Channel,
    ComplaintPolicy,
    MessageKind,
    Severity,
)
from huifang_desktop.domain.visits import VisitMethod, VisitResult
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.settings import (
    get_value,
    set_value,
)

POLICY_KEY = "complaint_policy"
CLOSING_RULE = "complaint_closed"
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
ATTACHMENT_KINDS: tuple[str, ...] = ("答复函", "公开信", "照片", "扫描件", "其他")
REPLY_KINDS = frozenset({"答复函", "公开信"})
REPLY_WAYS: tuple[str, ...] = ("电话", "当面", "书面", "短信", "邮件", "微信")
_PLAN_KEY = re.compile(r"^complaint:(\d+)#")
_OPEN = tuple(s.value for s in OPEN_STATES)
REVIEW_PENDING, REVIEW_RETURNED, REVIEW_SIGNED = "待审阅", "退回", "已签字"  # Complaint.review_status


# --- settings ----------------------------------------------------------------------------------------


def load_policy(ctx: ServiceContext) -> ComplaintPolicy:
    data = get_value(ctx, POLICY_KEY)
    return ComplaintPolicy() if not data else ComplaintPolicy.from_dict(data)


def save_policy(ctx: ServiceContext, policy: ComplaintPolicy) -> None:
    """Store the office's complaint rules (supervisor/admin); a bad value raises ValidationError."""
    ComplaintPolicy.from_dict(policy.to_dict())  # validates
    set_value(ctx, POLICY_KEY, policy.to_dict(), what="投诉规则")


# --- what the UI sends and gets ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IntakeDraft:
    """The intake form (投诉登记). Strings are accepted for the time (``2026-11-24 09:30``)."""

    subject: str
    kind: str = MessageKind.COMPLAINT.value
    received_at: datetime | str | None = None  # default: now
    channel: str = Channel.PHONE.value
    complainant: str = ""
    anonymous: bool = False
    phone: str = ""
    customer_id: int | None = None
    content: str = ""
    category: str = ""
    severity: str = Severity.NORMAL.value
    special: bool = False  # 特殊情况: the longer handling limit
    reply_only: bool = False  # 上级只要求书面答复
    department_id: int | None = None  # default: the customer's or the clerk's department
    handler_id: int | None = None  # default: chosen by the severity
    linked_to_id: int | None = None  # a customer rejecting the result of this complaint
    promised_reply_on: date | str | None = None  # 建议: the reply date promised to the customer
    origin: str = ""  # customer origin (国内/国外…) when the office sets handling limits by origin
    first_responder_id: int | None = None  # 首问责任人; default: whoever registers it
    urgent: bool = False  # 紧急 (property offices whose rules set urgent timings, 002 制度5)


@dataclass(frozen=True, slots=True)
class HandlingDraft:
    investigation: str = ""  # 调查情况
    cause: str = ""  # 原因
    measures: str = ""  # 处理措施
    result: str = ""  # 处理结果
    replied_at: datetime | str | None = None  # 答复客户时间
    reply_way: str = ""  # 答复方式
    reply_text: str = ""


@dataclass(frozen=True, slots=True)
class ClosingVisitDraft:
    """The closing visit (结案回访) as the complaint tab records it."""

    result: str = VisitResult.SUCCESS.value
    satisfaction: str = ""
    method: str = VisitMethod.PHONE.value
    visited_at: datetime | str | None = None
    contact_name: str = ""
    contact_phone: str = ""
    note: str = ""  # 回访内容 / 客户意见
    customer_signed: bool = False


@dataclass(frozen=True, slots=True)
class ComplaintFilter:
    text: str = ""
    states: frozenset[str] = frozenset()
    severities: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    handler_id: int | None = None
    mine: bool = False  # handled by the acting user
    overdue_only: bool = False
    start: date | None = None  # received on or after
    end: date | None = None  # received on or before
    customer_id: int | None = None


@dataclass(frozen=True, slots=True)
class ComplaintRow:
    id: int
    number: str
    kind: str
    received_at: datetime
    channel: str
    complainant: str
    anonymous: bool
    phone: str  # formatted
    customer_id: int | None
    customer_name: str
    subject: str
    category: str
    severity: str
    state: str
    handler_id: int | None
    handler: str
    department: str
    deadline: datetime | None
    overdue: bool
    escalation_level: int
    occurrences: int
    satisfaction: str
    closed_at: datetime | None
    chase_count: int
    first_responder_id: int | None = None  # 首问责任人
    first_responder: str = ""
    lateness: str = "否"  # 是否逾期: 否 / 逾期办结 / 逾期未办 (domain.complaint_follow.Lateness)
    inquiry: str = "无需"  # 查办: 无需 / 待查办 / 已查办 (domain.complaint_follow.InquiryState)


@dataclass(frozen=True, slots=True)
class OccurrenceRow:
    id: int
    received_at: datetime
    channel: str
    complainant: str
    phone: str
    received_by: str
    note: str


@dataclass(frozen=True, slots=True)
class EventRow:
    at: datetime
    user: str
    action: str
    from_state: str
    to_state: str
    note: str


@dataclass(frozen=True, slots=True)
class AttachmentRow:
    id: int
    name: str
    kind: str
    size: int
    created_at: datetime
    shared: int  # number of complaints it is attached to (a 公开信 answers many)


@dataclass(frozen=True, slots=True)
class ComplaintDetail:
    row: ComplaintRow
    content: str
    special: bool
    reply_only: bool
    department_id: int | None
    handler_role: str
    first_reply_due: datetime
    handling_due: datetime
    accepted_at: datetime | None
    investigation: str
    cause: str
    measures: str
    result: str
    replied_at: datetime | None
    reply_way: str
    reply_text: str
    handled_at: datetime | None
    visit_round: int
    visit_plan_id: int | None
    visit_due: date | None
    visit_record_id: int | None
    visited_at: datetime | None
    visit_satisfied: bool | None
    visit_note: str
    withdraw_reason: str
    linked_to_id: int | None
    linked_to_number: str
    converted_from: str
    version: int
    occurrences: tuple[OccurrenceRow, ...]
    events: tuple[EventRow, ...]
    attachments: tuple[AttachmentRow, ...]
    actions: frozenset[str]  # what the acting user may do now: accept/handle/finish/visit/close/withdraw/…
    review_status: str = ""  # 审阅 of the closed file: '' / 待审阅 / 退回 / 已签字
    review_comment: str = ""  # the supervisor's comment (the reason when 退回)
    urgent: bool = False  # 紧急 (002 制度5): dispatch and report-back timings in clock hours
    dispatch_due: datetime | None = None  # passed to the department (受理) by
    report_back_due: datetime | None = None  # handling finished (办结) by, once the result is written down

    @property
    def id(self) -> int:
        return self.row.id

    @property
    def number(self) -> str:
        return self.row.number

    @property
    def state(self) -> str:
        return self.row.state


@dataclass(frozen=True, slots=True)
class RepeatRow:
    id: int
    number: str
    received_at: datetime
    subject: str
    state: str
    complainant: str
    similarity: float


@dataclass(frozen=True, slots=True)
class EscalationResult:
    escalated: tuple[tuple[str, str, str], ...]  # (number, from role label, to handler name)


@dataclass(frozen=True, slots=True)
class Notices:
    escalated_to_me: int
    overdue_mine: int
    open_mine: int
    follow_unseen: int = 0  # my unseen follow-up notices: 首问 feedback, 催办, 上报, 督办, 查办
