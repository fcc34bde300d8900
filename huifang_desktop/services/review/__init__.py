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
* **Audit log** (:func:`audit_log`, :func:`export_audit`, in :mod:`huifang_desktop.services.audit` and
  re-exported here): filtered by user, record, action and date, paged; exported to .xlsx. The log is
  append-only: nothing in the program updates or deletes its rows.

Settings (JSON, table ``setting``): ``review_rules`` (:class:`~huifang_desktop.domain.signoff.ReviewRules`).

The package by step: :mod:`.model` (settings, statuses, what the UI gets), :mod:`.rows` (one item's row:
status, owner, visibility, hashes, title), :mod:`.queue` (the queues, the tamper scan, the integrity checks),
:mod:`.item` (one item for the review pane), and :mod:`.signoff` (sign, return, reopen,
resubmit); the demo office's history is made through these steps by ``huifang_desktop.demo``. Callers import from the
package: ``from huifang_desktop.services import review; review.sign(…)``.
"""

from __future__ import annotations

from huifang_desktop.domain.errors import ValidationError as ValidationError
from huifang_desktop.domain.signoff import HASH_FIELDS as HASH_FIELDS
from huifang_desktop.domain.signoff import Integrity as Integrity
from huifang_desktop.domain.signoff import ReviewKind as ReviewKind
from huifang_desktop.services.audit import (
    AUDIT_HEADERS,
    AuditFilter,
    AuditNames,
    AuditPage,
    AuditRow,
    audit_actions,
    audit_log,
    audit_rows,
    changes,
    export_audit,
    readable,
)
from huifang_desktop.services.audit import ENTITY_LABELS as ENTITY_LABELS
from huifang_desktop.services.audit_labels import FIELD_LABELS as FIELD_LABELS
from huifang_desktop.services.review.item import detail, get_report
from huifang_desktop.services.review.model import RULES_KEY as RULES_KEY
from huifang_desktop.services.review.model import (
    ItemRef,
    PendingCounts,
    QueueGroup,
    ReviewDetail,
    ReviewItem,
    ReviewQueue,
    load_review_rules,
    save_review_rules,
)
from huifang_desktop.services.review.queue import (
    ScanCursor,
    integrity_of,
    pending_counts,
    queue_group,
    queue_summary,
    returned_items,
    returned_queue,
    review_queue,
    row_integrity,
    scan_tampered,
    signed_queue,
    tampered_items,
    verify,
)
from huifang_desktop.services.review.rows import _attachments as _attachments  # tamper.verify_all
from huifang_desktop.services.review.rows import _checked as _checked  # tamper.verify_all
from huifang_desktop.services.review.rows import group_items
from huifang_desktop.services.review.signoff import batch_sign, reopen, resubmit, return_for_rework, sign

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
    "sign",
    "signed_queue",
    "tampered_items",
    "verify",
]
