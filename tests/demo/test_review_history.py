"""The demo's review history: items signed, returned and reopened through the review services themselves."""

from __future__ import annotations

from datetime import date

import pytest

from huifang_desktop.demo import SeedResult, seed_review_history
from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.signoff import Integrity
from huifang_desktop.services import review as rv
from huifang_desktop.services import signing
from huifang_desktop.services import visits as v
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.customers import register_customer
from huifang_desktop.services.errors import PermissionDenied
from tests.conftest import PASSWORD

_mobiles = iter(range(20_000_000, 99_999_999))


def customer(cctx: ServiceContext, name: str) -> int:
    contacts = (ContactDraft(name="张倩", mobile=f"139{next(_mobiles)}"),)
    return register_customer(cctx, CustomerDraft(name=name, created_on="2026-11-01", contacts=contacts)).id


def record(cctx: ServiceContext, customer_id: int, at: str = "2026-11-24 09:00") -> v.VisitRecordRow:
    return v.record_visit(
        cctx,
        v.VisitRecordDraft(
            customer_id=customer_id,
            result="成功",
            visited_at=at,
            satisfaction="满意",
            feedback="送货及时",
            content="了解使用情况",
        ),
    )


def test_seed_review_history_signs_returns_and_reopens_through_the_services(
    ctx: ServiceContext,
    cctx: ServiceContext,
    c2ctx: ServiceContext,
    sctx: ServiceContext,
    mctx: ServiceContext,
) -> None:
    for i, name in enumerate(
        ("甲公司", "乙公司", "丙公司", "丁公司", "戊公司", "己公司", "庚公司", "辛公司")
    ):
        who = cctx if i % 2 else c2ctx
        c = customer(who, name)
        for day in (17, 18, 19, 20):
            record(who, c, f"2026-11-{day} 09:{i:02d}")
    total = rv.review_queue(ctx).total
    keys = {c.user.id: signing.unlock(c, PASSWORD) for c in (sctx, mctx)}  # the demo knows the passwords
    assert seed_review_history(ctx, seed=3).signed == 0  # without a key nobody can sign
    result = seed_review_history(ctx, seed=3, keys=keys)
    assert result.signed > 0 and result.returned > 0 and result.reopened == result.resubmitted == 3
    first_signatures = result.signed - result.reopened  # the reopened ones were signed a second time
    assert rv.review_queue(ctx).total == total - first_signatures - result.returned
    assert len(rv.returned_queue(sctx, mine=False).groups) >= 1
    assert rv.audit_log(sctx, rv.AuditFilter(action="撤回签字")).total == 3
    revised = [i for i in rv.signed_queue(sctx, since=date(2026, 1, 1)).items() if i.revision == 1]
    assert len(revised) == 3 and all(i.integrity is Integrity.INTACT for i in revised)
    assert rv.tampered_items(sctx) == []


def test_seed_review_history_without_signers_does_nothing(ctx: ServiceContext, cctx: ServiceContext) -> None:
    record(cctx, customer(cctx, "甲公司"))
    assert seed_review_history(ctx) == SeedResult(0, 0, 0, 0)


def test_seed_review_history_needs_the_right_to_manage_users(cctx: ServiceContext) -> None:
    with pytest.raises(PermissionDenied):
        seed_review_history(cctx)


def test_the_demo_signs_each_complaint_file_at_the_level_its_severity_asks(ctx):
    # 002 制度3 §6 (核决权限): a 重大 file is signed by the manager; the CLI's small demo (60 complaints) once
    # had its 客服主管 sign one and stopped with an error
    from huifang_desktop.demo import generate_demo
    from huifang_desktop.domain.complaint_rules import sign_refusal
    from huifang_desktop.domain.roles import Role
    from huifang_desktop.services.complaints.rules import load_complaint_rules
    from huifang_desktop.storage.models import Complaint

    generate_demo(ctx, customers=60, visits=600, complaints=60, seed=1)
    rules = load_complaint_rules(ctx)
    with ctx.sessions() as s:
        signed = [(c.number, c.severity, c.signed_role) for c in s.query(Complaint) if c.signed_role]
    assert signed
    assert [n for n, sev, role in signed if sign_refusal(Role(role), sev, rules)] == []


def test_no_complaint_file_of_the_demo_waits_for_a_signature_nobody_may_give(ctx):
    # 重大 complaints are handled by the 公司经理 (domain.md §7) and signed at 经理 level (核决权限): with one
    # manager in the office only he can sign them. The 审阅 tab of the example office once listed nine of his
    # files from 2024–2026 as overdue for good.
    from huifang_desktop.demo import generate_demo
    from huifang_desktop.domain.roles import Role
    from huifang_desktop.storage.models import Complaint, User

    generate_demo(ctx, customers=60, visits=600, complaints=60, seed=1)
    with ctx.sessions() as s:
        managers = {u.id for u in s.query(User) if u.role == Role.MANAGER.value}
        files = [c for c in s.query(Complaint) if c.state == "已关闭" and c.handler_id in managers]
        assert [c for c in files if c.severity == "重大"]
        old = [c for c in files if c.closed_at is not None and (ctx.now() - c.closed_at).days > 30]
        assert old and [c.number for c in old if c.review_status == "待审阅"] == []
        assert {c.signed_by_id for c in old if c.severity == "重大"} <= managers
