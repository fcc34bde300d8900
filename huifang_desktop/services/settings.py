"""Office settings: every business number is a default the office can change (domain.md)."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from huifang_desktop.domain.complaint_rules import DEFAULT_SIGN_ROLES
from huifang_desktop.domain.customers import DEFAULT_CATEGORIES, DEFAULT_SOURCES, GradeThresholds
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.storage.models import Setting

VISIBILITY_OFFICE = "office"
VISIBILITY_DEPARTMENT = "department"


@dataclass(frozen=True)
class OfficeSettings:
    company: str = "本公司"
    visibility: str = VISIBILITY_OFFICE  # whole office / own department (domain.md §1, 002)
    grade_a: int = 100
    grade_b: int = 50
    grade_c: int = 10
    grading_window_days: int = 365
    grading_period: str = (
        "rolling"  # rolling window of grading_window_days, or "calendar" (the calendar year)
    )
    class_scheme: str = "ABCD"  # ABCD by yearly volume (001) or VIP / 普通 / 小客户 by value rank (004)
    vip_share_percent: int = 20  # the top N % of customers by value are VIP (004 "识别20%的大客户")
    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    sources: tuple[str, ...] = DEFAULT_SOURCES
    regions: tuple[str, ...] = ()
    customer_code_prefix: str = "KH"
    retention_years: int = 3
    require_visit_text: bool = False  # a 成功 回访记录表 needs 回访内容 and 客户意见/反馈
    login_attempts: int = 5  # wrong passwords in a row before an account is locked
    lockout_minutes: int = 15  # how long it stays locked (an administrator can unlock it earlier)
    signed_form_days: int = 7  # an on-site visit's signed form not back after this many days: a reminder
    # the office's years for the work calendar; written only by services/holidays.py (save_settings keeps it)
    holidays: dict[str, Any] = field(default_factory=dict)

    @property
    def thresholds(self) -> GradeThresholds:
        return GradeThresholds(self.grade_a, self.grade_b, self.grade_c)

    def validate(self) -> None:
        errors = []
        if not (GRADE_MAX >= self.grade_a > self.grade_b > self.grade_c >= 0):
            errors.append(FieldError("grade_a", "分级标准", f"应满足 {GRADE_MAX} ≥ A > B > C ≥ 0"))
        if not 1 <= self.grading_window_days <= WINDOW_DAYS_MAX:
            errors.append(
                FieldError("grading_window_days", "分级统计天数", f"应为 1 到 {WINDOW_DAYS_MAX} 天")
            )
        if self.grading_period not in ("rolling", "calendar"):
            errors.append(
                FieldError(
                    "grading_period", "分级统计期间", "应为 rolling（滚动12个月）或 calendar（自然年）"
                )
            )
        if self.class_scheme not in ("ABCD", "VIP"):
            errors.append(
                FieldError("class_scheme", "分级方式", "应为 ABCD（按年采购量）或 VIP（按金额排名）")
            )
        if not 1 <= self.vip_share_percent <= 100:
            errors.append(FieldError("vip_share_percent", "VIP 客户比例", "应为 1 到 100（%）"))
        if self.visibility not in (VISIBILITY_OFFICE, VISIBILITY_DEPARTMENT):
            errors.append(FieldError("visibility", "客户可见范围", "应为全公司或本部门"))
        if not self.categories:
            errors.append(FieldError("categories", "客户类别", "至少需要一个类别"))
        if self.retention_years < 1:
            errors.append(FieldError("retention_years", "保存年限", "至少 1 年"))
        elif self.retention_years > RETENTION_YEARS_MAX:
            errors.append(FieldError("retention_years", "保存年限", f"不能超过 {RETENTION_YEARS_MAX} 年"))
        if len(self.customer_code_prefix) > CODE_PREFIX_MAX:  # the code (prefix + serial) has 20 characters
            errors.append(
                FieldError(
                    "customer_code_prefix",
                    "客户编号前缀",
                    f"不能超过 {CODE_PREFIX_MAX} 个字（客户编号最长 20 个字）",
                )
            )
        if not 1 <= self.login_attempts <= 100:
            errors.append(FieldError("login_attempts", "登录失败次数上限", "应在 1 到 100 之间"))
        if not 1 <= self.lockout_minutes <= 1440:
            errors.append(FieldError("lockout_minutes", "锁定时长（分钟）", "应在 1 到 1440 之间"))
        if not 1 <= self.signed_form_days <= 365:
            errors.append(FieldError("signed_form_days", "签字单回收提醒天数", "应在 1 到 365 之间"))
        if errors:
            raise ValidationError(errors)


# The settings' ranges, the same as the settings dialog's fields (a larger number would not fit them).
CODE_PREFIX_MAX = 10  # 客户编号 is String(20): the prefix and a serial of up to 10 digits
GRADE_MAX = 10_000_000
WINDOW_DAYS_MAX = 3650
RETENTION_YEARS_MAX = 100
SETTINGS_KEY = "office"  # the Setting row holding OfficeSettings as JSON


def describe(settings: OfficeSettings) -> list[tuple[str, str]]:
    """Scalar and list settings as text, for ``huifang-desktop settings show``."""
    out = []
    for f in fields(OfficeSettings):
        value = getattr(settings, f.name)
        if isinstance(value, dict):
            continue
        if isinstance(value, bool):
            out.append((f.name, "是" if value else "否"))
            continue
        out.append((f.name, ",".join(value) if isinstance(value, tuple) else str(value)))
    return out


_YES = frozenset({"是", "yes", "y", "true", "1", "on", "开"})
_NO = frozenset({"否", "no", "n", "false", "0", "off", "关"})


def with_value(settings: OfficeSettings, key: str, raw: str) -> OfficeSettings:
    """A copy with one setting parsed from text; unknown keys and bad numbers name the setting."""
    known = {f.name: f for f in fields(OfficeSettings)}
    if key not in known or isinstance(getattr(settings, key), dict):
        names = "、".join(k for k, _v in describe(settings))
        raise ValidationError(FieldError(key, key, f"没有这项设置，可用：{names}"))
    current = getattr(settings, key)
    value: Any
    if isinstance(current, tuple):
        value = tuple(v.strip() for v in raw.replace("，", ",").split(",") if v.strip())
    elif isinstance(current, bool):  # before int: a bool is an int
        word = raw.strip().lower()
        if word in _YES:
            value = True
        elif word in _NO:
            value = False
        else:
            raise ValidationError(FieldError(key, key, f"“{raw}”应为 是/否（yes/no）"))
    elif isinstance(current, int):
        try:
            value = int(raw)
        except ValueError:
            raise ValidationError(FieldError(key, key, f"“{raw}”不是整数")) from None
    else:
        value = raw.strip()
    new = replace(settings, **{key: value})
    new.validate()
    return new


def load_settings(ctx: ServiceContext) -> OfficeSettings:
    with ctx.sessions() as s:
        return settings_in(s)


def settings_in(s: Session) -> OfficeSettings:
    """The office settings, read in an open session (one connection for a caller's several reads)."""
    row = s.get(Setting, SETTINGS_KEY)
    return OfficeSettings() if row is None else settings_from(json.loads(row.value))


def settings_from(data: Any) -> OfficeSettings:
    """The office settings from their stored JSON (``None``: never saved, the defaults; unknown keys are
    ignored, e.g. of a newer version). A row that is not a set of settings is refused rather than read as
    the defaults, which would silently lift a department-only visibility."""
    if data is None:
        return OfficeSettings()
    if not isinstance(data, dict):
        raise ServiceError("办公设置已损坏（不是一组设置），请管理员在“设置”中重新保存，或从备份恢复。")
    known = {f.name for f in fields(OfficeSettings)}
    clean: dict[str, Any] = {
        k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in known
    }
    return OfficeSettings(**clean)


def save_settings(ctx: ServiceContext, new: OfficeSettings) -> None:
    """Store the office settings. The holidays are left as stored (``new.holidays`` is ignored): they change
    only through services/holidays.py, so a page that read the settings before a notice was saved keeps it."""
    ctx.require(Permission.MANAGE_SETTINGS, "修改设置")
    new.validate()
    old = load_settings(ctx)
    new = replace(new, holidays=old.holidays)
    _check_policy(ctx, SETTINGS_KEY, asdict(old), asdict(new))
    with ctx.sessions() as s, s.begin():
        row = s.get(Setting, SETTINGS_KEY)
        value = json.dumps(asdict(new), ensure_ascii=False)
        if row is None:
            s.add(Setting(key=SETTINGS_KEY, value=value))
        else:
            row.value = value
        changed = [k for k, v in asdict(new).items() if asdict(old).get(k) != v]
        audit(
            s,
            ctx,
            "修改设置",
            "setting",
            None,
            SETTINGS_KEY,
            old={k: asdict(old)[k] for k in changed},
            new={k: asdict(new)[k] for k in changed},
        )


def get_value(ctx: ServiceContext, key: str, default: Any = None) -> Any:
    with ctx.sessions() as s:
        return value_in(s, key, default)


def value_in(s: Session, key: str, default: Any = None) -> Any:
    row = s.get(Setting, key)
    return default if row is None else json.loads(row.value)


@functools.cache
def _values_select() -> Any:
    return select(Setting.key, Setting.value).where(Setting.key.in_(bindparam("keys", expanding=True)))


def values_in(s: Session, keys: Sequence[str]) -> dict[str, Any]:
    """Several stored values (decoded) in one Core query, for a caller that reads them for every document
    it makes (a printed form); keys not stored are missing from the result."""
    rows = s.connection().execute(_values_select(), {"keys": list(keys)})
    return {key: json.loads(value) for key, value in rows}


# Settings that lift the users' own limits: who sees whose customer files (a manager's grant, domain.md
# §1, 002) and whether a reviewer may sign their own work. Key → field → (default, what it is called).
# Changing one needs Permission.MANAGE_POLICY (manager, administrator), not only MANAGE_SETTINGS.
POLICY_FIELDS: dict[str, dict[str, tuple[Any, str]]] = {
    SETTINGS_KEY: {"visibility": (VISIBILITY_OFFICE, "客户档案可见范围")},
    "review_rules": {"allow_self_sign": (False, "“允许本人签字”")},
    "complaint_rules": {"sign_roles": (DEFAULT_SIGN_ROLES.to_dict(str), "投诉“核决权限”")},
}


def _check_policy(ctx: ServiceContext, key: str, old: Any, new: Any) -> None:
    for name, (default, label) in POLICY_FIELDS.get(key, {}).items():
        before = old.get(name, default) if isinstance(old, dict) else default
        after = new.get(name, default) if isinstance(new, dict) else default
        if before != after:
            ctx.require(Permission.MANAGE_POLICY, f"修改{label}")


def set_value(ctx: ServiceContext, key: str, value: Any, *, what: str) -> None:
    ctx.require(Permission.MANAGE_SETTINGS, "修改设置")
    with ctx.sessions() as s, s.begin():
        row = s.get(Setting, key)
        old = None if row is None else json.loads(row.value)
        _check_policy(ctx, key, old, value)
        encoded = json.dumps(value, ensure_ascii=False)
        if row is None:
            s.add(Setting(key=key, value=encoded))
        else:
            row.value = encoded
        audit(s, ctx, "修改设置", "setting", None, what, old=old, new=value)
