"""What each demo complaint will go through (drawn first, reproducible for the seed), and the clock
of the office (working days, office hours, when the program next started).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from huifang_desktop.demo.complaint_office import Batch, Closed, Ids, Office, Person
from huifang_desktop.demo.complaint_words import PUBLIC_TOPICS, Pick
from huifang_desktop.domain import complaints as rules
from huifang_desktop.domain.complaint_rules import ComplaintRules
from huifang_desktop.domain.complaints import (
    ComplaintPolicy,
    MessageKind,
    Severity,
)
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.schedule import RuleSet
from huifang_desktop.domain.visits import (
    SatisfactionScale,
)
from huifang_desktop.domain.workcal import WorkCalendar
from huifang_desktop.services.context import SYSTEM_USER

NEVER = 10**6  # a step delay that never comes (the complaint stays at that stage)
_FAR = datetime(9999, 1, 1)


# --- what each complaint will go through ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComplaintDemoProfile:
    """Sizes and shares of the demo complaint register; every number here is a default to change."""

    years: int = 3  # complaints received over the last N years
    batch_size: int = 5000  # complaints per transaction (with their occurrences, events, visits, files)
    kind_shares: tuple[float, float, float] = (0.70, 0.20, 0.10)  # 投诉, 咨询, 建议
    severity_shares: tuple[float, float, float] = (0.80, 0.15, 0.05)  # 一般, 重要, 重大 (of 投诉)
    customer_share: float = 0.75  # linked to a customer file (the others: walk-ins, passers-by)
    anonymous_share: float = 0.04
    reply_only_share: float = 0.03  # 上级转办, only a written reply asked
    special_share: float = 0.03  # 特殊情况: the longer handling limit
    repeat_shares: tuple[float, float] = (0.06, 0.02)  # complained about 2 and 3 times
    withdraw_share: float = 0.03
    linked_share: float = 0.02  # a customer rejecting an earlier result (new complaint linked to it)
    converted_share: float = 0.03  # 投诉 that came in as a 咨询 or 建议 and were converted
    urgent_share: float = 0.2  # 重要/重大 投诉 registered 紧急, where the office's rules set urgent timings
    late_share: float = 0.05  # one step takes far longer than its deadline (overdue, escalated, 查办)
    late_workdays: tuple[int, int] = (3, 25)
    stuck_share: float = 0.004  # never finished: still open however old (long overdue, escalated, chased)
    unreached_share: float = 0.08  # first closing-visit call not answered
    unsatisfied_share: float = 0.06  # first closing visit not satisfied: handled again
    pending_close_share: float = 0.25  # 重要/重大 closing visits recorded by a clerk: wait for the handler
    direct_handling_share: float = 0.3  # handling written straight from 待受理 (takes it on)
    chase_share: float = 0.6  # overdue complaints a supervisor chases (催办)
    chase_every_workdays: int = 5  # and chases again while it stays overdue
    chase_max: int = 6  # 催办 per missed deadline at most
    scanned_letter_share: float = 0.3  # 信函 complaints whose letter is scanned in
    public_letter_every: int = 2500  # one 公开信 per N complaints (at least one from 50 on)
    public_letter_size: tuple[int, int] = (3, 8)  # complaints one 公开信 answers
    weekend_share: float = 0.03  # received on a non-working day (registered the next working day)
    after_hours_share: float = 0.06  # received after the office day
    review_workdays: int = (
        3  # closed complaints / closing-visit records older than this are signed (审阅签字)
    )
    returned_share: float = 0.05  # of the newer ones, returned (退回) to the clerk with a reason
    comment_share: float = 0.2  # signed with a 指导意见
    recent_min: int = 10  # at least this many received in the last few working days (open ones)
    recent_workdays: int = 3
    work_start: time = time(8, 30)

    def validate(self) -> None:
        errors = []
        if self.years < 1:
            errors.append(FieldError("years", "投诉年数", "至少 1 年"))
        if self.batch_size < 1:
            errors.append(FieldError("batch_size", "每批投诉数", "至少 1"))
        if self.public_letter_size[0] < 1 or self.public_letter_size[0] > self.public_letter_size[1]:
            errors.append(FieldError("public_letter_size", "公开信投诉数", "范围无效"))
        if self.late_workdays[0] < 1 or self.late_workdays[0] > self.late_workdays[1]:
            errors.append(FieldError("late_workdays", "拖延工作日", "范围无效"))
        if errors:
            raise ValidationError(errors)


@dataclass(slots=True)
class Spec:
    received_at: datetime
    kind: MessageKind  # the kind it is registered as (a converted one starts as 咨询/建议)
    convert: bool = False  # a 咨询/建议 later converted into a 投诉
    severity: Severity = Severity.NORMAL
    customer: bool = True
    anonymous: bool = False
    reply_only: bool = False
    special: bool = False
    repeats: int = 0  # further occurrences (0–2)
    withdraw: bool = False
    withdraw_at_visit: bool = False  # withdrawn while waiting for the closing visit (its plan cancelled)
    linked: bool = False
    late_stage: str = ""  # accept / handle / visit / close / reply: that step takes late_days working days
    late_days: int = 0
    unreached: bool = False
    unsatisfied: bool = False
    pending_close: bool = False
    direct_handling: bool = False
    chase: bool = False
    cluster: int | None = None  # index into Env.clusters (a shared 公开信)
    fast: bool = False  # every step minutes after the one before (a recent complaint left at one stage)
    pinned: bool = False  # set by _ensure_variety: kept out of the 公开信 groups
    urgent: bool = False  # registered 紧急 (002 制度5): dispatch and report-back deadlines in clock hours


@dataclass(slots=True)
class Cluster:
    topic: tuple[str, str, str]
    letter_at: datetime
    members: int
    attachment_id: int | None = None
    file: list[str] = field(default_factory=list)  # [sha256, name, kind] as the content hash lists it


@dataclass(slots=True)
class Env:
    rng: random.Random
    profile: ComplaintDemoProfile
    policy: ComplaintPolicy
    cal: WorkCalendar
    scale: SatisfactionScale
    rules: RuleSet
    now: datetime
    office: Office
    clusters: list[Cluster] = field(default_factory=list)
    independent: bool = True  # the visitor-independence setting (closing visits, 001 篇11)
    complaint_rules: ComplaintRules = field(default_factory=ComplaintRules)  # the rule books' extra deadlines
    seed: int = 1  # the generator's seed (for the draws kept apart from ``rng``)
    start_minutes: int = field(init=False)  # the office day, in minutes after midnight
    end_minutes: int = field(init=False)

    def __post_init__(self) -> None:
        self.start_minutes = self.profile.work_start.hour * 60 + self.profile.work_start.minute
        end = self.policy.workday_end
        self.end_minutes = max(end.hour * 60 + end.minute, self.start_minutes + 60)

    def moment(self, day: date) -> datetime:
        """A moment inside the office day ``day``."""
        minute = self.rng.randint(self.start_minutes, self.end_minutes - 10)
        return datetime.combine(day, time(minute // 60, minute % 60))

    def later(self, t: datetime, workdays: int) -> datetime:
        """``workdays`` working days after ``t`` (at a random office time), or for 0 a few minutes to hours
        later the same office day (the next working morning when the day is over)."""
        cal, rng = self.cal, self.rng
        if workdays >= NEVER:
            return _FAR
        if workdays > 0:
            return self.moment(cal.add_workdays(t.date(), workdays))
        cand = t + timedelta(minutes=rng.randint(5, 150))
        minute = cand.hour * 60 + cand.minute
        if (
            cand.date() == t.date()
            and cal.is_workday(t.date())
            and self.start_minutes <= minute
            and minute < self.end_minutes
        ):
            return cand
        day = t.date()
        if not (cal.is_workday(day) and t.hour * 60 + t.minute < self.start_minutes):
            day = cal.next_workday(day + timedelta(days=1))
        return datetime.combine(day, self.profile.work_start) + timedelta(minutes=rng.randint(1, 120))

    def escalation_moment(self, deadline: datetime, since: datetime) -> datetime:
        """When the program next started after ``deadline`` passed and the complaint had it (``since``): the
        next working morning (escalate_overdue runs at start), or now if that is still to come."""
        day = self.cal.next_workday(max(deadline, since).date() + timedelta(days=1))
        at = datetime.combine(day, self.profile.work_start) + timedelta(minutes=self.rng.randint(0, 40))
        return max(min(at, self.now), since) if deadline < self.now else at

    def first_start_after(self, t: datetime) -> datetime:
        """When the program first started after the moment ``t`` (a clock-hour deadline, any time of day): that
        working morning when ``t`` is before the office day begins, else the next working morning; now if that
        is still to come."""
        day = t.date()
        if not (self.cal.is_workday(day) and t.time() < self.profile.work_start):
            day = self.cal.next_workday(day + timedelta(days=1))
        at = datetime.combine(day, self.profile.work_start) + timedelta(minutes=self.rng.randint(0, 40))
        return max(min(at, self.now), t)


def draw_specs(env: Env, count: int) -> list[Spec]:
    """What happens to each of the ``count`` complaints, ordered by receipt; reproducible for the seed."""
    rng, p, cal, now = env.rng, env.profile, env.cal, env.now
    today = now.date()
    first = today - timedelta(days=p.years * 365)
    days = [first + timedelta(days=i) for i in range((today - first).days + 1)]
    offdays = [d for d in days if not cal.is_workday(d)]
    workdays = [d for d in days if cal.is_workday(d)] or [today]
    recent = max(0, min(count, p.recent_min))
    recent_days = workdays[-p.recent_workdays :]
    times: list[datetime] = []
    for i in range(count):
        in_recent = i >= count - recent
        for _try in range(1000):
            if in_recent:
                at = env.moment(recent_days[rng.randrange(len(recent_days))])
            elif offdays and rng.random() < p.weekend_share:
                at = env.moment(offdays[rng.randrange(len(offdays))])
            else:
                day = workdays[rng.randrange(len(workdays))]
                if rng.random() < p.after_hours_share:
                    minute = rng.randint(env.end_minutes + 5, 21 * 60)
                    at = datetime.combine(day, time(minute // 60, minute % 60))
                else:
                    at = env.moment(day)
            if at <= now - timedelta(minutes=10):
                break
            in_recent = in_recent and _try < 20  # the office day has hardly begun: take an earlier day
        else:
            at = now - timedelta(minutes=10)
        times.append(at)
    times.sort()
    kinds = Pick(tuple(MessageKind), p.kind_shares)
    severities = Pick(tuple(Severity), p.severity_shares)
    specs = [_draw_spec(env, at, kinds(rng), severities) for at in times]
    _ensure_variety(env, specs)
    specs.sort(key=lambda s: s.received_at)
    _form_clusters(env, specs)
    _mark_urgent(env, specs)
    return specs


def _draw_spec(env: Env, at: datetime, kind: MessageKind, severities: Pick[Severity]) -> Spec:
    rng, p = env.rng, env.profile
    s = Spec(received_at=at, kind=kind)
    s.customer = rng.random() < p.customer_share
    s.withdraw = rng.random() < p.withdraw_share
    s.chase = rng.random() < p.chase_share
    if rng.random() < p.late_share:
        s.late_days = rng.randint(*p.late_workdays)
        s.late_stage = (
            "reply"
            if kind is not MessageKind.COMPLAINT
            else ("accept", "handle", "handle", "visit", "close")[rng.randrange(5)]
        )
    if kind is not MessageKind.COMPLAINT:
        return s
    if rng.random() < p.converted_share:
        s.kind = MessageKind.CONSULTATION if rng.random() < 0.75 else MessageKind.SUGGESTION
        s.convert = True
    s.severity = severities(rng)
    s.special = rng.random() < p.special_share
    roll = rng.random()
    s.repeats = 2 if roll < p.repeat_shares[1] else (1 if roll < sum(p.repeat_shares) else 0)
    roll = rng.random()
    if roll < p.anonymous_share:
        s.anonymous, s.customer = True, False
    elif roll < p.anonymous_share + p.reply_only_share:
        s.reply_only = True
    s.linked = not s.anonymous and not s.convert and rng.random() < p.linked_share
    s.unreached = rng.random() < p.unreached_share
    s.unsatisfied = not s.unreached and rng.random() < p.unsatisfied_share
    s.pending_close = s.severity is not Severity.NORMAL and rng.random() < p.pending_close_share
    s.direct_handling = rng.random() < p.direct_handling_share
    if rng.random() < p.stuck_share:
        s.late_stage, s.late_days = ("accept", "handle", "visit")[rng.randrange(3)], NEVER
    return s


# Recent complaints left at each open stage: (stage that never comes, kind, severity, working days back)
_OPEN_STAGES: tuple[tuple[str, MessageKind, Severity, int], ...] = (
    ("", MessageKind.COMPLAINT, Severity.NORMAL, 2),  # closed the same day: its 投诉处理表 waits for review
    ("visit", MessageKind.COMPLAINT, Severity.NORMAL, 1),  # 待回访, its plan in the calendar
    (
        "close",
        MessageKind.COMPLAINT,
        Severity.IMPORTANT,
        1,
    ),  # 待回访, visit satisfied, waits for 主管 to close
    ("handle", MessageKind.COMPLAINT, Severity.IMPORTANT, 1),  # 处理中
    ("reply", MessageKind.CONSULTATION, Severity.NORMAL, 0),  # 咨询 not yet answered
    ("accept", MessageKind.COMPLAINT, Severity.NORMAL, 0),  # 待受理
)


def _ensure_variety(env: Env, specs: list[Spec]) -> None:
    """Make sure a small demo still shows every state and case: the newest complaints are left at each
    open stage, and a few older ones get each special case (a negligible change for a large demo)."""
    rng, cal, now = env.rng, env.cal, env.now
    n = len(specs)
    stages = _OPEN_STAGES[len(_OPEN_STAGES) - min(n, len(_OPEN_STAGES)) :]  # the newest n: 待受理 first
    for s, (stage, kind, severity, back) in zip(specs[n - len(stages) :], stages, strict=True):
        s.kind, s.severity, s.late_stage, s.late_days = kind, severity, stage, NEVER if stage else 0
        s.customer, s.fast, s.pinned, s.chase = True, True, True, False
        s.anonymous = s.reply_only = s.withdraw = s.convert = s.linked = s.special = False
        s.unreached = s.unsatisfied = s.direct_handling = False
        s.repeats = 0
        s.pending_close = stage == "close"
        day = now.date()
        since_start = (now.hour * 60 + now.minute) - env.start_minutes
        if back or not cal.is_workday(day) or since_start < 40:
            for _ in range(max(back, 1)):
                day -= timedelta(days=1)
                while not cal.is_workday(day):
                    day -= timedelta(days=1)
            minute = env.start_minutes + rng.randint(0, 90)
        else:
            minute = env.start_minutes + rng.randint(0, since_start - 25)
        s.received_at = datetime.combine(day, time(minute // 60, minute % 60))
    month_ago = now - timedelta(days=30)  # old enough to have gone through every step
    older = [
        i
        for i in range(n - len(stages))
        if specs[i].kind is MessageKind.COMPLAINT
        and not specs[i].convert
        and specs[i].received_at < month_ago
    ]
    if len(older) < 30:
        return
    cases: list[dict[str, Any]] = [  # the special cases, as changes to a drawn spec
        {"withdraw": True},
        {"withdraw_at_visit": True},
        {"anonymous": True, "customer": False},
        {"reply_only": True},
        {"repeats": 1, "late_stage": "visit", "late_days": 6},
        {"repeats": 2, "late_stage": "visit", "late_days": 8},
        {"linked": True},
        {"convert": True, "kind": MessageKind.CONSULTATION},
        {"unsatisfied": True},
        {"unreached": True},
        {"late_stage": "handle", "late_days": 8},
        {"severity": Severity.IMPORTANT},
        {"severity": Severity.MAJOR},
        {"late_stage": "handle", "late_days": NEVER, "chase": True},
        {"severity": Severity.MAJOR, "pending_close": True},
    ]
    for i, changes in zip(rng.sample(older, len(cases)), cases, strict=True):
        s = specs[i]
        s.anonymous = s.reply_only = s.withdraw = s.linked = s.unreached = s.unsatisfied = False
        s.repeats, s.late_stage, s.late_days = 0, "", 0
        s.customer, s.pinned = True, True
        for name, value in changes.items():
            setattr(s, name, value)


def _mark_urgent(env: Env, specs: list[Spec]) -> None:
    """紧急 (002 制度5), only where the office's rules set urgent timings and only for a 投诉 — what intake
    accepts (``services.complaints.rules.dispatch_due_of`` refuses the rest): a share of the 重要/重大 ones,
    and the newest 待受理 and 处理中 ones, so the register shows open urgent complaints as well. Drawn from an
    RNG of its own: the rest of the register is the same whether the office has urgent timings or not."""
    if env.complaint_rules.urgent is None:
        return
    rng, share = random.Random(f"demo-urgent:{env.seed}"), env.profile.urgent_share
    for s in specs:
        if s.kind is not MessageKind.COMPLAINT or s.cluster is not None:
            continue
        if s.pinned and s.fast:
            s.urgent = s.late_stage in ("accept", "handle")
        elif s.severity is not Severity.NORMAL:
            s.urgent = rng.random() < share


def _form_clusters(env: Env, specs: list[Spec]) -> None:
    """Groups of anonymous complaints about one matter, answered together by one 公开信."""
    rng, p = env.rng, env.profile
    n = len(specs)
    if n < 50:
        return
    batch = p.batch_size
    for _ in range(max(1, n // p.public_letter_every)):
        size = rng.randint(*p.public_letter_size)
        for _try in range(50):
            start = rng.randrange(0, max(1, n - size))
            members = list(range(start, min(start + size, n)))
            if members[0] // batch == members[-1] // batch and not any(
                specs[i].pinned or specs[i].cluster is not None for i in members
            ):
                break
        else:
            continue
        topic = PUBLIC_TOPICS[len(env.clusters) % len(PUBLIC_TOPICS)]
        last = specs[members[-1]].received_at
        env.clusters.append(Cluster(topic, env.moment(env.cal.add_workdays(last.date(), 2)), len(members)))
        for i in members:
            s = specs[i]
            s.kind, s.convert, s.cluster = MessageKind.COMPLAINT, False, len(env.clusters) - 1
            s.anonymous, s.customer, s.reply_only, s.linked, s.withdraw = True, False, False, False, False
            s.repeats, s.late_stage, s.late_days, s.severity = 0, "", 0, Severity.NORMAL


class RowGenerator:
    """Builds the rows of each batch; keeps the ids, number counters and closed complaints across batches."""

    def __init__(self, env: Env, ids: Ids, counters: dict[str, int]) -> None:
        self.env = env
        self.ids = ids
        self.counters = dict(counters)
        self.closed: list[Closed] = []
        self.batch = Batch()

    # ids and numbers
    def new_id(self, table: str) -> int:
        value: int = getattr(self.ids, table)
        setattr(self.ids, table, value + 1)
        return value

    def number(self, kind: MessageKind, when: datetime) -> str:
        """As services.complaints numbers it: the kind's pattern and the counter of its scope (domain rules),
        the serial continued from the counter's value when the generator started."""
        pattern = rules.number_pattern(kind, self.env.policy)
        name = rules.number_counter(kind, pattern, when.date())
        serial = self.counters.get(name, 0) + 1
        self.counters[name] = self.batch.counters[name] = serial
        return rules.format_complaint_number(pattern, when.date(), serial)

    def event(
        self,
        complaint_id: int,
        at: datetime,
        actor: Person | None,
        action: str,
        *,
        from_state: str = "",
        to_state: str = "",
        note: str = "",
    ) -> None:
        self.batch.events.append(
            {
                "id": self.new_id("event"),
                "complaint_id": complaint_id,
                "at": at,
                "user_id": actor.id if actor else None,
                "username": actor.name if actor else SYSTEM_USER.display_name,
                "action": action,
                "from_state": from_state,
                "to_state": to_state,
                "note": note,
            }
        )

    def linked_candidate(self, at: datetime) -> Closed | None:
        window = timedelta(days=60)
        eligible = [
            c
            for c in self.closed[-300:]
            if c.closed_at < at - timedelta(hours=2) and at - c.closed_at <= window
        ]
        return eligible[self.env.rng.randrange(len(eligible))] if eligible else None
