"""Typed SQLAlchemy 2 models. Every schema change here needs an Alembic migration in migrations/versions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Department(Base):
    __tablename__ = "department"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    # the supervisor heading the department (migration 0011); use_alter: user_account refers to department too
    head_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", use_alter=True))


class User(Base):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # the signing key (services.signing, migration 0010): Ed25519 public key (hex) and the private key
    # encrypted under a key derived from the password (JSON); empty until the password is next known
    public_key: Mapped[str] = mapped_column(String(64), default="")
    key_box: Mapped[str] = mapped_column(Text, default="")

    department: Mapped[Department | None] = relationship(lazy="joined", foreign_keys=[department_id])


class Customer(Base):
    """客户档案."""

    __tablename__ = "customer"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # 客户编号 KH000123
    name: Mapped[str] = mapped_column(String(100), index=True)
    initials: Mapped[str] = mapped_column(String(100), index=True)  # pinyin initials 张三 → zs
    kind: Mapped[str] = mapped_column(String(10), default="单位")
    category: Mapped[str] = mapped_column(String(20), default="普通", index=True)
    grade: Mapped[str] = mapped_column(String(10), default="D", index=True)
    grade_pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    grade_reason: Mapped[str] = mapped_column(String(200), default="")
    grade_since: Mapped[date | None] = mapped_column(Date)  # the day the current class began (None: 建档日期)
    annual_volume: Mapped[int] = mapped_column(Integer, default=0)
    address: Mapped[str] = mapped_column(String(200), default="")
    region: Mapped[str] = mapped_column(String(50), default="", index=True)
    source: Mapped[str] = mapped_column(String(20), default="")
    industry: Mapped[str] = mapped_column(String(50), default="")
    birthday: Mapped[date | None] = mapped_column(Date)
    created_on: Mapped[date] = mapped_column(Date, index=True)  # 建档日期
    status: Mapped[str] = mapped_column(String(10), default="正常", index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    primary_phone: Mapped[str] = mapped_column(String(30), default="")  # denormalised for the table
    primary_contact: Mapped[str] = mapped_column(String(50), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    contacts: Mapped[list[Contact]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", lazy="selectin", order_by="Contact.id"
    )
    owner: Mapped[User | None] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}


class Contact(Base):
    __tablename__ = "contact"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(30), index=True)
    mobile: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(50), default="")
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)

    customer: Mapped[Customer] = relationship(back_populates="contacts")


class PhoneSuffix(Base):
    """Every ending of 4+ digits of every phone number of a customer (its contacts' 电话 and 手机, and the
    file's 主要电话): a run of digits typed anywhere in a number is an index range on ``suffix``
    (storage.queries.customer_text_condition). Rewritten with the customer's contacts by every write that
    changes them (storage.phone_index)."""

    __tablename__ = "contact_phone_suffix"
    suffix: Mapped[str] = mapped_column(String(30))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)

    # A unique index, not a primary key: migration 0012 builds it after filling the table (one sort).
    __table_args__ = (Index("ux_contact_phone_suffix", "suffix", "customer_id", unique=True),)
    __mapper_args__ = {"primary_key": [suffix, customer_id]}


class CustomerClass(Base):
    """Class history (等级记录): one row per class a customer had, from ``since`` (domain.md §3)."""

    __tablename__ = "customer_class"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    grade: Mapped[str] = mapped_column(String(10))
    since: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(10))  # 自动 / 指定 / 取消指定 / 导入 / 建档
    reason: Mapped[str] = mapped_column(String(200), default="")
    volume: Mapped[int] = mapped_column(Integer, default=0)
    value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_customer_class_customer_since", "customer_id", "since"),)


class Purchase(Base):
    """购货/交货记录 (purchases and deliveries)."""

    __tablename__ = "purchase"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10), default="购货")  # 购货 / 交货
    product: Mapped[str] = mapped_column(String(100))
    spec: Mapped[str] = mapped_column(String(100), default="")
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    warranty_end: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_purchase_customer_day", "customer_id", "day"),)


class AuditLog(Base):
    """Append-only log: who did what, when, to which record, old → new."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    username: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40), index=True)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200), default="")
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    # the hash chain (domain.chain, migration 0010): position, the previous row's hash, this row's hash
    seq: Mapped[int | None] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    row_hash: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (
        Index("ix_audit_log_entity", "entity", "entity_id"),
        Index("ux_audit_log_seq", "seq", unique=True),
    )


class Setting(Base):
    __tablename__ = "setting"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # JSON


class Counter(Base):
    """Number sequences (客户编号, 回访编号, 投诉编号), one row per scope; unique across PCs."""

    __tablename__ = "counter"
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class VisitPlan(Base):
    """回访计划: one planned visit from a rule, a trigger or by hand. 逾期 is derived, never stored."""

    __tablename__ = "visit_plan"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    source_key: Mapped[str] = mapped_column(String(120), unique=True)  # idempotency key from the rule engine
    rule_key: Mapped[str] = mapped_column(String(60), default="manual")
    visit_type: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(10))
    earliest: Mapped[date] = mapped_column(Date)
    due: Mapped[date] = mapped_column(Date)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(10), default="待回访")
    cancel_reason: Mapped[str] = mapped_column(String(200), default="")
    manual: Mapped[bool] = mapped_column(
        Boolean, default=False
    )  # edited or moved by hand: kept on regenerate
    done_on: Mapped[date | None] = mapped_column(Date)
    record_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (
        # the calendar's day counts; the statistics read the counted columns from the index alone (0009)
        Index(
            "ix_visit_plan_due_state_owner", "due", "state", "owner_id", "visit_type", "rule_key", "done_on"
        ),
        Index("ix_visit_plan_state_due", "state", "due"),  # pending and overdue plans
        Index("ix_visit_plan_owner_due", "owner_id", "due", "state", "visit_type", "rule_key", "done_on"),
    )
    __mapper_args__ = {"version_id_col": version}


class VisitRecord(Base):
    """回访记录表 (domain.md §5)."""

    __tablename__ = "visit_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)  # HF20261122-003
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("visit_plan.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    contact_name: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    visit_type: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(10))
    visited_at: Mapped[datetime] = mapped_column(DateTime)
    visitor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    content: Mapped[str] = mapped_column(Text, default="")  # 回访内容
    feedback: Mapped[str] = mapped_column(Text, default="")  # 客户意见/反馈
    problems: Mapped[str] = mapped_column(Text, default="")  # 问题点
    measures: Mapped[str] = mapped_column(Text, default="")  # 改善对策
    satisfaction: Mapped[str] = mapped_column(String(20), default="")
    handling: Mapped[str] = mapped_column(Text, default="")  # 处理情况
    transfer_department: Mapped[str] = mapped_column(String(50), default="")  # 转交部门
    transfer_due: Mapped[datetime | None] = mapped_column(DateTime)  # 24 h after the visit
    transfer_done_at: Mapped[datetime | None] = mapped_column(DateTime)
    transfer_answer: Mapped[str] = mapped_column(Text, default="")
    next_visit_on: Mapped[date | None] = mapped_column(Date)
    result: Mapped[str] = mapped_column(String(10))
    customer_signed: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), default="待审阅")  # 草稿/待审阅/退回/已签字
    supervisor_comment: Mapped[str] = mapped_column(Text, default="")
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    signed_role: Mapped[str] = mapped_column(String(20), default="")  # the signer's role when signing
    content_hash: Mapped[str] = mapped_column(String(64), default="")  # domain.signoff.content_hash
    signature_hash: Mapped[str] = mapped_column(String(64), default="")  # domain.signoff.signature_hash
    signature: Mapped[str] = mapped_column(
        String(128), default=""
    )  # Ed25519 over domain.signoff.sign_message
    signed_seq: Mapped[int | None] = mapped_column(Integer)  # audit-chain position of the sign-off
    revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # the signed paper form of an on-site visit came back (scan-back, 签字单 已回收), migration 0013
    signed_form_received_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        # the statistics read the counted columns from the index alone (migration 0009)
        Index("ix_visit_record_visited_at", "visited_at", "satisfaction"),
        Index(
            "ix_visit_record_visitor_at",
            "visitor_id",
            "visited_at",
            "visit_type",
            "result",
            "satisfaction",
            "transfer_due",
            "transfer_done_at",
        ),
        Index("ix_visit_record_status", "status"),
    )
    __mapper_args__ = {"version_id_col": version}


class VisitReport(Base):
    """回访报告表: a clerk's summary of a day's or period's visits, filled the next day (domain.md §5)."""

    __tablename__ = "visit_report"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    clerk_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text, default="{}")  # JSON: counts by type/result, satisfaction
    problems: Mapped[str] = mapped_column(Text, default="")
    actions: Mapped[str] = mapped_column(Text, default="")
    evaluation: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="草稿")
    due_on: Mapped[date] = mapped_column(Date)
    supervisor_comment: Mapped[str] = mapped_column(Text, default="")
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    signed_role: Mapped[str] = mapped_column(String(20), default="")  # the signer's role when signing
    content_hash: Mapped[str] = mapped_column(String(64), default="")  # domain.signoff.content_hash
    signature_hash: Mapped[str] = mapped_column(String(64), default="")  # domain.signoff.signature_hash
    signature: Mapped[str] = mapped_column(
        String(128), default=""
    )  # Ed25519 over domain.signoff.sign_message
    signed_seq: Mapped[int | None] = mapped_column(Integer)  # audit-chain position of the sign-off
    revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (
        Index("ix_visit_report_clerk_period", "clerk_id", "period_start"),
        Index("ix_visit_report_status", "status"),
    )
    __mapper_args__ = {"version_id_col": version}


class Complaint(Base):
    """投诉登记 / 投诉处理表 (domain.md §7); also logs 咨询 and 建议 (``kind``). 逾期 is derived from
    ``deadline`` (the deadline of the current state), which the services keep up to date on every change."""

    __tablename__ = "complaint"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)  # TS20261124-001
    kind: Mapped[str] = mapped_column(String(10), default="投诉")  # 投诉/咨询/建议
    received_at: Mapped[datetime] = mapped_column(DateTime)
    channel: Mapped[str] = mapped_column(String(10))
    complainant: Mapped[str] = mapped_column(String(50), default="")
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str] = mapped_column(String(30), default="")  # normalised digits
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    subject: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(30), default="")
    severity: Mapped[str] = mapped_column(String(10), default="一般")
    special: Mapped[bool] = mapped_column(Boolean, default=False)  # 特殊情况: longer handling limit
    reply_only: Mapped[bool] = mapped_column(Boolean, default=False)  # 上级只要求书面答复
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    handler_role: Mapped[str] = mapped_column(String(20), default="clerk")
    state: Mapped[str] = mapped_column(String(10), default="待受理")
    first_reply_due: Mapped[datetime] = mapped_column(DateTime)
    handling_due: Mapped[datetime] = mapped_column(DateTime)
    deadline: Mapped[datetime | None] = mapped_column(DateTime)  # of the current state; None once final
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime)
    investigation: Mapped[str] = mapped_column(Text, default="")  # 调查情况
    cause: Mapped[str] = mapped_column(Text, default="")  # 原因
    measures: Mapped[str] = mapped_column(Text, default="")  # 处理措施
    result: Mapped[str] = mapped_column(Text, default="")  # 处理结果
    replied_at: Mapped[datetime | None] = mapped_column(DateTime)  # 答复客户时间
    reply_way: Mapped[str] = mapped_column(String(20), default="")  # 答复方式
    reply_text: Mapped[str] = mapped_column(Text, default="")
    handled_at: Mapped[datetime | None] = mapped_column(DateTime)  # entered 待回访
    visit_round: Mapped[int] = mapped_column(Integer, default=0)
    visit_plan_id: Mapped[int | None] = mapped_column(ForeignKey("visit_plan.id"))
    visit_due: Mapped[date | None] = mapped_column(Date)
    visit_record_id: Mapped[int | None] = mapped_column(ForeignKey("visit_record.id"))
    visited_at: Mapped[datetime | None] = mapped_column(DateTime)
    visit_satisfied: Mapped[bool | None] = mapped_column(Boolean)
    satisfaction: Mapped[str] = mapped_column(String(20), default="")
    visit_note: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    withdraw_reason: Mapped[str] = mapped_column(String(200), default="")
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime)
    escalated_deadline: Mapped[datetime | None] = mapped_column(DateTime)
    escalation_seen: Mapped[bool] = mapped_column(Boolean, default=True)
    chase_count: Mapped[int] = mapped_column(Integer, default=0)  # 催办
    first_responder_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # 首问责任人
    chase_rung: Mapped[int] = mapped_column(Integer, default=0)  # 催办 ladder rungs sent for ``deadline``
    reply_due: Mapped[datetime | None] = mapped_column(DateTime)  # 满意答复 (002 制度9); None: not asked
    reply_chased_at: Mapped[datetime | None] = mapped_column(DateTime)  # 催办 of a reply not given by then
    # 紧急 (property offices, 002 制度5 §2, §5; clock hours): dispatch by / report back by, and their one 催办
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    dispatch_due: Mapped[datetime | None] = mapped_column(DateTime)
    report_back_due: Mapped[datetime | None] = mapped_column(DateTime)
    dispatch_chased_at: Mapped[datetime | None] = mapped_column(DateTime)
    report_back_chased_at: Mapped[datetime | None] = mapped_column(DateTime)
    linked_to_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"))  # reopened from
    converted_from: Mapped[str] = mapped_column(String(30), default="")  # number of the 咨询/建议
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # review (审阅) and sign-off
    review_status: Mapped[str] = mapped_column(String(10), default="")  # ''/待审阅/退回/已签字
    supervisor_comment: Mapped[str] = mapped_column(Text, default="")
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    signed_role: Mapped[str] = mapped_column(String(20), default="")  # the signer's role when signing
    content_hash: Mapped[str] = mapped_column(String(64), default="")  # domain.signoff.content_hash
    signature_hash: Mapped[str] = mapped_column(String(64), default="")  # domain.signoff.signature_hash
    signature: Mapped[str] = mapped_column(
        String(128), default=""
    )  # Ed25519 over domain.signoff.sign_message
    signed_seq: Mapped[int | None] = mapped_column(Integer)  # audit-chain position of the sign-off
    revision: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (
        Index("ix_complaint_state_deadline", "state", "deadline"),
        Index("ix_complaint_received_at", "received_at"),
        Index("ix_complaint_handler_state", "handler_id", "state"),
        Index("ix_complaint_customer_id", "customer_id"),
        Index("ix_complaint_phone", "phone"),
        Index("ix_complaint_kind_received", "kind", "received_at"),
        Index("ix_complaint_review_status", "review_status"),
    )
    __mapper_args__ = {"version_id_col": version}


class ComplaintNotice(Base):
    """A follow-up notice (提醒) to one user about a complaint: progress feedback to the 首问责任人, 催办 / 上报
    of an overdue case, 督办, 查办 (domain.complaint_follow). Shown in the reminder and the tray until seen."""

    __tablename__ = "complaint_notice"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(10))  # NoticeKind
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    due_at: Mapped[datetime | None] = mapped_column(DateTime)  # to be told by (首问 feedback: step + N h)
    seen_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_complaint_notice_user_seen", "user_id", "seen_at"),)


class ComplaintInquiry(Base):
    """查办 of a late complaint (002 制度3 第十三条): why it was late, the measures, who decided; one per
    complaint, entered by a supervisor; printed as the 查办单."""

    __tablename__ = "complaint_inquiry"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"), unique=True)
    reason: Mapped[str] = mapped_column(Text, default="")  # 逾期原因
    measures: Mapped[str] = mapped_column(Text, default="")  # 改进措施 / 处理意见
    responsible: Mapped[str] = mapped_column(String(50), default="")  # 责任人 / 责任部门
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_by: Mapped[str] = mapped_column(String(50), default="")  # the decider's name as printed
    decided_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class ComplaintOccurrence(Base):
    """One report of a complaint: the first intake and every repeat attached to it (date, channel)."""

    __tablename__ = "complaint_occurrence"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    channel: Mapped[str] = mapped_column(String(10))
    complainant: Mapped[str] = mapped_column(String(50), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    received_by: Mapped[str] = mapped_column(String(50), default="")  # the department or person it went to
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ComplaintEvent(Base):
    """A complaint's history: every state change, escalation, 催办, reply and visit, with who and when."""

    __tablename__ = "complaint_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    username: Mapped[str] = mapped_column(String(50), default="")
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str] = mapped_column(String(10), default="")
    to_state: Mapped[str] = mapped_column(String(10), default="")
    note: Mapped[str] = mapped_column(Text, default="")


class Attachment(Base):
    """A file kept inside the database (reply letters, photos, scans), so it moves with the data."""

    __tablename__ = "attachment"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), default="其他")  # 答复函/公开信/照片/扫描件/其他
    mime: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ComplaintAttachment(Base):
    """Link table: a public letter (公开信) may be attached to many complaints."""

    __tablename__ = "complaint_attachment"
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), primary_key=True
    )
    attachment_id: Mapped[int] = mapped_column(
        ForeignKey("attachment.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class VisitRecordAttachment(Base):
    """Link table: files attached to a visit record (scanned signed forms, photos, recordings), 0013."""

    __tablename__ = "visit_record_attachment"
    record_id: Mapped[int] = mapped_column(
        ForeignKey("visit_record.id", ondelete="CASCADE"), primary_key=True
    )
    attachment_id: Mapped[int] = mapped_column(
        ForeignKey("attachment.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ScanPage(Base):
    """A scanned page whose form code could not be read or matched (未识别), waiting to be filed by hand."""

    __tablename__ = "scan_page"
    id: Mapped[int] = mapped_column(primary_key=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachment.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(200))  # the scanned file's name
    page: Mapped[int] = mapped_column(Integer)  # 1-based page of that file
    reason: Mapped[str] = mapped_column(String(200))  # why it was not filed
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class MonthlyAssessment(Base):
    """考核: a month's assessment as a manager confirmed it (domain.md §9). ``snapshot`` is the JSON of
    :meth:`huifang_desktop.domain.stats.Assessment.to_dict`, signed like other sign-offs (content hash of the
    snapshot plus a signature hash over it and the confirmation); a confirmed month is locked until a
    manager withdraws the confirmation (撤回, with a reason; ``revision`` goes up)."""

    __tablename__ = "monthly_assessment"
    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), unique=True)  # 2026-10
    status: Mapped[str] = mapped_column(String(10), default="已确认")  # 已确认 / 已撤回
    snapshot: Mapped[str] = mapped_column(Text)  # JSON
    total_count: Mapped[int] = mapped_column(Integer, default=0)
    total_amount: Mapped[int] = mapped_column(Integer, default=0)  # 元
    total_points: Mapped[int] = mapped_column(Integer, default=0)
    comment: Mapped[str] = mapped_column(Text, default="")
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    signed_role: Mapped[str] = mapped_column(String(20), default="")
    content_hash: Mapped[str] = mapped_column(String(64), default="")  # domain.stats.assessment_hash
    signature_hash: Mapped[str] = mapped_column(String(64), default="")  # domain.signoff.signature_hash
    signature: Mapped[str] = mapped_column(
        String(128), default=""
    )  # Ed25519 over domain.signoff.sign_message
    signed_seq: Mapped[int | None] = mapped_column(Integer)  # audit-chain position of the confirmation
    revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class AssessmentEvent(Base):
    """One charged 考核 event of a confirmed month, frozen at confirmation (domain.md §9): later edits,
    imports, re-planning or class changes never change it. ``source``/``source_id``: the plan, record,
    customer or entry that caused it."""

    __tablename__ = "assessment_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("monthly_assessment.id", ondelete="CASCADE"), index=True
    )
    month: Mapped[str] = mapped_column(String(7), index=True)
    clerk_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # EventKind.key
    day: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(30), default="")
    source_id: Mapped[int | None] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(120), default="")
    detail: Mapped[str] = mapped_column(String(500), default="")
    amount: Mapped[int] = mapped_column(Integer, default=0)
    points: Mapped[int] = mapped_column(Integer, default=0)


class AssessmentEntry(Base):
    """A 考核 entry made by a manager: a graded event (经理登记考核, *002 制度9*) against a clerk for a month, or a
    correction of a confirmed month (考核更正, ``corrects``) shown on the first open month after it."""

    __tablename__ = "assessment_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # the month whose sheet shows it
    clerk_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # EventKind.key: graded / adjustment
    graded_key: Mapped[str] = mapped_column(String(40), default="")
    label: Mapped[str] = mapped_column(String(120), default="")
    day: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(Integer, default=0)
    points: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(500), default="")
    corrects: Mapped[str] = mapped_column(String(7), default="")  # the confirmed month an adjustment corrects
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ServiceRecord(Base):
    """售后服务台账: one service call (维修/保养/安装/巡检…) with its result and follow-ups (domain.md §6).

    ``follow_up_*`` repeat the newest :class:`ServiceFollowUp` for the ledger (kept by the service layer);
    ``visit_plan_id`` is the repair follow-up visit (维修回访) the completed repair triggered, if any."""

    __tablename__ = "service_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)  # 服务单号 FW20261124-001
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    served_on: Mapped[date] = mapped_column(Date)  # 服务时间
    kind: Mapped[str] = mapped_column(String(20))  # 服务类型: 维修/保养/安装… (a setting list)
    place: Mapped[str] = mapped_column(String(200), default="")  # 服务地点 / 项目
    product: Mapped[str] = mapped_column(String(100), default="")
    serial_no: Mapped[str] = mapped_column(String(60), default="")  # 序列号 / 机号
    problem: Mapped[str] = mapped_column(Text, default="")  # 故障 / 问题
    content: Mapped[str] = mapped_column(Text, default="")  # 服务内容 / 处理措施
    parts: Mapped[str] = mapped_column(String(200), default="")  # 更换配件
    parts_quantity: Mapped[int] = mapped_column(Integer, default=0)
    parts_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 配件金额
    cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 服务费用
    result: Mapped[str] = mapped_column(Text, default="")  # 服务结果
    feedback: Mapped[str] = mapped_column(Text, default="")  # 客户反馈
    satisfaction: Mapped[str] = mapped_column(String(20), default="")
    technician: Mapped[str] = mapped_column(String(50), default="")  # 服务人员 (may work outside the program)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # 负责人
    status: Mapped[str] = mapped_column(String(10), default="处理中")  # 处理中/已完成/已取消
    completed_on: Mapped[date | None] = mapped_column(Date)
    follow_up_at: Mapped[datetime | None] = mapped_column(DateTime)
    follow_up_by: Mapped[str] = mapped_column(String(50), default="")
    follow_up_result: Mapped[str] = mapped_column(String(10), default="")  # 未解决/已解决/客户放弃
    visit_plan_id: Mapped[int | None] = mapped_column(ForeignKey("visit_plan.id"))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (
        Index("ix_service_record_served_on", "served_on"),
        Index("ix_service_record_customer_served", "customer_id", "served_on"),
        Index("ix_service_record_handler_served", "handler_id", "served_on"),
        Index("ix_service_record_status_served", "status", "served_on"),
        Index("ix_service_record_serial_product", "serial_no", "product"),  # narrow scan for the text search
    )
    __mapper_args__ = {"version_id_col": version}


class ServiceFollowUp(Base):
    """跟进: one follow-up of a service record (跟进时间, 跟进人员, 跟进结果, 备注; domain.md §6)."""

    __tablename__ = "service_follow_up"
    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("service_record.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    person: Mapped[str] = mapped_column(String(50))
    result: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


__all__ = [
    "Attachment",
    "AuditLog",
    "Base",
    "Complaint",
    "ComplaintAttachment",
    "ComplaintEvent",
    "ComplaintOccurrence",
    "Contact",
    "Counter",
    "Customer",
    "Department",
    "MonthlyAssessment",
    "PhoneSuffix",
    "Purchase",
    "ServiceFollowUp",
    "ServiceRecord",
    "Setting",
    "User",
    "VisitPlan",
    "VisitRecord",
    "VisitReport",
]


class ImportRun(Base):
    """One Excel import (导入 Excel 台账) and whether it was undone (撤销导入); its rows in ImportItem."""

    __tablename__ = "import_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(20))  # 客户台账 / 回访台账 / 投诉台账
    file_name: Mapped[str] = mapped_column(String(200))
    sheet: Mapped[str] = mapped_column(String(100))
    rows: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class ImportItem(Base):
    """A record an import created: a customer, visit record or complaint id, per its run's target."""

    __tablename__ = "import_item"
    run_id: Mapped[int] = mapped_column(ForeignKey("import_run.id", ondelete="CASCADE"), primary_key=True)
    entity_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Handover(Base):
    """A leaver's hand-over (工作交接, migration 0016): on ``handed_over_on`` a supervisor moved the user's
    customers, pending plans, open complaints and report drafts to successors; from that day nothing is
    charged to the leaver (the 考核 asks :class:`PlanOwnerChange` who owned a plan when its window closed)."""

    __tablename__ = "handover"
    id: Mapped[int] = mapped_column(primary_key=True)
    from_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    handed_over_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(Text, default="{}")  # JSON: counts moved, successors
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class PlanOwnerChange(Base):
    """One change of a visit plan's owner (负责人), so "who owned it on day D" is answerable: the owner on D
    is the ``new_owner_id`` of the last change with ``changed_on`` ≤ D, else the ``old_owner_id`` of the
    first change after D, else the plan's current owner (:func:`huifang_desktop.domain.handover.owner_on`)."""

    __tablename__ = "plan_owner_change"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("visit_plan.id", ondelete="CASCADE"), index=True)
    old_owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    new_owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    changed_on: Mapped[date] = mapped_column(Date)
    changed_at: Mapped[datetime] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")
    handover_id: Mapped[int | None] = mapped_column(ForeignKey("handover.id", ondelete="SET NULL"))
