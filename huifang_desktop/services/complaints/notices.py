"""Follow-up notices (提醒) of the complaint register: the queue behind the reminder and the tray.

Progress feedback to the 首问责任人 (002 制度5 §8) is queued by :func:`_queue_feedback`, which the register's
one event writer calls for every step; the 催办 ladder, 督办 and 查办 queue theirs with :func:`queue`. A notice
is to one user, has the moment it is due by (step + the set hours for feedback) and is seen when that user
opens the register. Low level on purpose: nothing here imports the other complaint modules.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huifang_desktop.domain.complaint_follow import (
    FollowPolicy,
    NoticeKind,
    feedback_due,
    feedback_text,
    needs_feedback,
)
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.storage.models import Complaint, ComplaintNotice, Setting, User

FOLLOW_KEY = "complaint_follow"


def follow_policy_in(s: Session) -> FollowPolicy:
    """The office's follow-up settings, read in an open session."""
    row = s.get(Setting, FOLLOW_KEY)
    return FollowPolicy() if row is None else FollowPolicy.from_dict(json.loads(row.value))


def queue(
    s: Session,
    c: Complaint,
    user_id: int | None,
    kind: NoticeKind,
    note: str,
    at: datetime,
    due_at: datetime | None = None,
) -> bool:
    """One notice to ``user_id`` (nobody: nothing queued). Returns whether one was queued."""
    if user_id is None:
        return False
    s.add(
        ComplaintNotice(
            complaint_id=c.id,
            user_id=user_id,
            kind=kind.value,
            note=note[:200],
            created_at=at,
            due_at=due_at,
            seen_at=None,
        )
    )
    return True


def _queue_feedback(s: Session, ctx: ServiceContext, c: Complaint, action: str, note: str = "") -> bool:
    """A step of the case (受理, 转交, 处理完毕, 答复客户, 结案回访, 关闭, 撤销) reported back to the
    首问责任人, due within the set hours; nothing when they made the step themselves."""
    actor = ctx.user.id or None
    if not needs_feedback(action, actor, c.first_responder_id):
        return False
    now = ctx.now()
    who = ctx.user.display_name or ctx.user.username
    text = f"{c.number} {feedback_text(action)}（{who}）" + (f"：{note}" if note else "")
    return queue(
        s, c, c.first_responder_id, NoticeKind.FEEDBACK, text, now, feedback_due(now, follow_policy_in(s))
    )


def _first_responder(s: Session, ctx: ServiceContext, chosen: int | None) -> int | None:
    """The 首问责任人 at intake: the chosen user (active), else whoever registers the complaint."""
    if chosen is None:
        return ctx.user.id or None
    u = s.get(User, chosen)
    if u is None or not u.active:
        raise ValidationError(FieldError("first_responder_id", "首问责任人", "所选首问责任人不存在或已停用"))
    return u.id


def unseen_count(s: Session, user_id: int) -> int:
    q = select(func.count(ComplaintNotice.id)).where(
        ComplaintNotice.user_id == user_id, ComplaintNotice.seen_at.is_(None)
    )
    return int(s.execute(q).scalar() or 0)
