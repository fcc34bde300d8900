"""The life of one demo complaint: when each step happens, and what the program did at each start
(escalation of missed deadlines, 催办) before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from huifang_desktop.demo.complaint_office import Batch, sign
from huifang_desktop.demo.complaint_specs import NEVER, Cluster, RowGenerator, Spec
from huifang_desktop.demo.complaint_steps import CaseSteps
from huifang_desktop.domain import complaints as rules
from huifang_desktop.domain.complaint_follow import Recipient
from huifang_desktop.domain.complaints import (
    ComplaintState,
    MessageKind,
)
from huifang_desktop.domain.signoff import ReviewKind, ReviewStatus

_REVIEW_PENDING, _REVIEW_RETURNED, _REVIEW_SIGNED = (
    ReviewStatus.PENDING.value,
    ReviewStatus.RETURNED.value,
    ReviewStatus.SIGNED.value,
)


# services.complaints.escalation._chase_urgent's event action and text, per missed urgent timing
_URGENT_CHASES = {
    "dispatch": ("紧急派工催办", "紧急派工逾期"),
    "report_back": ("紧急反馈催办", "紧急反馈逾期"),
}


class Case(CaseSteps):
    """One complaint's life: the steps of :class:`CaseSteps` at realistic moments before now."""

    # --- the clock: everything due before ``t`` happens first -------------------------------------------
    def reach(self, t: datetime) -> bool:
        """Advance to ``t``: repeats, withdrawal, escalation and 催办 due before it happen first. False when
        ``t`` is after now or the complaint ended (the caller stops)."""
        if self.ended:
            return False
        limit = min(t, self.env.now)
        while self.extras and self.extras[0][0] <= limit:
            at, what = self.extras.pop(0)
            self.catch_up(at)
            if what == "withdraw":
                self.withdraw(at)
                self.ended = True
                return False
            self.add_occurrence(at)
        self.catch_up(limit)
        if t > self.env.now:
            self.ended = True
            return False
        return True

    def catch_up(self, t: datetime) -> None:
        """What the program and the supervisors did up to ``t``, in time order: the ladder of a missed
        deadline (:meth:`catch_up_ladder`) and an urgent complaint's one 催办 (:meth:`urgent_chase`)."""
        chase = self.urgent_chase(t)
        if chase is not None:
            self.catch_up_ladder(chase[0])
            self.chase_urgent(*chase)
        self.catch_up_ladder(t)

    def urgent_chase(self, t: datetime) -> tuple[datetime, str] | None:
        """escalate_overdue's 催办 of an urgent complaint (services.complaints.escalation._chase_urgent): still
        待受理 past its ``dispatch_due``, or still 处理中 past its ``report_back_due``, at the first start after
        that (and after it came into that state); once each. (moment, which) when it falls by ``t``."""
        c = self.c
        if not c["urgent"]:
            return None
        which = {ComplaintState.PENDING: "dispatch", ComplaintState.IN_PROGRESS: "report_back"}.get(
            self.state
        )
        if which is None or c[f"{which}_chased_at"] is not None:
            return None
        due = c[f"{which}_due"]
        if due is None or due >= t:
            return None
        key = (which, due, self.deadline_since)
        if self.urgent_start is None or self.urgent_start[0] != key:
            self.urgent_start = (key, self.env.first_start_after(max(due, self.deadline_since)))
        at = self.urgent_start[1]
        return (at, which) if at <= t else None

    def chase_urgent(self, at: datetime, which: str) -> None:
        """One 催办 to the handler and the department head, recorded as the system; the handler keeps it."""
        c = self.c
        due = f"{c[f'{which}_due']:%Y-%m-%d %H:%M}"
        action, text = _URGENT_CHASES[which]
        told = "、".join(n for n in self.told((Recipient.HANDLER, Recipient.DEPARTMENT_HEAD)) if n)
        c["chase_count"] += 1
        c[f"{which}_chased_at"], c["escalation_seen"] = at, False
        self.seen_reset_at = at
        self.touch(at, updated=False)
        self.event(at, None, action, note=f"{text}（期限 {due}）催办：{told or '（无此级别人员）'}")

    def catch_up_ladder(self, t: datetime) -> None:
        """escalate_overdue at the first start after a missed deadline, and a supervisor's 催办 a working
        day later if it is still overdue then."""
        c, env = self.c, self.env
        deadline = c["deadline"]
        if self.state.is_final or deadline is None or deadline >= t:
            return
        notice = self.notice
        if notice is None or notice[0] != (deadline, self.deadline_since):
            start = env.escalation_moment(deadline, self.deadline_since)
            notice = self.notice = [
                (deadline, self.deadline_since),
                start,
                env.later(start, 1),
                False,
                0 if self.s.chase else NEVER,
            ]
        _key, start, chase_at, escalated, chases = notice
        if start > t:
            return
        if not escalated:
            notice[3] = True
            if (
                c["kind"] == MessageKind.COMPLAINT.value
                and rules.should_escalate(self.state, deadline, start, env.policy)
                and c["escalated_deadline"] != deadline
            ):
                self.escalate(start, deadline)
        while (
            chases < env.profile.chase_max
            and chase_at < t
            and rules.needs_chase(self.state, deadline, chase_at)
        ):
            self.chase(chase_at)
            chases += 1
            chase_at = env.later(chase_at, env.profile.chase_every_workdays)
        notice[2], notice[4] = chase_at, chases

    # --- the life of a complaint ------------------------------------------------------------------------
    def run(self) -> None:
        s, env = self.s, self.env
        reg_at = self.registration_moment(s.received_at)
        if reg_at > env.now:
            reg_at = max(s.received_at, env.now - timedelta(minutes=1))
        self.register(reg_at)
        if s.kind is MessageKind.COMPLAINT:
            self.plan_extras(reg_at)
            self.complaint_life(reg_at)
        else:
            self.message_life(reg_at)
        self.finish()

    def registration_moment(self, received: datetime) -> datetime:
        env = self.env
        minute = received.hour * 60 + received.minute
        if env.cal.is_workday(received.date()) and env.start_minutes <= minute < env.end_minutes:
            return received + timedelta(minutes=self.rng.randint(1, 15))
        return env.later(received, 0)

    def plan_extras(self, reg_at: datetime) -> None:
        s, env, rng = self.s, self.env, self.rng
        t = reg_at
        for _ in range(s.repeats):
            t = env.later(t, rng.randint(0, 3))
            self.extras.append((t, "repeat"))
        if s.withdraw:
            self.extras.append((env.later(reg_at, rng.randint(0, 3)), "withdraw"))
        self.extras.sort()

    def complaint_life(self, t: datetime) -> None:
        s, env, rng = self.s, self.env, self.rng
        if s.cluster is not None:
            self.public_letter_life(t, env.clusters[s.cluster])
            return
        urgent = self.c["urgent"]  # mostly taken on the same day, and reported back soon after the result
        t = self.step(t, "accept", (0.9, 0.1) if urgent else (0.65, 0.35))
        if not self.reach(t):
            return
        if not (s.direct_handling and s.late_stage != "handle"):
            self.accept(t)
            t = self.step(t, "handle", (0.35, 0.4, 0.2, 0.05))
            if not self.reach(t):
                return
        self.save_handling(t, second=False)
        if not rules.needs_closing_visit(s.anonymous, s.reply_only):  # the reply letter instead of a visit
            t = self.step(t, "", (1,))
            if not self.reach(t):
                return
            self.attach(t, self.handler(), "答复函", f"答复函-{self.c['number']}.pdf")
            t = self.step(t, "close", (0.6, 0.4))
            if self.reach(t):
                self.close(t, self.handler(), "已附答复函")
            return
        t = self.step(t, "", (0.95, 0.05) if urgent else (0.8, 0.2))
        if not self.reach(t):
            return
        self.finish_handling(t)
        t = self.step(t, "visit", (0.45, 0.45, 0.1))
        if s.withdraw_at_visit:
            if self.reach(t):
                self.withdraw(t)
            return
        if s.unreached:
            if not self.reach(t):
                return
            self.closing_visit(t, reached=False, satisfied=None)
            t = self.step(t, "", (0.3, 0.7))
        if s.unsatisfied:
            if not self.reach(t):
                return
            self.closing_visit(t, reached=True, satisfied=False)
            t = env.later(t, rng.randint(1, 3))
            if not self.reach(t):
                return
            self.save_handling(t, second=True)
            t = self.step(t, "", (1,))
            if not self.reach(t):
                return
            self.finish_handling(t)
            t = self.step(t, "", (0.3, 0.5, 0.2))
        if not self.reach(t):
            return
        if not self.closing_visit(t, reached=True, satisfied=True, by_clerk=s.pending_close):
            t = self.step(t, "close", (0.6, 0.4))
            if self.reach(t):
                self.close(t, self.handler(), "结案回访满意")

    def public_letter_life(self, t: datetime, cluster: Cluster) -> None:
        """Anonymous complaints about one matter: handled before the 公开信 goes out, closed after it."""
        t = self.env.later(t, 0)
        if not self.reach(t):
            return
        self.accept(t)
        span = max((cluster.letter_at - t).total_seconds(), 600.0)
        t = min(
            t + timedelta(seconds=span * self.rng.uniform(0.3, 0.9)), cluster.letter_at - timedelta(minutes=5)
        )
        if not self.reach(t):
            return
        self.save_handling(t, second=False)
        if not self.reach(cluster.letter_at):
            return
        self.attach_public_letter(cluster)
        t = self.env.later(cluster.letter_at, self.rng.randint(0, 1))
        if self.reach(t):
            self.close(t, self.handler(), "已附答复函")

    def message_life(self, t: datetime) -> None:
        s, env, rng = self.s, self.env, self.rng
        if s.convert:
            t = self.step(t, "", (0.6, 0.4))
            if not self.reach(t):
                return
            self.convert(t)
            self.plan_extras(t)
            self.complaint_life(t)
            return
        if s.withdraw:
            self.extras.append((env.later(t, rng.randint(0, 1)), "withdraw"))
        if s.kind is MessageKind.CONSULTATION:
            t = self.step(t, "reply", (0.8, 0.2))
        else:
            t = self.step(t, "reply", (0, 0.3, 0.3, 0.25, 0.15))
        if self.reach(t):
            self.reply(t)

    def finish(self) -> None:
        """At the end: what was overdue got escalated at the program's last start; the handler has seen the
        escalation / 催办 notices of all but the last day or two."""
        c = self.c
        if not self.state.is_final:
            self.ended = False
            self.reach(self.env.now)
            deadline = c["deadline"]
            if c["kind"] == MessageKind.COMPLAINT.value and deadline is not None and deadline < self.env.now:
                self.escalate(self.env.now, deadline)  # the ladder as far as the program's last start took it
        if self.state is ComplaintState.CLOSED and c["review_status"] == _REVIEW_PENDING:
            review = self.review(
                c["closed_at"], c["closed_at"], c["handler_id"], c["department_id"], c["severity"]
            )
            c.update(review_status=review.pop("status"), **review)
            if c["review_status"] != _REVIEW_PENDING:
                c["version"] += 1
            if c["review_status"] == _REVIEW_SIGNED:
                sign(ReviewKind.COMPLAINT, c, {**c, "attachments": sorted(self.files)})
        if self.state is ComplaintState.CLOSED:
            self.inquire()
        if (
            self.state.is_final
            or not c["escalation_seen"]
            and self.seen_reset_at is not None
            and self.env.now - self.seen_reset_at > timedelta(days=2)
        ):
            c["escalation_seen"] = True


def build_batch(gen: RowGenerator, specs: Sequence[Spec]) -> Batch:
    """The rows of one batch: each complaint's life replayed in turn."""
    gen.batch = Batch()
    for spec in specs:
        Case(gen, spec).run()
    gen.batch.next_ids = replace(gen.ids)
    return gen.batch
