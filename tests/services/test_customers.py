"""Customer files through the service layer: register, edit, archive, grade, reassign, search, paging."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from huifang_desktop.domain.customers import (
    CUSTOMER_STATUSES,
    DEFAULT_CATEGORIES,
    ContactDraft,
    CustomerDraft,
)
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import customers as svc
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.customers import (
    CustomerDetail,
    add_purchase,
    count_customers,
    get_customer,
    get_customer_by_code,
    history,
    list_customers,
    pin_grade,
    reassign_customers,
    recompute_grade,
    register_customer,
    set_archived,
    update_customer,
)
from huifang_desktop.services.errors import ConflictError, DuplicateWarning, NotFound, PermissionDenied
from huifang_desktop.services.policy import CustomerScope, customer_scope
from huifang_desktop.services.settings import load_settings, save_settings
from huifang_desktop.services.users import create_user
from huifang_desktop.storage.models import AuditLog, Contact, Counter, Customer, Purchase
from huifang_desktop.storage.queries import CUSTOMER_SORTS, CustomerFilter

AsUser = Callable[[ServiceContext, UserInfo], ServiceContext]
TODAY = date(2026, 11, 24)


def _draft(
    name: str = "杭州明达贸易有限公司",
    mobile: str = "138 1234 5678",
    *,
    phone: str = "",
    contact: str = "张三",
    **fields: object,
) -> CustomerDraft:
    return CustomerDraft(
        name=name, contacts=(ContactDraft(name=contact, phone=phone, mobile=mobile),), **fields
    )  # type: ignore[arg-type]


def _mobile(i: int) -> str:
    return f"139{i:08d}"


def _snapshot_counts(ctx: ServiceContext) -> dict[str, object]:
    """Rows in every table a customer write touches, plus the counters' values."""
    with ctx.sessions() as s:
        counts: dict[str, object] = {
            m.__tablename__: s.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (Customer, Contact, Purchase, AuditLog)
        }
        counts["counters"] = sorted(s.execute(select(Counter.name, Counter.value)).all())
        counts["customers"] = sorted(s.execute(select(Customer.id, Customer.version, Customer.name)).all())
    return counts


def _audit(ctx: ServiceContext, customer_id: int | None = None) -> list[AuditLog]:
    q = select(AuditLog).order_by(AuditLog.id)
    if customer_id is not None:
        q = q.where(AuditLog.entity == "customer", AuditLog.entity_id == customer_id)
    with ctx.sessions() as s:
        return list(s.execute(q).scalars())


def _codes(rows: list[svc.CustomerRow]) -> list[str]:
    return [r.code for r in rows]


@pytest.fixture
def one(cctx: ServiceContext) -> CustomerDetail:
    return register_customer(cctx, _draft(address="杭州市文三路 1 号"))


# --- register -------------------------------------------------------------------------------------------


def test_register_customer_gives_sequential_codes(cctx: ServiceContext) -> None:
    codes = [register_customer(cctx, _draft(f"客户{i}", _mobile(i))).code for i in range(1, 4)]
    assert codes == ["KH000001", "KH000002", "KH000003"]


def test_register_customer_fills_the_file(cctx: ServiceContext, clerk: UserInfo) -> None:
    c = register_customer(
        cctx,
        CustomerDraft(
            name=" 张三 ",
            kind="个人",
            category="业主",
            address="西湖区 1 号",
            region="西湖",
            source="转介绍",
            birthday="1980-05-06",
            created_on="2026年11月20日",
            notes="老客户介绍",
            contacts=(
                ContactDraft(
                    name="张三",
                    mobile="+86 138-1234-5678",
                    phone="0571-88886666 转801",
                    email="ZS@example.com",
                    title="业主",
                ),
                ContactDraft(name="李四", phone="010 1234 5678"),
            ),
        ),
    )
    assert (c.code, c.name, c.kind, c.category, c.grade, c.grade_pinned, c.annual_volume) == (
        "KH000001",
        "张三",
        "个人",
        "业主",
        "D",
        False,
        0,
    )
    assert (c.birthday, c.created_on, c.status, c.archived) == (
        date(1980, 5, 6),
        date(2026, 11, 20),
        "正常",
        False,
    )
    assert (c.owner_id, c.owner) == (clerk.id, "小王")
    assert [(k.name, k.mobile, k.phone, k.email, k.is_primary) for k in c.contacts] == [
        ("张三", "13812345678", "057188886666x801", "zs@example.com", True),
        ("李四", "", "01012345678", "", False),
    ]
    with cctx.sessions() as s:
        row = s.get(Customer, c.id)
        assert row is not None
        assert (row.initials, row.department_id, row.primary_contact, row.primary_phone) == (
            "zs",
            clerk.department_id,
            "张三",
            "13812345678",
        )
    rows = list_customers(cctx, CustomerFilter())
    assert [(r.code, r.contact, r.phone, r.owner) for r in rows] == [
        ("KH000001", "张三", "138 1234 5678", "小王")
    ]


def test_register_customer_code_prefix_is_a_setting(
    ctx: ServiceContext, cctx: ServiceContext, admin: UserInfo, as_user: AsUser
) -> None:
    save_settings(as_user(ctx, admin), replace(load_settings(ctx), customer_code_prefix="WY"))
    assert register_customer(cctx, _draft()).code == "WY000001"


def test_register_customer_audited(cctx: ServiceContext, one: CustomerDetail) -> None:
    (row,) = _audit(cctx, one.id)
    assert (row.action, row.username, row.label, row.old) == (
        "新建客户",
        "xiaowang",
        "KH000001 杭州明达贸易有限公司",
        None,
    )
    new = json.loads(row.new or "{}")
    assert new["name"] == "杭州明达贸易有限公司"
    assert new["contacts"] == "张三 138 1234 5678"
    assert row.at.isoformat() == "2026-11-24T10:00:00"


def test_register_customer_duplicate_phone_warns_and_writes_nothing(
    cctx: ServiceContext, one: CustomerDetail
) -> None:
    before = _snapshot_counts(cctx)
    # the same mobile typed differently, and in the landline column
    with pytest.raises(DuplicateWarning) as info:
        register_customer(cctx, _draft("另一家公司", "", phone="+86 138-1234-5678"))
    (hit,) = info.value.hits
    assert (hit.id, hit.code, hit.reason) == (one.id, "KH000001", "电话 138 1234 5678 相同")
    assert "KH000001" in str(info.value) and "可能与已有客户重复" in str(info.value)
    assert _snapshot_counts(cctx) == before


def test_register_customer_duplicate_name_and_address_warns(
    cctx: ServiceContext, one: CustomerDetail
) -> None:
    with pytest.raises(DuplicateWarning) as info:
        register_customer(cctx, _draft("杭州明达贸易有限公司", _mobile(7), address=" 杭州市文三路 1 号 "))
    assert [(h.code, h.reason) for h in info.value.hits] == [("KH000001", "名称和地址相同")]


def test_register_customer_same_name_other_address_is_not_a_duplicate(
    cctx: ServiceContext, one: CustomerDetail
) -> None:
    assert (
        register_customer(cctx, _draft("杭州明达贸易有限公司", _mobile(7), address="宁波")).code == "KH000002"
    )


def test_register_customer_confirm_duplicates_saves(cctx: ServiceContext, one: CustomerDetail) -> None:
    c = register_customer(cctx, _draft("另一家公司"), confirm_duplicates=True)
    assert c.code == "KH000002"
    assert count_customers(cctx, CustomerFilter()) == 2
    (row,) = _audit(cctx, c.id)
    assert (row.action, row.note) == ("新建客户", "确认重复后建档")


@pytest.mark.parametrize(
    ("draft", "fields"),
    [
        (_draft(mobile="138 1234 567"), ["contacts[1].mobile"]),
        (_draft(mobile="", phone="0571-8888"), ["contacts[1].phone"]),
        (_draft(birthday="2026-02-30"), ["birthday"]),
        (_draft(created_on="2026-13-01"), ["created_on"]),
        (_draft(name="  "), ["name"]),
        (_draft(name="", mobile="12345", birthday="昨天"), ["name", "birthday", "contacts[1].mobile"]),
        (CustomerDraft(name="无联系人"), ["contacts"]),
    ],
)
def test_register_customer_bad_input_writes_nothing(
    cctx: ServiceContext, one: CustomerDetail, draft: CustomerDraft, fields: list[str]
) -> None:
    before = _snapshot_counts(cctx)
    with pytest.raises(ValidationError) as info:
        register_customer(cctx, draft)
    assert info.value.fields == fields
    assert _snapshot_counts(cctx) == before
    assert register_customer(cctx, _draft("下一家", _mobile(9))).code == "KH000002"  # no number was used up


def test_register_customer_inactive_owner_rolls_back(
    ctx: ServiceContext,
    cctx: ServiceContext,
    admin: UserInfo,
    clerk2: UserInfo,
    one: CustomerDetail,
    as_user: AsUser,
) -> None:
    from huifang_desktop.services.users import set_active

    set_active(as_user(ctx, admin), clerk2.id, False)
    before = _snapshot_counts(cctx)
    with pytest.raises(ValidationError) as info:
        register_customer(cctx, _draft("新客户", _mobile(5), owner_id=clerk2.id))
    assert info.value.fields == ["owner_id"]
    assert _snapshot_counts(cctx) == before  # the customer number taken inside the transaction is given back


def test_register_customer_admin_may_not_edit_business_data(
    ctx: ServiceContext, admin: UserInfo, one: CustomerDetail, as_user: AsUser
) -> None:
    actx = as_user(ctx, admin)
    before = _snapshot_counts(ctx)
    with pytest.raises(PermissionDenied):
        register_customer(actx, _draft("新客户", _mobile(3)))
    with pytest.raises(PermissionDenied):
        update_customer(actx, one.id, _draft("改名"), one.version)
    with pytest.raises(PermissionDenied):
        add_purchase(actx, one.id, day=TODAY, product="车", quantity=1)
    with pytest.raises(PermissionDenied):
        recompute_grade(actx, one.id)
    assert _snapshot_counts(ctx) == before


# --- update and concurrent edits ------------------------------------------------------------------------


def test_update_customer_saves_and_bumps_version(cctx: ServiceContext, one: CustomerDetail) -> None:
    updated = update_customer(cctx, one.id, _draft("杭州明达集团", "13912345678", region="西湖"), one.version)
    assert (updated.name, updated.region, updated.contacts[0].mobile) == (
        "杭州明达集团",
        "西湖",
        "13912345678",
    )
    assert updated.version > one.version
    again = get_customer(cctx, one.id)
    assert (again.name, again.version) == ("杭州明达集团", updated.version)
    assert list_customers(cctx, CustomerFilter(text="hzmdjt"))[0].phone == "139 1234 5678"


def test_update_customer_stale_version_refused_nothing_overwritten(
    cctx: ServiceContext, one: CustomerDetail
) -> None:
    current = update_customer(cctx, one.id, _draft("第一次修改", address="A"), one.version)
    before = _snapshot_counts(cctx)
    with pytest.raises(ConflictError) as info:
        update_customer(cctx, one.id, _draft("第二次修改", "13700000000", address="B"), one.version)
    assert "KH000001" in str(info.value) and "已被其他人修改" in str(info.value)
    assert info.value.changes["name"] == (None, "第一次修改")
    assert _snapshot_counts(cctx) == before
    after = get_customer(cctx, one.id)
    assert (after.name, after.address, after.version) == ("第一次修改", "A", current.version)
    assert after.contacts[0].mobile == "13812345678"


def test_update_customer_two_sessions_second_is_refused(
    cctx: ServiceContext, sctx: ServiceContext, one: CustomerDetail
) -> None:
    opened_by_clerk = get_customer(cctx, one.id)
    opened_by_supervisor = get_customer(sctx, one.id)
    update_customer(sctx, one.id, _draft(address="主管填的地址"), opened_by_supervisor.version)
    with pytest.raises(ConflictError):
        update_customer(cctx, one.id, _draft(address="专员填的地址"), opened_by_clerk.version)
    assert get_customer(cctx, one.id).address == "主管填的地址"
    assert [r.username for r in _audit(cctx, one.id) if r.action == "修改客户"] == ["zhuguan"]


def test_update_customer_race_inside_the_save_is_refused(
    cctx: ServiceContext, sctx: ServiceContext, one: CustomerDetail, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other PC commits after this save loaded the row but before it writes: the version column catches it."""
    real_check = svc.check_visible
    raced = []

    def check_then_race(ctx, c, settings):  # type: ignore[no-untyped-def]
        real_check(ctx, c, settings)
        if ctx is cctx and not raced:
            raced.append(True)
            update_customer(sctx, one.id, _draft(address="另一台电脑"), one.version)

    monkeypatch.setattr(svc, "check_visible", check_then_race)
    with pytest.raises(ConflictError):
        update_customer(cctx, one.id, _draft(address="这台电脑"), one.version)
    assert raced == [True]
    after = get_customer(cctx, one.id)
    assert after.address == "另一台电脑"
    assert after.contacts[0].mobile == "13812345678"


def test_update_customer_duplicate_of_another_file_warns(cctx: ServiceContext, one: CustomerDetail) -> None:
    other = register_customer(cctx, _draft("另一家", _mobile(2)))
    with pytest.raises(DuplicateWarning):
        update_customer(cctx, other.id, _draft("另一家", "13812345678"), other.version)
    # its own phone is not a duplicate of itself
    assert update_customer(cctx, one.id, _draft(notes="备注"), one.version).notes == "备注"


def test_update_customer_bad_input_writes_nothing(cctx: ServiceContext, one: CustomerDetail) -> None:
    before = _snapshot_counts(cctx)
    with pytest.raises(ValidationError):
        update_customer(cctx, one.id, _draft(birthday="2026-02-30"), one.version)
    assert _snapshot_counts(cctx) == before


def test_update_customer_missing_file(cctx: ServiceContext) -> None:
    with pytest.raises(NotFound):
        update_customer(cctx, 999, _draft(), 1)


# --- archive --------------------------------------------------------------------------------------------


def test_set_archived_needs_a_reason(cctx: ServiceContext, one: CustomerDetail) -> None:
    before = _snapshot_counts(cctx)
    with pytest.raises(ValidationError) as info:
        set_archived(cctx, one.id, True, "  ")
    assert info.value.fields == ["reason"]
    assert _snapshot_counts(cctx) == before


def test_set_archived_hides_from_list_unless_asked(cctx: ServiceContext, one: CustomerDetail) -> None:
    other = register_customer(cctx, _draft("另一家", _mobile(2)))
    set_archived(cctx, one.id, True, "公司注销")
    assert _codes(list_customers(cctx, CustomerFilter())) == [other.code]
    assert count_customers(cctx, CustomerFilter()) == 1
    assert _codes(list_customers(cctx, CustomerFilter(include_archived=True))) == ["KH000001", "KH000002"]
    assert count_customers(cctx, CustomerFilter(include_archived=True)) == 2
    assert list_customers(cctx, CustomerFilter(text="明达")) == []
    assert get_customer(cctx, one.id).archived is True  # kept, not deleted
    (row,) = [r for r in _audit(cctx, one.id) if r.action == "归档客户"]
    assert (row.note, row.old, row.new) == ("公司注销", '{"archived": false}', '{"archived": true}')


def test_set_archived_file_cannot_be_edited_until_restored(cctx: ServiceContext, one: CustomerDetail) -> None:
    set_archived(cctx, one.id, True, "重复档案")
    archived = get_customer(cctx, one.id)
    with pytest.raises(ValidationError) as info:
        update_customer(cctx, one.id, _draft("改名"), archived.version)
    assert info.value.fields == ["archived"]
    set_archived(cctx, one.id, False)
    restored = get_customer(cctx, one.id)
    assert restored.archived is False
    assert update_customer(cctx, one.id, _draft("改名"), restored.version).name == "改名"
    assert [r.action for r in _audit(cctx, one.id)] == ["新建客户", "归档客户", "恢复客户", "修改客户"]


# --- purchases and grading ------------------------------------------------------------------------------


def test_add_purchase_regrades_through_every_class(cctx: ServiceContext, one: CustomerDetail) -> None:
    grades = []
    for qty in (9, 1, 39, 1, 49, 1):  # running totals 9, 10, 49, 50, 99, 100
        add_purchase(cctx, one.id, day="2026-11-01", product="货车", quantity=qty)
        grades.append(get_customer(cctx, one.id).grade)
    assert grades == ["D", "C", "C", "B", "B", "A"]
    detail = get_customer(cctx, one.id)
    assert detail.annual_volume == 100
    assert len(detail.purchases) == 6
    regrades = [(r.old, r.new, r.note) for r in _audit(cctx, one.id) if r.action == "重新分级"]
    assert regrades == [
        ('{"grade": "D"}', '{"grade": "C"}', "年采购量 10"),
        ('{"grade": "C"}', '{"grade": "B"}', "年采购量 50"),
        ('{"grade": "B"}', '{"grade": "A"}', "年采购量 100"),
    ]


def test_add_purchase_window_is_the_last_365_days(cctx: ServiceContext, one: CustomerDetail) -> None:
    add_purchase(cctx, one.id, day="2025-11-24", product="旧车", quantity=500)  # exactly 365 days ago
    assert get_customer(cctx, one.id).grade == "D"
    add_purchase(cctx, one.id, day="2025-11-25", product="车", quantity=10)
    assert (get_customer(cctx, one.id).annual_volume, get_customer(cctx, one.id).grade) == (10, "C")


def test_add_purchase_uses_office_thresholds(
    ctx: ServiceContext, cctx: ServiceContext, admin: UserInfo, one: CustomerDetail, as_user: AsUser
) -> None:
    save_settings(as_user(ctx, admin), replace(load_settings(ctx), grade_a=20, grade_b=10, grade_c=5))
    add_purchase(cctx, one.id, day=TODAY, product="车", quantity=20)
    assert get_customer(cctx, one.id).grade == "A"


def test_add_purchase_records_the_purchase(cctx: ServiceContext, one: CustomerDetail) -> None:
    p = add_purchase(
        cctx,
        one.id,
        day="2026/11/20",
        product=" 货车 ",
        spec="HF-1",
        quantity="3",
        amount="1,234.50",
        kind="交货",
        warranty_end="2028-11-20",
    )
    assert (p.day, p.kind, p.product, p.spec, p.quantity, p.amount, p.warranty_end) == (
        date(2026, 11, 20),
        "交货",
        "货车",
        "HF-1",
        3,
        Decimal("1234.50"),
        date(2028, 11, 20),
    )
    assert get_customer(cctx, one.id).purchases == (p,)
    (row,) = [r for r in _audit(cctx, one.id) if r.action == "登记交货"]
    assert json.loads(row.new or "{}") == {"日期": "2026-11-20", "产品": "货车", "数量": 3, "金额": "1234.50"}


def test_add_purchase_bad_input_writes_nothing(cctx: ServiceContext, one: CustomerDetail) -> None:
    before = _snapshot_counts(cctx)
    with pytest.raises(ValidationError) as info:
        add_purchase(
            cctx, one.id, day="2026-11-25", product="", quantity="0", amount="abc", warranty_end="2026-02-30"
        )
    assert info.value.fields == ["day", "product", "quantity", "amount", "warranty_end"]
    with pytest.raises(ValidationError):
        add_purchase(cctx, one.id, day="2026-02-30", product="车", quantity=1)
    assert _snapshot_counts(cctx) == before


def test_add_purchase_does_not_regrade_a_pinned_customer(
    cctx: ServiceContext, sctx: ServiceContext, one: CustomerDetail
) -> None:
    pin_grade(sctx, one.id, "B", "战略合作伙伴")
    add_purchase(cctx, one.id, day=TODAY, product="车", quantity=150)
    detail = get_customer(cctx, one.id)
    assert (detail.grade, detail.grade_pinned, detail.grade_reason, detail.annual_volume) == (
        "B",
        True,
        "战略合作伙伴",
        150,
    )
    assert recompute_grade(cctx, one.id) == "B"


def test_pin_grade_needs_supervisor(cctx: ServiceContext, one: CustomerDetail) -> None:
    before = _snapshot_counts(cctx)
    with pytest.raises(PermissionDenied) as info:
        pin_grade(cctx, one.id, "A", "我觉得是 A")
    assert "客服专员" in str(info.value)
    assert _snapshot_counts(cctx) == before


def test_pin_grade_needs_reason_and_valid_grade(sctx: ServiceContext, one: CustomerDetail) -> None:
    before = _snapshot_counts(sctx)
    with pytest.raises(ValidationError) as info:
        pin_grade(sctx, one.id, "A", " ")
    assert info.value.fields == ["grade_reason"]
    with pytest.raises(ValidationError) as info:
        pin_grade(sctx, one.id, "S", "特级")
    assert info.value.fields == ["grade"]
    assert _snapshot_counts(sctx) == before


def test_pin_grade_and_unpin(cctx: ServiceContext, sctx: ServiceContext, one: CustomerDetail) -> None:
    add_purchase(cctx, one.id, day=TODAY, product="车", quantity=60)
    assert get_customer(cctx, one.id).grade == "B"
    pin_grade(sctx, one.id, "A", "集团大客户")
    assert (get_customer(cctx, one.id).grade, get_customer(cctx, one.id).grade_pinned) == ("A", True)
    pin_grade(sctx, one.id, None)
    detail = get_customer(cctx, one.id)
    assert (detail.grade, detail.grade_pinned, detail.grade_reason) == ("B", False, "")
    actions = [(r.action, r.username) for r in _audit(cctx, one.id)][-3:]
    assert actions == [("指定等级", "zhuguan"), ("重新分级", "zhuguan"), ("取消指定等级", "zhuguan")]
    row = next(r for r in _audit(cctx, one.id) if r.action == "指定等级")
    assert json.loads(row.new or "{}") == {"grade": "A", "pinned": True, "grade_reason": "集团大客户"}


# --- reassign -------------------------------------------------------------------------------------------


def test_reassign_customers_round_robin(
    ctx: ServiceContext,
    admin: UserInfo,
    cctx: ServiceContext,
    sctx: ServiceContext,
    clerk: UserInfo,
    clerk2: UserInfo,
    as_user: AsUser,
) -> None:
    clerk3 = create_user(as_user(ctx, admin), "xiaozhao", "小赵", Role.CLERK, "secret-123", "客服部")
    ids = [register_customer(cctx, _draft(f"客户{i}", _mobile(i))).id for i in range(5)]
    set_archived(cctx, ids[4], True, "停业")  # archived files move too

    moved = reassign_customers(sctx, clerk.id, [clerk2.id, clerk3.id], note="小王离职")

    assert moved == 5
    owners = [get_customer(sctx, i).owner_id for i in ids]
    assert owners == [clerk2.id, clerk3.id, clerk2.id, clerk3.id, clerk2.id]
    with ctx.sessions() as s:
        deps = [s.get(Customer, i).department_id for i in ids]  # type: ignore[union-attr]
    assert deps == [clerk2.department_id, clerk3.department_id] * 2 + [clerk2.department_id]
    assert get_customer(sctx, ids[0]).notes == "2026-11-24 由 小王 移交给 小李（小王离职）"
    assert get_customer(sctx, ids[1]).notes.endswith("由 小王 移交给 小赵（小王离职）")
    assert count_customers(sctx, CustomerFilter(owner_id=clerk.id, include_archived=True)) == 0
    per_file = [r for r in _audit(ctx) if r.action == "移交客户"]
    assert sorted(r.entity_id for r in per_file) == sorted(ids)
    assert all(r.username == "zhuguan" and r.note == "小王离职" for r in per_file)
    (bulk,) = [r for r in _audit(ctx) if r.action == "批量移交"]
    assert (bulk.entity, bulk.entity_id) == ("user", clerk.id)
    assert json.loads(bulk.new or "{}") == {"count": 5, "plans": 0, "to": ["小李", "小赵"]}


def test_reassign_customers_notes_are_appended(
    cctx: ServiceContext, sctx: ServiceContext, clerk: UserInfo, clerk2: UserInfo
) -> None:
    c = register_customer(cctx, _draft(notes="原有备注"))
    reassign_customers(sctx, clerk.id, [clerk2.id])
    assert get_customer(sctx, c.id).notes == "原有备注\n2026-11-24 由 小王 移交给 小李"


def test_reassign_customers_checks(
    ctx: ServiceContext,
    cctx: ServiceContext,
    sctx: ServiceContext,
    admin: UserInfo,
    clerk: UserInfo,
    clerk2: UserInfo,
    one: CustomerDetail,
) -> None:
    before = _snapshot_counts(ctx)
    with pytest.raises(PermissionDenied):
        reassign_customers(cctx, clerk.id, [clerk2.id])
    with pytest.raises(ValidationError):
        reassign_customers(sctx, clerk.id, [])
    with pytest.raises(ValidationError):
        reassign_customers(sctx, clerk.id, [clerk.id, clerk2.id])
    with pytest.raises(ValidationError):
        reassign_customers(sctx, clerk.id, [admin.id])
    with pytest.raises(ValidationError):
        reassign_customers(sctx, clerk.id, [999])
    with pytest.raises(NotFound):
        reassign_customers(sctx, 999, [clerk2.id])
    assert _snapshot_counts(ctx) == before
    assert get_customer(sctx, one.id).owner_id == clerk.id


# --- department visibility ------------------------------------------------------------------------------


@pytest.fixture
def two_departments(
    ctx: ServiceContext, clerk: UserInfo, clerk2: UserInfo, as_user: AsUser
) -> tuple[CustomerDetail, CustomerDetail]:
    mine = register_customer(as_user(ctx, clerk), _draft("客服部的客户", _mobile(1)))
    theirs = register_customer(as_user(ctx, clerk2), _draft("销售部的客户", _mobile(2)))
    return mine, theirs


def _department_only(ctx: ServiceContext, user: UserInfo, as_user: AsUser) -> None:
    save_settings(as_user(ctx, user), replace(load_settings(ctx), visibility="department"))


def test_visibility_office_wide_by_default(
    ctx: ServiceContext,
    clerk: UserInfo,
    as_user: AsUser,
    two_departments: tuple[CustomerDetail, CustomerDetail],
) -> None:
    assert _codes(list_customers(as_user(ctx, clerk), CustomerFilter())) == ["KH000001", "KH000002"]
    assert get_customer(as_user(ctx, clerk), two_departments[1].id).name == "销售部的客户"


def test_visibility_department_hides_other_departments_from_clerks(
    ctx: ServiceContext,
    admin: UserInfo,
    clerk: UserInfo,
    clerk2: UserInfo,
    supervisor: UserInfo,
    manager: UserInfo,
    as_user: AsUser,
    two_departments: tuple[CustomerDetail, CustomerDetail],
) -> None:
    mine, theirs = two_departments
    _department_only(ctx, admin, as_user)
    cctx, c2ctx = as_user(ctx, clerk), as_user(ctx, clerk2)

    assert _codes(list_customers(cctx, CustomerFilter())) == [mine.code]
    assert count_customers(cctx, CustomerFilter()) == 1
    assert _codes(list_customers(c2ctx, CustomerFilter())) == [theirs.code]
    # a user filter cannot widen the scope
    assert _codes(list_customers(cctx, CustomerFilter(department_id=clerk2.department_id))) == [mine.code]
    assert list_customers(cctx, CustomerFilter(text="销售部")) == []
    assert _codes(list_customers(as_user(ctx, supervisor), CustomerFilter())) == [mine.code]
    assert _codes(list_customers(as_user(ctx, manager), CustomerFilter())) == [mine.code, theirs.code]
    assert count_customers(as_user(ctx, manager), CustomerFilter()) == 2

    with pytest.raises(PermissionDenied) as info:
        get_customer(cctx, theirs.id)
    assert theirs.code in str(info.value) and "其他部门" in str(info.value)
    with pytest.raises(PermissionDenied):
        get_customer_by_code(cctx, theirs.code)
    with pytest.raises(PermissionDenied):
        history(cctx, theirs.id)
    assert get_customer(as_user(ctx, manager), theirs.id).name == "销售部的客户"
    assert get_customer(cctx, mine.id).name == "客服部的客户"


def test_visibility_department_blocks_writes_to_other_departments(
    ctx: ServiceContext,
    admin: UserInfo,
    clerk: UserInfo,
    supervisor: UserInfo,
    as_user: AsUser,
    two_departments: tuple[CustomerDetail, CustomerDetail],
) -> None:
    _, theirs = two_departments
    _department_only(ctx, admin, as_user)
    cctx, sctx = as_user(ctx, clerk), as_user(ctx, supervisor)
    before = _snapshot_counts(ctx)
    with pytest.raises(PermissionDenied):
        update_customer(cctx, theirs.id, _draft("改名", _mobile(2)), theirs.version)
    with pytest.raises(PermissionDenied):
        set_archived(cctx, theirs.id, True, "不要了")
    with pytest.raises(PermissionDenied):
        add_purchase(cctx, theirs.id, day=TODAY, product="车", quantity=1)
    with pytest.raises(PermissionDenied):
        pin_grade(sctx, theirs.id, "A", "越权")
    with pytest.raises(PermissionDenied):
        recompute_grade(cctx, theirs.id)
    assert _snapshot_counts(ctx) == before


def test_visibility_department_user_without_department_sees_only_unassigned_files(
    ctx: ServiceContext,
    admin: UserInfo,
    as_user: AsUser,
    two_departments: tuple[CustomerDetail, CustomerDetail],
) -> None:
    loner = create_user(as_user(ctx, admin), "wubumen", "无部门", Role.CLERK, "secret-123")
    assert loner.department_id is None
    lctx = as_user(ctx, loner)
    own = register_customer(lctx, _draft("无部门的客户", _mobile(3)))
    _department_only(ctx, admin, as_user)
    assert _codes(list_customers(lctx, CustomerFilter())) == [own.code]
    assert count_customers(lctx, CustomerFilter()) == 1
    with pytest.raises(PermissionDenied):
        get_customer(lctx, two_departments[0].id)
    assert get_customer(lctx, own.id).name == "无部门的客户"


def test_visibility_setting_needs_permission(ctx: ServiceContext, clerk: UserInfo, as_user: AsUser) -> None:
    with pytest.raises(PermissionDenied):
        _department_only(ctx, clerk, as_user)
    assert load_settings(ctx).visibility == "office"


# --- search ---------------------------------------------------------------------------------------------


@pytest.fixture
def searchable(cctx: ServiceContext) -> dict[str, CustomerDetail]:
    return {
        "mingda": register_customer(cctx, _draft("杭州明达贸易有限公司", "13812345678", contact="张三")),
        "zhangsan": register_customer(
            cctx,
            CustomerDraft(
                name="张三", kind="个人", contacts=(ContactDraft(name="张三", phone="0571-88886666 转801"),)
            ),
        ),
        "huawei": register_customer(cctx, _draft("华为技术", "13998765432", contact="李四")),
        "ningbo": register_customer(cctx, _draft("宁波明达五金", "", phone="400-812-3456", contact="王五")),
        "percent": register_customer(cctx, _draft("100%好评店", "13700001111", contact="赵六")),
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("明达", ["mingda", "ningbo"]),
        ("  明达 ", ["mingda", "ningbo"]),
        ("华为", ["huawei"]),
        ("张三", ["zhangsan"]),
        ("KH000003", ["huawei"]),
        ("kh000003", ["huawei"]),
        ("KH00000", ["mingda", "zhangsan", "huawei", "ningbo", "percent"]),
        ("000004", ["ningbo"]),
        ("1381234", ["mingda"]),
        ("138 1234 5678", ["mingda"]),
        ("139-9876", ["huawei"]),
        ("0571", ["zhangsan"]),
        ("0571-8888", ["zhangsan"]),
        ("400812", ["ningbo"]),
        ("zs", ["zhangsan"]),
        ("ZS", ["zhangsan"]),
        ("hzmd", ["mingda"]),
        ("hw", ["huawei"]),
        ("%", ["percent"]),
        ("好评", ["percent"]),
        ("不存在的公司", []),
        ("", ["mingda", "zhangsan", "huawei", "ningbo", "percent"]),
    ],
)
def test_list_customers_search(
    cctx: ServiceContext, searchable: dict[str, CustomerDetail], text: str, expected: list[str]
) -> None:
    rows = list_customers(cctx, CustomerFilter(text=text))
    assert _codes(rows) == [searchable[k].code for k in expected]
    assert count_customers(cctx, CustomerFilter(text=text)) == len(expected)


def test_list_customers_search_finds_any_contacts_phone(cctx: ServiceContext) -> None:
    c = register_customer(
        cctx,
        CustomerDraft(
            name="多联系人",
            contacts=(
                ContactDraft(name="甲", mobile="13812345678"),
                ContactDraft(name="乙", phone="021 6123 4567"),
            ),
        ),
    )
    assert _codes(list_customers(cctx, CustomerFilter(text="02161234"))) == [c.code]


def test_list_customers_filters_combine(
    cctx: ServiceContext, sctx: ServiceContext, searchable: dict[str, CustomerDetail], clerk: UserInfo
) -> None:
    pin_grade(sctx, searchable["huawei"].id, "A", "重点")
    assert _codes(list_customers(cctx, CustomerFilter(grade="A"))) == [searchable["huawei"].code]
    assert _codes(list_customers(cctx, CustomerFilter(grade="D", text="明达"))) == [
        searchable["mingda"].code,
        searchable["ningbo"].code,
    ]
    assert len(list_customers(cctx, CustomerFilter(owner_id=clerk.id))) == 5
    assert list_customers(cctx, CustomerFilter(status="流失")) == []


# --- keyset paging --------------------------------------------------------------------------------------


@pytest.fixture
def thirty(cctx: ServiceContext) -> list[CustomerDetail]:
    surnames = "赵钱孙李周吴郑王冯陈"
    regions = ("西湖", "滨江", "上城", "")
    out = []
    for i in range(30):
        out.append(
            register_customer(
                cctx,
                CustomerDraft(
                    name=f"{surnames[i % 10]}{'记商行' if i % 3 else '氏'}{i // 10}",
                    category=DEFAULT_CATEGORIES[i % len(DEFAULT_CATEGORIES)],
                    status=CUSTOMER_STATUSES[i % len(CUSTOMER_STATUSES)],
                    region=regions[i % len(regions)],
                    created_on=date(2026, 1 + i % 5, 1 + i % 7),
                    contacts=(ContactDraft(name="联系人", mobile=_mobile(100 + i)),),
                ),
            )
        )
    return out


def _all_pages(ctx: ServiceContext, f: CustomerFilter, limit: int) -> list[list[svc.CustomerRow]]:
    pages, after = [], None
    while True:
        page = list_customers(ctx, f, after, limit)
        if not page:
            return pages
        pages.append(page)
        after = (page[-1].sort_key, page[-1].id)
        assert len(pages) < 100


def test_list_customers_keyset_paging_returns_every_row_once(
    cctx: ServiceContext, thirty: list[CustomerDetail], subtests: pytest.Subtests
) -> None:
    """Every sort key, ascending and descending, pages of 7 over 30 files (many ties on the sort value)."""
    all_ids = sorted(c.id for c in thirty)
    for sort in sorted(CUSTOMER_SORTS):
        for descending in (False, True):
            with subtests.test(sort=sort, descending=descending):
                f = CustomerFilter(sort=sort, descending=descending, include_archived=True)
                pages = _all_pages(cctx, f, 7)
                rows = [r for p in pages for r in p]
                assert [len(p) for p in pages] == [7, 7, 7, 7, 2]
                assert sorted(r.id for r in rows) == all_ids
                keys = [(r.sort_key, r.id) for r in rows]
                assert keys == sorted(keys, reverse=descending)
                assert rows == list_customers(cctx, f, None, 1000)  # same order as one big page


def test_list_customers_sort_keys_are_the_sorted_values(
    cctx: ServiceContext, thirty: list[CustomerDetail]
) -> None:
    by_created = list_customers(cctx, CustomerFilter(sort="created_on"))
    assert [r.sort_key for r in by_created] == [r.created_on for r in by_created]
    by_name = list_customers(cctx, CustomerFilter(sort="name"))
    assert (by_name[0].name, by_name[0].sort_key) == ("陈记商行1", "cjsh1")  # chen: first by pinyin initials
    by_region = list_customers(cctx, CustomerFilter(sort="region", descending=True))
    assert [r.sort_key for r in by_region][:1] == ["西湖"] and by_region[-1].region == ""


def test_list_customers_paging_skips_archived_and_respects_text(
    cctx: ServiceContext, thirty: list[CustomerDetail]
) -> None:
    for c in thirty[:5]:
        set_archived(cctx, c.id, True, "测试")
    rows = [r for p in _all_pages(cctx, CustomerFilter(sort="name"), 4) for r in p]
    assert len(rows) == 25 and not any(r.archived for r in rows)
    matches = [r for p in _all_pages(cctx, CustomerFilter(sort="created_on", text="商行"), 3) for r in p]
    assert len(matches) == count_customers(cctx, CustomerFilter(text="商行")) == 17


# --- history and audit ----------------------------------------------------------------------------------


def test_history_shows_old_and_new_values(
    cctx: ServiceContext, sctx: ServiceContext, one: CustomerDetail
) -> None:
    v2 = update_customer(cctx, one.id, _draft("明达集团", address="杭州市文三路 1 号"), one.version)
    update_customer(sctx, one.id, _draft("明达集团", "13900000000", address="文一路 8 号"), v2.version)
    rows = history(cctx, one.id)
    assert [(r.action, r.user) for r in rows] == [
        ("修改客户", "zhuguan"),
        ("修改客户", "xiaowang"),
        ("新建客户", "xiaowang"),
    ]
    assert rows[1].old == "客户名称：杭州明达贸易有限公司"
    assert rows[1].new == "客户名称：明达集团"
    assert "地址：杭州市文三路 1 号" in rows[0].old and "地址：文一路 8 号" in rows[0].new
    assert "联系人：张三 138 1234 5678" in rows[0].old and "联系人：张三 139 0000 0000" in rows[0].new
    assert "客户名称" not in rows[0].old


def test_history_shows_empty_and_yes_no_values_in_chinese(
    cctx: ServiceContext, sctx: ServiceContext, one: CustomerDetail
) -> None:
    update_customer(cctx, one.id, _draft(address="杭州市文三路 1 号", region="西湖"), one.version)
    pin_grade(sctx, one.id, "A", "集团大客户")
    set_archived(cctx, one.id, True, "停业")
    rows = history(cctx, one.id)
    assert (rows[0].old, rows[0].new, rows[0].note) == ("归档：否", "归档：是", "停业")
    assert rows[1].new == "等级：A；等级原因：集团大客户；手动指定：是"
    assert rows[1].old == "等级：D；等级原因：（空）；手动指定：否"
    assert (rows[2].old, rows[2].new) == ("区域：（空）", "区域：西湖")
    assert "生日：（空）" in rows[3].new
    assert not any("None" in r.old + r.new or "True" in r.old + r.new for r in rows)


def test_update_customer_without_changes_writes_no_history(cctx: ServiceContext, one: CustomerDetail) -> None:
    update_customer(cctx, one.id, _draft(address="杭州市文三路 1 号"), one.version)
    assert [r.action for r in history(cctx, one.id)] == ["新建客户"]


def test_every_customer_write_is_audited(
    ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext, clerk: UserInfo, clerk2: UserInfo
) -> None:
    def audit_count() -> int:
        return len(_audit(ctx))

    steps: list[tuple[str, Callable[[], object]]] = []
    state: dict[str, CustomerDetail] = {}
    steps.append(("新建客户", lambda: state.setdefault("c", register_customer(cctx, _draft()))))
    steps.append(
        ("修改客户", lambda: update_customer(cctx, state["c"].id, _draft("新名"), state["c"].version))
    )
    steps.append(("登记购货", lambda: add_purchase(cctx, state["c"].id, day=TODAY, product="车", quantity=1)))
    steps.append(("指定等级", lambda: pin_grade(sctx, state["c"].id, "A", "原因")))
    steps.append(("取消指定等级", lambda: pin_grade(sctx, state["c"].id, None)))
    steps.append(("归档客户", lambda: set_archived(cctx, state["c"].id, True, "原因")))
    steps.append(("恢复客户", lambda: set_archived(cctx, state["c"].id, False)))
    steps.append(("移交客户", lambda: reassign_customers(sctx, clerk.id, [clerk2.id])))
    for action, step in steps:
        before = audit_count()
        step()
        new_rows = _audit(ctx)[before:]
        assert action in [r.action for r in new_rows], action
        assert all(r.at.isoformat() == "2026-11-24T10:00:00" for r in new_rows)


def test_update_customer_contact_only_change_still_bumps_version(
    cctx: ServiceContext, sctx: ServiceContext
) -> None:
    two = CustomerDraft(
        name="两位联系人",
        contacts=(
            ContactDraft(name="甲", mobile="13812345678"),
            ContactDraft(name="乙", phone="0571-88886666"),
        ),
    )
    c = register_customer(cctx, two)
    opened_by_supervisor = get_customer(sctx, c.id)
    changed = replace(two, contacts=(two.contacts[0], ContactDraft(name="乙", phone="0571-88887777")))
    saved = update_customer(cctx, c.id, changed, c.version)  # same clock second, only a secondary contact
    assert saved.version > c.version
    with pytest.raises(ConflictError):
        update_customer(sctx, c.id, two, opened_by_supervisor.version)
    assert get_customer(cctx, c.id).contacts[1].phone == "057188887777"


def test_customer_scope_is_the_one_visibility_rule(
    ctx: ServiceContext,
    admin: UserInfo,
    clerk: UserInfo,
    supervisor: UserInfo,
    manager: UserInfo,
    as_user: AsUser,
) -> None:
    """The customer files, visits, printing, statistics, ledgers, service records and complaints all ask
    this one function: office-wide by default; limited to the user's department under the department
    setting, except for managers and up and the program itself (user 0)."""
    everyone = CustomerScope(False, None)
    assert customer_scope(as_user(ctx, clerk)) == everyone
    _department_only(ctx, admin, as_user)
    assert customer_scope(as_user(ctx, clerk)) == CustomerScope(True, clerk.department_id)
    assert customer_scope(as_user(ctx, supervisor)) == CustomerScope(True, supervisor.department_id)
    assert customer_scope(as_user(ctx, manager)) == everyone
    assert customer_scope(ctx) == everyone  # the program itself
    homeless = customer_scope(as_user(ctx, replace(clerk, department_id=None)))
    assert homeless == CustomerScope(True, None)  # sees only the files that have no department
    assert str(homeless.condition()).endswith("IS NULL")
