"""Complaint register (投诉登记, domain.md §7): intake, routing, deadlines, escalation, workflow, closing visit.

The rules are in :mod:`huifang_desktop.domain.complaints` (pure); this module applies them to the database.

* **Intake** (:func:`register`) numbers the complaint from a counter per number scope (``TS`` + date +
  sequence by default), so two PCs on one database never hand out the same number. Likely repeats are
  offered while typing (:func:`find_repeats`); a repeat is attached as another occurrence
  (:func:`add_occurrence`) instead of a second record.
* **Routing**: the severity picks the handler level (一般 → 客服专员, 重要 → 部门主管, 重大 → 公司经理) and the
  handler is a person of that level, preferably in the responsible department.
* **Deadlines** are working-day deadlines (same holiday calendar as the visits). ``Complaint.deadline`` always
  holds the deadline of the current state, so 逾期 is one indexed SQL condition.
* **Follow-up** (:mod:`.escalation`, :mod:`.inquiry`, :mod:`.notices`): the 首问责任人 hears of every step;
  an overdue complaint is chased (催办) and reported upwards along the office's ladder
  (:func:`escalate_overdue`, run at start) without leaving its handler; a manager may 督办 a 重大 case;
  a late one gets a 查办 (:func:`record_inquiry`, listed by :func:`inquiries`).
* **Workflow** 待受理 → 处理中 → 待回访 → 已关闭 (or 已撤销). Entering 待回访 plans the closing visit
  (``complaint:<id>#complaint_closed@<round>``) in the visit calendar when the complaint is linked to a
  customer file. Recording that visit (here, or in the calendar's 回访记录表) feeds the complaint through
  :func:`apply_closing_visit_in`: satisfied → 已关闭 (when the visitor has the level the severity asks),
  unsatisfied → back to 处理中 with the next visit already planned. Anonymous and reply-only complaints
  close with a reply letter (答复函/公开信) attached instead.
* **咨询 / 建议** use the same intake with their own reply deadline; a reply closes them, and either can be
  converted into a complaint (new TS number, the old one kept).

Every change is one transaction with its audit row and a :class:`ComplaintEvent` for the complaint's history.

The package is split by workflow: :mod:`.model` (settings, constants, what the UI sends and gets),
:mod:`.common` (helpers every step shares), :mod:`.reading`, :mod:`.intake`, :mod:`.handling`,
:mod:`.closing` (the closing visit), :mod:`.escalation` and :mod:`.attachments`. The 投诉台账 (its columns and
its export) is one of the ledgers: :mod:`huifang_desktop.services.ledgers`.
"""

from __future__ import annotations

from huifang_desktop.services.complaints.attachments import attach, attach_file, attachment_data, detach
from huifang_desktop.services.complaints.closing import (
    ClosingVisitPlan,
    apply_closing_visit_in,
    closing_visit_plan,
    complaint_id_for_plan,
    record_closing_visit,
)
from huifang_desktop.services.complaints.escalation import (
    escalate_overdue,
    load_follow_policy,
    mark_notices_seen,
    notices,
    save_follow_policy,
    supervise,
)
from huifang_desktop.services.complaints.handling import (
    accept,
    chase,
    close,
    finish_handling,
    reassign,
    reply_message,
    save_handling,
    withdraw,
)
from huifang_desktop.services.complaints.inquiry import (
    InquiryDraft,
    InquiryRow,
    get_inquiry,
    inquiries,
    pending_inquiry_count,
    record_inquiry,
)
from huifang_desktop.services.complaints.intake import (
    add_occurrence,
    convert_to_complaint,
    register,
    reopen_linked,
)
from huifang_desktop.services.complaints.model import (
    ATTACHMENT_KINDS,
    CLOSING_RULE,
    MAX_ATTACHMENT_BYTES,
    POLICY_KEY,
    REPLY_KINDS,
    REPLY_WAYS,
    REVIEW_PENDING,
    REVIEW_RETURNED,
    REVIEW_SIGNED,
    AttachmentRow,
    ClosingVisitDraft,
    ComplaintDetail,
    ComplaintFilter,
    ComplaintRow,
    EscalationResult,
    EventRow,
    HandlingDraft,
    IntakeDraft,
    Notices,
    OccurrenceRow,
    RepeatRow,
    load_policy,
    save_policy,
)
from huifang_desktop.services.complaints.reading import (
    count_complaints,
    find_id,
    find_repeats,
    get_complaint,
    handlers,
    history,
    list_complaints,
    state_counts,
)
from huifang_desktop.services.complaints.rules import RULES_KEY, load_complaint_rules, save_complaint_rules

__all__ = [
    "ATTACHMENT_KINDS",
    "CLOSING_RULE",
    "MAX_ATTACHMENT_BYTES",
    "POLICY_KEY",
    "REPLY_KINDS",
    "REPLY_WAYS",
    "REVIEW_PENDING",
    "REVIEW_RETURNED",
    "REVIEW_SIGNED",
    "RULES_KEY",
    "AttachmentRow",
    "ClosingVisitDraft",
    "ClosingVisitPlan",
    "ComplaintDetail",
    "ComplaintFilter",
    "ComplaintRow",
    "EscalationResult",
    "EventRow",
    "HandlingDraft",
    "InquiryDraft",
    "InquiryRow",
    "IntakeDraft",
    "Notices",
    "OccurrenceRow",
    "RepeatRow",
    "accept",
    "add_occurrence",
    "apply_closing_visit_in",
    "attach",
    "attach_file",
    "attachment_data",
    "chase",
    "close",
    "closing_visit_plan",
    "complaint_id_for_plan",
    "convert_to_complaint",
    "count_complaints",
    "detach",
    "escalate_overdue",
    "find_id",
    "find_repeats",
    "finish_handling",
    "get_complaint",
    "get_inquiry",
    "handlers",
    "history",
    "inquiries",
    "list_complaints",
    "load_complaint_rules",
    "load_follow_policy",
    "load_policy",
    "mark_notices_seen",
    "notices",
    "pending_inquiry_count",
    "reassign",
    "record_closing_visit",
    "record_inquiry",
    "register",
    "reopen_linked",
    "reply_message",
    "save_complaint_rules",
    "save_follow_policy",
    "save_handling",
    "save_policy",
    "state_counts",
    "supervise",
    "withdraw",
]
