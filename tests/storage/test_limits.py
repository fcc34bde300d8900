"""Text longer than its column is refused with the field's Chinese name and the limit, on SQLite (which would
store it) and on PostgreSQL (which would fail with a traceback) alike; nothing is written."""

from __future__ import annotations

import pytest
from sqlalchemy import String, func, insert, select

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import customers, users
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.storage.limits import label_for
from huifang_desktop.storage.models import AuditLog, Base, Customer, Department, User


def _count(ctx: ServiceContext, model: type) -> int:
    with ctx.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_display_name_over_40_characters_is_refused_naming_the_field(
    ctx: ServiceContext, admin: UserInfo
) -> None:
    before = _count(ctx, User)
    with pytest.raises(ValidationError, match=r"姓名：不能超过 40 个字（现在 41 个字）"):
        users.create_user(ctx.as_user(admin), "longname", "张" * 41, Role.CLERK, "secret-123", "客服部")
    assert _count(ctx, User) == before
    users.create_user(ctx.as_user(admin), "fullname", "张" * 40, Role.CLERK, "secret-123", "客服部")
    assert _count(ctx, User) == before + 1


def test_a_customer_field_without_its_own_check_is_refused_by_the_column_limit(cctx: ServiceContext) -> None:
    draft = CustomerDraft(
        name="宁波顺通物流", region="区" * 51, contacts=(ContactDraft(name="张经理", mobile="13900000001"),)
    )
    with pytest.raises(ValidationError, match=r"区域：不能超过 50 个字") as info:
        customers.register_customer(cctx, draft)
    assert info.value.fields == ["region"]
    assert _count(cctx, Customer) == 0


def test_a_change_is_checked_but_an_untouched_field_is_not(cctx: ServiceContext) -> None:
    c = customers.register_customer(
        cctx,
        CustomerDraft(name="宁波顺通物流", contacts=(ContactDraft(name="张经理", mobile="13900000001"),)),
    )
    with pytest.raises(ValidationError, match="行业：不能超过 50 个字"), cctx.sessions() as s, s.begin():
        row = s.get(Customer, c.id)
        assert row is not None
        row.industry = "物" * 51
    if cctx.engine.dialect.name == "sqlite":  # a long value saved before the check does not block other edits
        with cctx.sessions() as s, s.begin():
            s.execute(Customer.__table__.update().where(Customer.id == c.id).values(address="址" * 300))
    with cctx.sessions() as s, s.begin():
        row = s.get(Customer, c.id)
        assert row is not None
        row.industry = "物流"
    with cctx.sessions() as s:
        row = s.get(Customer, c.id)
        assert row is not None and row.industry == "物流"


def test_rows_written_with_session_execute_are_checked_too(ctx: ServiceContext) -> None:
    """The Excel import writes its rows with ``session.execute(insert(table), rows)``."""
    with pytest.raises(ValidationError, match="部门：不能超过 50 个字"), ctx.sessions() as s, s.begin():
        s.execute(insert(Department.__table__), [{"name": "客服部"}, {"name": "部" * 51}])
    assert _count(ctx, Department) == 0


def test_the_audit_log_label_is_shortened_not_refused(ctx: ServiceContext, admin: UserInfo) -> None:
    from huifang_desktop.services.context import audit

    with ctx.sessions() as s, s.begin():
        audit(s, ctx.as_user(admin), "测试", "customer", 1, "名" * 300)
    with ctx.sessions() as s:
        label = s.scalars(select(AuditLog.label).where(AuditLog.action == "测试")).one()
    assert len(label) == 200 and label.endswith("…")


def test_every_limited_text_column_has_a_chinese_label() -> None:
    missing = [
        f"{t.name}.{c.name}"
        for t in Base.metadata.sorted_tables
        for c in t.columns
        if isinstance(c.type, String) and c.type.length and not label_for(t.name, c.name)
    ]
    assert missing == []
