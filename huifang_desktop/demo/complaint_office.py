"""The office as the complaint generator sees it (users, departments, customers, counters), the rows
of one batch, and the generator that keeps ids and numbers across batches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from huifang_desktop.domain import complaints as rules
from huifang_desktop.domain.complaints import (
    Severity,
)
from huifang_desktop.domain.roles import Role
from huifang_desktop.domain.signoff import ReviewKind, SignOff, content_hash, signature_hash
from huifang_desktop.storage.models import (
    Attachment,
    Complaint,
    ComplaintEvent,
    ComplaintOccurrence,
    Counter,
    Customer,
    Department,
    User,
    VisitPlan,
    VisitRecord,
)

# --- the office as it is ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    name: str
    role: Role
    department_id: int | None


@dataclass(slots=True)
class Ids:
    complaint: int
    occurrence: int
    event: int
    attachment: int
    plan: int
    record: int


@dataclass(slots=True)
class Office:
    staff: list[Person]  # active non-admin users, by id
    by_role: dict[Role, list[Person]]
    people: dict[int, Person]
    departments: list[str]
    # customers (not archived) ordered by 建档日期: parallel lists for a bisect on the day
    cust_days: list[int]
    cust_rows: list[tuple[int, int | None, int | None, str, str]]  # id, owner, department, contact, phone
    counters: dict[str, int]
    next_ids: Ids
    cust_by_id: dict[int, tuple[int, int | None, int | None, str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cust_by_id = {r[0]: r for r in self.cust_rows}


def load_office(conn: Connection) -> Office:
    staff = [
        Person(r.id, r.display_name or r.username, Role(r.role), r.department_id)
        for r in conn.execute(
            select(User.id, User.username, User.display_name, User.role, User.department_id)
            .where(User.active.is_(True), User.role != Role.ADMIN.value)
            .order_by(User.id)
        )
    ]
    by_role: dict[Role, list[Person]] = {
        r: [p for p in staff if p.role is r] for r in (Role.CLERK, Role.SUPERVISOR, Role.MANAGER)
    }
    departments = list(conn.execute(select(Department.name).order_by(Department.id)).scalars())
    days: list[int] = []
    rows: list[tuple[int, int | None, int | None, str, str]] = []
    for r in conn.execute(
        select(
            Customer.id,
            Customer.owner_id,
            Customer.department_id,
            Customer.primary_contact,
            Customer.primary_phone,
            Customer.created_on,
        )
        .where(Customer.archived.is_(False))
        .order_by(Customer.created_on, Customer.id)
    ):
        days.append(r.created_on.toordinal())
        rows.append((r.id, r.owner_id, r.department_id, r.primary_contact or "", r.primary_phone or ""))
    counters = {
        name: int(value)
        for name, value in conn.execute(
            select(Counter.name, Counter.value).where(Counter.name.like("complaint:%"))
        )
    }

    def next_id(column: Any) -> int:
        return int(conn.execute(select(func.coalesce(func.max(column), 0))).scalar() or 0) + 1

    ids = Ids(
        next_id(Complaint.id),
        next_id(ComplaintOccurrence.id),
        next_id(ComplaintEvent.id),
        next_id(Attachment.id),
        next_id(VisitPlan.id),
        next_id(VisitRecord.id),
    )
    return Office(staff, by_role, {p.id: p for p in staff}, departments, days, rows, counters, ids)


def pick_user(
    office: Office, role: Role, department_id: int | None, prefer: Sequence[int | None] = ()
) -> int | None:
    """Routing as services.complaints does it (:func:`huifang_desktop.domain.complaints.pick_user`), on the
    office's active users of ``role`` loaded once."""
    return rules.pick_user(
        [(p.id, p.department_id) for p in office.by_role.get(role, [])], department_id, prefer
    )


# --- one batch of rows ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Batch:
    complaints: list[dict[str, Any]] = field(default_factory=list)
    occurrences: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)  # numbered by _write_batch
    inquiries: list[dict[str, Any]] = field(default_factory=list)  # 查办 of complaints closed late
    counters: dict[str, int] = field(default_factory=dict)  # complaint counters moved by this batch
    next_ids: Ids | None = None


@dataclass(frozen=True, slots=True)
class Closed:
    """A closed 投诉 a later complaint may be linked to (客户不认可处理结果)."""

    id: int
    number: str
    closed_at: datetime
    subject: str
    complainant: str
    phone: str
    customer_id: int | None
    category: str
    severity: Severity
    department_id: int | None


def signer(
    office: Office,
    owner_id: int | None,
    department_id: int | None,
    allowed: Callable[[Role], bool] | None = None,
    own_ok: Callable[[Role], bool] | None = None,
) -> Person | None:
    """Who signs an item: a supervisor of the department, else any supervisor, else the manager — never the
    item's own clerk (review_rules.allow_self_sign is off by default); ``allowed(role)``: whose level the item
    asks for (a complaint file's 核决权限); ``own_ok(role)``: its own handler may sign it (a file at the top
    of the ladder, :func:`~huifang_desktop.domain.complaint_rules.own_file_signable`), when nobody else may."""
    pool = [
        p
        for p in (*office.by_role.get(Role.SUPERVISOR, ()), *office.by_role.get(Role.MANAGER, ()))
        if p.id != owner_id and (allowed is None or allowed(p.role))
    ]
    if not pool and own_ok is not None:
        pool = [p for p in office.people.values() if p.id == owner_id and own_ok(p.role)]
    return next((p for p in pool if p.department_id == department_id), pool[0] if pool else None)


def sign(kind: ReviewKind, row: dict[str, Any], values: dict[str, Any]) -> None:
    """The two hashes review.sign stores: the content's and the signature's (signer, role, time, comment)."""
    content = content_hash(kind, values)
    row["content_hash"] = content
    row["signature_hash"] = signature_hash(
        content,
        SignOff(
            row["signed_by_id"],
            row["signed_role"],
            row["signed_at"],
            row["supervisor_comment"],
            row["revision"],
        ),
    )
