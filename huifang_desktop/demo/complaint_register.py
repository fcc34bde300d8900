"""Registering one demo complaint (numbered, routed, its deadlines and first events) as
:func:`huifang_desktop.services.complaints.register` does; a step of :class:`~huifang_desktop.demo.complaint_steps.CaseSteps`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from huifang_desktop.demo.complaint_office import pick_user
from huifang_desktop.demo.complaint_words import (
    ANONYMOUS_CHANNELS,
    CHANNELS,
    CONSULTATIONS,
    SUGGESTIONS,
    mobile,
    person_name,
)
from huifang_desktop.domain import complaints as rules
from huifang_desktop.domain.complaints import (
    Channel,
    ComplaintState,
    MessageKind,
    Severity,
)
from huifang_desktop.domain.roles import Role
from huifang_desktop.services.complaints.rules import dispatch_due_of


def register_case(steps: Any, at: datetime) -> None:
    """:meth:`CaseSteps.register <huifang_desktop.demo.complaint_steps.CaseSteps.register>`."""
    g, s, env, rng = steps.g, steps.s, steps.env, steps.rng
    office, policy = env.office, env.policy
    clerks = office.by_role.get(Role.CLERK) or office.staff
    steps.registrar = (
        clerks[rng.randrange(len(clerks))]
        if rng.random() < 0.9 or not office.by_role.get(Role.SUPERVISOR)
        else office.by_role[Role.SUPERVISOR][0]
    )
    if s.pinned and s.late_stage == "accept" and office.by_role.get(Role.SUPERVISOR):
        steps.registrar = office.by_role[Role.SUPERVISOR][0]  # taken by the supervisor: not yet seen
    kind = s.kind
    linked = g.linked_candidate(s.received_at) if s.linked else None
    channel = (
        Channel.REFERRED.value
        if s.reply_only
        else (ANONYMOUS_CHANNELS(rng) if s.anonymous else CHANNELS(rng))
    )
    category, severity = "", Severity.NORMAL
    if kind is MessageKind.COMPLAINT:
        category = policy.categories[rng.randrange(len(policy.categories))]
        severity = s.severity
    if s.cluster is not None:
        topic = env.clusters[s.cluster].topic
        category = topic[1] if topic[1] in policy.categories else category
        subject, content = topic[0], f"反映{topic[0]}的问题。"
        steps.texts = (
            subject,
            content,
            "已核实反映的情况。",
            "管理不到位",
            "统一整改并发布公开信说明",
            "已发布公开信答复",
        )
    elif kind is MessageKind.COMPLAINT:
        steps.texts = steps.case_texts(category)
        subject, content = steps.texts[0], steps.texts[1]
    else:
        pool = CONSULTATIONS if kind is MessageKind.CONSULTATION else SUGGESTIONS
        subject, reply = pool[rng.randrange(len(pool))]
        content = f"客户询问：{subject}。" if kind is MessageKind.CONSULTATION else f"客户建议：{subject}。"
        steps.texts = (subject, content, "", "", "", reply)
    complainant, phone, customer_id, dep = "", "", None, None
    if linked is not None:
        complainant, phone, customer_id, dep = (
            linked.complainant,
            linked.phone,
            linked.customer_id,
            linked.department_id,
        )
        category, severity = linked.category, linked.severity
        subject, content = (
            f"（不认可处理结果）{linked.subject}"[:200],
            f"客户不认可投诉 {linked.number} 的处理结果。",
        )
        steps.texts = (
            subject,
            content,
            f"复查投诉 {linked.number} 的处理情况。",
            "原处理方案未能解决客户的问题",
            "重新制定处理方案并由主管跟进",
            "已按新方案处理完毕",
        )
        steps.customer = office.cust_by_id.get(customer_id) if customer_id is not None else None
    elif not s.anonymous:
        steps.customer = steps.pick_customer(s.received_at.date()) if s.customer else None
        if steps.customer is not None:
            customer_id, complainant, phone, dep = (
                steps.customer[0],
                steps.customer[3],
                steps.customer[4],
                steps.customer[2],
            )
            complainant = complainant or person_name(rng)
        else:
            complainant, phone = person_name(rng), mobile(rng)
    dep = dep or steps.registrar.department_id
    role = rules.handler_role(severity, policy)
    prefer: list[int | None] = []
    if role is Role.CLERK:
        prefer = [steps.customer[1] if steps.customer else None, steps.registrar.id]
    elif steps.registrar.role is role:
        prefer = [steps.registrar.id]
    handler = pick_user(office, role, dep, prefer)
    dl = rules.deadlines(s.received_at, kind, severity, policy, env.cal, special=s.special)
    cid = g.new_id("complaint")
    steps.c = c = {
        "id": cid,
        "number": g.number(kind, s.received_at),
        "kind": kind.value,
        "received_at": s.received_at,
        "channel": channel,
        "complainant": complainant,
        "anonymous": s.anonymous,
        "phone": phone,
        "customer_id": customer_id,
        "subject": subject,
        "content": content,
        "category": category,
        "severity": severity.value,
        "special": s.special,
        "reply_only": s.reply_only,
        "department_id": dep,
        "handler_id": handler,
        "handler_role": role.value,
        "state": ComplaintState.PENDING.value,
        "first_reply_due": dl.first_reply,
        "handling_due": dl.handling,
        "deadline": dl.first_reply,
        "accepted_at": None,
        "investigation": "",
        "cause": "",
        "measures": "",
        "result": "",
        "replied_at": None,
        "reply_way": "",
        "reply_text": "",
        "handled_at": None,
        "visit_round": 0,
        "visit_plan_id": None,
        "visit_due": None,
        "visit_record_id": None,
        "visited_at": None,
        "visit_satisfied": None,
        "satisfaction": "",
        "visit_note": "",
        "closed_at": None,
        "withdraw_reason": "",
        "escalation_level": 0,
        "escalated_at": None,
        "escalated_deadline": None,
        "escalation_seen": handler == steps.registrar.id,
        "chase_count": 0,
        "linked_to_id": linked.id if linked else None,
        "converted_from": "",
        "occurrences": 1,
        "created_by_id": steps.registrar.id,
        "first_responder_id": steps.registrar.id,
        "chase_rung": 0,
        "reply_due": steps.reply_due(kind, s.received_at, dl.handling),
        "urgent": False,
        "dispatch_due": None,
        "report_back_due": None,
        "dispatch_chased_at": None,
        "report_back_chased_at": None,
        "created_at": at,
        "updated_at": at,
        "review_status": "",
        "supervisor_comment": "",
        "signed_by_id": None,
        "signed_at": None,
        "signed_role": "",
        "content_hash": "",
        "signature_hash": "",
        "revision": 0,
        "version": 1,
    }
    if s.urgent:  # as intake: passed to the department within N clock hours of receipt (002 制度5 §2)
        c["urgent"], c["dispatch_due"] = True, dispatch_due_of(kind, s.received_at, env.complaint_rules)
    steps.deadline_since = at
    if not c["escalation_seen"]:
        steps.seen_reset_at = at
    g.batch.complaints.append(c)
    g.batch.occurrences.append(
        {
            "id": g.new_id("occurrence"),
            "complaint_id": cid,
            "received_at": s.received_at,
            "channel": channel,
            "complainant": complainant,
            "phone": phone,
            "received_by": steps.registrar.name,
            "note": "",
            "created_by_id": steps.registrar.id,
            "created_at": at,
        }
    )
    note = f"负责人：{steps.name(handler) or '（未指定）'}（{role.label}），处理期限 {dl.handling:%Y-%m-%d %H:%M}"
    if linked is not None:
        note += f"；客户不认可 {linked.number} 的处理结果"
        g.event(linked.id, at, steps.registrar, "客户不认可", note=f"新投诉 {c['number']}")
    steps.event(at, steps.registrar, f"登记{kind.value}", to_state=str(c["state"]), note=note)
    if channel == Channel.LETTER.value and rng.random() < env.profile.scanned_letter_share:
        scanned_at = at + timedelta(minutes=rng.randint(1, 4))  # before any next step (≥ 5 min)
        if scanned_at <= env.now:
            steps.attach(scanned_at, steps.registrar, "扫描件", f"来信扫描件-{c['number']}.pdf")
