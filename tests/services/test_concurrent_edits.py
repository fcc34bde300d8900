"""Two windows (or two PCs) edit the same record: the second save is refused with what the other person
changed, nothing is overwritten, and reloading gives the other person's values. Runs on SQLite and, with
HUIFANG_TEST_DB=postgres, on PostgreSQL (two engines = two PCs)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import Engine

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.services import complaints as cs
from huifang_desktop.services import visits as v
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.customers import get_customer, register_customer, update_customer
from huifang_desktop.services.errors import ConflictError
from huifang_desktop.storage.db import make_engine, make_session_factory


@pytest.fixture
def other_pc(engine: Engine, ctx: ServiceContext) -> Iterator[ServiceContext]:
    """A second engine on the same database: another PC (own connections and sessions)."""
    eng = make_engine(engine.url.render_as_string(hide_password=False))
    yield ServiceContext(eng, make_session_factory(eng), ctx.user, ctx.clock)
    eng.dispose()


def _draft(name: str, address: str = "") -> CustomerDraft:
    return CustomerDraft(
        name=name, address=address, contacts=(ContactDraft(name="张经理", mobile="13812345678"),)
    )


def test_customer_second_save_is_refused_with_the_other_change(
    ctx: ServiceContext, other_pc: ServiceContext, clerk: UserInfo, clerk2: UserInfo
) -> None:
    me, colleague = ctx.as_user(clerk), other_pc.as_user(clerk2)
    c = register_customer(me, _draft("杭州明达贸易"))
    mine = get_customer(me, c.id)
    theirs = get_customer(colleague, c.id)
    update_customer(colleague, c.id, _draft("杭州明达贸易", "文三路 1 号"), theirs.version)
    with pytest.raises(ConflictError) as info:
        update_customer(me, c.id, _draft("杭州明达贸易有限公司"), mine.version)
    message = str(info.value)
    assert "已被其他人修改" in message and "未保存" in message
    assert "小李" in message and "文三路 1 号" in message  # who changed what
    reloaded = get_customer(me, c.id)
    assert reloaded.name == "杭州明达贸易" and reloaded.address == "文三路 1 号"  # nothing overwritten
    # after reloading, the save goes through
    update_customer(me, c.id, replace(_draft("杭州明达贸易有限公司", "文三路 1 号")), reloaded.version)
    assert get_customer(other_pc, c.id).name == "杭州明达贸易有限公司"


def test_visit_record_second_save_is_refused(
    ctx: ServiceContext, other_pc: ServiceContext, clerk: UserInfo, supervisor: UserInfo
) -> None:
    me = ctx.as_user(clerk)
    c = register_customer(me, _draft("宁波甬达物流"))
    plan = v.add_manual_plan(me, c.id, "例行", "电话", "2026-11-25")
    rec = v.record_visit(
        me,
        v.prefill_record(me, plan.id).to_draft(
            result="成功", satisfaction="满意", visited_at="2026-11-24 09:00", content="了解使用情况"
        ),
    )
    boss = other_pc.as_user(supervisor)
    draft = v.prefill_record(me, plan.id).to_draft(
        result="成功", satisfaction="满意", visited_at="2026-11-24 09:00"
    )
    v.update_record(boss, rec.id, replace(draft, content="主管补充：客户要求下月上门"), rec.version)
    with pytest.raises(ConflictError, match="已被其他人修改"):
        v.update_record(me, rec.id, replace(draft, content="我的版本"), rec.version)
    assert v.get_record(me, rec.id).content == "主管补充：客户要求下月上门"


def test_complaint_second_handling_save_is_refused(
    ctx: ServiceContext, other_pc: ServiceContext, clerk: UserInfo, supervisor: UserInfo
) -> None:
    me = ctx.as_user(clerk)
    d = cs.register(
        me, cs.IntakeDraft(subject="送货延误", complainant="张", phone="13812345678", category="交付物流")
    )
    d = cs.accept(me, d.id)
    cs.save_handling(other_pc.as_user(supervisor), d.id, cs.HandlingDraft(result="主管已处理"), d.version)
    with pytest.raises(ConflictError) as info:
        cs.save_handling(me, d.id, cs.HandlingDraft(result="我的处理"), d.version)
    assert "李主管" in str(info.value) and "主管已处理" in str(info.value)
    assert cs.get_complaint(me, d.id).result == "主管已处理"


def test_plan_moved_by_two_windows(ctx: ServiceContext, other_pc: ServiceContext, clerk: UserInfo) -> None:
    me = ctx.as_user(clerk)
    c = register_customer(me, _draft("温州鹿城商贸"))
    plan = v.add_manual_plan(me, c.id, "例行", "电话", "2026-11-25")
    v.move_plan(other_pc.as_user(clerk), plan.id, "2026-11-26", plan.version)
    with pytest.raises(ConflictError):
        v.move_plan(me, plan.id, "2026-11-27", plan.version)
    assert v.get_plan(me, plan.id).due.isoformat() == "2026-11-26"
