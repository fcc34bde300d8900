"""A staff hand-over in the demo office's history (工作交接): a clerk left some weeks before today, and their
customer files, pending visit plans and open complaints went to a colleague of their department.

The hand-over itself is the program's: the administrator's 停用 with hand-over
(:func:`huifang_desktop.services.handover.disable_user`) run with the office's clock at the leaving day, so
its rules (files spread over the successors, a plan follows its customer, a complaint goes to a successor of
its level, each plan's owner change kept with the day for the 考核) and its audit trail (工作交接, 移交客户,
转交投诉, 停用用户) are what the office would have.

What the leaver held on that day is set up first, from the history the generators wrote (they know one owner
per customer file, so they wrote the colleague as the owner throughout): a share of the colleague's files
that existed then, the plans on them made before the day and still pending, and the colleague's open
complaints received before the day (a clerk holding one is the one who leaves, if there is such a clerk), are
given to the leaver; then the service hands them back. The visit records
made before the day stay as generated (the colleague's).

The leaver is made after the histories (so no generator gives them work after they left); they are not one of
the sample accounts (not in the example office's marker, their password is not shown) and end inactive, so
the log-in dialog never lists them.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime, time, timedelta

from argon2 import PasswordHasher
from sqlalchemy import select, update

from huifang_desktop.demo.customers import person_name
from huifang_desktop.domain.complaints import OPEN_STATES
from huifang_desktop.domain.roles import Role
from huifang_desktop.domain.visits import PlanState
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.handover import HandoverResult, disable_user
from huifang_desktop.services.policy import work_calendar
from huifang_desktop.services.users import create_user
from huifang_desktop.storage.models import Complaint, Customer, Department, User, VisitPlan

LEAVER_USERNAME = "former_clerk"
HANDOVER_NOTE = "离职"
WEEKS_AGO = 5  # the leaving day: the first working day from this many weeks before today
LEFT_AT = time(16, 30)
FILE_SHARE = 8  # the leaver had one file in N of the colleague's (those that existed then) …
MAX_FILES = 15  # … at most this many: the service's per-file rows and audit entries are the hand-over's cost


def seed_handover(
    ctx: ServiceContext, seed: int, hasher: PasswordHasher | None = None
) -> HandoverResult | None:
    """One hand-over in the history (see the module doc); None when the office has no clerk with files from
    before the leaving day, or already has the leaver. Deterministic for ``seed`` and the database."""
    rng = random.Random(f"demo-handover:{seed}")
    day = work_calendar(ctx).next_workday(ctx.today() - timedelta(weeks=WEEKS_AGO))
    at = datetime.combine(day, LEFT_AT)
    with ctx.engine.connect() as conn:
        users = conn.execute(
            select(
                User.id, User.username, User.display_name, User.role, User.department_id, User.active
            ).order_by(User.id)
        ).all()
        if any(u.username == LEAVER_USERNAME for u in users):
            return None
        open_states = [s.value for s in OPEN_STATES]
        holding = set(  # clerks with an open complaint from before the day: one of them leaves, if any
            conn.execute(
                select(Complaint.handler_id).where(
                    Complaint.state.in_(open_states), Complaint.received_at < at
                )
            ).scalars()
        )
        colleague, files = None, []
        for u in sorted(users, key=lambda u: (u.id not in holding, u.id)):
            if u.role == Role.CLERK.value and u.active:
                files = list(
                    conn.execute(
                        select(Customer.id)
                        .where(Customer.owner_id == u.id, Customer.created_on < day)
                        .order_by(Customer.id)
                    ).scalars()
                )
                if files:
                    colleague = u
                    break
        admin = next((u for u in users if u.role == Role.ADMIN.value and u.active), None)
        if colleague is None or not files:
            return None
        department = conn.execute(
            select(Department.name).where(Department.id == colleague.department_id)
        ).scalar()
    names = {u.display_name for u in users}
    name = person_name(rng)
    while name in names:
        name = person_name(rng)
    leaver = create_user(
        ctx, LEAVER_USERNAME, name, Role.CLERK, secrets.token_urlsafe(12), department or "", hasher=hasher
    )
    held = sorted(rng.sample(files, min(MAX_FILES, max(1, len(files) // FILE_SHARE))))
    with ctx.engine.begin() as conn:  # what the leaver held on the day
        conn.execute(update(Customer).where(Customer.id.in_(held)).values(owner_id=leaver.id))
        conn.execute(
            update(VisitPlan)
            .where(
                VisitPlan.customer_id.in_(held),
                VisitPlan.owner_id == colleague.id,
                VisitPlan.state == PlanState.PENDING.value,
                VisitPlan.created_at < at,
            )
            .values(owner_id=leaver.id)
        )
        conn.execute(
            update(Complaint)
            .where(
                Complaint.handler_id == colleague.id,
                Complaint.state.in_(open_states),
                Complaint.received_at < at,
            )
            .values(handler_id=leaver.id)
        )
    actor = (
        UserInfo(admin.id, admin.username, admin.display_name, Role.ADMIN, admin.department_id)
        if admin is not None
        else ctx.user
    )
    on_the_day = ServiceContext(ctx.engine, ctx.sessions, actor, lambda: at)
    return disable_user(on_the_day, leaver.id, [colleague.id], HANDOVER_NOTE)


__all__ = ["HANDOVER_NOTE", "LEAVER_USERNAME", "seed_handover"]
