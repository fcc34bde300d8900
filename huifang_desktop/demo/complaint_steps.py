"""One demo complaint's steps, as :mod:`huifang_desktop.services.complaints` takes them: register, accept,
save_handling, finish_handling with its closing-visit plan, the closing visit, close, withdraw, reply,
convert, escalate, chase, attach. Every state change is checked by the domain's
:func:`~huifang_desktop.domain.complaints.check_transition`; deadlines, routing, numbers and the closing
visit come from the domain functions the services use.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from huifang_desktop.demo.complaint_office import Closed, Person, pick_user, signer
from huifang_desktop.demo.complaint_register import register_case
from huifang_desktop.demo.complaint_specs import Cluster, RowGenerator, Spec
from huifang_desktop.demo.complaint_words import (
    CASES,
    CHANNELS,
    CHASE_NOTES,
    GENERIC_CASE,
    INQUIRY_TEXTS,
    MESSAGE_WITHDRAW_REASONS,
    OCCURRENCE_NOTES,
    REPLY_WAYS,
    RETURN_COMMENTS,
    SATISFIED_FEEDBACK,
    SECOND_MEASURES,
    SIGN_COMMENTS,
    UNSATISFIED_FEEDBACK,
    WITHDRAW_REASONS,
    fake_pdf,
)
from huifang_desktop.domain import complaint_rules, schedule
from huifang_desktop.domain import complaints as rules
from huifang_desktop.domain.complaint_follow import (
    FollowPolicy,
    NoticeKind,
    Recipient,
    overdue_workdays,
    rungs_due,
)
from huifang_desktop.domain.complaints import (
    ComplaintState,
    Deadlines,
    MessageKind,
    Severity,
    TransitionFacts,
)
from huifang_desktop.domain.independence import Colleague, keep_or_pick
from huifang_desktop.domain.roles import Role, reaches_level
from huifang_desktop.domain.schedule import Assignee, PlannedVisit, plan_key
from huifang_desktop.domain.signoff import ReviewStatus
from huifang_desktop.domain.visits import (
    PlanState,
    VisitMethod,
    VisitResult,
    VisitType,
)
from huifang_desktop.services import complaints as complaint_service
from huifang_desktop.services.complaints import CLOSING_RULE
from huifang_desktop.services.complaints.rules import reply_due_of
from huifang_desktop.services.visits.independence import closing_roles

_PENDING_PLAN, _DONE_PLAN, _CANCELLED_PLAN = (
    PlanState.PENDING.value,
    PlanState.DONE.value,
    PlanState.CANCELLED.value,
)
_STATES = {s.value: s for s in ComplaintState}
_REVIEW_PENDING, _REVIEW_RETURNED, _REVIEW_SIGNED = (
    ReviewStatus.PENDING.value,
    ReviewStatus.RETURNED.value,
    ReviewStatus.SIGNED.value,
)


class CaseSteps:
    """One complaint replayed step by step, as the services would have written it."""

    def __init__(self, gen: RowGenerator, spec: Spec) -> None:
        self.g, self.s, self.env = gen, spec, gen.env
        self.rng = gen.env.rng
        self.ended = False
        self.extras: list[tuple[datetime, str]] = []  # repeats and withdrawal, by time
        self.plan: dict[str, Any] | None = None  # the current closing-visit plan row
        self.seen_reset_at: datetime | None = None
        # [(deadline, since), escalation moment, next 催办 moment, escalation done, 催办 so far]
        self.notice: list[Any] | None = None
        # ((which, due, since), the start that chases it) of an urgent complaint's missed timing
        self.urgent_start: tuple[tuple[str, datetime, datetime], datetime] | None = None
        self.deadline_since = spec.received_at  # when the current deadline took effect
        self.c: dict[str, Any] = {}
        self.texts = ("", "", "", "", "", "")
        self.customer: tuple[int, int | None, int | None, str, str] | None = None
        self.registrar: Person = gen.env.office.staff[0]
        self.files: list[list[str]] = []  # [sha256, name, kind] of the attached files (content hash)

    # --- helpers ----------------------------------------------------------------------------------------
    def person(self, user_id: int | None) -> Person | None:
        return self.env.office.people.get(user_id) if user_id is not None else None

    def name(self, user_id: int | None) -> str:
        p = self.person(user_id)
        return p.name if p else ""

    def handler(self) -> Person:
        """Who acts on the complaint: its handler, else someone of the handler's level."""
        p = self.person(self.c["handler_id"])
        if p is not None:
            return p
        office = self.env.office
        for role in (Role(self.c["handler_role"]), Role.MANAGER, Role.SUPERVISOR):
            if office.by_role.get(role):
                return office.by_role[role][0]
        return self.registrar

    def touch(self, at: datetime, actor: Person | None = None, *, updated: bool = True) -> None:
        self.c["version"] += 1
        if updated:
            self.c["updated_at"] = at
        if actor is not None and actor.id == self.c["handler_id"]:
            self.c["escalation_seen"] = True  # the handler opened the register

    def event(self, at: datetime, actor: Person | None, action: str, **kw: str) -> None:
        self.g.event(self.c["id"], at, actor, action, **kw)

    @property
    def state(self) -> ComplaintState:
        return _STATES[self.c["state"]]

    def refresh_deadline(self, at: datetime) -> None:
        c = self.c
        self.deadline_since = at
        visit_due = datetime.combine(c["visit_due"], self.env.policy.workday_end) if c["visit_due"] else None
        c["deadline"] = rules.current_deadline(
            self.state, Deadlines(c["first_reply_due"], c["handling_due"]), visit_due
        )

    def reply_due(self, kind: MessageKind, received_at: datetime, handling_due: datetime) -> datetime | None:
        """满意答复 (002 制度9 五): the rule intake applies (services.complaints.rules.reply_due_of, i.e.
        domain.complaint_rules.satisfying_reply_due capped at the 处理期限); None for 咨询/建议 and 特殊情况."""
        env = self.env
        return reply_due_of(
            kind,
            received_at,
            handling_due,
            special=self.s.special,
            rules=env.complaint_rules,
            policy=env.policy,
            cal=env.cal,
        )

    def facts(self) -> TransitionFacts:
        """What the complaint holds, as services.complaints gives it to the transition check."""
        c = self.c
        return TransitionFacts(
            anonymous=c["anonymous"],
            reply_only=c["reply_only"],
            reply_letter_attached=any(
                kind in complaint_service.REPLY_KINDS for _sha, _name, kind in self.files
            ),
            closing_visit_satisfied=c["visit_satisfied"],
            handling_result=c["result"],
            withdraw_reason=c["withdraw_reason"],
        )

    def move(self, at: datetime, actor: Person, target: ComplaintState, action: str, note: str = "") -> None:
        """A state change, checked by the domain's workflow rule first (a move the services would refuse
        raises here too), then applied as the complaint services apply it."""
        rules.check_transition(
            self.state,
            target,
            actor_role=actor.role,
            severity=Severity(self.c["severity"]),
            facts=self.facts(),
            policy=self.env.policy,
        )
        before = self.c["state"]
        self.c["state"] = target.value
        if target is ComplaintState.CLOSED:
            self.c["closed_at"] = at
            self.c["review_status"] = _REVIEW_PENDING  # the closed 投诉处理表 goes to the supervisor's review
        self.refresh_deadline(at)
        self.touch(at, actor)
        self.event(at, actor, action, from_state=before, to_state=target.value, note=note)

    def delay(self, stage: str, weights: Sequence[float]) -> int:
        """Working days the step ``stage`` takes: drawn from ``weights`` (0, 1, 2 … days), or its delay."""
        if stage and self.s.late_stage == stage:
            return self.s.late_days
        return 0 if self.s.fast else self.pick(weights)

    def pick(self, weights: Sequence[float]) -> int:
        r = self.rng.random() * sum(weights)
        for i, w in enumerate(weights):
            r -= w
            if r < 0:
                return i
        return len(weights) - 1

    def step(self, t: datetime, stage: str, weights: Sequence[float]) -> datetime:
        """When the next step (``stage``) happens after ``t``."""
        days = self.delay(stage, weights)
        if days == 0 and self.s.fast:
            return t + timedelta(minutes=self.rng.randint(5, 40))
        return self.env.later(t, days)

    def escalate(self, at: datetime, deadline: datetime) -> None:
        """The 催办 ladder at a start after a missed deadline (services.complaints.escalate_overdue): every
        rung reached and not yet sent — 催办 to the handler and the department's head, 上报 to the next level
        and the manager; the handler keeps the case."""
        c, env = self.c, self.env
        if c["escalated_deadline"] != deadline:
            c["chase_rung"] = 0
        late = overdue_workdays(deadline, at, env.cal)
        due = rungs_due(FollowPolicy().ladder, c["chase_rung"], late)
        for index, rung in due:
            told = "、".join(n for n in self.told(rung.notify) if n) or "（无此级别人员）"
            if rung.kind is NoticeKind.CHASE:
                c["chase_count"] += 1
            else:
                c["escalation_level"] += 1
            self.event(
                at,
                None,
                f"逾期{rung.kind.value}",
                note=f"逾期（期限 {deadline:%Y-%m-%d %H:%M}）第 {index + 1} 级{rung.kind.value}：{told}",
            )
            c["chase_rung"] = index + 1
        if due:
            c["escalated_at"], c["escalated_deadline"], c["escalation_seen"] = at, deadline, False
            self.seen_reset_at = at
            self.touch(at, updated=False)

    def told(self, notify: Sequence[Recipient]) -> list[str]:
        c, office = self.c, self.env.office
        out: list[str] = []
        for who in notify:
            if who is Recipient.HANDLER:
                person = c["handler_id"]
            elif who is Recipient.DEPARTMENT_HEAD:
                person = pick_user(office, Role.SUPERVISOR, c["department_id"])
            elif who is Recipient.NEXT_LEVEL:
                up = rules.escalated_role(Role(c["handler_role"]))
                person = pick_user(office, up, c["department_id"]) if up is not None else None
            elif who is Recipient.MANAGER:
                person = pick_user(office, Role.MANAGER, c["department_id"])
            else:
                person = c["first_responder_id"]
            name = self.name(person)
            if name and name not in out:
                out.append(name)
        return out

    def inquire(self) -> None:
        """查办 (002 制度3 第十三条): a complaint closed after its 处理期限 gets its 查办 from a supervisor a working
        day after closing (at the latest now), as services.complaints.record_inquiry stores it."""
        c, env = self.c, self.env
        if (
            c["kind"] != MessageKind.COMPLAINT.value
            or c["closed_at"] is None
            or c["closed_at"] <= c["handling_due"]
        ):
            return
        deciders = env.office.by_role.get(Role.SUPERVISOR) or env.office.by_role.get(Role.MANAGER)
        if not deciders:
            return
        by = deciders[self.rng.randrange(len(deciders))]
        at = min(env.later(c["closed_at"], 1), env.now)
        reason, measures = INQUIRY_TEXTS[self.rng.randrange(len(INQUIRY_TEXTS))]
        self.g.batch.inquiries.append(
            {
                "complaint_id": c["id"],
                "reason": reason,
                "measures": measures,
                "responsible": self.name(c["handler_id"]),
                "decided_by_id": by.id,
                "decided_by": by.name,
                "decided_at": at,
                "created_at": at,
                "updated_at": at,
                "version": 1,
            }
        )
        self.event(at, by, "查办", note=f"逾期原因：{reason[:60]}；措施：{measures[:60]}")

    def chase(self, at: datetime) -> None:
        office = self.env.office
        chasers = office.by_role.get(Role.SUPERVISOR) or office.by_role.get(Role.MANAGER)
        if not chasers:
            return
        actor = chasers[self.rng.randrange(len(chasers))]
        c = self.c
        c["chase_count"] += 1
        c["escalation_seen"] = False
        self.seen_reset_at = at
        self.touch(at)
        text_ = CHASE_NOTES[self.rng.randrange(len(CHASE_NOTES))]
        self.event(at, actor, "催办", note=f"第 {c['chase_count']} 次催办" + (f"：{text_}" if text_ else ""))

    def pick_customer(self, day: date) -> tuple[int, int | None, int | None, str, str] | None:
        office = self.env.office
        n = bisect_right(office.cust_days, day.toordinal())
        return office.cust_rows[self.rng.randrange(n)] if n else None

    def register(self, at: datetime) -> None:
        register_case(self, at)

    def case_texts(self, category: str) -> tuple[str, str, str, str, str, str]:
        cases = CASES.get(category)
        if not cases:
            six = tuple(t.format(category=category) for t in GENERIC_CASE)
            return cast("tuple[str, str, str, str, str, str]", six)  # GENERIC_CASE holds a case's six texts
        return cases[self.rng.randrange(len(cases))]

    def add_occurrence(self, at: datetime) -> None:
        g, c, rng = self.g, self.c, self.rng
        office = self.env.office
        channel = CHANNELS(rng)
        received = at - timedelta(minutes=rng.randint(1, 30))
        received = max(received, c["received_at"])
        clerks = office.by_role.get(Role.CLERK) or office.staff
        actor = clerks[rng.randrange(len(clerks))]
        by = (
            office.departments[rng.randrange(len(office.departments))]
            if office.departments and rng.random() < 0.6
            else actor.name
        )
        note = OCCURRENCE_NOTES[rng.randrange(len(OCCURRENCE_NOTES))]
        g.batch.occurrences.append(
            {
                "id": g.new_id("occurrence"),
                "complaint_id": c["id"],
                "received_at": received,
                "channel": channel,
                "complainant": c["complainant"],
                "phone": c["phone"],
                "received_by": by,
                "note": note,
                "created_by_id": actor.id,
                "created_at": at,
            }
        )
        c["occurrences"] += 1
        self.touch(at, actor)
        self.event(
            at,
            actor,
            "重复投诉",
            note=f"第 {c['occurrences']} 次，{channel}，{received:%Y-%m-%d %H:%M}"
            + (f"：{note}" if note else ""),
        )

    # --- the services' steps ----------------------------------------------------------------------------
    def accept(self, at: datetime) -> None:
        actor = self.handler()
        self.c["accepted_at"] = at
        self.move(at, actor, ComplaintState.IN_PROGRESS, "受理")

    def save_handling(self, at: datetime, *, second: bool) -> None:
        c, s, rng = self.c, self.s, self.rng
        actor = self.handler()
        _subject, _content, investigation, cause, measures, result = self.texts
        changed = []
        if second:
            extra = SECOND_MEASURES[rng.randrange(len(SECOND_MEASURES))]
            new = {"measures": f"{measures}；{extra}", "result": f"{result}；{extra}"}
        else:
            new = {"investigation": investigation, "cause": cause, "measures": measures, "result": result}
            if s.reply_only:
                new["reply_text"] = f"已书面答复上级转办部门：{result}"
        replied, way = None, ""
        if not s.anonymous:
            way = "书面" if s.reply_only else REPLY_WAYS(rng)
            replied = max(at - timedelta(minutes=rng.randint(0, 90)), c["received_at"])
            new["replied_at"], new["reply_way"] = replied, way
        labels = {
            "investigation": "调查情况",
            "cause": "原因",
            "measures": "处理措施",
            "result": "处理结果",
            "reply_text": "答复内容",
            "replied_at": "答复时间",
            "reply_way": "答复方式",
        }
        for key in labels:  # the order services.complaints.save_handling lists them in
            if key in new and new[key] != c[key]:
                changed.append(key)
                c[key] = new[key]
        self.start_report_back(at)
        if self.state is ComplaintState.PENDING:  # writing down the handling takes the complaint on
            c["accepted_at"] = at
            self.move(at, actor, ComplaintState.IN_PROGRESS, "受理")
        else:
            self.touch(at, actor)
        if "replied_at" in changed and replied is not None:
            self.event(at, actor, "答复客户", note=f"{replied:%Y-%m-%d %H:%M} {way}")
        self.event(at, actor, "处理记录", note="修改：" + "、".join(labels[k] for k in changed))

    def start_report_back(self, at: datetime) -> None:
        """As services.complaints.handling does: the first time an urgent complaint's result is written down,
        the department has N clock hours to report back (domain.complaint_rules.report_back_due, 002 制度5 §5)."""
        c, timings = self.c, self.env.complaint_rules.urgent
        if c["urgent"] and c["report_back_due"] is None and c["result"] and timings is not None:
            c["report_back_due"] = complaint_rules.report_back_due(at, timings)

    def finish_handling(self, at: datetime) -> None:
        c, env = self.c, self.env
        actor = self.handler()
        due = rules.closing_visit_due(at, env.policy, env.cal)
        c["handled_at"], c["visit_due"] = at, due
        c["visit_satisfied"], c["visited_at"], c["satisfaction"] = None, None, ""
        c["visit_round"] += 1
        plan = self.plan_closing_visit(at, due)
        note = f"结案回访 {due:%Y-%m-%d} 前"
        if plan is not None:
            note += f"，回访人：{self.name(plan['owner_id'])}"
        elif c["customer_id"] is None:
            note += "（投诉人无客户档案，回访在投诉处理表中登记）"
        self.move(at, actor, ComplaintState.AWAITING_VISIT, "办结转回访", note)

    def plan_closing_visit(self, at: datetime, due: date) -> dict[str, Any] | None:
        c, env = self.c, self.env
        if c["customer_id"] is None:
            c["visit_plan_id"] = None
            return None
        role = rules.closing_visit_role(Severity(c["severity"]), env.policy)
        owner = rules.closing_visit_owner(
            c["handler_id"], Role(c["handler_role"]), Severity(c["severity"]), env.policy
        )
        customer_owner = self.customer[1] if self.customer else None
        if owner is None:
            owner = pick_user(env.office, role, c["department_id"], [customer_owner])
        if env.independent:  # as services.visits.independence.closing_visit_plan_for (pending load aside)
            people = [Colleague(p.id, p.role.value, p.department_id) for p in env.office.staff]
            owner = keep_or_pick(
                owner, people, closing_roles(role), c["department_id"], customer_owner, c["handler_id"]
            )
        existing = self.plan
        if existing is not None and existing["state"] == _PENDING_PLAN:
            existing["due"], existing["earliest"] = due, min(existing["earliest"], due)
            existing["owner_id"], existing["manual"] = owner, True
            existing["version"] += 1
            return existing
        key = plan_key(f"complaint:{c['id']}", CLOSING_RULE, c["visit_round"])
        plan = {
            "id": self.g.new_id("plan"),
            "customer_id": c["customer_id"],
            "source_key": key,
            "rule_key": CLOSING_RULE,
            "visit_type": VisitType.COMPLAINT.value,
            "method": (env.rules.follow_up.closing_method(c["severity"]) or VisitMethod.PHONE).value,
            "earliest": at.date(),
            "due": due,
            "owner_id": owner,
            "attempt": 1,
            "state": _PENDING_PLAN,
            "cancel_reason": "",
            "manual": False,
            "done_on": None,
            "record_id": None,
            "created_at": at,
            "version": 1,
        }
        self.g.batch.plans.append(plan)
        self.plan = plan
        c["visit_plan_id"] = plan["id"]
        return plan

    def closing_visit(
        self, at: datetime, *, reached: bool, satisfied: bool | None, by_clerk: bool = False
    ) -> bool:
        """Record the closing visit (回访记录表 on the plan, or on the complaint without a customer file) and
        apply it as apply_closing_visit_in does. True when the complaint got closed by it."""
        c, env, rng, g = self.c, self.env, self.rng, self.g
        plan = self.plan if self.plan is not None and self.plan["state"] == _PENDING_PLAN else None
        visitor = self.person(plan["owner_id"]) if plan is not None else None
        visitor = visitor or self.handler()
        clerks = env.office.by_role.get(Role.CLERK)
        if by_clerk and plan is not None and clerks:  # the calendar lets any clerk record it
            owner = self.person(self.customer[1]) if self.customer else None
            visitor = (
                owner
                if owner is not None and owner.role is Role.CLERK
                else clerks[rng.randrange(len(clerks))]
            )
        visited_at = max(at - timedelta(minutes=rng.randint(3, 30)), c["handled_at"] + timedelta(minutes=1))
        scale = env.scale
        satisfaction = ""
        if reached:
            good = [lv for lv in scale.levels if lv in scale.satisfied]
            bad = [lv for lv in scale.levels if lv not in scale.satisfied]
            options = good if satisfied else bad
            satisfaction = (
                options[0]
                if len(options) == 1
                else options[min(self.pick((0.5, 0.4, 0.1)), len(options) - 1)]
            )
        feedback = (
            ""
            if not reached
            else (SATISFIED_FEEDBACK if satisfied else UNSATISFIED_FEEDBACK)[
                rng.randrange(len(SATISFIED_FEEDBACK if satisfied else UNSATISFIED_FEEDBACK))
            ]
        )
        record_id, next_plan = None, None
        if plan is not None:
            content = f"投诉 {c['number']} 结案回访" + ("" if reached else "，电话无人接听")
            note = "；".join(t_ for t_ in (feedback, content) if t_)
            result = VisitResult.SUCCESS if reached else VisitResult.NO_ANSWER
            record_id = g.new_id("record")
            g.batch.records.append(
                {
                    "id": record_id,
                    "number": "",
                    "plan_id": plan["id"],
                    "customer_id": plan["customer_id"],
                    "contact_name": self.customer[3] if self.customer else c["complainant"],
                    "contact_phone": self.customer[4] if self.customer else c["phone"],
                    "visit_type": VisitType.COMPLAINT.value,
                    "method": plan["method"],
                    "visited_at": visited_at,
                    "visitor_id": visitor.id,
                    "content": content,
                    "feedback": feedback,
                    "problems": "",
                    "measures": "",
                    "satisfaction": satisfaction,
                    "handling": "",
                    "transfer_department": "",
                    "transfer_due": None,
                    "transfer_done_at": None,
                    "transfer_answer": "",
                    "next_visit_on": None,
                    "result": result.value,
                    "customer_signed": False,
                    "created_at": at,
                    "revision": 0,
                    "version": 1,
                    **self.review(visited_at, at, visitor.id, c["department_id"]),
                }
            )
            plan["state"], plan["done_on"], plan["record_id"] = _DONE_PLAN, visited_at.date(), record_id
            plan["version"] += 1
            next_plan = self.follow_up_plan(plan, result, satisfied if reached else None, visited_at, at)
        else:
            note = feedback
        # apply_closing_visit_in
        c["visit_record_id"] = record_id
        if next_plan is not None:
            c["visit_plan_id"] = next_plan["id"]
            self.plan = next_plan
        self.touch(at, visitor)
        if not reached:
            c["visit_note"] = note
            again = f"已安排再次回访 {next_plan['due']:%Y-%m-%d}" if next_plan else "请再次回访"
            self.event(at, visitor, "结案回访", note=f"未能联系上客户，{again}")
            return False
        c["visited_at"], c["visit_satisfied"] = visited_at, bool(satisfied)
        c["satisfaction"], c["visit_note"] = satisfaction, note
        self.event(
            at,
            visitor,
            "结案回访",
            note=(satisfaction or ("满意" if satisfied else "不满意")) + (f"：{note}" if note else ""),
        )
        if rules.closing_outcome(bool(satisfied)) is ComplaintState.IN_PROGRESS:
            c["visit_due"] = next_plan["due"] if next_plan is not None else None
            self.move(
                at,
                visitor,
                ComplaintState.IN_PROGRESS,
                "回访不满意退回",
                "客户不满意，退回处理中"
                + (f"；已安排再次回访 {next_plan['due']:%Y-%m-%d}" if next_plan else ""),
            )
            return False
        required = rules.handler_role(Severity(c["severity"]), env.policy)
        if reaches_level(visitor.role, required):
            self.move(at, visitor, ComplaintState.CLOSED, "关闭", "结案回访满意")
            self.closed_now()
            return True
        self.event(at, visitor, "待关闭", note=f"回访满意，待{required.label}审核关闭")
        return False

    def follow_up_plan(
        self,
        plan: dict[str, Any],
        result: VisitResult,
        satisfied: bool | None,
        visited_at: datetime,
        at: datetime,
    ) -> dict[str, Any] | None:
        """visits._plan_follow_ups: the next attempt after a visit that did not reach or satisfy."""
        env = self.env
        previous = PlannedVisit(
            rule_key=plan["rule_key"],
            visit_type=VisitType(plan["visit_type"]),
            method=VisitMethod(plan["method"]),
            earliest=plan["earliest"],
            due=plan["due"],
            who=Assignee.OWNER,
            source_key=plan["source_key"],
            attempt=plan["attempt"],
        )
        nxt = schedule.follow_up(
            result,
            satisfied,
            plan["attempt"],
            visited_at.date(),
            env.rules,
            env.cal,
            previous=previous,
            origin=f"record:{plan['record_id']}",
            severity=self.c["severity"],
        )
        if nxt is None:
            return None
        new = {
            "id": self.g.new_id("plan"),
            "customer_id": plan["customer_id"],
            "source_key": nxt.source_key,
            "rule_key": nxt.rule_key,
            "visit_type": nxt.visit_type.value,
            "method": nxt.method.value,
            "earliest": nxt.earliest,
            "due": nxt.due,
            "owner_id": plan["owner_id"],
            "attempt": nxt.attempt,
            "state": _PENDING_PLAN,
            "cancel_reason": "",
            "manual": False,
            "done_on": None,
            "record_id": None,
            "created_at": at,
            "version": 1,
        }
        self.g.batch.plans.append(new)
        return new

    def close(self, at: datetime, actor: Person, note: str) -> None:
        self.move(at, actor, ComplaintState.CLOSED, "关闭", note)
        self.closed_now()

    def closed_now(self) -> None:
        c = self.c
        if c["kind"] == MessageKind.COMPLAINT.value and not c["anonymous"]:
            self.g.closed.append(
                Closed(
                    c["id"],
                    c["number"],
                    c["closed_at"],
                    c["subject"],
                    c["complainant"],
                    c["phone"],
                    c["customer_id"],
                    c["category"],
                    Severity(c["severity"]),
                    c["department_id"],
                )
            )
            if len(self.g.closed) > 2000:
                del self.g.closed[:1000]

    def withdraw(self, at: datetime) -> None:
        c, rng = self.c, self.rng
        actor = self.handler()
        if c["kind"] == MessageKind.COMPLAINT.value:
            reason = WITHDRAW_REASONS[rng.randrange(len(WITHDRAW_REASONS))]
        else:
            reason = MESSAGE_WITHDRAW_REASONS[rng.randrange(len(MESSAGE_WITHDRAW_REASONS))]
        c["withdraw_reason"] = reason[:200]
        self.move(at, actor, ComplaintState.WITHDRAWN, "撤销", reason)
        plan = self.plan
        if plan is not None and plan["state"] == _PENDING_PLAN:
            plan["state"], plan["cancel_reason"] = _CANCELLED_PLAN, f"投诉已撤销：{reason}"[:200]
            plan["version"] += 1

    def reply(self, at: datetime) -> None:
        c = self.c
        actor = self.handler()
        way = (
            REPLY_WAYS(self.rng)
            if c["kind"] == MessageKind.SUGGESTION.value
            else ("电话" if self.rng.random() < 0.7 else "当面")
        )
        text_ = self.texts[5]
        before = c["state"]
        c["reply_text"], c["reply_way"], c["replied_at"], c["result"] = text_, way, at, text_
        c["state"], c["closed_at"], c["deadline"] = ComplaintState.CLOSED.value, at, None
        self.touch(at, actor)
        self.event(at, actor, "答复", from_state=before, to_state=c["state"], note=f"{way}：{text_[:80]}")

    def convert(self, at: datetime) -> None:
        """convert_to_complaint: a complaint number, severity, routing and deadlines counted from now."""
        c, s, env, rng, g = self.c, self.s, self.env, self.rng, self.g
        policy = env.policy
        actor = self.handler()
        old_number, old_kind = c["number"], c["kind"]
        category = policy.categories[rng.randrange(len(policy.categories))]
        severity = s.severity
        role = rules.handler_role(severity, policy)
        dep = c["department_id"] or actor.department_id
        prefer: list[int | None] = []
        if role is Role.CLERK:
            prefer = [self.customer[1] if self.customer else None, actor.id]
        elif actor.role is role:
            prefer = [actor.id]
        handler = pick_user(env.office, role, dep, prefer)
        dl = rules.deadlines(at, MessageKind.COMPLAINT, severity, policy, env.cal, special=s.special)
        self.texts = self.case_texts(category)
        c.update(
            kind=MessageKind.COMPLAINT.value,
            severity=severity.value,
            category=category,
            number=g.number(MessageKind.COMPLAINT, at),
            converted_from=old_number,
            handler_role=role.value,
            handler_id=handler,
            department_id=dep,
            first_reply_due=dl.first_reply,
            handling_due=dl.handling,
            reply_due=self.reply_due(MessageKind.COMPLAINT, at, dl.handling),
            state=ComplaintState.PENDING.value,
            escalation_level=0,
            escalated_deadline=None,
        )
        self.refresh_deadline(at)
        self.touch(at, actor)
        self.event(
            at,
            actor,
            "转为投诉",
            to_state=c["state"],
            note=f"由{old_kind} {old_number} 转为投诉，负责人：{self.name(handler)}",
        )

    def attach(self, at: datetime, actor: Person, kind: str, name: str) -> None:
        g, c = self.g, self.c
        data = fake_pdf(f"Huifang demo - {name.rsplit('-', 1)[-1]}")
        aid = g.new_id("attachment")
        g.batch.attachments.append(
            {
                "id": aid,
                "name": name,
                "kind": kind,
                "mime": "application/pdf",
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "data": data,
                "created_by_id": actor.id,
                "created_at": at,
            }
        )
        g.batch.links.append({"complaint_id": c["id"], "attachment_id": aid})
        self.files.append([g.batch.attachments[-1]["sha256"], name, kind])
        self.touch(at, actor)
        self.event(at, actor, "添加附件", note=f"{kind}：{name}")

    def attach_public_letter(self, cluster: Cluster) -> None:
        """One 公开信 attached to all the cluster's complaints (attach() with several ids)."""
        g, env = self.g, self.env
        at = cluster.letter_at
        office = env.office
        actor = (office.by_role.get(Role.SUPERVISOR) or office.by_role.get(Role.MANAGER) or office.staff)[0]
        size = cluster.members
        name = f"公开信-{cluster.topic[2]}.pdf"
        if cluster.attachment_id is None:
            data = fake_pdf(f"Huifang demo - public letter {at:%Y-%m-%d}")
            cluster.attachment_id = g.new_id("attachment")
            g.batch.attachments.append(
                {
                    "id": cluster.attachment_id,
                    "name": name,
                    "kind": "公开信",
                    "mime": "application/pdf",
                    "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "data": data,
                    "created_by_id": actor.id,
                    "created_at": at,
                }
            )
            cluster.file = [g.batch.attachments[-1]["sha256"], name, "公开信"]
        g.batch.links.append({"complaint_id": self.c["id"], "attachment_id": cluster.attachment_id})
        self.files.append(cluster.file)
        self.touch(at, actor)
        self.event(
            at,
            actor,
            "添加附件",
            note=f"公开信：{name}" + (f"（同时附于 {size} 件投诉）" if size > 1 else ""),
        )

    def review(
        self,
        day_of: datetime,
        ready_at: datetime,
        owner_id: int | None,
        department_id: int | None,
        severity: str | None = None,
    ) -> dict[str, Any]:
        """审阅: signed by a supervisor (or the manager; never the item's own clerk) a few working days after
        ``day_of`` once older than ``review_workdays``, else still 待审阅, a few 退回 with the reason. The hashes
        of a signed item are filled by :func:`sign` (records: once numbered)."""
        env, rng = self.env, self.rng
        p = env.profile
        out: dict[str, Any] = {
            "status": _REVIEW_PENDING,
            "supervisor_comment": "",
            "signed_by_id": None,
            "signed_at": None,
            "signed_role": "",
            "content_hash": "",
            "signature_hash": "",
        }
        allowed = own_ok = None
        if severity is not None:  # a complaint file: signed at the level its severity asks (核决权限)
            rules = env.complaint_rules

            def allowed(role: Role) -> bool:
                return not complaint_rules.sign_refusal(role, severity, rules)

            def own_ok(role: Role) -> bool:  # asked only when nobody else may sign it
                return complaint_rules.own_file_signable(role, severity, rules, others_at_top=0)

        by = signer(env.office, owner_id, department_id, allowed, own_ok)
        # who could look at it at all: the draws below are made alike whether or not somebody may sign it at
        # its level, so the rest of the history does not shift with the authority table
        reviewer = by if allowed is None else signer(env.office, owner_id, department_id)
        if reviewer is None:
            return out
        if env.cal.add_workdays(day_of.date(), p.review_workdays + 1) <= env.now.date():  # older than that
            day = env.cal.add_workdays(day_of.date(), rng.randint(1, 3))
            signed_at = datetime.combine(day, time(14, 0)) + timedelta(minutes=rng.randrange(240))
            comment = (
                SIGN_COMMENTS[rng.randrange(len(SIGN_COMMENTS))] if rng.random() < p.comment_share else ""
            )
            if by is None:  # nobody may sign it at its level (核决权限): still 待审阅
                return out
            out.update(
                status=_REVIEW_SIGNED,
                supervisor_comment=comment,
                signed_by_id=by.id,
                signed_at=min(max(signed_at, ready_at + timedelta(minutes=5)), env.now),
                signed_role=by.role.value,
            )
        elif rng.random() < p.returned_share and not self.s.pinned:
            out.update(
                status=_REVIEW_RETURNED,
                supervisor_comment=RETURN_COMMENTS[rng.randrange(len(RETURN_COMMENTS))],
            )
        return out
