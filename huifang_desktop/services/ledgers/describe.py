"""A ledger's filter in words: the title of an export or print says what is included, the 说明 sheet lists
the filter line by line."""

from __future__ import annotations

from huifang_desktop.domain.validation import clean_text
from huifang_desktop.services.complaints import ComplaintFilter
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.ledgers.base import _people
from huifang_desktop.services.ledgers.model import ALL, ARCHIVED, UNARCHIVED, Ledger, LedgerFilter
from huifang_desktop.services.ledgers.reading import spec_of
from huifang_desktop.storage.models import Customer, User


def period_text(f: LedgerFilter) -> str:
    if f.start is None and f.end is None:
        return ALL
    if f.start is not None and f.end is not None:
        return f"{f.start:%Y-%m-%d} 至 {f.end:%Y-%m-%d}"
    return f"{f.start:%Y-%m-%d} 起" if f.start is not None else f"至 {f.end:%Y-%m-%d}"


def archived_note(ledger: Ledger, f: LedgerFilter) -> str:
    """What the ledger holds of the archived customers under ``f``: the 客户台账 holds them under 全部
    (``含已归档客户``), leaves them out for a status (``不含已归档客户``); for 已归档 and 未归档 its state says
    it (''); the 终端客户信息台帐 always leaves them out."""
    if ledger is Ledger.END_CUSTOMERS:
        return f"不含{ARCHIVED}客户"
    if ledger is not Ledger.CUSTOMERS or f.state in (ARCHIVED, UNARCHIVED):
        return ""
    return f"含{ARCHIVED}客户" if not f.state else f"不含{ARCHIVED}客户"


def _title_text(ctx: ServiceContext, ledger: Ledger, f: LedgerFilter) -> str:
    """What the title says is included: the period, then every filter that narrows it and what the
    ledger holds of the archived customers (``全部；搜索：明达；状态：正常；不含已归档客户``)."""
    parts = [period_text(f)]
    for item, value in describe_filter(ctx, ledger, f)[1:-1]:  # not the date (said first) nor the order
        if value not in (ALL, "（无）"):
            parts.append(f"{item}：{value}")
    if archived_note(ledger, f):
        parts.append(archived_note(ledger, f))
    return "；".join(parts)


def describe_filter(ctx: ServiceContext, ledger: Ledger, f: LedgerFilter) -> list[tuple[str, str]]:
    """The filter in words, one (item, value) per line; unset parts say 全部."""
    spec = spec_of(ledger)
    people = dict(_people(ctx))
    if f.mine:
        owner = f"{ctx.user.display_name}（本人）"
    elif f.owner_id is not None:
        owner = people.get(f.owner_id, str(f.owner_id))
    else:
        owner = ALL
    key, desc = spec.sort_of(f)
    sort_label = next((c.label for c in spec.columns if c.sort == key), key)
    return [
        (spec.date_label, period_text(f)),
        ("搜索", clean_text(f.text) or "（无）"),
        (spec.owner_label, owner),
        (spec.state_label, f.state or ALL),
        (spec.kind_label, f.kind or ALL),
        (spec.grade_label, f.grade or ALL),
        ("排序", f"{sort_label}{'（降序）' if desc else '（升序）'}"),
    ]


def _register_narrowing(ctx: ServiceContext, f: ComplaintFilter) -> list[str]:
    """The complaint register's filter in words (``处理状态：处理中``, ``仅逾期`` …), what narrows the 投诉台账
    exported from the 投诉登记 tab or by ``export complaints``."""
    narrowed = [
        f"{label}：{'、'.join(sorted(values))}"
        for label, values in (
            ("处理状态", f.states),
            ("严重程度", f.severities),
            ("类别", f.categories),
            ("类型", f.kinds),
        )
        if values
    ]
    if f.overdue_only:
        narrowed.append("仅逾期")
    if f.mine or f.handler_id is not None or f.customer_id is not None:
        with ctx.sessions() as s:
            if f.mine:
                narrowed.append(f"负责人：{ctx.user.display_name}")
            elif f.handler_id is not None:
                handler = s.get(User, f.handler_id)
                narrowed.append(f"负责人：{handler.display_name if handler else f.handler_id}")
            if f.customer_id is not None:
                customer = s.get(Customer, f.customer_id)
                narrowed.append(f"客户：{customer.name if customer else f.customer_id}")
    if clean_text(f.text):
        narrowed.append(f"搜索：{clean_text(f.text)}")
    return narrowed
