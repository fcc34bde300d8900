"""The manager's 考核 entries: graded events (经理登记考核, *002 制度9*) and corrections of a confirmed month
(考核更正). Both need a reason, are audited, and appear on a month's sheet as events of their own.

A confirmed month never changes: a graded event is entered into an open month only, and a correction of a
confirmed month goes onto the first month after it that is not confirmed ("shown on the next month").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from huifang_desktop.domain.assessment import next_month
from huifang_desktop.domain.assessment_rules import EventKind
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission
from huifang_desktop.domain.signoff import require_reason
from huifang_desktop.domain.stats import AssessmentStatus, Period, PeriodKind, parse_period, period_containing
from huifang_desktop.domain.validation import parse_date
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.errors import LockedError, NotFound
from huifang_desktop.services.stats.options import load_assessment_rules
from huifang_desktop.storage.models import AssessmentEntry, MonthlyAssessment, User

ENTRY_ENTITY = "assessment_entry"


@dataclass(frozen=True, slots=True)
class EntryRow:
    id: int
    month: str
    clerk_id: int
    clerk: str
    kind: EventKind
    label: str
    day: date
    amount: int
    points: int
    reason: str
    corrects: str


def _confirmed(s: Session, key: str) -> bool:
    status = s.execute(select(MonthlyAssessment.status).where(MonthlyAssessment.month == key)).scalar()
    return status == AssessmentStatus.CONFIRMED.value


def _clerk(s: Session, clerk_id: int) -> User:
    user = s.get(User, clerk_id)
    if user is None:
        raise NotFound(f"用户 {clerk_id} 不存在。")
    return user


def _month(text: Period | str) -> Period:
    period = parse_period(text, field_name="month", label="考核月份") if isinstance(text, str) else text
    if period.kind is not PeriodKind.MONTH:
        raise ValidationError(FieldError("month", "考核月份", "考核按月进行，请选择一个月份"))
    return period


def _row(e: AssessmentEntry, clerk: str) -> EntryRow:
    return EntryRow(
        e.id,
        e.month,
        e.clerk_id,
        clerk,
        EventKind.parse(e.kind),
        e.label,
        e.day,
        e.amount,
        e.points,
        e.reason,
        e.corrects,
    )


def add_graded_event(
    ctx: ServiceContext, clerk_id: int, graded_key: str, amount: int, day: date | str, reason: str
) -> EntryRow:
    """经理登记考核 (a manager): a graded event of the office's table (``AssessmentRules.graded``) against a
    clerk on ``day``, its amount within the kind's range, with a reason. Refused for a confirmed month
    (correct it with :func:`add_adjustment`). Audited."""
    ctx.require(Permission.CONFIRM_ASSESSMENT, "登记考核")
    kind = load_assessment_rules(ctx).graded_kind(graded_key)
    value = kind.check_amount(amount)
    when = parse_date(day, label="日期", field="day", required=True)
    assert when is not None
    why = require_reason(reason, "考核原因")
    month = period_containing(PeriodKind.MONTH, when)
    with ctx.sessions() as s, s.begin():
        clerk = _clerk(s, clerk_id)
        if _confirmed(s, month.key):
            raise LockedError(f"{month.label}的考核已确认，不能再登记；如需更正请登记考核更正。")
        e = AssessmentEntry(
            month=month.key,
            clerk_id=clerk.id,
            kind=EventKind.GRADED.key,
            graded_key=kind.key,
            label=kind.label,
            day=when,
            amount=value,
            points=kind.points,
            reason=why,
            corrects="",
            created_by_id=ctx.user.id or None,
            created_at=ctx.now(),
        )
        s.add(e)
        s.flush()
        audit(
            s,
            ctx,
            "登记考核",
            ENTRY_ENTITY,
            e.id,
            f"{clerk.display_name} {kind.label}",
            new={
                "month": month.key,
                "clerk_id": clerk.id,
                "kind": kind.label,
                "amount": value,
                "points": kind.points,
                "day": when.isoformat(),
            },
            note=why,
        )
        return _row(e, clerk.display_name)


def add_adjustment(
    ctx: ServiceContext, corrects: Period | str, clerk_id: int, amount: int, reason: str, points: int = 0
) -> EntryRow:
    """考核更正 (a manager): a correction of a confirmed month — ``amount`` 元 (negative: refunded) and
    ``points`` for a clerk, with a reason — entered onto the first month after it that is not confirmed, and
    shown there. The confirmed month itself never changes. Audited."""
    ctx.require(Permission.CONFIRM_ASSESSMENT, "考核更正")
    period = _month(corrects)
    why = require_reason(reason, "更正原因")
    for value, label in ((amount, "金额"), (points, "绩效分")):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(FieldError("amount", label, "应为整数"))
    if amount == 0 and points == 0:
        raise ValidationError(FieldError("amount", "金额", "更正金额和绩效分不能都为 0"))
    with ctx.sessions() as s, s.begin():
        clerk = _clerk(s, clerk_id)
        if not _confirmed(s, period.key):
            raise ValidationError(
                FieldError("month", "考核月份", f"{period.label}的考核尚未确认，直接修改数据或登记考核即可")
            )
        target = next_month(period)
        while _confirmed(s, target.key):
            target = next_month(target)
        e = AssessmentEntry(
            month=target.key,
            clerk_id=clerk.id,
            kind=EventKind.ADJUSTMENT.key,
            graded_key="",
            label=f"{period.label}考核更正",
            day=target.start,
            amount=amount,
            points=points,
            reason=why,
            corrects=period.key,
            created_by_id=ctx.user.id or None,
            created_at=ctx.now(),
        )
        s.add(e)
        s.flush()
        audit(
            s,
            ctx,
            "考核更正",
            ENTRY_ENTITY,
            e.id,
            f"{clerk.display_name} {period.label}",
            new={
                "month": target.key,
                "corrects": period.key,
                "clerk_id": clerk.id,
                "amount": amount,
                "points": points,
            },
            note=why,
        )
        return _row(e, clerk.display_name)


def list_entries(ctx: ServiceContext, month: Period | str) -> list[EntryRow]:
    """The manager's entries shown on ``month``'s sheet."""
    ctx.require(Permission.SIGN_OFF, "查看考核登记")
    period = _month(month)
    with ctx.sessions() as s:
        rows = s.execute(
            select(AssessmentEntry, User.display_name)
            .join(User, User.id == AssessmentEntry.clerk_id)
            .where(AssessmentEntry.month == period.key)
            .order_by(AssessmentEntry.day, AssessmentEntry.id)
        ).all()
        return [_row(e, name) for e, name in rows]


__all__ = ["ENTRY_ENTITY", "EntryRow", "add_adjustment", "add_graded_event", "list_entries"]
