"""The rows of the demo visit history: plans, 回访记录表 and 回访报告表, as the services would store them."""

from __future__ import annotations

import json
import random
from collections import Counter as Tally
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, update

from huifang_desktop.demo.visit_history import REPORT_COUNTER, STOP, VISIT_COUNTER, Numbering, Plan, Sink
from huifang_desktop.demo.visit_world import Cust, World
from huifang_desktop.domain import visits as visit_rules
from huifang_desktop.domain.roles import Role
from huifang_desktop.domain.signoff import ReviewKind, SignOff, content_hash, signature_hash
from huifang_desktop.domain.visits import (
    PlanState,
    VisitResult,
    VisitType,
    format_visit_number,
    needs_signature,
)
from huifang_desktop.services.visits import (
    RECORD_PENDING,
    RECORD_RETURNED,
    RECORD_SIGNED,
    REPORT_PENDING,
    ReportDraft,
    ReportProblem,
)
from huifang_desktop.storage.models import (
    Counter,
    VisitPlan,
    VisitRecord,
    VisitReport,
)

_PENDING, _DONE, _CANCELLED = PlanState.PENDING.value, PlanState.DONE.value, PlanState.CANCELLED.value
_SUCCESS = VisitResult.SUCCESS

# --- second pass: the rows ---------------------------------------------------------------------------------

_CANCEL_REASONS = (
    "客户要求暂不回访",
    "联系人变更，待更新联系方式",
    "已在上门服务时一并回访",
    "客户近期不在本地",
    "重复安排，已合并",
    "客户已由其他业务员跟进",
)
_STOP_REASONS = {"暂停": "客户暂停合作，暂停回访", "流失": "客户已流失，停止回访", "注销": "客户档案已注销"}
_FEEDBACK_GOOD = (
    "车辆使用正常，没有问题。",
    "对服务很满意，感谢回访。",
    "产品质量不错，司机反映良好。",
    "暂时没有新的需求。",
    "售后响应及时，满意。",
    "配件供应及时，价格合理。",
    "希望以后多组织驾驶员培训。",
    "有新车采购计划时会联系我们。",
)
_FEEDBACK_FAILED = {
    VisitResult.NO_ANSWER: ("电话无人接听。", "电话占线，稍后再拨。", "对方已关机。"),
    VisitResult.UNREACHABLE: ("号码已停机。", "号码有误，需更新联系方式。", "联系人已离职。"),
    VisitResult.CALL_AGAIN: (
        "客户正在开会，约定改日再联系。",
        "负责人出差，回来后再回访。",
        "客户要求下周再联系。",
    ),
    VisitResult.REFUSED: ("客户表示不需要回访。", "客户拒绝接受回访。"),
}
# (客户意见, 问题点, 转交部门, 改善对策, 部门答复)
_PROBLEMS = (
    (
        "车跑起来底盘有异响。",
        "车辆行驶中有异响。",
        "售后服务部",
        "安排服务站上门检查。",
        "技师已上门检修，异响已排除，客户确认。",
    ),
    (
        "总体还可以，就是修车等得久。",
        "维修等待时间长。",
        "售后服务部",
        "优化派工，预约维修优先安排。",
        "已为客户预约下次保养，承诺当天完工。",
    ),
    (
        "订的配件半个月还没到。",
        "配件到货慢。",
        "销售部",
        "协调配件库存，优先发货。",
        "配件已补发，客户已收到。",
    ),
    (
        "上个月的发票还没收到。",
        "发票迟迟未收到。",
        "销售部",
        "催办发票并告知寄送单号。",
        "发票已寄出，单号已告知客户。",
    ),
    (
        "保养到期了没人提醒。",
        "保养提醒不及时。",
        "客服部",
        "完善保养提醒，按里程提前通知。",
        "已加入保养提醒名单。",
    ),
    (
        "配件价格比别家贵。",
        "对配件价格有异议。",
        "销售部",
        "说明价格构成，申请老客户优惠。",
        "已申请九五折优惠，客户接受。",
    ),
    ("交车时随车工具少了两样。", "随车工具缺件。", "售后服务部", "补发缺少的随车工具。", "工具已补齐。"),
)
_ON_THE_SPOT = ("当场解答，客户认可。", "已向客户解释说明。", "已记录，下次回访时跟进。")
_RECORD_COMMENTS = ("内容完整。", "跟进及时，继续保持。", "注意跟踪转交问题的处理结果。", "话术运用得当。")
_RETURN_COMMENTS = (
    "回访内容过于简单，请补充客户的具体意见。",
    "满意度与客户反馈不一致，请核实后修改。",
    "请补充问题点的改善对策。",
)
_REPORT_COMMENTS = (
    "已阅，按计划推进。",
    "未接通的客户请按时再次回访。",
    "转交的问题请督促各部门按时答复。",
    "满意度保持较好，继续保持。",
)


@dataclass(slots=True)
class DayReport:
    by_type: Tally[str] = field(default_factory=Tally)
    by_result: Tally[str] = field(default_factory=Tally)
    satisfaction: Tally[str] = field(default_factory=Tally)
    problems: list[tuple[datetime, int, str, str, str, str, str]] = field(default_factory=list)


class Writer(Sink):
    """Builds the rows of the kept plans and records and inserts them in batches."""

    def __init__(self, world: World, ids: Numbering) -> None:
        self.w, self.ids = world, ids
        self.rng = random.Random(f"demo-visit-details:{world.seed}")
        self.conn: Connection | None = None
        self.index = 0  # the plan's place in the simulation (as in the first pass)
        self.plan_rows: list[dict[str, Any]] = []
        self.record_rows: list[dict[str, Any]] = []
        self.plans = self.records = self.overdue = 0
        self.reports: dict[tuple[int, int], DayReport] = {}
        self.report_counters: dict[str, int] = {}
        self.dates: dict[int, date] = {}
        self.clerks = {p.id for p in world.people.values() if p.role == Role.CLERK}
        self.colleagues: dict[int | None, list[int]] = {}
        for p in world.people.values():
            if p.role == Role.CLERK:
                self.colleagues.setdefault(p.department_id, []).append(p.id)
        # who signs: a supervisor of the owner's department, else another supervisor, else a manager; never
        # the owner themself (review.sign refuses that by default)
        reviewers = [p for p in world.people.values() if p.role == Role.SUPERVISOR]
        reviewers += [p for p in world.people.values() if p.role == Role.MANAGER]
        self.signers: dict[int, int | None] = {}
        for p in world.people.values():
            ranked = sorted(
                (r for r in reviewers if r.id != p.id),
                key=lambda r: (r.role != Role.SUPERVISOR, r.department_id != p.department_id, r.id),
            )
            self.signers[p.id] = ranked[0].id if ranked else None
        self.default_signer = reviewers[0].id if reviewers else None
        self.day_start = timedelta(minutes=world.profile.work_start_minutes)
        self.cancel_reasons = _STOP_REASONS

    def date(self, o: int) -> date:
        d = self.dates.get(o)
        if d is None:
            d = self.dates[o] = date.fromordinal(o)
        return d

    # -- the sink --------------------------------------------------------------------------------------------

    def emit(self, c: Cust, p: Plan, state: str) -> int | None:
        i = self.index
        self.index += 1
        ids = self.ids
        if not ids.keep[i]:
            return None
        w, rng = self.w, self.rng
        plan_id = ids.plan_id[i]
        record_id = ids.record_id[i] if state == _DONE else 0
        created_at = p.created_at or self._planned_at(p.created)
        due = self.date(p.due)
        cancel_reason = ""
        if state == _CANCELLED:
            cancel_reason = (
                self.cancel_reasons.get(c.status, "客户暂停合作")
                if p.outcome == STOP
                else _CANCEL_REASONS[rng.randrange(len(_CANCEL_REASONS))]
            )
        elif state == _PENDING and p.due < w.today:
            self.overdue += 1
        self.plan_rows.append(
            {
                "id": plan_id,
                "customer_id": c.id,
                "source_key": p.key,
                "rule_key": p.rule,
                "visit_type": p.vtype.value,
                "method": p.method.value,
                "earliest": self.date(p.earliest),
                "due": due,
                "owner_id": p.owner,
                "attempt": p.attempt,
                "state": state,
                "cancel_reason": cancel_reason,
                "manual": p.manual,
                "done_on": self.date(p.t) if state == _DONE else None,
                "record_id": record_id or None,
                "created_at": min(created_at, w.now),
                "version": 1 + p.moves,
            }
        )
        self.plans += 1
        if record_id:
            self._record(c, p, plan_id, record_id, ids.serial[i])
        if len(self.plan_rows) >= w.profile.batch_size:
            self.flush()
        return record_id or None

    def _planned_at(self, day: int) -> datetime:
        """The catch-up at the start of the working day made it."""
        return (
            datetime.combine(self.date(day), datetime.min.time())
            + self.day_start
            - timedelta(minutes=5)
            + timedelta(seconds=self.rng.randrange(600))
        )

    # -- one record ------------------------------------------------------------------------------------------

    def _visit_moment(self, day: int, serial: int) -> datetime:
        """The n-th visit of a day: times rise with the 编号 over the working day (today: until now)."""
        w = self.w
        start = datetime.combine(self.date(day), datetime.min.time()) + self.day_start
        span = w.profile.work_minutes * 60
        if day == w.today:
            span = max(60, min(span, int((w.now - start).total_seconds()) - 60))
        n = self.ids.per_day[day]
        slot = span / n
        return start + timedelta(seconds=int((serial - 1) * slot + self.rng.random() * slot))

    def _record(self, c: Cust, p: Plan, plan_id: int, record_id: int, serial: int) -> None:
        w, rng = self.w, self.rng
        prof = w.profile
        day = p.t
        visited_at = self._visit_moment(day, serial)
        created_at = min(visited_at + timedelta(minutes=2), w.now)
        p.record_created_at = created_at
        visitor = self._visitor(c, p, rng)
        p.visitor = visitor
        result = p.result
        satisfied = result is _SUCCESS and p.level in w.scale.satisfied
        problems = measures = handling = department = answer = ""
        transfer_due = transfer_done = None
        if result is _SUCCESS:
            feedback = _FEEDBACK_GOOD[rng.randrange(len(_FEEDBACK_GOOD))]
            if not satisfied or rng.random() < prof.problem_share:
                feedback, problems, department, measures, answer = _PROBLEMS[rng.randrange(len(_PROBLEMS))]
                if rng.random() < prof.transfer_share:
                    handling = f"已转交{department}处理，处理结果将告知客户。"
                    transfer_due = visited_at + timedelta(hours=w.options.transfer_hours)
                    hours = w.options.transfer_hours
                    if rng.random() < prof.transfer_late_share:
                        transfer_done = transfer_due + timedelta(minutes=rng.randint(60, 48 * 60))
                    else:
                        transfer_done = visited_at + timedelta(
                            minutes=rng.randint(30, max(31, hours * 60 - 30))
                        )
                    if transfer_done > w.now:
                        transfer_done = None
                else:
                    department, answer = "", ""
                    handling = _ON_THE_SPOT[rng.randrange(len(_ON_THE_SPOT))]
        else:
            pool = _FEEDBACK_FAILED.get(result, ("",))
            feedback = pool[rng.randrange(len(pool))]
        status, comment, signed_by, signed_at = self._review(day, visitor, created_at, rng)
        row: dict[str, Any]
        self.record_rows.append(
            row := {
                "id": record_id,
                "number": format_visit_number(
                    self.date(day),
                    self.ids.counter_base.get(f"{VISIT_COUNTER}{self.date(day):%Y%m%d}", 0) + serial,
                ),
                "plan_id": plan_id,
                "customer_id": c.id,
                "contact_name": c.contact,
                "contact_phone": c.phone,
                "visit_type": p.vtype.value,
                "method": p.method.value,
                "visited_at": visited_at,
                "visitor_id": visitor,
                "content": w.scripts[p.vtype],
                "feedback": feedback,
                "problems": problems,
                "measures": measures,
                "satisfaction": p.level if result is _SUCCESS else "",
                "handling": handling,
                "transfer_department": department,
                "transfer_due": transfer_due,
                "transfer_done_at": transfer_done,
                "transfer_answer": answer if transfer_done is not None else "",
                "next_visit_on": self.date(p.next_on) if p.next_on else None,
                "result": result.value,
                "customer_signed": needs_signature(p.method),
                "status": status,
                "supervisor_comment": comment,
                "signed_by_id": signed_by,
                "signed_at": signed_at,
                "revision": 0,
                "created_at": created_at,
                "version": 1,
            }
        )
        self._sign(ReviewKind.RECORD, row)
        self.records += 1
        if visitor in self.clerks:
            rep = self.reports.get((visitor, day))
            if rep is None:
                rep = self.reports[(visitor, day)] = DayReport()
            rep.by_type[p.vtype.value] += 1
            rep.by_result[result.value] += 1
            if result is _SUCCESS:
                rep.satisfaction[p.level] += 1
            if problems:
                rep.problems.append(
                    (
                        visited_at,
                        record_id,
                        self.record_rows[-1]["number"],
                        c.name,
                        problems,
                        measures,
                        department,
                    )
                )

    def _visitor(self, c: Cust, p: Plan, rng: random.Random) -> int | None:
        """The plan's owner, sometimes a colleague of the same department; never the customer's own
        业务员 for the visit types the independence setting covers (when it is on)."""
        w = self.w
        owner = p.owner if p.owner in w.people else None
        team = self.colleagues.get(w.people[owner].department_id if owner is not None else None, [])
        visitor = owner
        if owner is None or (len(team) > 1 and rng.random() < w.profile.colleague_share):
            pool = [u for u in team if u != owner] or sorted(self.clerks)
            visitor = pool[rng.randrange(len(pool))] if pool else self.default_signer
        if w.independent and p.vtype.value in w.options.independent_visit_types and visitor == c.owner_id:
            pool = (
                [u for u in team if u != c.owner_id]
                or [u for u in sorted(self.clerks) if u != c.owner_id]
                or ([self.default_signer] if self.default_signer is not None else [])
            )
            visitor = pool[rng.randrange(len(pool))] if pool else visitor
        return visitor

    def _review(
        self, day: int, visitor: int | None, created_at: datetime, rng: random.Random
    ) -> tuple[str, str, int | None, datetime | None]:
        """已签字 once older than ``review_workdays``; else 待审阅, a few 退回 with the supervisor's reason."""
        w = self.w
        days = w.days
        age = days.at(w.today) - days.at(day)
        signer = (
            self.signers.get(visitor, self.default_signer) if visitor is not None else self.default_signer
        )
        if age > w.profile.review_workdays and signer is not None:
            signed_day = days.day(days.at(day) + rng.randint(1, 3))
            signed_at = datetime.combine(self.date(signed_day), datetime.min.time()) + timedelta(
                hours=14, minutes=rng.randrange(240)
            )
            signed_at = min(max(signed_at, created_at), w.now)
            comment = (
                _RECORD_COMMENTS[rng.randrange(len(_RECORD_COMMENTS))]
                if rng.random() < w.profile.comment_share
                else ""
            )
            return RECORD_SIGNED, comment, signer, signed_at
        if rng.random() < w.profile.returned_share and signer is not None:
            return RECORD_RETURNED, _RETURN_COMMENTS[rng.randrange(len(_RETURN_COMMENTS))], None, None
        return RECORD_PENDING, "", None, None

    def _sign(self, kind: ReviewKind, row: dict[str, Any]) -> None:
        """The sign-off columns as review.sign fills them: the signer's role and the two hashes."""
        if row["status"] != RECORD_SIGNED:
            row.update(signed_role="", content_hash="", signature_hash="")
            return
        role = self.w.people[row["signed_by_id"]].role
        content = content_hash(kind, row)
        row.update(
            signed_role=role,
            content_hash=content,
            signature_hash=signature_hash(
                content,
                SignOff(
                    row["signed_by_id"], role, row["signed_at"], row["supervisor_comment"], row["revision"]
                ),
            ),
        )

    # -- writing ---------------------------------------------------------------------------------------------

    def flush(self) -> None:
        assert self.conn is not None
        for model, rows in ((VisitPlan, self.plan_rows), (VisitRecord, self.record_rows)):  # plans first (FK)
            if rows:
                rows.sort(key=_by_id)  # in id order within the batch: fewer page splits
                self.conn.execute(insert(model), rows)
        self.plan_rows, self.record_rows = [], []

    def write_reports(self) -> int:
        """回访报告表 per clerk and day, as ``draft_report`` + ``save_report`` would have made them."""
        assert self.conn is not None
        w, rng = self.w, self.rng
        days = w.days
        scale = w.scale
        rows: list[dict[str, Any]] = []
        delay = w.options.report_delay_workdays
        for (clerk, day), rep in sorted(self.reports.items(), key=lambda item: (item[0][1], item[0][0])):
            due_on = w.cal.add_workdays(self.date(day), delay).toordinal()
            saved = due_on
            if rng.random() < w.profile.report_late_share:
                saved = days.day(days.at(due_on) + rng.randint(1, 3))
            saved_at = (
                datetime.combine(self.date(saved), datetime.min.time())
                + self.day_start
                + timedelta(minutes=10 + rng.randrange(170))
            )
            if saved > w.today or saved_at >= w.now:
                continue
            problems = tuple(ReportProblem(*row[1:]) for row in sorted(rep.problems))
            on_scale = {k: n for k, n in rep.satisfaction.items() if k in scale.levels}
            answered = sum(on_scale.values())
            average = sum(scale.score(k) * n for k, n in on_scale.items()) / answered if answered else None
            draft = ReportDraft(
                clerk_id=clerk,
                clerk=w.people[clerk].name,
                start=self.date(day),
                end=self.date(day),
                total=sum(rep.by_type.values()),
                by_type=visit_rules.ordered_counts(rep.by_type, (t.value for t in VisitType)),
                by_result=visit_rules.ordered_counts(rep.by_result, (r.value for r in VisitResult)),
                satisfaction=visit_rules.ordered_counts(rep.satisfaction, scale.levels),
                satisfied=sum(n for k, n in on_scale.items() if k in scale.satisfied),
                average_score=average,
                problems=problems,
                scale_key=scale.key,
            )
            signer = self.signers.get(clerk, self.default_signer)
            signed = (
                days.at(w.today) - days.at(saved) > w.profile.report_review_workdays and signer is not None
            )
            signed_at = None
            if signed:
                signed_at = datetime.combine(
                    self.date(days.day(days.at(saved) + rng.randint(1, 2))), datetime.min.time()
                ) + timedelta(hours=15, minutes=rng.randrange(180))
                signed_at = min(signed_at, w.now)
            limit = w.profile.report_text_limit
            rows.append(
                {
                    "number": "",
                    "clerk_id": clerk,
                    "period_start": draft.start,
                    "period_end": draft.end,
                    "summary": json.dumps(draft.summary(), ensure_ascii=False),
                    "problems": draft.problems_text[:limit],
                    "actions": draft.measures_text[:limit],
                    "evaluation": _evaluation(draft),
                    "status": RECORD_SIGNED if signed else REPORT_PENDING,
                    "due_on": self.date(due_on),
                    "supervisor_comment": _REPORT_COMMENTS[rng.randrange(len(_REPORT_COMMENTS))]
                    if signed
                    else "",
                    "signed_by_id": signer if signed else None,
                    "signed_at": signed_at,
                    "revision": 0,
                    "created_at": saved_at,
                    "version": 1,
                }
            )
        rows.sort(key=lambda r: (r["created_at"], r["clerk_id"]))
        per_day: Tally[str] = Tally()
        for n, row in enumerate(rows):
            saved_day: date = row["created_at"].date()
            name = f"{REPORT_COUNTER}{saved_day:%Y%m%d}"
            per_day[name] += 1
            row["id"] = self.ids.first_report_id + n
            row["number"] = format_visit_number(
                saved_day, self.ids.counter_base.get(name, 0) + per_day[name], prefix="BG"
            )
            self._sign(ReviewKind.REPORT, row)
        for i in range(0, len(rows), w.profile.batch_size):
            self.conn.execute(insert(VisitReport), rows[i : i + w.profile.batch_size])
        self.report_counters = dict(per_day)
        return len(rows)

    def write_counters(self) -> None:
        """Move the day counters past the demo's numbers, so record_visit and save_report continue them."""
        assert self.conn is not None
        wanted: dict[str, int] = {}
        for day, n in self.ids.per_day.items():
            name = f"{VISIT_COUNTER}{self.date(day):%Y%m%d}"
            wanted[name] = self.ids.counter_base.get(name, 0) + n
        for name, n in self.report_counters.items():
            wanted[name] = self.ids.counter_base.get(name, 0) + n
        existing = [n for n in wanted if n in self.ids.counter_base]
        for name in existing:
            self.conn.execute(update(Counter).where(Counter.name == name).values(value=wanted.pop(name)))
        rows = [{"name": name, "value": value} for name, value in sorted(wanted.items())]
        for i in range(0, len(rows), self.w.profile.batch_size):
            self.conn.execute(insert(Counter), rows[i : i + self.w.profile.batch_size])


def _by_id(row: dict[str, Any]) -> int:
    return int(row["id"])


def _evaluation(draft: ReportDraft) -> str:
    """评价: a sentence a clerk would write under the day's counts."""
    results = dict(draft.by_result)
    success = results.get(VisitResult.SUCCESS.value, 0)
    text_ = f"{draft.start.month}月{draft.start.day}日共回访 {draft.total} 户，成功 {success} 户"
    answered = sum(n for _, n in draft.satisfaction)
    if answered:
        text_ += f"，满意 {draft.satisfied} 户（{draft.satisfied * 100 // answered}%）"
    retry = draft.total - success - results.get(VisitResult.REFUSED.value, 0)
    text_ += "。" if not retry else f"；{retry} 户未联系上或需再次回访，已安排再次回访。"
    if draft.problems:
        text_ += f"发现问题 {len(draft.problems)} 项，已记录并跟进。"
    return text_
