"""What the review screens get (items, queues, groups, counts), the settings and the statuses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from huifang_desktop.domain.roles import Permission
from huifang_desktop.domain.signoff import Integrity, ReviewKind, ReviewRules, ReviewStatus
from huifang_desktop.domain.workcal import WorkCalendar
from huifang_desktop.services.audit import AuditRow
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.settings import get_value, set_value
from huifang_desktop.storage.models import Complaint, VisitRecord, VisitReport

RULES_KEY = "review_rules"
_CHUNK = 500  # ids per IN (…) look-up

PENDING = ReviewStatus.PENDING.value
RETURNED = ReviewStatus.RETURNED.value
SIGNED = ReviewStatus.SIGNED.value

_MODELS: dict[ReviewKind, Any] = {
    ReviewKind.RECORD: VisitRecord,
    ReviewKind.REPORT: VisitReport,
    ReviewKind.COMPLAINT: Complaint,
}


# --- settings ----------------------------------------------------------------------------------------


def load_review_rules(ctx: ServiceContext) -> ReviewRules:
    data = get_value(ctx, RULES_KEY)
    return ReviewRules.from_dict(data) if isinstance(data, dict) else ReviewRules()


def save_review_rules(ctx: ServiceContext, rules: ReviewRules) -> None:
    ctx.require(Permission.MANAGE_SETTINGS, "修改审阅设置")
    # allow_self_sign is a policy field (settings.POLICY_FIELDS): set_value asks for Permission.MANAGE_POLICY
    set_value(ctx, RULES_KEY, ReviewRules.from_dict(rules.to_dict()).to_dict(), what="审阅设置")


def _calendar(ctx: ServiceContext) -> WorkCalendar:
    from huifang_desktop.services.policy import work_calendar

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
class ReviewDetail:
    item: ReviewItem
    fields: tuple[tuple[str, str], ...]  # (label, value) in the order of the paper form
    history: tuple[AuditRow, ...]  # the item's audit trail, oldest first
    signer_role: str  # role label at signing
    actions: frozenset[str]  # sign / return / reopen / resubmit / edit: what the acting user may do now
    sign_blocked: str = ""  # why "sign" is missing although the user signs (核决权限 of a complaint file)
