"""The audit log (操作日志) for people: reading it filtered and paged, exporting it to .xlsx, and the Chinese
names of what it holds.

Every service writes its rows through :func:`huifang_desktop.services.context.audit` (append-only, in the hash
chain); this module only reads them. A stored value is JSON (``{"visitor_id": 4, "status": "已签字"}``): it is
shown as ``字段：值；…`` (:func:`readable`) with the Chinese field names of :data:`FIELD_LABELS` — every key a
service logs has one (tests/test_audit_labels.py) —, people's names instead of their ids, the labels of rule
values, and without key material or hashes outside the full view; a change as ``字段：旧值 → 新值``
(:func:`changes`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session, aliased

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, Role
from huifang_desktop.domain.validation import clean_text
from huifang_desktop.exports.ledger_xlsx import XlsxColumn, write_ledger
from huifang_desktop.services.audit_labels import FIELD_LABELS
from huifang_desktop.services.context import SYSTEM_USER, ServiceContext, audit
from huifang_desktop.services.outputs import checked_target, period_text, write_failed
from huifang_desktop.services.settings import load_settings
from huifang_desktop.storage.models import AuditLog, Customer, Department, User

AUDIT_PAGE_SIZE = 200
AUDIT_TITLE = "操作日志"
AUDIT_HEADERS: tuple[str, ...] = (
    "时间",
    "用户",
    "操作",
    "对象",
    "原值",
    "新值",
    "备注",
    "审计链序号",
    "上一行校验值",
    "本行校验值",
)
AUDIT_WIDTHS: tuple[float, ...] = (19, 10, 14, 40, 48, 48, 30, 10, 66, 66)


_CHUNK = 500  # ids per IN (…) look-up


ENTITY_LABELS: dict[str, str] = {
    "customer": "客户档案",
    "visit_plan": "回访计划",
    "visit_record": "回访记录",
    "visit_report": "回访报告",
    "scan_page": "未识别扫描页",
    "complaint": "投诉",
    "user": "用户",
    "department": "部门",
    "setting": "设置",
    "database": "数据库",
    "audit_log": "操作日志",
}

# ids in audit values shown as names (the kind of record each one names)
ID_KEYS: dict[str, str] = {
    "visitor_id": "user",
    "clerk_id": "user",
    "handler_id": "user",
    "owner_id": "user",
    "signer_id": "user",
    "user_id": "user",
    "technician_id": "user",
    "customer_id": "customer",
    "department_id": "department",
    "confirmed_by_id": "user",
}
# rows whose object is named by an internal key: (entity, stored label) → what the screen says
_OBJECT_LABELS: dict[tuple[str, str], str] = {("setting", "office"): "单位设置"}
# keys that name a record's id in one kind of row only (in the demo generator's row 客户 is a count)
ENTITY_ID_ALIASES: dict[str, dict[str, str]] = {"service_record": {"客户": "customer_id"}}
USER_STATE_LABEL = "账户"  # ``state`` as a dict: a user's resulting role and active flag (signing.with_state)
COUNTED_KEYS = frozenset({"records", "plans"})  # lists of ids: shown as how many
HIDDEN_KEYS = frozenset(
    {
        "public_key",
        "signature",
        "row_hash",
        "prev_hash",
        "password",
        "key_box",
        "content_hash",
        "hash",
        "sha256",
    }
)
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    at: datetime
    user: str  # display name (the login name when the user is gone)
    username: str
    action: str
    entity: str
    entity_id: int | None
    label: str
    old: str  # readable: "字段：值；…" (names instead of ids; no hashes or key material)
    new: str
    note: str
    change: str = ""  # 变更: "字段：旧值 → 新值；…" for the keys in both old and new
    raw_old: str = ""  # the stored JSON, for the detail view
    raw_new: str = ""
    seq: int | None = None  # position in the audit chain
    prev_hash: str = ""
    row_hash: str = ""

    @property
    def object_text(self) -> str:
        kind = ENTITY_LABELS.get(self.entity, self.entity)
        return f"{kind} {self.label}".strip() if self.label else kind


@dataclass(frozen=True, slots=True)
class AuditFilter:
    user_id: int | None = None
    username: str = ""  # login name (the command line's --user)
    entity: str = ""  # table: visit_record, complaint, customer …
    entity_id: int | None = None
    text: str = ""  # part of the object's label, e.g. a number HF20261124-003 or a customer name
    action: str = ""
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True, slots=True)
class AuditPage:
    rows: tuple[AuditRow, ...]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def plain_text(value: Any) -> str:
    """A value as the screens show it: 是/否, ``YYYY-MM-DD HH:MM``, ``YYYY-MM-DD``, else ``str``."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    return str(value)


# --- the audit log -----------------------------------------------------------------------------------


def _audit_select() -> Any:
    """The log's columns and the user's display name (``user_name``: the login name when the user is gone)."""
    who = aliased(User)
    return select(
        AuditLog.id,
        AuditLog.at,
        func.coalesce(who.display_name, AuditLog.username).label("user_name"),
        AuditLog.username,
        AuditLog.action,
        AuditLog.entity,
        AuditLog.entity_id,
        AuditLog.label,
        AuditLog.old,
        AuditLog.new,
        AuditLog.note,
        AuditLog.seq,
        AuditLog.prev_hash,
        AuditLog.row_hash,
    ).outerjoin(who, who.id == AuditLog.user_id)


def entity_history(s: Session, entity: str, entity_id: int) -> tuple[AuditRow, ...]:
    """One record's audit trail, oldest first (the review pane's history), inside the caller's session."""
    q = _audit_select().where(AuditLog.entity == entity, AuditLog.entity_id == entity_id)
    return tuple(_audit_rows_named(s, s.execute(q.order_by(AuditLog.at, AuditLog.id)).all()))


class AuditNames:
    """Names for the ids an audit value carries (``visitor_id`` 4 → 小王), looked up once for a page or a
    chunk of the export: one query per kind of record, not one per row."""

    def __init__(self, names: Mapping[tuple[str, int], str] | None = None) -> None:
        self.names: dict[tuple[str, int], str] = dict(names or {})

    def name(self, kind: str, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int):
            return plain_text(value)
        return self.names.get((kind, value)) or f"#{value}"

    @classmethod
    def lookup(cls, conn: Session | Connection, raws: Iterable[str | None]) -> AuditNames:
        wanted: dict[str, set[int]] = {}
        for raw in raws:
            data = _decoded(raw)
            if isinstance(data, dict):
                _collect_ids(data, wanted)
        names: dict[tuple[str, int], str] = {}
        queries = {
            "user": lambda ids: select(User.id, User.display_name).where(User.id.in_(ids)),
            "customer": lambda ids: select(Customer.id, Customer.code + " " + Customer.name).where(
                Customer.id.in_(ids)
            ),
            "department": lambda ids: select(Department.id, Department.name).where(Department.id.in_(ids)),
        }
        for kind, ids in wanted.items():
            ordered = sorted(ids)
            for i in range(0, len(ordered), _CHUNK):
                for key, name in conn.execute(queries[kind](ordered[i : i + _CHUNK])):
                    names[(kind, key)] = name
        return cls(names)


def _collect_ids(data: Mapping[str, Any], wanted: dict[str, set[int]]) -> None:
    for key, value in data.items():
        kind = ID_KEYS.get(key)
        if kind and isinstance(value, int) and not isinstance(value, bool):
            wanted.setdefault(kind, set()).add(value)
        elif isinstance(value, dict):
            _collect_ids(value, wanted)


def _decoded(raw: str | None) -> Any:
    if raw is None or raw == "":
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _secret(key: str, value: Any) -> bool:
    """Key material and hashes: shown only in the detail view and the Excel export."""
    return key in HIDDEN_KEYS or (isinstance(value, str) and _HEX64.fullmatch(value) is not None)


_PERCENT_KEYS = frozenset({"sample_rate", "target_rate", "repeat_similarity"})
_BACKUP_REASONS = {
    "manual": "手动",
    "daily": "每日自动",
    "pre-restore": "恢复前",
    "start": "启动",
    "pre-migrate": "升级前",
}


@functools.cache
def _value_labels() -> dict[str, dict[str, str]]:
    """Stored values (enum values, rule keys) → what the office calls them, by the key they are logged under."""
    from huifang_desktop.domain.schedule import (
        ANCHOR_LABELS,
        ASSIGNEE_LABELS,
        DEFAULT_RULES,
        TRIGGER_LABELS,
        UNIT_LABELS,
    )
    from huifang_desktop.services.settings import VISIBILITY_DEPARTMENT, VISIBILITY_OFFICE

    roles = {r.value: r.label for r in Role}
    triggers = {k.value: v for k, v in TRIGGER_LABELS.items()}
    units = {k.value: v for k, v in UNIT_LABELS.items()}
    anchors = {k.value: v for k, v in ANCHOR_LABELS.items()}
    rules = {"routine": "例行回访", "technical": "技术回访", **{r.key: r.name for r in DEFAULT_RULES}}
    who = {k.value: v for k, v in ASSIGNEE_LABELS.items()}
    return {
        "role": roles,
        "roles": roles,
        "handler_roles": roles,
        "assessed_roles": roles,
        "trigger": triggers,
        "delivery_triggers": triggers,
        "unit": units,
        "repeat_unit": units,
        "anchor": anchors,
        "until": anchors,
        "who": who,
        "severity_who": who,
        "routine_rule_keys": rules,
        "rule_key": rules,
        "visibility": {VISIBILITY_OFFICE: "全公司", VISIBILITY_DEPARTMENT: "本部门"},
        "reason": _BACKUP_REASONS,
    }


def _role_text(value: Any) -> str:
    return Role(value).label if value in {r.value for r in Role} else plain_text(value)


def _field_label(key: str) -> str:
    return FIELD_LABELS.get(key, key)


def _value_text(key: str, value: Any, names: AuditNames, full: bool, parent: str = "") -> str | None:
    """One audit value for people; None when it is left out (empty, or a secret outside the full view).
    ``parent``: the key of the dict or list the value is in (``handler_roles`` → its values are roles)."""
    if value is None or value == "" or (not full and _secret(key, value)):
        return None
    if key == "state" and isinstance(value, dict):  # the tamper-evidence user state: role and active only
        shown = [_role_text(value.get("role")), "启用" if value.get("active") else "停用"]
        if full:
            shown += [
                f"{_field_label(k)}：{plain_text(v)}" for k, v in value.items() if k not in ("role", "active")
            ]
        return "，".join(t for t in shown if t)
    if key in ID_KEYS:
        return names.name(ID_KEYS[key], value)
    if key in COUNTED_KEYS and isinstance(value, list) and not full:
        return f"{len(value)} 份"
    if isinstance(value, bool):
        return "是" if value else "否"
    if key in _PERCENT_KEYS and isinstance(value, int | float):
        return f"{value * 100:g}%"
    if isinstance(value, dict):
        return _mapping_text(value, names, full, "，", parent=key) or None
    if isinstance(value, list):
        items = [_item_text(key, v, names, full) for v in value]
        return "、".join(i for i in items if i) or None
    if isinstance(value, str):
        labels = _value_labels().get(key) or _value_labels().get(parent)
        if labels and value in labels:
            return labels[value]
    return plain_text(value)


def _item_text(key: str, item: Any, names: AuditNames, full: bool) -> str | None:
    """One element of a logged list: a rule (or anything with a name) by its name, else its value."""
    if isinstance(item, dict):
        if not full and item.get("name"):
            return str(item["name"])
        return "（" + _mapping_text(item, names, full, "，") + "）"
    return _value_text(key, item, names, full, parent=key)


def _mapping_text(
    data: Mapping[str, Any], names: AuditNames, full: bool, sep: str = "；", parent: str = ""
) -> str:
    parts = []
    for key, value in data.items():
        text = _value_text(key, value, names, full, parent)
        if text is not None:
            label = USER_STATE_LABEL if key == "state" and isinstance(value, dict) else _field_label(key)
            parts.append(f"{label}：{text}")
    return sep.join(parts)


def readable(raw: str | None, names: AuditNames | None = None, *, full: bool = False) -> str:
    """An audit value (JSON) as text: ``字段：值；…`` with the Chinese field names, people's names instead of
    their ids, role labels and the Chinese names of rule values; empty fields are left out, and so (unless
    ``full``, the Excel export) are key material and hashes."""
    data = _decoded(raw)
    if data is None:
        return ""
    names = names or AuditNames()
    if isinstance(data, dict):
        return _mapping_text(data, names, full)
    if isinstance(data, list):
        return _value_text("", data, names, full) or ""
    return plain_text(data) if full or not _secret("", data) else ""


def _diff(
    key: str, before: Any, after: Any, names: AuditNames, where: str, out: list[str], parent: str = ""
) -> None:
    """``where 字段：旧 → 新`` for one changed value; nested settings are followed down to the changed field,
    lists of rules matched by their key and named by their name."""
    label = where + _field_label(key)
    if isinstance(before, dict) and isinstance(after, dict) and key != "state":
        for k, v in after.items():
            if k in before and before[k] != v:
                _diff(k, before[k], v, names, label + " · ", out, key)
        for k in after.keys() - before.keys():
            out.append(
                f"{label} · {_field_label(k)}：新增 {_value_text(k, after[k], names, False, key) or ''}".rstrip()
            )
        return
    keyed = (
        isinstance(before, list)
        and isinstance(after, list)
        and before
        and after
        and all(isinstance(i, dict) and "key" in i for i in (*before, *after))
    )
    if keyed:
        old_items = {i["key"]: i for i in before}
        new_keys = {i["key"] for i in after}
        for item in after:
            name = str(item.get("name") or _field_label(str(item["key"])))
            if item["key"] not in old_items:
                out.append(f"{label}：新增 {name}")
            elif old_items[item["key"]] != item:
                _diff("", old_items[item["key"]], item, names, f"{label} {name}", out, key)
        for k, item in old_items.items():
            if k not in new_keys:
                out.append(f"{label}：删除 {item.get('name') or _field_label(str(k))}")
        return
    was = _value_text(key, before, names, False, parent)
    now = _value_text(key, after, names, False, parent)
    if was is None and now is None:
        return
    out.append(f"{label}：{was or '（空）'} → {now or '（空）'}")


def changes(old_raw: str | None, new_raw: str | None, names: AuditNames | None = None) -> str:
    """The 变更 column: ``字段：旧值 → 新值；…`` for every key present in both old and new (nested settings:
    ``回访规则 到货回访 · 抽查比例：1.0 → 0.5``)."""
    old, new = _decoded(old_raw), _decoded(new_raw)
    if not isinstance(old, dict) or not isinstance(new, dict):
        return ""
    names = names or AuditNames()
    parts: list[str] = []
    for key in new:
        if key in old and old[key] != new[key]:
            _diff(key, old[key], new[key], names, "", parts)
    return "；".join(parts)


def _aliased(raw: str | None, entity: str) -> str | None:
    """``raw`` with the entity's id keys renamed to their general name (service_record: 客户 → customer_id)."""
    aliases = ENTITY_ID_ALIASES.get(entity)
    if not aliases or not raw or not any(k in raw for k in aliases):
        return raw
    data = _decoded(raw)
    if not isinstance(data, dict):
        return raw
    return json.dumps({aliases.get(k, k): v for k, v in data.items()}, ensure_ascii=False)


def _audit_row(r: Any, names: AuditNames | None = None, *, full: bool = False) -> AuditRow:
    """One row of :func:`_audit_select` (columns by name) for people."""
    names = names or AuditNames()
    user = SYSTEM_USER.display_name if r.username == SYSTEM_USER.username else (r.user_name or r.username)
    old, new = _aliased(r.old, r.entity), _aliased(r.new, r.entity)
    label = _OBJECT_LABELS.get((r.entity, r.label or ""), r.label or "")
    return AuditRow(
        r.id,
        r.at,
        user,
        r.username,
        r.action,
        r.entity,
        r.entity_id,
        label,
        readable(old, names, full=full),
        readable(new, names, full=full),
        r.note or "",
        changes(old, new, names),
        r.old or "",
        r.new or "",
        r.seq,
        r.prev_hash or "",
        r.row_hash or "",
    )


def _audit_names(conn: Session | Connection, rows: Sequence[Any]) -> AuditNames:
    return AuditNames.lookup(conn, [_aliased(raw, r.entity) for r in rows for raw in (r.old, r.new)])


def _audit_rows_named(
    conn: Session | Connection, rows: Sequence[Any], *, full: bool = False
) -> list[AuditRow]:
    names = _audit_names(conn, rows)
    return [_audit_row(r, names, full=full) for r in rows]


def _audit_filtered(q: Any, f: AuditFilter) -> Any:
    if f.user_id is not None:
        q = q.where(AuditLog.user_id == f.user_id)
    if clean_text(f.username):
        q = q.where(AuditLog.username == clean_text(f.username).lower())
    if f.entity:
        q = q.where(AuditLog.entity == f.entity)
    if f.entity_id is not None:
        q = q.where(AuditLog.entity_id == f.entity_id)
    text = clean_text(f.text)
    if text:
        q = q.where(AuditLog.label.like(f"%{text}%"))
    if clean_text(f.action):
        q = q.where(AuditLog.action == clean_text(f.action))
    if f.start is not None:
        q = q.where(AuditLog.at >= datetime.combine(f.start, time.min))
    if f.end is not None:
        q = q.where(AuditLog.at < datetime.combine(f.end + timedelta(days=1), time.min))
    return q


def _check_filter(f: AuditFilter) -> None:
    if f.start is not None and f.end is not None and f.end < f.start:
        raise ValidationError(FieldError("end", "截止日期", "不能早于开始日期"))


def audit_log(
    ctx: ServiceContext, f: AuditFilter = AuditFilter(), page: int = 0, page_size: int = AUDIT_PAGE_SIZE
) -> AuditPage:
    """One page of the audit log, newest first, filtered by user, record, action and date (supervisors,
    managers, admins)."""
    ctx.require(Permission.VIEW_AUDIT, "查看操作日志")
    _check_filter(f)
    page = max(0, page)
    with ctx.sessions() as s:
        total = int(s.execute(_audit_filtered(select(func.count(AuditLog.id)), f)).scalar() or 0)
        q = _audit_filtered(_audit_select(), f).order_by(AuditLog.at.desc(), AuditLog.id.desc())
        rows = tuple(_audit_rows_named(s, s.execute(q.limit(page_size).offset(page * page_size)).all()))
    return AuditPage(rows, total, page, page_size)


def audit_actions(ctx: ServiceContext) -> list[str]:
    """The actions that occur in the log, for the filter's pick list."""
    ctx.require(Permission.VIEW_AUDIT, "查看操作日志")
    with ctx.sessions() as s:
        return [a for (a,) in s.execute(select(AuditLog.action).distinct().order_by(AuditLog.action))]


def audit_rows(ctx: ServiceContext, f: AuditFilter = AuditFilter()) -> Iterator[tuple[Any, ...]]:
    """The filtered log oldest first, streamed, in the order of :data:`AUDIT_HEADERS`. The right
    (``Permission.VIEW_AUDIT``) is checked at the call, not at the first row."""
    ctx.require(Permission.VIEW_AUDIT, "查看操作日志")
    return _audit_rows(ctx, f)


def _audit_rows(ctx: ServiceContext, f: AuditFilter) -> Iterator[tuple[Any, ...]]:
    q = _audit_filtered(_audit_select(), f).order_by(AuditLog.at, AuditLog.id)
    with ctx.engine.connect() as conn:
        result = conn.execution_options(yield_per=2000).execute(q)
        for chunk in result.partitions(2000):
            names = _audit_names(conn, chunk)
            for r in chunk:
                row = _audit_row(r, names, full=True)
                yield (
                    row.at,
                    row.user,
                    row.action,
                    row.object_text,
                    row.old or None,
                    row.new or None,
                    row.note or None,
                    row.seq,
                    row.prev_hash or None,
                    row.row_hash or None,
                )


def export_audit(ctx: ServiceContext, out_path: Path | str, f: AuditFilter = AuditFilter()) -> int:
    """Write the filtered audit log to an .xlsx file (时间, 用户, 操作, 对象, 原值, 新值, 备注); logs the export."""
    from huifang_desktop.services.visits import ExportError

    ctx.require(Permission.VIEW_AUDIT, "导出操作日志")
    _check_filter(f)
    out = checked_target(out_path, ExportError, suffix=".xlsx")
    period = period_text(f.start, f.end)
    company = load_settings(ctx).company
    try:
        columns = [XlsxColumn(name, width) for name, width in zip(AUDIT_HEADERS, AUDIT_WIDTHS, strict=True)]
        notes = [("台账", AUDIT_TITLE), ("单位", company), ("期间", period)]
        count = write_ledger(
            audit_rows(ctx, f),
            out,
            title=AUDIT_TITLE,
            company=company,
            period_text=period,
            columns=columns,
            notes=notes,
            count_row=False,
        ).rows
    except OSError as exc:
        raise write_failed(out, exc, ExportError) from exc
    with ctx.sessions() as s, s.begin():
        audit(
            s,
            ctx,
            "导出操作日志",
            "audit_log",
            None,
            out.name,
            new={"rows": count, "period": period, "file": str(out)},
            note="；".join(f"{k}={v}" for k, v in _filter_note(f).items()),
        )
    return count


def _filter_note(f: AuditFilter) -> dict[str, Any]:
    return {
        k: v
        for k, v in (
            ("user", f.username or f.user_id),
            ("entity", f.entity),
            ("id", f.entity_id),
            ("text", f.text),
            ("action", f.action),
        )
        if v not in (None, "")
    }
