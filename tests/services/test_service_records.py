"""售后服务台账 service: numbering, validation, version-checked edits, rights, follow-ups, filters and keyset
paging, and the repair follow-up visit a completed 维修 triggers (idempotent, ``service:<id>``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.schedule import TriggerKind
from huifang_desktop.services import service_records as sr
from huifang_desktop.services import visits as v
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.customers import register_customer
from huifang_desktop.services.errors import ConflictError, NotFound, PermissionDenied
from huifang_desktop.services.settings import load_settings, save_settings
from huifang_desktop.storage.models import AuditLog, ServiceFollowUp, ServiceRecord, VisitPlan

AsUser = Callable[[ServiceContext, UserInfo], ServiceContext]


@pytest.fixture
def customer_id(cctx: ServiceContext) -> int:
    return register_customer(
        cctx,
        CustomerDraft(
            name="杭州明达机械",
            kind="单位",
            category="终端客户",
            created_on="2026-01-05",
            contacts=(ContactDraft(name="张经理", mobile="13812345678"),),
        ),
    ).id


def _draft(customer_id: int, **kw: object) -> sr.ServiceDraft:
    base: dict[str, object] = {
        "customer_id": customer_id,
        "served_on": "2026-11-20",
        "kind": "维修",
        "product": "叉车 CPD25",
        "serial_no": "ＳＮ２０２４-0017",
        "problem": "液压泵漏油",
        "technician": "钱师傅",
    }
    base.update(kw)
    return sr.ServiceDraft(**base)  # type: ignore[arg-type]


def _repairs_always_visited(ctx: ServiceContext) -> None:
    rules = v.load_rules(ctx)
    v.save_rules(
        ctx,
        replace(
            rules,
            rules=tuple(
                replace(r, sample_rate=1.0) if r.trigger == TriggerKind.REPAIR_DONE else r
                for r in rules.rules
            ),
        ),
    )


def _repair_sample_rate(ctx: ServiceContext, rate: float) -> None:
    rules = v.load_rules(ctx)
    v.save_rules(
        ctx,
        replace(
            rules,
            rules=tuple(
                replace(r, sample_rate=rate) if r.trigger == TriggerKind.REPAIR_DONE else r
                for r in rules.rules
            ),
        ),
    )


# --- entry --------------------------------------------------------------------------------------------


def test_add_service_record_numbers_by_service_day_and_audits(
    cctx: ServiceContext, clerk: UserInfo, customer_id: int
) -> None:
    first = sr.add_service_record(
        cctx, _draft(customer_id, cost="1,200.5", parts="密封圈", parts_quantity="2", parts_amount="86")
    )
    second = sr.add_service_record(cctx, _draft(customer_id, kind="保养"))
    other_day = sr.add_service_record(cctx, _draft(customer_id, served_on="2026-11-21"))

    assert (first.number, second.number, other_day.number) == (
        "FW20261120-001",
        "FW20261120-002",
        "FW20261121-001",
    )
    assert first.customer_name == "杭州明达机械" and first.customer_code == "KH000001"
    assert first.handler_id == clerk.id and first.handler == "小王"  # the acting user by default
    assert first.serial_no == "SN2024-0017"  # full-width letters and digits folded
    assert (first.cost, first.parts_amount, first.parts_quantity) == (Decimal("1200.50"), Decimal("86.00"), 2)
    assert first.status == "处理中" and first.completed_on is None and first.version == 1
    with cctx.sessions() as s:
        row = s.execute(
            select(AuditLog).where(AuditLog.entity == "service_record", AuditLog.entity_id == first.id)
        ).scalar_one()
    assert row.action == "登记售后服务" and row.username == "xiaowang"
    assert "FW20261120-001" in row.label and "液压泵漏油" in (row.new or "")


def test_add_service_record_reports_every_bad_field_and_writes_nothing(
    cctx: ServiceContext, customer_id: int
) -> None:
    with pytest.raises(ValidationError) as info:
        sr.add_service_record(
            cctx,
            sr.ServiceDraft(
                customer_id=None,
                served_on="2026-12-01",
                kind="喷漆",
                status="已完成",
                cost="一千",
                parts_quantity="-1",
            ),
        )
    fields = set(info.value.fields)
    assert {"customer_id", "served_on", "kind", "cost", "parts_quantity", "content"} <= fields
    messages = " ".join(e.message for e in info.value.errors)
    assert "不能晚于今天" in messages and "喷漆" in messages and "已完成的服务请填写服务内容" in messages
    with pytest.raises(ValidationError) as info2:
        sr.add_service_record(
            cctx, _draft(customer_id, status="已完成", content="更换液压泵", completed_on="2026-11-19")
        )
    assert info2.value.fields == ["completed_on"]
    with cctx.sessions() as s:
        assert s.execute(select(func.count(ServiceRecord.id))).scalar() == 0


def test_add_service_record_needs_the_right_to_keep_customer_files(
    ctx: ServiceContext, admin: UserInfo, customer_id: int, as_user: AsUser
) -> None:
    with pytest.raises(PermissionDenied, match="无权登记售后服务"):
        sr.add_service_record(as_user(ctx, admin), _draft(customer_id))
    with pytest.raises(NotFound):
        sr.add_service_record(ctx, _draft(customer_id + 99))


def test_update_service_record_refuses_a_stale_version_and_names_who_changed_what(
    cctx: ServiceContext, sctx: ServiceContext, customer_id: int
) -> None:
    rec = sr.add_service_record(cctx, _draft(customer_id))
    theirs = sr.update_service_record(sctx, rec.id, rec.to_draft(result="已换泵，试车正常"), rec.version)
    assert theirs.version == 2 and theirs.result == "已换泵，试车正常"

    with pytest.raises(ConflictError) as info:
        sr.update_service_record(cctx, rec.id, rec.to_draft(notes="客户要求下周回访"), rec.version)
    message = str(info.value)
    assert "FW20261120-001" in message and "版本 1 → 2" in message
    assert "李主管" in message and "服务结果" in message
    assert sr.get_service_record(cctx, rec.id).notes == ""  # nothing of the refused save was written

    mine = sr.update_service_record(cctx, rec.id, theirs.to_draft(notes="客户要求下周回访"), theirs.version)
    assert (mine.version, mine.notes, mine.result) == (3, "客户要求下周回访", "已换泵，试车正常")


def test_update_service_record_of_someone_elses_record_needs_a_supervisor(
    ctx: ServiceContext, cctx: ServiceContext, clerk2: UserInfo, as_user: AsUser, customer_id: int
) -> None:
    rec = sr.add_service_record(cctx, _draft(customer_id))
    with pytest.raises(PermissionDenied, match="由其他人负责"):
        sr.update_service_record(as_user(ctx, clerk2), rec.id, rec.to_draft(notes="x"), rec.version)


# --- the repair follow-up visit ----------------------------------------------------------------------


def test_completed_repair_plans_one_repair_visit_and_links_it(
    ctx: ServiceContext, cctx: ServiceContext, clerk: UserInfo, customer_id: int
) -> None:
    _repairs_always_visited(ctx)
    rec = sr.add_service_record(cctx, _draft(customer_id))
    assert rec.visit_plan_id is None and rec.visit_note == ""  # 处理中: no visit yet

    done = sr.update_service_record(
        cctx,
        rec.id,
        rec.to_draft(status="已完成", content="更换液压泵密封件", completed_on="2026-11-23"),
        rec.version,
    )
    assert done.visit_plan_id is not None
    assert done.visit_state == "待回访" and "已安排维修回访" in done.visit_note
    assert done.version == 2  # linking the plan does not bump the version the dialog holds
    with ctx.sessions() as s:
        plans = (
            s.execute(select(VisitPlan).where(VisitPlan.source_key.like(f"service:{rec.id}#%")))
            .scalars()
            .all()
        )
    assert len(plans) == 1
    plan = plans[0]
    assert plan.id == done.visit_plan_id
    assert plan.source_key == f"service:{rec.id}#repair_done"
    assert plan.visit_type == "维修" and plan.customer_id == customer_id and plan.owner_id == clerk.id
    assert date(2026, 11, 23) <= plan.due <= date(2026, 12, 24)  # within a month (next working day at most)

    again = sr.update_service_record(cctx, rec.id, done.to_draft(result="客户确认正常"), done.version)
    assert again.visit_plan_id == plan.id and again.visit_note == ""
    with ctx.sessions() as s:
        assert (
            s.execute(
                select(func.count(VisitPlan.id)).where(VisitPlan.source_key.like(f"service:{rec.id}#%"))
            ).scalar()
            == 1
        )


def test_completed_maintenance_or_open_repair_plans_no_visit(
    ctx: ServiceContext, cctx: ServiceContext, customer_id: int
) -> None:
    _repairs_always_visited(ctx)
    upkeep = sr.add_service_record(
        cctx, _draft(customer_id, kind="保养", status="已完成", content="更换机油")
    )
    cancelled = sr.add_service_record(cctx, _draft(customer_id, status="已取消"))
    assert upkeep.visit_plan_id is None and cancelled.visit_plan_id is None
    with ctx.sessions() as s:
        assert (
            s.execute(select(func.count(VisitPlan.id)).where(VisitPlan.source_key.like("service:%"))).scalar()
            == 0
        )


def test_completed_repair_outside_the_sample_says_why_no_visit(
    ctx: ServiceContext, cctx: ServiceContext, customer_id: int
) -> None:
    _repair_sample_rate(ctx, 0.0)
    rec = sr.add_service_record(cctx, _draft(customer_id, status="已完成", content="更换液压泵"))
    assert rec.visit_plan_id is None
    assert "未抽中" in rec.visit_note and "0%" in rec.visit_note


def test_repair_kinds_are_a_setting(ctx: ServiceContext, cctx: ServiceContext, customer_id: int) -> None:
    _repairs_always_visited(ctx)
    sr.save_options(ctx, sr.ServiceOptions(kinds=("维修", "保养", "抢修"), repair_kinds=("维修", "抢修")))
    rec = sr.add_service_record(cctx, _draft(customer_id, kind="抢修", status="已完成", content="现场抢修"))
    assert rec.visit_plan_id is not None
    with pytest.raises(ValidationError, match="安装"):
        sr.add_service_record(cctx, _draft(customer_id, kind="安装"))
    with pytest.raises(ValidationError) as info:
        sr.ServiceOptions(kinds=("保养",), repair_kinds=("维修",))
    assert info.value.fields == ["repair_kinds"]
    assert sr.ServiceOptions.from_dict(sr.ServiceOptions().to_dict()) == sr.ServiceOptions()


# --- follow-ups ---------------------------------------------------------------------------------------


def test_add_follow_up_keeps_history_and_shows_the_newest_in_the_record(
    cctx: ServiceContext, customer_id: int
) -> None:
    rec = sr.add_service_record(cctx, _draft(customer_id))
    after1 = sr.add_follow_up(
        cctx,
        rec.id,
        at="2026-11-22 15:00",
        person="钱师傅",
        result="未解决",
        note="缺配件",
        expected_version=rec.version,
    )
    after2 = sr.add_follow_up(cctx, rec.id, at="2026-11-24 09:30", result="已解决")
    late = sr.add_follow_up(cctx, rec.id, at="2026-11-21 08:00", person="钱师傅", result="未解决")

    assert [(f.at, f.person, f.result) for f in late.follow_ups] == [
        (datetime(2026, 11, 21, 8, 0), "钱师傅", "未解决"),
        (datetime(2026, 11, 22, 15, 0), "钱师傅", "未解决"),
        (datetime(2026, 11, 24, 9, 30), "小王", "已解决"),
    ]
    assert after1.version == 2 and after2.version == 3
    with cctx.sessions() as s:
        row = s.get(ServiceRecord, rec.id)
        assert row is not None
        # the ledger shows the newest follow-up, not the last one typed in
        assert (row.follow_up_at, row.follow_up_by, row.follow_up_result) == (
            datetime(2026, 11, 24, 9, 30),
            "小王",
            "已解决",
        )
        assert s.execute(select(func.count(ServiceFollowUp.id))).scalar() == 3
        assert s.execute(select(func.count(AuditLog.id)).where(AuditLog.action == "服务跟进")).scalar() == 3
    with pytest.raises(ValidationError) as info:
        sr.add_follow_up(cctx, rec.id, at="2026-11-25 09:00", result="搁置")
    assert set(info.value.fields) == {"at", "result"}
    with pytest.raises(ConflictError):
        sr.add_follow_up(cctx, rec.id, result="已解决", expected_version=1)


# --- lists --------------------------------------------------------------------------------------------


def test_list_service_records_filters_in_sql_and_pages_by_keyset(
    cctx: ServiceContext, sctx: ServiceContext, supervisor: UserInfo, customer_id: int
) -> None:
    other = register_customer(
        cctx,
        CustomerDraft(
            name="宁波顺通物流",
            kind="单位",
            category="经销商",
            contacts=(ContactDraft(name="李", mobile="13900001111"),),
        ),
    ).id
    made = []
    for i in range(7):
        day = date(2026, 11, 10) + timedelta(days=i)
        made.append(
            sr.add_service_record(
                cctx,
                _draft(
                    customer_id if i % 2 == 0 else other,
                    served_on=day,
                    kind="保养" if i == 3 else "维修",
                    serial_no=f"SN{i:03d}",
                ),
            )
        )
    sr.add_service_record(sctx, _draft(other, served_on="2026-11-01", handler_id=supervisor.id))

    f = sr.ServiceFilter(start=date(2026, 11, 10))
    first = sr.list_service_records(cctx, f, limit=3)
    second = sr.list_service_records(cctx, f, (first[-1].sort_key, first[-1].id), limit=3)
    third = sr.list_service_records(cctx, f, (second[-1].sort_key, second[-1].id), limit=3)
    assert [r.number for r in first + second + third] == [m.number for m in made]
    assert sr.count_service_records(cctx, f) == 7

    newest = sr.list_service_records(cctx, sr.ServiceFilter(descending=True), limit=2)
    assert [r.served_on for r in newest] == [date(2026, 11, 16), date(2026, 11, 15)]
    assert [
        r.serial_no for r in sr.list_service_records(cctx, sr.ServiceFilter(kinds=frozenset({"保养"})))
    ] == ["SN003"]
    assert {r.customer_name for r in sr.list_service_records(cctx, sr.ServiceFilter(text="顺通"))} == {
        "宁波顺通物流"
    }
    assert [r.serial_no for r in sr.list_service_records(cctx, sr.ServiceFilter(text="sn005"))] == ["SN005"]
    assert [r.number for r in sr.list_service_records(cctx, sr.ServiceFilter(text="FW20261112"))] == [
        made[2].number
    ]
    assert len(sr.list_service_records(cctx, sr.ServiceFilter(mine=True))) == 7
    assert [r.handler for r in sr.list_service_records(cctx, sr.ServiceFilter(mine=True, descending=True))][
        :1
    ] == ["小王"]
    assert [r.served_on for r in sr.list_service_records(sctx, sr.ServiceFilter(mine=True))] == [
        date(2026, 11, 1)
    ]
    by_number = sr.list_service_records(cctx, sr.ServiceFilter(sort="number", descending=True), limit=1)
    assert by_number[0].number == "FW20261116-001"


def test_department_visibility_hides_other_departments_records(
    ctx: ServiceContext, cctx: ServiceContext, clerk2: UserInfo, as_user: AsUser, customer_id: int
) -> None:
    rec = sr.add_service_record(cctx, _draft(customer_id))
    save_settings(ctx, replace(load_settings(ctx), visibility="department"))
    other = as_user(ctx, clerk2)  # 销售部; the customer belongs to 客服部
    assert sr.list_service_records(other) == []
    with pytest.raises(PermissionDenied, match="其他部门"):
        sr.get_service_record(other, rec.id)
    with pytest.raises(PermissionDenied, match="其他部门"):
        sr.add_service_record(other, _draft(customer_id))
    assert [r.id for r in sr.list_service_records(cctx)] == [rec.id]


def test_choices_offer_the_office_lists(cctx: ServiceContext, clerk: UserInfo, supervisor: UserInfo) -> None:
    c = sr.choices(cctx)
    assert c.kinds[:3] == ("维修", "保养", "安装")
    assert c.statuses == ("处理中", "已完成", "已取消")
    assert c.follow_up_results == ("未解决", "已解决", "客户放弃")
    assert c.satisfaction_levels[0] == "很满意"
    assert {name for _id, name in c.handlers} >= {"小王", "李主管"}
    assert "管理员" not in {name for _id, name in c.handlers}
    with pytest.raises(NotFound):
        sr.find_id(cctx, "FW20990101-001")
