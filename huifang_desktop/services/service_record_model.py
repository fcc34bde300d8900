"""The service ledger's data: its states, office options and what the dialog sends and the ledger shows
(:mod:`huifang_desktop.services.service_records` reads and writes them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.validation import (
    clean_text,
)
from huifang_desktop.storage.models import ServiceRecord


class ServiceStatus(StrEnum):
    """State of a service record. Only 已完成 triggers the repair follow-up visit."""

    OPEN = "处理中"
    DONE = "已完成"
    CANCELLED = "已取消"


STATUSES: tuple[str, ...] = tuple(s.value for s in ServiceStatus)


@dataclass(frozen=True, slots=True)
class ServiceOptions:
    """Office settings of the service ledger (key ``service_options``); every value is a default.

    ``kinds``: the 服务类型 list; ``repair_kinds``: the kinds whose completion triggers the repair
    follow-up visit rule (维修回访); ``follow_up_results``: the 跟进结果 choices (domain.md §6)."""

    kinds: tuple[str, ...] = ("维修", "保养", "安装", "巡检", "调试", "培训", "其他")
    repair_kinds: tuple[str, ...] = ("维修",)
    follow_up_results: tuple[str, ...] = ("未解决", "已解决", "客户放弃")
    number_prefix: str = "FW"

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        if not self.kinds or any(not clean_text(k) or len(k) > 20 for k in self.kinds):
            errors.append(FieldError("kinds", "服务类型", "至少需要一个类型，每个不超过 20 个字"))
        if not set(self.repair_kinds) <= set(self.kinds):
            errors.append(FieldError("repair_kinds", "维修类服务", "应是服务类型中的一项或几项"))
        results = self.follow_up_results
        if not results or any(not clean_text(r) or len(r) > 10 for r in results):
            errors.append(FieldError("follow_up_results", "跟进结果", "至少需要一项，每项不超过 10 个字"))
        prefix = self.number_prefix
        if not (prefix.isascii() and prefix.isalpha() and 1 <= len(prefix) <= 4):
            errors.append(FieldError("number_prefix", "服务单号前缀", "应为 1–4 个英文字母"))
        if errors:
            raise ValidationError(errors)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServiceOptions:
        known = {f.name for f in fields(cls)}
        clean: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known
        }
        return cls(**clean)


@dataclass(frozen=True, slots=True)
class ServiceDraft:
    """What the service record dialog sends. Dates may be strings (``2026-11-24``), amounts strings too."""

    customer_id: int | None
    served_on: date | str | None
    kind: str
    status: str = ServiceStatus.OPEN.value
    place: str = ""  # 服务地点 / 项目
    product: str = ""
    serial_no: str = ""
    problem: str = ""  # 故障 / 问题
    content: str = ""  # 服务内容 / 处理措施
    parts: str = ""  # 更换配件
    parts_quantity: int | str = 0
    parts_amount: Decimal | str | None = None
    cost: Decimal | str | None = None
    result: str = ""  # 服务结果
    feedback: str = ""  # 客户反馈
    satisfaction: str = ""
    technician: str = ""  # 服务人员
    handler_id: int | None = None  # 负责人; default: the acting user
    completed_on: date | str | None = None  # default for 已完成: the service date
    notes: str = ""


@dataclass(frozen=True, slots=True)
class FollowUpRow:
    id: int
    at: datetime
    person: str
    result: str
    note: str


@dataclass(frozen=True, slots=True)
class ServiceRecordDetail:
    id: int
    number: str
    customer_id: int
    customer_code: str
    customer_name: str
    served_on: date
    kind: str
    status: str
    place: str
    product: str
    serial_no: str
    problem: str
    content: str
    parts: str
    parts_quantity: int
    parts_amount: Decimal | None
    cost: Decimal | None
    result: str
    feedback: str
    satisfaction: str
    technician: str
    handler_id: int | None
    handler: str
    completed_on: date | None
    notes: str
    visit_plan_id: int | None
    visit_state: str  # 待回访 / 已回访 / 已取消 / 逾期, '' without a visit
    visit_due: date | None
    follow_ups: tuple[FollowUpRow, ...]
    version: int
    visit_note: str = ""  # what the last save did about the repair follow-up visit

    def to_draft(self, **changes: Any) -> ServiceDraft:
        base = {f.name: getattr(self, f.name) for f in fields(ServiceDraft)}
        base.update(changes)
        return ServiceDraft(**base)


@dataclass(frozen=True, slots=True)
class ServiceRow:
    id: int
    number: str
    served_on: date
    customer_id: int
    customer_code: str
    customer_name: str
    kind: str
    product: str
    serial_no: str
    status: str
    handler: str
    technician: str
    cost: Decimal | None
    follow_up_result: str
    sort_key: Any


@dataclass(frozen=True, slots=True)
class ServiceChoices:
    """The choices of the entry form."""

    kinds: tuple[str, ...]
    statuses: tuple[str, ...]
    follow_up_results: tuple[str, ...]
    satisfaction_levels: tuple[str, ...]
    handlers: tuple[tuple[int, str], ...]


@dataclass(frozen=True, slots=True)
class ServiceFilter:
    text: str = ""  # 服务单号, customer (name, 编号, phone, pinyin initials), product or serial number
    start: date | None = None  # served on or after
    end: date | None = None  # served on or before
    kinds: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()
    follow_up_results: frozenset[str] = frozenset()
    handler_id: int | None = None
    mine: bool = False  # handled by the acting user
    customer_id: int | None = None
    grade: str = ""  # the customer's 等级
    sort: str = "served_on"  # served_on | number
    descending: bool = False


SERVICE_SORTS = {"served_on": ServiceRecord.served_on, "number": ServiceRecord.number}
