"""Saved filters and the column choice, kept per user (setting ``ledger_prefs:<user id>``); the built-in
filters (全部, 本月, 上月, 本年 and each ledger's own) are computed from today."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.validation import clean_text
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.ledgers.model import (
    ALL,
    PREFS_KEY,
    Ledger,
    LedgerFilter,
    SavedFilter,
    month_filter,
)
from huifang_desktop.services.ledgers.reading import columns, spec_of
from huifang_desktop.storage.models import Setting


def _prefs_key(ctx: ServiceContext) -> str:
    return PREFS_KEY.format(user=ctx.user.id)


def _load_prefs(ctx: ServiceContext) -> dict[str, Any]:
    with ctx.sessions() as s:
        row = s.get(Setting, _prefs_key(ctx))
    data = json.loads(row.value) if row is not None else {}
    return data if isinstance(data, dict) else {}


def _store_prefs(ctx: ServiceContext, data: dict[str, Any], action: str, label: str, new: Any) -> None:
    """A user's own preferences: no settings right needed (they change nothing for anyone else); audited."""
    key = _prefs_key(ctx)
    with ctx.sessions() as s, s.begin():
        row = s.get(Setting, key)
        value = json.dumps(data, ensure_ascii=False, sort_keys=True)
        if row is None:
            s.add(Setting(key=key, value=value))
        else:
            row.value = value
        audit(s, ctx, action, "setting", None, label[:200], new=new)


def saved_filters(ctx: ServiceContext, ledger: Ledger) -> list[SavedFilter]:
    """The built-in filters (全部, 本月, 上月, 本年 and the ledger's own) then the user's saved ones by name."""
    today = ctx.today()
    month = month_filter(today)
    last = month_filter(month.start - timedelta(days=1) if month.start else today)
    year = LedgerFilter(start=date(today.year, 1, 1), end=date(today.year, 12, 31))
    builtin = [
        (ALL, LedgerFilter()),
        ("本月", month),
        ("上月", last),
        ("本年", year),
        *spec_of(ledger).presets(ctx),
    ]
    out = [SavedFilter(name, f, True) for name, f in builtin]
    mine = _load_prefs(ctx).get("filters", {}).get(ledger.slug, {})
    for name in sorted(mine):
        out.append(SavedFilter(name, LedgerFilter.from_dict(mine[name]), False))
    return out


def save_filter(ctx: ServiceContext, ledger: Ledger, name: str, f: LedgerFilter) -> list[SavedFilter]:
    """Keep the current filter under ``name`` for this user (replacing one of the same name)."""
    title = clean_text(name)
    if not title or len(title) > 30:
        raise ValidationError(FieldError("name", "筛选名称", "请填写 1–30 个字的名称"))
    if title in {s.name for s in saved_filters(ctx, ledger) if s.builtin}:
        raise ValidationError(FieldError("name", "筛选名称", f"“{title}”是内置筛选的名称，请换一个"))
    spec_of(ledger).check(ctx, f)
    data = _load_prefs(ctx)
    data.setdefault("filters", {}).setdefault(ledger.slug, {})[title] = f.to_dict()
    _store_prefs(ctx, data, "保存台账筛选", f"{ledger.value}：{title}", f.to_dict())
    return saved_filters(ctx, ledger)


def delete_filter(ctx: ServiceContext, ledger: Ledger, name: str) -> list[SavedFilter]:
    data = _load_prefs(ctx)
    mine = data.get("filters", {}).get(ledger.slug, {})
    if name in mine:
        del mine[name]
        _store_prefs(ctx, data, "删除台账筛选", f"{ledger.value}：{name}", None)
    return saved_filters(ctx, ledger)


def visible_columns(ctx: ServiceContext, ledger: Ledger) -> tuple[str, ...]:
    """The keys of the columns this user shows (the defaults until they choose)."""
    cols = columns(ledger)
    keys = {c.key for c in cols}
    chosen = _load_prefs(ctx).get("columns", {}).get(ledger.slug)
    if isinstance(chosen, list):
        picked = tuple(k for k in chosen if k in keys)
        if picked:
            return tuple(c.key for c in cols if c.key in picked)
    return tuple(c.key for c in cols if c.visible)


def save_visible_columns(ctx: ServiceContext, ledger: Ledger, keys: Sequence[str]) -> tuple[str, ...]:
    known = [c.key for c in columns(ledger)]
    picked = [k for k in known if k in set(keys)]
    if not picked:
        raise ValidationError(FieldError("columns", "显示列", "至少显示一列"))
    data = _load_prefs(ctx)
    if data.get("columns", {}).get(ledger.slug) == picked:
        return tuple(picked)
    data.setdefault("columns", {})[ledger.slug] = picked
    _store_prefs(ctx, data, "修改台账显示列", ledger.value, picked)
    return tuple(picked)
