"""One row of a 回访台账, 投诉台账 or 售后服务台账 as a checked history record (:func:`visit_from_row`,
:func:`complaint_from_row`, :func:`service_from_row`) and the keys two rows are the same record by.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from huifang_desktop.domain.complaints import Channel, ComplaintState, Severity
from huifang_desktop.domain.importing.fields import DEFAULT_RULES, ImportRules
from huifang_desktop.domain.importing.rows import Columns, RowIssue, SheetRow, _Row, _users_key
from huifang_desktop.domain.importing.values import (
    _choose,
    parse_cell_date,
    parse_cell_datetime,
    parse_money,
    split_phone_cell,
)
from huifang_desktop.domain.visits import VisitMethod, VisitResult, VisitType


@dataclass(frozen=True, slots=True)
class VisitRowContext:
    now: datetime
    customers_by_code: Mapping[str, int]
    customers_by_name: Mapping[str, tuple[int, ...]]
    users: Mapping[str, int]
    satisfaction_levels: tuple[str, ...]
    default_visitor_id: int | None = None
    rules: ImportRules = DEFAULT_RULES


@dataclass(frozen=True, slots=True)
class VisitCandidate:
    """A checked 回访台账 row: a history record (no plan, no follow-up)."""

    row: int
    number: str  # '' → numbered on import
    customer_id: int
    visited_at: datetime
    visit_type: str
    method: str
    result: str
    satisfaction: str
    visitor_id: int | None
    contact_name: str
    contact_phone: str
    content: str
    feedback: str
    problems: str
    measures: str
    handling: str
    next_visit_on: date | None


_VISIT_TYPES = tuple(t.value for t in VisitType)
_METHODS = tuple(m.value for m in VisitMethod)
_RESULTS = tuple(r.value for r in VisitResult)
_METHOD_WORDS = {
    "电话回访": "电话",
    "打电话": "电话",
    "来电": "电话",
    "上门回访": "上门",
    "走访": "上门",
    "拜访": "上门",
    "面访": "上门",
    "现场": "上门",
    "当面": "上门",
    "信函": "书信",
    "书面": "书信",
    "来信": "书信",
    "邮箱": "邮件",
    "email": "邮件",
    "e-mail": "邮件",
    "电子邮件": "邮件",
    "手机短信": "短信",
    "短信回访": "短信",
    "微信回访": "微信",
    "qq": "微信",
}
_RESULT_WORDS = {
    "已回访": "成功",
    "完成": "成功",
    "已完成": "成功",
    "正常": "成功",
    "接通": "成功",
    "已接通": "成功",
    "无人接听": "未接通",
    "未接": "未接通",
    "未接听": "未接通",
    "无人接": "未接通",
    "占线": "未接通",
    "空号": "不可达",
    "停机": "不可达",
    "关机": "不可达",
    "联系不上": "不可达",
    "错号": "不可达",
    "拒访": "拒绝",
    "拒接": "拒绝",
    "拒绝回访": "拒绝",
    "再次回访": "需再次回访",
    "待回访": "需再次回访",
    "需回访": "需再次回访",
    "改天再访": "需再次回访",
}
_SATISFACTION_WORDS = {
    "非常满意": "很满意",
    "十分满意": "很满意",
    "较满意": "满意",
    "比较满意": "满意",
    "基本满意": "一般",
    "还行": "一般",
    "不太满意": "不满意",
    "较不满意": "不满意",
    "非常不满意": "很不满意",
    "很差": "很不满意",
}


def _existing_customer(
    r: _Row, by_code: Mapping[str, int], by_name: Mapping[str, tuple[int, ...]]
) -> int | None:
    """The customer a ledger row names: by its 客户编号, else by a name only one file has (an issue otherwise)."""
    code = r.text("customer_code", max_len=20).upper()
    name = r.text("customer", max_len=100)
    if code:
        found = by_code.get(code)
        if found is None:
            r.issue("customer_code", f"客户编号“{code}”不存在")
        return found
    if name:
        ids = by_name.get(name, ())
        if not ids:
            r.issue("customer", f"客户“{name}”不在系统中，请先导入客户台账，或填写客户编号")
        elif len(ids) > 1:
            r.issue("customer", f"有 {len(ids)} 个客户叫“{name}”，请增加“客户编号”一列区分")
        else:
            return ids[0]
        return None
    r.issue("customer" if r.has("customer") else "customer_code", "请填写客户名称或客户编号")
    return None


def visit_from_row(row: SheetRow, cols: Columns, ctx: VisitRowContext) -> VisitCandidate | list[RowIssue]:
    """Interpret one row of a 回访台账. The customer is found by 客户编号, else by a name only one file has.
    An empty 结果 is 成功; a 回访人 who is not a user is kept as text in 处理情况."""
    r = _Row(row, cols)
    customer_id = _existing_customer(r, ctx.customers_by_code, ctx.customers_by_name)
    visited_at = r.take("visited_at", parse_cell_datetime, rules=ctx.rules)
    if visited_at is None and not any(i.column == cols.letter("visited_at") for i in r.issues):
        r.issue("visited_at", "不能为空")
    elif visited_at is not None and visited_at > ctx.now:
        r.issue("visited_at", "不能晚于现在")
    number = r.text("number", max_len=30).upper()
    vtype = (
        r.take(
            "visit_type", _choose, {}, _VISIT_TYPES, default=VisitType.ROUTINE.value, strip=r"(回访|访问)$"
        )
        or ""
    )
    method = r.take("method", _choose, _METHOD_WORDS, _METHODS, default=VisitMethod.PHONE.value) or ""
    satisfaction = r.text("satisfaction", max_len=20)
    if satisfaction:
        satisfaction = _SATISFACTION_WORDS.get(satisfaction, satisfaction)
        if satisfaction not in ctx.satisfaction_levels:
            r.issue(
                "satisfaction",
                f"“{satisfaction}”不是本单位满意度的选项（{'、'.join(ctx.satisfaction_levels)}）",
            )
    result = r.take("result", _choose, _RESULT_WORDS, _RESULTS, default=VisitResult.SUCCESS.value) or ""
    visitor_id = ctx.default_visitor_id
    handling = r.text("handling", max_len=4000, multiline=True)
    visitor_name = r.text("visitor", max_len=40)
    if visitor_name:
        found = ctx.users.get(_users_key(visitor_name))
        if found is not None and found > 0:
            visitor_id = found
        else:
            visitor_id = None
            handling = "\n".join(t for t in (handling, f"回访人：{visitor_name}") if t)
    phone = ""
    numbers = r.take("phone", split_phone_cell)
    if numbers:
        phone = numbers[0]
    next_on = r.take("next_visit_on", parse_cell_date, rules=ctx.rules)
    if r.issues:
        return r.issues
    assert customer_id is not None and visited_at is not None
    return VisitCandidate(
        row.number,
        number,
        customer_id,
        visited_at,
        vtype,
        method,
        result,
        satisfaction,
        visitor_id,
        r.text("contact", max_len=50),
        phone,
        r.text("content", max_len=4000, multiline=True),
        r.text("feedback", max_len=4000, multiline=True),
        r.text("problems", max_len=4000, multiline=True),
        r.text("measures", max_len=4000, multiline=True),
        handling,
        next_on,
    )


# --------------------------------------------------------------------------------------------- complaints


@dataclass(frozen=True, slots=True)
class ComplaintRowContext:
    now: datetime
    customers_by_code: Mapping[str, int]
    customers_by_name: Mapping[str, tuple[int, ...]]
    users: Mapping[str, int]
    categories: tuple[str, ...]
    default_time: time = time(9, 0)
    rules: ImportRules = DEFAULT_RULES


@dataclass(frozen=True, slots=True)
class ComplaintCandidate:
    """A checked 投诉台账 row."""

    row: int
    number: str  # '' → numbered on import
    received_at: datetime
    subject: str
    content: str
    complainant: str
    anonymous: bool
    phone: str
    customer_id: int | None
    category: str
    severity: str
    channel: str
    state: str
    handler_id: int | None
    handler_name: str  # as written in the sheet when that person is not a user
    cause: str
    measures: str
    result: str
    closed_at: datetime | None


_CHANNELS = tuple(c.value for c in Channel)
_SEVERITIES = tuple(v.value for v in Severity)
_CLOSED = ComplaintState.CLOSED.value
# The states an imported complaint may have (待回访 comes in as 处理中: see complaint_from_row).
IMPORT_COMPLAINT_STATES = (
    ComplaintState.PENDING.value,
    ComplaintState.IN_PROGRESS.value,
    _CLOSED,
    ComplaintState.WITHDRAWN.value,
)
_CHANNEL_WORDS = {
    "热线": "电话",
    "400": "电话",
    "来电": "电话",
    "电话投诉": "电话",
    "上门": "来访",
    "现场": "来访",
    "当面": "来访",
    "来人": "来访",
    "来信": "信函",
    "书面": "信函",
    "信件": "信函",
    "email": "邮件",
    "e-mail": "邮件",
    "邮箱": "邮件",
    "网站": "网络",
    "微信": "网络",
    "微博": "网络",
    "app": "网络",
    "在线": "网络",
    "网上": "网络",
    "转办": "上级转办",
    "12345": "上级转办",
    "12315": "上级转办",
    "上级": "上级转办",
    "政府转办": "上级转办",
}
_SEVERITY_WORDS = {
    "普通": "一般",
    "轻微": "一般",
    "较轻": "一般",
    "一般投诉": "一般",
    "较重": "重要",
    "严重": "重要",
    "较大": "重要",
    "重要投诉": "重要",
    "特别严重": "重大",
    "特大": "重大",
    "重大投诉": "重大",
}
_STATE_WORDS = {
    "已处理": "已关闭",
    "已解决": "已关闭",
    "结案": "已关闭",
    "已结案": "已关闭",
    "完成": "已关闭",
    "已完成": "已关闭",
    "办结": "已关闭",
    "已办结": "已关闭",
    "关闭": "已关闭",
    "已回访": "已关闭",
    "处理": "处理中",
    "正在处理": "处理中",
    "跟进中": "处理中",
    "待回访": "处理中",
    "未解决": "处理中",
    "未处理": "待受理",
    "新建": "待受理",
    "待处理": "待受理",
    "撤销": "已撤销",
    "撤回": "已撤销",
    "不成立": "已撤销",
}


def complaint_from_row(
    row: SheetRow, cols: Columns, ctx: ComplaintRowContext
) -> ComplaintCandidate | list[RowIssue]:
    """Interpret one row of a 投诉台账. An empty 主题 takes the start of 投诉内容; an empty 处理状态 is 已关闭
    when a 处理结果 or 结案日期 is given, else 待受理 (待回访 is imported as 处理中: the closing visit is
    planned when the handler finishes). No 投诉人, phone or customer → anonymous."""
    r = _Row(row, cols)
    received_at = r.take("received_at", parse_cell_datetime, default_time=ctx.default_time, rules=ctx.rules)
    if received_at is None and not r.issues:
        r.issue("received_at", "不能为空")
    elif received_at is not None and received_at > ctx.now:
        r.issue("received_at", "不能晚于现在")
    content = r.text("content", max_len=4000, multiline=True)
    subject = r.text("subject", max_len=200)
    if not subject and content:
        first = re.split(r"[。！？!?\n]", content, maxsplit=1)[0]
        subject = first[:30] + ("…" if len(first) > 30 else "")
    if not subject:
        r.issue("subject" if r.has("subject") or not r.has("content") else "content", "主题和内容不能都为空")
    complainant = r.text("complainant", max_len=50)
    numbers = r.take("phone", split_phone_cell) or ()
    customer_id = None
    customer = r.text("customer", max_len=100)
    if customer:
        code_hit = ctx.customers_by_code.get(customer.upper())
        ids = (code_hit,) if code_hit else ctx.customers_by_name.get(customer, ())
        customer_id = ids[0] if len(ids) == 1 else None
    category = r.text("category", max_len=30)
    if category and category not in ctx.categories:
        stripped = re.sub(r"(问题|类|方面)$", "", category)
        if stripped in ctx.categories:
            category = stripped
        else:
            r.issue(
                "category", f"“{category}”不在投诉类别中（{'、'.join(ctx.categories)}），可在设置中增加类别"
            )
    if not category:
        category = "其他" if "其他" in ctx.categories else ctx.categories[-1]
    severity = (
        r.take(
            "severity", _choose, _SEVERITY_WORDS, _SEVERITIES, default=Severity.NORMAL.value, strip=r"(投诉)$"
        )
        or ""
    )
    channel = (
        r.take(
            "channel", _choose, _CHANNEL_WORDS, _CHANNELS, default=Channel.PHONE.value, strip=r"(投诉|反映)$"
        )
        or ""
    )
    result = r.text("result", max_len=4000, multiline=True)
    closed_at = r.take("closed_at", parse_cell_datetime, default_time=time(17, 0), rules=ctx.rules)
    state_default = _CLOSED if (result or closed_at) else ComplaintState.PENDING.value
    state = r.take("state", _choose, _STATE_WORDS, IMPORT_COMPLAINT_STATES, default=state_default) or ""
    if closed_at is not None and received_at is not None and closed_at < received_at:
        r.issue("closed_at", "结案日期不能早于投诉日期")
    handler_id, handler_name = None, r.text("handler", max_len=40)
    if handler_name:
        found = ctx.users.get(_users_key(handler_name))
        if found is not None and found > 0:
            handler_id, handler_name = found, ""
    if r.issues:
        return r.issues
    assert received_at is not None
    anonymous = not complainant and not numbers and customer_id is None
    return ComplaintCandidate(
        row.number,
        r.text("number", max_len=30).upper(),
        received_at,
        subject,
        content,
        complainant,
        anonymous,
        numbers[0] if numbers else "",
        customer_id,
        category,
        severity,
        channel,
        state,
        handler_id,
        handler_name,
        r.text("cause", max_len=4000, multiline=True),
        r.text("measures", max_len=4000, multiline=True),
        result,
        closed_at if state == _CLOSED else None,
    )


# --------------------------------------------------------------------------------------------- services


@dataclass(frozen=True, slots=True)
class ServiceRowContext:
    today: date
    customers_by_code: Mapping[str, int]
    customers_by_name: Mapping[str, tuple[int, ...]]
    users: Mapping[str, int]
    kinds: tuple[str, ...]  # the office's 服务类型 list
    satisfaction_levels: tuple[str, ...]
    rules: ImportRules = DEFAULT_RULES


@dataclass(frozen=True, slots=True)
class ServiceCandidate:
    """A checked 售后服务台账 row: a service call as it happened (no follow-up visit is planned for it)."""

    row: int
    number: str  # '' → numbered on import
    customer_id: int
    served_on: date
    kind: str
    place: str
    product: str
    serial_no: str
    problem: str
    content: str
    parts: str
    parts_amount: Decimal | None
    cost: Decimal | None
    result: str
    feedback: str
    satisfaction: str
    technician: str
    handler_id: int | None
    status: str  # 处理中 / 已完成 / 已取消
    completed_on: date | None
    notes: str


SERVICE_STATUSES = ("处理中", "已完成", "已取消")
_SERVICE_STATUS_WORDS = {
    "完成": "已完成",
    "已处理": "已完成",
    "已解决": "已完成",
    "已修复": "已完成",
    "修复": "已完成",
    "已维修": "已完成",
    "结束": "已完成",
    "已结束": "已完成",
    "ok": "已完成",
    "未完成": "处理中",
    "进行中": "处理中",
    "维修中": "处理中",
    "待处理": "处理中",
    "跟进中": "处理中",
    "未处理": "处理中",
    "取消": "已取消",
    "作废": "已取消",
    "撤销": "已取消",
}


def service_from_row(
    row: SheetRow, cols: Columns, ctx: ServiceRowContext
) -> ServiceCandidate | list[RowIssue]:
    """Interpret one row of a 售后服务台账. The customer is found as in the visit ledger; a 负责人 who is not
    a user is kept in 备注; an empty 状态 is 已完成 (the ledger records what was done)."""
    r = _Row(row, cols)
    customer_id = _existing_customer(r, ctx.customers_by_code, ctx.customers_by_name)
    served_on = r.take("served_on", parse_cell_date, rules=ctx.rules)
    if served_on is None and not any(i.column == cols.letter("served_on") for i in r.issues):
        r.issue("served_on", "不能为空")
    elif served_on is not None and served_on > ctx.today:
        r.issue("served_on", "不能晚于今天")
    default_kind = "其他" if "其他" in ctx.kinds else ctx.kinds[0]
    kind = r.take("kind", _choose, {}, ctx.kinds, default=default_kind, strip=r"(服务)$") or ""
    status = r.take("status", _choose, _SERVICE_STATUS_WORDS, SERVICE_STATUSES, default="已完成") or ""
    completed_on = r.take("completed_on", parse_cell_date, rules=ctx.rules)
    if completed_on is not None and served_on is not None and completed_on < served_on:
        r.issue("completed_on", "不能早于服务日期")
    if status == "已完成" and completed_on is None and served_on is not None:
        completed_on = served_on
    satisfaction = r.text("satisfaction", max_len=20)
    if satisfaction:
        satisfaction = _SATISFACTION_WORDS.get(satisfaction, satisfaction)
        if satisfaction not in ctx.satisfaction_levels:
            r.issue(
                "satisfaction",
                f"“{satisfaction}”不是本单位满意度的选项（{'、'.join(ctx.satisfaction_levels)}）",
            )
    notes = r.text("notes", max_len=4000, multiline=True)
    handler_id: int | None = None
    handler_name = r.text("handler", max_len=40)
    if handler_name:
        found = ctx.users.get(_users_key(handler_name))
        if found is not None and found > 0:
            handler_id = found
        else:
            notes = "\n".join(t for t in (notes, f"原负责人：{handler_name}") if t)
    parts_amount = r.take("parts_amount", parse_money)
    cost = r.take("cost", parse_money)
    if r.issues:
        return r.issues
    assert customer_id is not None and served_on is not None
    return ServiceCandidate(
        row.number,
        r.text("number", max_len=30).upper(),
        customer_id,
        served_on,
        kind,
        r.text("place", max_len=200),
        r.text("product", max_len=100),
        r.text("serial_no", max_len=60).upper(),
        r.text("problem", max_len=4000, multiline=True),
        r.text("content", max_len=4000, multiline=True),
        r.text("parts", max_len=200),
        parts_amount,
        cost,
        r.text("result", max_len=4000, multiline=True),
        r.text("feedback", max_len=4000, multiline=True),
        satisfaction,
        r.text("technician", max_len=50),
        handler_id,
        status,
        completed_on if status == "已完成" else None,
        notes,
    )


def service_keys(c: ServiceCandidate) -> list[tuple[str, Any]]:
    keys: list[tuple[str, Any]] = [("service", (c.customer_id, c.served_on, c.kind, c.product, c.serial_no))]
    if c.number:
        keys.append(("number", c.number))
    return keys


def visit_keys(v: VisitCandidate) -> list[tuple[str, Any]]:
    keys: list[tuple[str, Any]] = [("visit", (v.customer_id, v.visited_at, v.visit_type))]
    if v.number:
        keys.append(("number", v.number))
    return keys


def complaint_keys(c: ComplaintCandidate) -> list[tuple[str, Any]]:
    keys: list[tuple[str, Any]] = [("complaint", (c.received_at, c.subject, c.complainant, c.phone))]
    if c.number:
        keys.append(("number", c.number))
    return keys
