"""The facts of a month's 考核, read from the database as plain values for
:func:`huifang_desktop.domain.assessment.charge_events` (which decides what is charged).

Read: the plans due in the month of the assessed rules (3.1 到货回访, 3.2 routine, 3.5 end-customer visits)
that were done after their due day or are still pending after it, each with its owner history (so the
domain charges whoever held it when its window closed); the visits of the month whose information
had to be passed on; the end customers whose ledger window closes in the month; the manager's entries for the
month; and, for the two optional ledger measures, the days with visits and the filed 回访报告表.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, func, or_, select

from huifang_desktop.domain.assessment import (
    EntryFact,
    LedgerFact,
    MonthFacts,
    PlanFact,
    TransferFact,
    assessed_rule_keys,
    ledger_window,
)
from huifang_desktop.domain.assessment_rules import AssessmentRules, EventKind
from huifang_desktop.domain.stats import Period, ReportSpan
from huifang_desktop.services import visits as visit_service
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.handover import plan_owner_changes
from huifang_desktop.services.stats.figures import _as_date, _day_of, _moments
from huifang_desktop.services.stats.options import _CANCELLED, _DONE, _PENDING
from huifang_desktop.storage.models import (
    AssessmentEntry,
    Customer,
    Purchase,
    VisitPlan,
    VisitRecord,
    VisitReport,
)


def _reports_needed(rules: AssessmentRules) -> bool:
    return (
        rules.rule(EventKind.LEDGER_NOT_KEPT).enabled or rules.rule(EventKind.MONTHLY_LEDGER_MISSING).enabled
    )


def _month_facts(ctx: ServiceContext, month: Period, rules: AssessmentRules) -> MonthFacts:
    """What the domain needs of the month, as the data stands now."""
    today, now = ctx.today(), ctx.now()
    lo, hi = _moments(month)
    names = visit_service.rule_names(visit_service.load_rules(ctx))
    categories = tuple(visit_service.load_options(ctx).end_customer_categories)
    window = ledger_window(rules)
    late = or_(
        and_(VisitPlan.state == _DONE, VisitPlan.done_on > VisitPlan.due),
        and_(VisitPlan.state == _PENDING, VisitPlan.due < today),
    )
    missed = (
        VisitPlan.due >= month.start,
        VisitPlan.due <= month.end,
        VisitPlan.state != _CANCELLED,
        VisitPlan.rule_key.in_(sorted(assessed_rule_keys(rules))),
        late,
    )
    plan_q = (
        select(
            VisitPlan.id,
            VisitPlan.owner_id,
            VisitPlan.rule_key,
            VisitPlan.due,
            VisitPlan.created_at,
            VisitPlan.state,
            VisitPlan.done_on,
            Customer.name,
        )
        .join(Customer, Customer.id == VisitPlan.customer_id)
        .where(*missed)
        .order_by(VisitPlan.due, VisitPlan.id)
    )
    transfer_q = (
        select(
            VisitRecord.id,
            VisitRecord.visitor_id,
            VisitRecord.visited_at,
            VisitRecord.transfer_done_at,
            VisitRecord.number,
        )
        .where(
            VisitRecord.visited_at >= lo, VisitRecord.visited_at < hi, VisitRecord.transfer_due.is_not(None)
        )
        .order_by(VisitRecord.visited_at, VisitRecord.id)
    )
    first = (
        select(Purchase.customer_id, func.min(Purchase.day).label("first"))
        .group_by(Purchase.customer_id)
        .subquery()
    )
    ledger_q = (
        select(
            Customer.id,
            Customer.owner_id,
            first.c.first,
            Customer.primary_contact,
            Customer.primary_phone,
            Customer.name,
        )
        .join(first, first.c.customer_id == Customer.id)
        .where(
            Customer.category.in_(categories),
            Customer.archived.is_(False),
            first.c.first >= month.start - timedelta(days=window),
            first.c.first <= month.end - timedelta(days=window),
        )
    )
    entry_q = (
        select(AssessmentEntry)
        .where(AssessmentEntry.month == month.key)
        .order_by(AssessmentEntry.day, AssessmentEntry.id)
    )
    with ctx.sessions() as s:
        # who held each plan when: the domain charges the owner on the day the window closed (domain.md §9)
        history = plan_owner_changes(s, select(VisitPlan.id).where(*missed))
        plans = tuple(
            PlanFact(
                r.id,
                r.owner_id,
                r.rule_key,
                r.due,
                r.created_at.date(),
                r.done_on if r.state == _DONE else None,
                r.name,
                names.get(r.rule_key, r.rule_key),
                history.get(r.id, ()),
            )
            for r in s.execute(plan_q)
        )
        transfers = tuple(
            TransferFact(r.id, r.visitor_id, r.visited_at, r.transfer_done_at, r.number)
            for r in s.execute(transfer_q)
        )
        ledger = (
            tuple(
                LedgerFact(
                    r.id,
                    r.owner_id,
                    _as_date(r.first),
                    bool((r.primary_contact or "").strip() and (r.primary_phone or "").strip()),
                    r.name,
                )
                for r in s.execute(ledger_q)
            )
            if categories
            else ()
        )
        entries = tuple(
            EntryFact(e.id, e.clerk_id, e.day, EventKind.parse(e.kind), e.label, e.amount, e.points, e.reason)
            for e in s.execute(entry_q).scalars()
        )
        visit_days: dict[int, list[date]] = {}
        reports: dict[int, list[ReportSpan]] = {}
        if _reports_needed(rules):
            day = _day_of(VisitRecord.visited_at)
            days_q = (
                select(VisitRecord.visitor_id, day.label("day"))
                .where(
                    VisitRecord.visited_at >= lo,
                    VisitRecord.visited_at < hi,
                    VisitRecord.visitor_id.is_not(None),
                )
                .group_by(VisitRecord.visitor_id, day)
            )
            reports_q = select(
                VisitReport.clerk_id,
                VisitReport.period_start,
                VisitReport.period_end,
                VisitReport.created_at,
                VisitReport.due_on,
            ).where(
                VisitReport.period_start <= month.end,
                VisitReport.period_end >= month.start,
                VisitReport.status != "草稿",
            )
            for visit in s.execute(days_q):
                visit_days.setdefault(int(visit.visitor_id), []).append(_as_date(visit.day))
            for rep in s.execute(reports_q):
                reports.setdefault(rep.clerk_id, []).append(
                    ReportSpan(rep.period_start, rep.period_end, rep.created_at.date(), rep.due_on)
                )
    return MonthFacts(
        month,
        today,
        now,
        plans,
        transfers,
        ledger,
        entries,
        {uid: tuple(days) for uid, days in visit_days.items()},
        {uid: tuple(spans) for uid, spans in reports.items()},
    )


__all__: list[str] = []
