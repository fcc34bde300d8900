"""The 投诉处理表 of one complaint, with its history, reply and signatures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from huifang_desktop.domain.complaint_rules import SIGN_LABELS, signature_boxes
from huifang_desktop.domain.complaints import ComplaintState
from huifang_desktop.domain.roles import Role
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.printing.documents import PrintedDocument, _print_settings_in
from huifang_desktop.services.printing.rendering import _form_document, _signature, _tampered
from huifang_desktop.services.visits import RECORD_SIGNED
from huifang_desktop.storage.models import Complaint, ComplaintEvent, Customer, Department, User

# --- 投诉处理表 -------------------------------------------------------------------------------------------

COMPLAINT_FORM = "complaint"


def _signature_boxes(
    ctx: ServiceContext, c: Complaint, handler: str, signer: str
) -> dict[str, tuple[str, Any]]:
    """The signature boxes by the authority table (核决权限, 002 制度3 §6): the handler, the level that must sign
    (a 重大 file prints the 公司经理 box, empty until the manager signs), and the signer's level when it differs."""
    from huifang_desktop.services.complaints.rules import load_complaint_rules

    signed_role = Role(c.signed_role) if signer and c.signed_role in {r.value for r in Role} else None
    boxes = signature_boxes(c.severity, load_complaint_rules(ctx), signed_role)
    out: dict[str, tuple[str, Any]] = {box: ("", None) for box in boxes}
    if handler and c.handled_at is not None:
        out[SIGN_LABELS[Role.CLERK]] = (handler, c.handled_at)
    if signed_role is not None:
        out[SIGN_LABELS[signed_role]] = (signer, c.signed_at)
    return out


def complaint_pdf(
    ctx: ServiceContext, complaint_id: int, out: str | Path | None = None, *, forms_dir: Path | None = None
) -> PrintedDocument:
    """The filled 投诉处理表 with its state history, the reply (答复内容) and signatures (the handler and
    the boxes the authority table asks, :func:`_signature_boxes`; kept on the page of the history); open and not yet signed off → 草稿
    watermark (a closed or withdrawn complaint is final: no watermark); changed after signing → 签字后被修改.
    客户满意度 offers the office's satisfaction scale."""
    from huifang_desktop.printing import FormJob
    from huifang_desktop.services.complaints import get_complaint

    detail = get_complaint(ctx, complaint_id)  # checks visibility
    with ctx.sessions() as s:
        options, _office, levels = _print_settings_in(s)
        c = s.get(Complaint, complaint_id)
        assert c is not None
        customer = s.get(Customer, c.customer_id) if c.customer_id else None
        department = s.get(Department, c.department_id) if c.department_id else None
        signer = s.get(User, c.signed_by_id) if c.signed_by_id else None
        first = s.get(User, c.first_responder_id) if c.first_responder_id else None
        events = (
            s.execute(
                select(ComplaintEvent)
                .where(ComplaintEvent.complaint_id == c.id)
                .order_by(ComplaintEvent.at, ComplaintEvent.id)
            )
            .scalars()
            .all()
        )
        signed = c.review_status == RECORD_SIGNED and signer is not None
        tampered = _tampered(s, "投诉处理表", c.id) if c.review_status or c.content_hash else False
        visit = ""
        if c.visit_satisfied is not None:
            visit = ("满意" if c.visit_satisfied else "不满意") + (
                f"（{c.visited_at:%Y-%m-%d}）" if c.visited_at else ""
            )
        elif c.state == "待回访" and c.visit_due:
            visit = f"待回访（{c.visit_due:%Y-%m-%d} 前）"
        signatures = _signature_boxes(
            ctx, c, detail.row.handler, signer.display_name if signed and signer else ""
        )
        values = {
            "number": c.number,
            "received_at": c.received_at,
            "state": c.state,
            "channel": c.channel,
            "complainant": detail.row.complainant,
            "contact": detail.row.phone,
            "customer_name": customer.name if customer else "",
            "subject": c.subject,
            "content": c.content,
            "category": c.category,
            "severity": c.severity,
            "deadline": c.handling_due,
            "handler": detail.row.handler,
            "department": department.name if department else "",
            "first_responder": (first.display_name or first.username) if first else "",  # 002 制度5 §8
            "investigation": c.investigation,
            "cause": c.cause,
            "measures": c.measures,
            "result": c.result,
            "reply_at": c.replied_at,
            "reply_way": c.reply_way,
            "reply_text": c.reply_text,
            "closing_visit": visit,
            "satisfaction": c.satisfaction,
            "satisfaction_levels": list(levels),
            "history": [
                {
                    "time": f"{e.at:%Y-%m-%d %H:%M}",
                    "user": e.username,
                    "action": e.action,
                    "note": (f"{e.from_state}→{e.to_state} " if e.to_state and e.from_state else "") + e.note,
                }
                for e in events
            ],
            "signatures": signatures,
            "supervisor_comment": c.supervisor_comment if signed else "",
        }
        final = c.state in (ComplaintState.CLOSED.value, ComplaintState.WITHDRAWN.value)
        job = FormJob(
            values,
            draft=options.watermark_unsigned and not signed and not final,
            signed=_signature(options, signer.display_name, c.signed_at, c.signed_role)
            if signed and signer is not None
            else None,
            revision=c.revision or 0,
            tampered=tampered,
        )
        number = c.number
    return _form_document(
        ctx,
        COMPLAINT_FORM,
        [job],
        entity="complaint",
        entity_id=complaint_id,
        label=f"{number} {detail.row.subject}",
        title=f"投诉处理表 {number}",
        file_name=f"投诉处理表_{number}.pdf",
        forms_dir=forms_dir,
        out=out,
    )
