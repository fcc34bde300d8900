"""The monthly 考核 (domain.md §9): counted from the data now, confirmed (signed and frozen) by a manager.

The seam for the rules: this module only reads and stores. :mod:`.assessment_facts` loads a month's facts
(late plans, transfers, end customers' ledger entries, the manager's entries) as plain values; which of them
are charged, to whom and at what is :func:`huifang_desktop.domain.assessment.charge_events`.
:func:`confirm_assessment` stores the computed snapshot (with every charged event) with its content hash,
signature hash and the manager's Ed25519 signature, and freezes the events in ``assessment_event``: a confirmed
month is read from them from then on. There is no 撤回: a confirmed month is final
(domain.md §9, issue 19 item 4) — a correction is an explicit :func:`.assessment_entries.add_adjustment` with a
reason, audited and shown on the next month. (A month withdrawn by an older version, status 已撤回, is read as
open and can be confirmed.)"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from huifang_desktop.domain.assessment import Person, assess_events, charge_events
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, can
from huifang_desktop.domain.signoff import (
    Integrity,
    SignOff,
    StoredSignature,
    sign_message,
    signature_hash,
)
from huifang_desktop.domain.stats import (
    Assessment,
    AssessmentRules,
    AssessmentStatus,
    ChargedEvent,
    EventKind,
    Period,
    PeriodKind,
    assessment_hash,
    monthly_ledger_deadline,
    parse_period,
)
from huifang_desktop.services import signing
from huifang_desktop.services import visits as visit_service
from huifang_desktop.services.context import SYSTEM_USER, ServiceContext, audit
from huifang_desktop.services.errors import ConflictError, LockedError, PermissionDenied
from huifang_desktop.services.policy import work_calendar
from huifang_desktop.services.stats.assessment_facts import _month_facts
from huifang_desktop.services.stats.figures import _require_view
from huifang_desktop.services.stats.options import (
    ASSESSMENT_ENTITY,
    CONFIRM_ACTION,
    load_assessment_rules,
)
from huifang_desktop.storage.models import AssessmentEvent, Department, MonthlyAssessment, User

# --- the assessment (考核) ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AssessmentView:
    """A month's assessment as shown: computed now, or the snapshot a manager confirmed (locked)."""

    month: Period
    assessment: Assessment
    status: AssessmentStatus
    deadline: date  # the monthly ledger's deadline; confirming waits for it
    confirmed_by: str = ""
    confirmed_at: datetime | None = None
    comment: str = ""
    integrity: Integrity = Integrity.UNSIGNED
    revision: int = 0
    version: int | None = None
    can_confirm: bool = False
    can_adjust: bool = False  # a confirmed month: the manager may enter 考核更正 (shown on the next month)

    @property
    def locked(self) -> bool:
        return self.status is AssessmentStatus.CONFIRMED


def _month(month: Period | str) -> Period:
    period = parse_period(month, field_name="month", label="考核月份") if isinstance(month, str) else month
    if period.kind is not PeriodKind.MONTH:
        raise ValidationError(FieldError("month", "考核月份", "考核按月进行，请选择一个月份"))
    return period


def _people(ctx: ServiceContext, rules: AssessmentRules) -> list[Person]:
    with ctx.sessions() as s:
        rows = s.execute(
            select(User.id, User.display_name, User.active, Department.name)
            .outerjoin(Department, Department.id == User.department_id)
            .where(User.role.in_(list(rules.assessed_roles)))
            .order_by(User.display_name, User.id)
        ).all()
    return [Person(uid, name, dep or "", bool(active)) for uid, name, active, dep in rows]


def compute_assessment(ctx: ServiceContext, month: Period | str, *, figures: Any = None) -> Assessment:
    """The month's assessment as the data stands now (not stored): every assessed person (active, or with
    events), in name order, with each kind's count, amount and points and every charged event with its source
    (:func:`huifang_desktop.domain.assessment.charge_events`). ``figures`` is accepted for the callers that
    pass the month's statistics; the events are read here."""
    _require_view(ctx)
    period = _month(month)
    rules = load_assessment_rules(ctx)
    facts = _month_facts(ctx, period, rules)
    cal = work_calendar(ctx)
    delay = visit_service.load_options(ctx).report_delay_workdays  # 回访报告表: the working day after

    def report_due(day: date) -> date:
        return cal.add_workdays(day, delay)

    events = charge_events(
        facts, rules, report_due=report_due, deadline=monthly_ledger_deadline(period, rules)
    )
    return assess_events(period, _people(ctx, rules), events, rules, ctx.now())


def _frozen(s: Session, row: MonthlyAssessment, snapshot: Assessment) -> Assessment:
    """A confirmed month from its frozen rows: the events stored at confirmation (``assessment_event``) with
    the snapshot's people and totals."""
    events = tuple(
        ChargedEvent(
            EventKind.parse(e.kind),
            e.clerk_id,
            e.day,
            e.source,
            e.source_id,
            e.subject,
            e.detail,
            e.amount,
            e.points,
        )
        for e in s.execute(
            select(AssessmentEvent)
            .where(AssessmentEvent.assessment_id == row.id)
            .order_by(AssessmentEvent.id)
        ).scalars()
    )
    return replace(snapshot, events=events) if events or not snapshot.events else snapshot


def _own_only(ctx: ServiceContext, a: Assessment) -> Assessment:
    """A clerk sees their own line; supervisors and managers see everyone's."""
    if ctx.user is SYSTEM_USER or can(ctx.user.role, Permission.SIGN_OFF):
        return a
    return replace(a, clerks=tuple(c for c in a.clerks if c.clerk_id == ctx.user.id))


def _may_confirm(ctx: ServiceContext) -> bool:
    return (
        ctx.user is not SYSTEM_USER
        and bool(ctx.user.id)
        and can(ctx.user.role, Permission.CONFIRM_ASSESSMENT)
    )


def _check_confirmer(ctx: ServiceContext, what: str) -> None:
    ctx.require(Permission.SIGN_OFF, what)
    if not _may_confirm(ctx):
        raise PermissionDenied(f"{what}须由公司经理本人登录后操作。")


def _row_integrity(s: Session, row: MonthlyAssessment) -> Integrity:
    """The confirmation's hashes and its Ed25519 signature by the manager's registered key (a confirmation
    from before signatures existed: its 确认考核 row in the audit chain before the upgrade)."""
    if row.status != AssessmentStatus.CONFIRMED.value:
        return (
            Integrity.TAMPERED
            if row.content_hash or row.signature_hash or row.signature
            else Integrity.UNSIGNED
        )
    try:
        snapshot = json.loads(row.snapshot)
    except ValueError:
        return Integrity.TAMPERED
    content = assessment_hash(snapshot)
    sign = SignOff(row.confirmed_by_id, row.signed_role, row.confirmed_at, row.comment, row.revision or 0)
    if content != row.content_hash or signature_hash(content, sign) != row.signature_hash:
        return Integrity.TAMPERED
    if "events" in snapshot:  # the frozen event rows must be the signed snapshot's events
        frozen = [
            {
                "kind": e.kind,
                "owner_id": e.clerk_id,
                "day": e.day.isoformat(),
                "source": e.source,
                "source_id": e.source_id,
                "subject": e.subject,
                "detail": e.detail,
                "amount": e.amount,
                "points": e.points,
            }
            for e in s.execute(
                select(AssessmentEvent)
                .where(AssessmentEvent.assessment_id == row.id)
                .order_by(AssessmentEvent.id)
            ).scalars()
        ]
        if frozen != snapshot["events"]:
            return Integrity.TAMPERED
    stored = StoredSignature(
        row.status, row.content_hash, row.signature_hash, sign, row.signature or "", row.signed_seq
    )
    if row.signature:
        if row.signed_seq is None or not signing.verifier(s)(
            sign_message(ASSESSMENT_ENTITY, row.id, content, sign, row.signed_seq),
            row.signature,
            row.confirmed_by_id,
            row.signed_seq,
        ):
            return Integrity.TAMPERED
    elif not signing.legacy_checker(s, ASSESSMENT_ENTITY, CONFIRM_ACTION)(row.id, stored):
        return Integrity.TAMPERED
    return Integrity.INTACT


def _view(
    ctx: ServiceContext,
    s: Session,
    period: Period,
    row: MonthlyAssessment | None,
    computed: Assessment | None,
    figures: Any = None,
) -> AssessmentView:
    rules = load_assessment_rules(ctx)
    deadline = monthly_ledger_deadline(period, rules)
    due = ctx.today() > deadline
    if row is not None and row.status == AssessmentStatus.CONFIRMED.value:
        try:
            assessment = _frozen(s, row, Assessment.from_dict(json.loads(row.snapshot)))
        except (ValueError, KeyError, TypeError, ValidationError):
            assessment = computed or compute_assessment(ctx, period, figures=figures)
        who = s.get(User, row.confirmed_by_id) if row.confirmed_by_id else None
        return AssessmentView(
            period,
            _own_only(ctx, assessment),
            AssessmentStatus.CONFIRMED,
            deadline,
            who.display_name if who else "",
            row.confirmed_at,
            row.comment,
            _row_integrity(s, row),
            row.revision or 0,
            row.version,
            False,
            _may_confirm(ctx),
        )
    status = AssessmentStatus.REOPENED if row is not None else AssessmentStatus.OPEN
    assessment = computed or compute_assessment(ctx, period, figures=figures)
    return AssessmentView(
        period,
        _own_only(ctx, assessment),
        status,
        deadline,
        comment=row.comment if row is not None else "",
        revision=(row.revision or 0) if row is not None else 0,
        version=row.version if row is not None else None,
        can_confirm=_may_confirm(ctx) and due,
    )


def assessment(ctx: ServiceContext, month: Period | str, *, figures: Any = None) -> AssessmentView:
    """The month's assessment: the confirmed snapshot when a manager confirmed it (with the tamper check),
    else computed from the data now (``figures``: see :func:`compute_assessment`)."""
    _require_view(ctx)
    period = _month(month)
    with ctx.sessions() as s:
        row = s.execute(select(MonthlyAssessment).where(MonthlyAssessment.month == period.key)).scalar()
        return _view(ctx, s, period, row, None, figures)


def _label(period: Period) -> str:
    return f"{period.label}考核"


def _guarded(fn: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StaleDataError:
            raise ConflictError("该月考核刚被其他人确认或撤回，请刷新后再操作。") from None

    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper


@_guarded
def confirm_assessment(
    ctx: ServiceContext,
    month: Period | str,
    comment: str = "",
    expected_version: int | None = None,
    *,
    password: str | None = None,
    key: signing.UnlockedKey | None = None,
) -> AssessmentView:
    """经理确认考核: the assessment computed now is stored as a snapshot with the content hash and the
    signature hash (who, role, when, comment, revision) and the month is locked. Only once the monthly
    ledger's deadline has passed (before it the month's figures are not final). Signed with the manager's
    key like a review sign-off (``password``, or a ``key`` already unlocked). Audited."""
    from huifang_desktop.domain.validation import optional_text

    _check_confirmer(ctx, "确认考核")
    period = _month(month)
    text = optional_text(comment, label="确认意见", field="comment", max_len=2000)
    rules = load_assessment_rules(ctx)
    deadline = monthly_ledger_deadline(period, rules)
    if ctx.today() <= deadline:
        raise ValidationError(
            FieldError(
                "month",
                "考核月份",
                f"{period.label}的月度台账上交期限为 {deadline:%Y-%m-%d}，期限过后才能确认考核",
            )
        )
    unlocked = signing.credential_key(ctx, password, key)
    computed = compute_assessment(ctx, period)
    snapshot = computed.to_dict()
    now = ctx.now()
    with ctx.sessions() as s, s.begin():
        row = s.execute(select(MonthlyAssessment).where(MonthlyAssessment.month == period.key)).scalar()
        if row is not None and row.status == AssessmentStatus.CONFIRMED.value:
            who = s.get(User, row.confirmed_by_id) if row.confirmed_by_id else None
            raise LockedError(
                f"{period.label}的考核已由{who.display_name if who else '经理'}于 "
                f"{row.confirmed_at:%Y-%m-%d %H:%M} 确认，不能重复确认；如需更正请登记考核更正（记入下月）。"
            )
        if row is not None and expected_version is not None and row.version != expected_version:
            raise ConflictError(f"{period.label}的考核已被其他人修改，请刷新后再确认。")
        revision = (row.revision or 0) if row is not None else 0
        content = assessment_hash(snapshot)
        sign = SignOff(ctx.user.id, ctx.user.role.value, now, text, revision)
        if row is None:
            row = MonthlyAssessment(month=period.key, created_at=now, revision=revision)
            s.add(row)
        before = row.status if row.id else ""
        row.status = AssessmentStatus.CONFIRMED.value
        row.snapshot = json.dumps(snapshot, ensure_ascii=False, sort_keys=True)
        row.total_count, row.total_amount, row.total_points = computed.count, computed.amount, computed.points
        row.comment, row.confirmed_by_id, row.confirmed_at = text, ctx.user.id, now
        row.signed_role = ctx.user.role.value
        row.content_hash, row.signature_hash = content, signature_hash(content, sign)
        s.flush()
        s.execute(delete(AssessmentEvent).where(AssessmentEvent.assessment_id == row.id))
        s.add_all(
            AssessmentEvent(
                assessment_id=row.id,
                month=period.key,
                clerk_id=e.owner_id,
                kind=e.kind.key,
                day=e.day,
                source=e.source,
                source_id=e.source_id,
                subject=e.subject[:120],
                detail=e.detail[:500],
                amount=e.amount,
                points=e.points,
            )
            for e in computed.events
        )
        entry = audit(
            s,
            ctx,
            CONFIRM_ACTION,
            ASSESSMENT_ENTITY,
            row.id,
            _label(period),
            old={"status": before} if before else None,
            new={
                "status": row.status,
                "count": computed.count,
                "amount": computed.amount,
                "points": computed.points,
                "revision": revision,
                "content_hash": content,
                "comment": text,
            },
        )
        assert entry.seq is not None
        row.signed_seq = entry.seq
        row.signature = signing.signature_for(unlocked, ASSESSMENT_ENTITY, row.id, content, sign, entry.seq)
        return _view(ctx, s, period, row, computed)
