"""The demo office's sizes and shares (:class:`DemoProfile`), apart from the generator so that every stage
of it can take the profile without importing the module that runs them all."""

from __future__ import annotations

from dataclasses import dataclass, field

from huifang_desktop.demo.visit_world import VisitProfile
from huifang_desktop.domain.errors import FieldError, ValidationError


@dataclass(frozen=True, slots=True)
class DemoProfile:
    """Sizes and shares of the demo office; the defaults look like a mid-sized dealer's customer base."""

    clerks: int = 5
    batch_size: int = 5000  # customers per transaction (with their contacts and purchases)
    years: int = 5  # 建档日期 spread over the last N years
    person_share: float = 0.35  # 个人 customers; the rest are 单位
    grade_shares: tuple[float, float, float, float] = (0.06, 0.12, 0.30, 0.52)  # aimed-at A, B, C, D
    status_shares: tuple[float, float, float, float] = (0.88, 0.05, 0.05, 0.02)  # 正常, 暂停, 流失, 注销
    archived_lost_share: float = 0.5  # 流失 files that are archived (注销 files always are)
    pinned_share: float = 0.01  # grades fixed by hand, with a reason
    contact_count_shares: tuple[float, float, float] = (0.45, 0.40, 0.15)  # 1, 2, 3 contacts
    mobile_share: float = 0.92  # 单位 contacts with a mobile
    landline_share: float = 0.55  # 单位 contacts with an office landline
    service_number_share: float = 0.03  # of those landlines, a 400 number
    extension_share: float = 0.15  # of the other landlines, with an extension (分机)
    home_phone_share: float = 0.15  # 个人 contacts who also give a home landline
    email_share: float = 0.25  # 单位 contacts with an e-mail address
    birthday_share: float = 0.8  # 个人 customers with a birthday on file
    old_purchases_max: int = 3  # purchases before the grading window, per customer
    delivery_share: float = 0.2  # purchase rows that are 交货 rather than 购货
    note_share: float = 0.06
    ledger_incomplete_share: float = 0.1  # end customers who bought in the last year, 台帐 without a phone
    visits: VisitProfile = field(default_factory=VisitProfile)  # the visit history (demo.visits)
    review_history: bool = True  # sign, return and reopen some items through the review services
    handover: bool = True  # with a history: one clerk left weeks ago, their work handed to a colleague
    urgent_timings: bool = True  # an office made whole takes 紧急 complaints (the rule book's timings)

    def validate(self) -> None:
        errors = []
        if self.clerks < 1:
            errors.append(FieldError("clerks", "业务员人数", "至少 1 人"))
        if self.batch_size < 1:
            errors.append(FieldError("batch_size", "每批客户数", "至少 1"))
        if self.years < 1:
            errors.append(FieldError("years", "建档年数", "至少 1 年"))
        if errors:
            raise ValidationError(errors)
