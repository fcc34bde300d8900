"""Review history of the demo office (演示审阅历史): items signed, returned and reopened through the services.

After the generators have written the visit and complaint history, :func:`seed_review_history` takes some
of the items waiting for review through :mod:`huifang_desktop.services.review` itself — sign, return for
rework, reopen, correct (``visits.update_record``) or resubmit, sign again — so the 审阅 tab and the audit
log show history the program made, under the review rules as they are.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from huifang_desktop.domain.complaint_rules import ComplaintRules, own_file_signable, sign_refusal
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.roles import Permission, Role, roles_at_top
from huifang_desktop.domain.signoff import ReviewKind
from huifang_desktop.services import review, signing, users, visits
from huifang_desktop.services.complaints.rules import load_complaint_rules
from huifang_desktop.services.context import SYSTEM_USER, ServiceContext
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.storage.models import Complaint, User


@dataclass(frozen=True, slots=True)
class SeedResult:
    signed: int
    returned: int
    reopened: int
    resubmitted: int


def seed_review_history(
    ctx: ServiceContext, seed: int = 1, keys: Mapping[int, signing.UnlockedKey] | None = None
) -> SeedResult:
    """For the demo office: sign, return and reopen some of the items waiting for review, through the
    services above (so the review tab and the audit log show real history). Uses the first active supervisor
    and manager whose signing keys are in ``keys`` (unlocked by the demo generator, which knows their
    passwords); does nothing when there is nobody to sign or nothing waiting.

    Of the waiting items (oldest first), the older half is reviewed: one in eight is returned with a reason,
    the rest is signed; a few signed ones are then reopened by the manager, corrected / resubmitted by their
    clerk and signed again (revision 1)."""
    ctx.require(Permission.MANAGE_USERS, "生成演示数据")
    rng = random.Random(seed)
    with ctx.sessions() as s:
        people = {
            role: [
                uid
                for (uid,) in s.execute(
                    select(User.id).where(User.role == role.value, User.active.is_(True)).order_by(User.id)
                )
            ]
            for role in (Role.SUPERVISOR, Role.MANAGER)
        }
    keys = keys or {}
    signers = [
        users.get_user(ctx, uid) for uid in people[Role.SUPERVISOR] + people[Role.MANAGER] if uid in keys
    ]
    if not signers:
        return SeedResult(0, 0, 0, 0)
    reopener = users.get_user(ctx, (people[Role.MANAGER] or people[Role.SUPERVISOR])[0])
    queue = _all_pending(ctx)
    older = queue[: max(0, len(queue) // 2)]
    reasons = (
        "客户意见记录过于简单，请补充具体问题。",
        "满意度与客户反馈不一致，请核实后修改。",
        "问题点未写明转交部门，请补充。",
        "处理措施不够具体，请写明时间和责任人。",
    )
    comments = ("记录完整，继续保持。", "已阅，注意按时跟进。", "", "问题处理及时，同意。")
    to_return = {i.ref for i in rng.sample(older, len(older) // 8)} if len(older) >= 8 else set()
    signed: list[review.ReviewItem] = []
    returned = 0
    authority = _Authority.load(ctx)
    # visit records are batch-signed as the 审阅 tab lets a supervisor do (勾选 → 批量签字: one comment, one
    # transaction), a batch per signer and comment; reports and complaint files one by one
    batches: dict[tuple[int, str], tuple[ServiceContext, list[review.ItemRef]]] = {}
    for item in older:
        acting = _signer_for(ctx, signers, item, authority)
        if acting is None:
            continue
        if item.ref in to_return:
            review.return_for_rework(acting, item.kind, item.id, rng.choice(reasons), item.version)
            returned += 1
        elif item.kind is ReviewKind.RECORD:
            batch = batches.setdefault((acting.user.id, rng.choice(comments)), (acting, []))
            batch[1].append(item.ref)
        else:
            signed.append(
                review.sign(
                    acting, item.kind, item.id, rng.choice(comments), item.version, key=keys[acting.user.id]
                )
            )
    for (signer_id, comment), (acting, refs) in batches.items():
        signed.extend(review.batch_sign(acting, refs, comment, key=keys[signer_id]))
    reopened = resubmitted = 0
    for item in rng.sample(signed, min(3, len(signed))):
        if item.owner_id is None:
            continue
        review.reopen(
            ctx.as_user(reopener), item.kind, item.id, "客户来电补充了情况，撤回签字请回访人补充记录。"
        )
        reopened += 1
        owner_ctx = ctx.as_user(users.get_user(ctx, item.owner_id))
        _correct_or_resubmit(owner_ctx, item)
        resubmitted += 1
        fresh = review.detail(ctx, item.kind, item.id).item
        acting = _signer_for(ctx, signers, fresh, authority)
        if acting is None:
            continue
        review.sign(acting, item.kind, item.id, "补充后已阅，同意。", fresh.version, key=keys[acting.user.id])
    return SeedResult(len(signed) + reopened, returned, reopened, resubmitted)


def _all_pending(ctx: ServiceContext) -> list[review.ReviewItem]:
    """The whole queue, oldest first (the system user sees everything and has no own items)."""
    return sorted(review.review_queue(ctx.as_user(SYSTEM_USER)).items(), key=lambda i: (i.day, i.number))


@dataclass(frozen=True, slots=True)
class _Authority:
    """The complaint files' severities and the office's 核决权限: who may sign which file (002 制度3 §6)."""

    severities: Mapping[int, str]
    rules: ComplaintRules
    top: tuple[int, ...]  # the active people at the top of the ladder (公司经理)

    @classmethod
    def load(cls, ctx: ServiceContext) -> _Authority:
        with ctx.sessions() as s:
            severities = {
                cid: severity for cid, severity in s.execute(select(Complaint.id, Complaint.severity))
            }
            top = tuple(
                s.execute(
                    select(User.id).where(User.role.in_(roles_at_top()), User.active.is_(True))
                ).scalars()
            )
        return cls(severities, load_complaint_rules(ctx), top)

    def refuses(self, role: Role, item: review.ReviewItem) -> bool:
        if item.kind is not ReviewKind.COMPLAINT:
            return False
        return bool(sign_refusal(role, self.severities[item.id], self.rules))

    def own_ok(self, role: Role, item: review.ReviewItem, others_at_top: int) -> bool:
        """Its handler may sign it: a complaint file at the top of the ladder, nobody else there."""
        if item.kind is not ReviewKind.COMPLAINT:
            return False
        return own_file_signable(role, self.severities[item.id], self.rules, others_at_top=others_at_top)


def _signer_for(
    ctx: ServiceContext, signers: Sequence[Any], item: review.ReviewItem, authority: _Authority
) -> ServiceContext | None:
    """The first signer who did not make the item and whose level the item's 核决权限 reaches; else its own
    handler when it is a complaint file at the top of the ladder."""
    for person in signers:
        if person.id != item.owner_id and not authority.refuses(Role(person.role), item):
            return ctx.as_user(person)
    for person in signers:
        others = sum(1 for uid in authority.top if uid != person.id)
        if person.id == item.owner_id and authority.own_ok(Role(person.role), item, others):
            return ctx.as_user(person)
    return None


def _correct_or_resubmit(owner_ctx: ServiceContext, item: review.ReviewItem) -> None:
    """A reopened record is corrected through ``visits.update_record`` (the edit after the reopen shows in the
    log); anything else, or a record the current rules would refuse, is sent back unchanged."""
    if item.kind is ReviewKind.RECORD:
        r = visits.get_record(owner_ctx, item.id)
        draft = visits.VisitRecordDraft(
            customer_id=r.customer_id,
            result=r.result,
            plan_id=r.plan_id,
            contact_name=r.contact_name,
            contact_phone=r.contact_phone,
            visit_type=r.visit_type,
            method=r.method,
            visited_at=r.visited_at,
            visitor_id=r.visitor_id,
            content=r.content,
            feedback=(r.feedback + "（客户来电补充：已解决）").strip(),
            problems=r.problems,
            measures=r.measures,
            satisfaction=r.satisfaction,
            handling=r.handling,
            transfer_department=r.transfer_department,
            next_visit_on=r.next_visit_on,
            customer_signed=r.customer_signed,
        )
        try:
            visits.update_record(owner_ctx, item.id, draft, r.version)
            return
        except (ValidationError, ServiceError):
            pass
    current = review.detail(owner_ctx, item.kind, item.id).item
    review.resubmit(owner_ctx, item.kind, item.id, "已补充说明。", current.version)


__all__ = ["SeedResult", "seed_review_history"]
