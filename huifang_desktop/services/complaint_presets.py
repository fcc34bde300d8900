"""The complaint section of the office-type presets (:mod:`huifang_desktop.services.presets`): categories and
the rule books' complaint rules per office type, declared once and applied through the settings services.

- 售后服务 / 经销商 (manufacturers and dealers): 质量异常 / 非质量异常 (002 制度3 第五条) beside the service
  categories; handling limits by customer origin, 国内 15 / 国外 20 days (002 制度15 第十条).
- 物业管理: 服务态度 / 专业素质 / 服务效率 / 其他 (002 制度9) plus 维修 and 收费; the urgent timings 24 h / 12 h /
  2 h (002 制度5 §1, §2, §5).
- 证券营业部: the service categories.

Complaints already stored keep their category whatever the list says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from huifang_desktop.domain.complaint_rules import UrgentTimings
from huifang_desktop.services import complaints
from huifang_desktop.services.context import ServiceContext


@dataclass(frozen=True)
class ComplaintPreset:
    categories: tuple[str, ...]
    origin_days: Mapping[str, int] = field(default_factory=dict)
    urgent: UrgentTimings | None = None


COMPLAINT_PRESETS: Mapping[str, ComplaintPreset] = MappingProxyType(
    {
        "after_sales": ComplaintPreset(
            ("质量异常", "非质量异常", "服务态度", "专业素质", "服务效率", "其他"),
            origin_days=MappingProxyType({"国内": 15, "国外": 20}),
        ),
        "property": ComplaintPreset(
            ("服务态度", "专业素质", "服务效率", "维修", "收费", "其他"), urgent=UrgentTimings()
        ),
        "securities": ComplaintPreset(("服务态度", "专业素质", "服务效率", "收费", "其他")),
    }
)


def _apply_complaint_preset(ctx: ServiceContext, key: str) -> None:
    """Set the categories and complaint rules of office type ``key`` (the caller checked the right)."""
    p = COMPLAINT_PRESETS.get(key)
    if p is None:
        return
    complaints.save_policy(ctx, replace(complaints.load_policy(ctx), categories=p.categories))
    rules = complaints.load_complaint_rules(ctx)
    complaints.save_complaint_rules(ctx, replace(rules, origin_days=dict(p.origin_days), urgent=p.urgent))
