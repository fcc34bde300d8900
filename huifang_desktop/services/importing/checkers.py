"""Per-ledger interpretation and duplicate checks for :func:`validate`: the domain's row interpreter with the
look-ups it needs (loaded in bulk for the sheet's rows), the keys two rows are the same by, and the rows
that already exist in the database (:func:`find_existing_customers` and the like: a few ``IN (…)`` queries,
never one per row).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from huifang_desktop.domain.importing import (
    Columns,
    ComplaintRowContext,
    CustomerCandidate,
    CustomerRowContext,
    ImportRules,
    ImportTarget,
    IssueKind,
    RowIssue,
    ServiceRowContext,
    VisitRowContext,
    cell_text,
    complaint_from_row,
    complaint_keys,
    customer_from_row,
    customer_keys,
    service_from_row,
    service_keys,
    visit_from_row,
    visit_keys,
)
from huifang_desktop.domain.validation import format_phone
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.customers import DuplicateHit
from huifang_desktop.services.importing.common import _chunked_in, _users
from huifang_desktop.services.policy import customer_scope
from huifang_desktop.services.settings import load_settings
from huifang_desktop.storage.models import (
    Complaint,
    Contact,
    Customer,
    ServiceRecord,
    VisitRecord,
)


def _customer_lookups(
    s: Session, cols: Columns, rows: Sequence[Any], name_key: str, code_key: str
) -> tuple[dict[str, int], dict[str, tuple[int, ...]]]:
    """客户编号 → id and 客户名称 → ids for the names and codes the sheet uses (chunked IN look-ups)."""

    def values(key: str, upper: bool) -> set[str]:
        col = cols.index.get(key)
        if col is None:
            return set()
        out = {cell_text(r.values[col]) for r in rows if col < len(r.values)}
        return {v.upper() if upper else v for v in out if v}

    names = values(name_key, False)
    codes = values(code_key, True) | {n.upper() for n in names}
    by_code = {
        code: cid
        for cid, code in _chunked_in(
            s, lambda part: select(Customer.id, Customer.code).where(Customer.code.in_(part)), codes
        )
    }
    by_name: dict[str, list[int]] = defaultdict(list)
    for cid, name in _chunked_in(
        s, lambda part: select(Customer.id, Customer.name).where(Customer.name.in_(part)), names
    ):
        by_name[name].append(cid)
    return by_code, {k: tuple(sorted(v)) for k, v in by_name.items()}


class _Checker(ABC):
    """Per-target interpretation and duplicate checks for :func:`validate`."""

    target: ImportTarget

    def __init__(self, ctx: ServiceContext, s: Session, cols: Columns, rules: ImportRules) -> None:
        self.ctx, self.s, self.cols, self.rules = ctx, s, cols, rules
        self.owner_map: dict[str, int] = {}  # 负责人 as written (key form) → the user it stands for
        self._db_reasons: dict[int, str] = {}

    def interpret(self, rows: Sequence[Any]) -> tuple[list[Any], list[RowIssue]]:
        fn, rctx = self.prepare(rows)
        candidates: list[Any] = []
        issues: list[RowIssue] = []
        for row in rows:
            got = fn(row, self.cols, rctx)
            if isinstance(got, list):
                issues.extend(got)
            else:
                candidates.append(got)
        return candidates, issues

    @abstractmethod
    def prepare(self, rows: Sequence[Any]) -> tuple[Callable[..., Any], Any]:
        """The domain's row interpreter for this ledger and its context (look-ups for the sheet's rows)."""

    @abstractmethod
    def keys(self, cand: Any) -> list[tuple[str, Any]]:
        """The (kind, value) keys two rows of the sheet are duplicates by."""

    @abstractmethod
    def column_for(self, kind: str, value: Any = None, cand: Any = None) -> tuple[str, str]:
        """(column letter, header) a duplicate of this key kind (and value, in this candidate) is reported
        under: the column the repeated value was found in."""

    def where(self, key: str) -> tuple[str, str]:
        return self.cols.letter(key), self.cols.header(key)

    def db_duplicates(self, kept: list[Any]) -> tuple[list[Any], list[RowIssue]]:
        hits = self.find_in_db(kept)
        out, issues = [], []
        for cand in kept:
            hit = hits.get(cand.row)
            if hit is None:
                out.append(cand)
            else:
                kind, message = hit
                letter, header = self.column_for(kind, None, cand)
                issues.append(RowIssue(cand.row, letter, header, message, IssueKind.DUPLICATE))
        return out, issues

    @abstractmethod
    def find_in_db(self, kept: Sequence[Any]) -> dict[int, tuple[str, str]]:
        """Sheet row → (key kind, message) for candidates that already exist in the database."""


class _CustomerChecker(_Checker):
    target = ImportTarget.CUSTOMERS

    def prepare(self, rows: Sequence[Any]) -> tuple[Callable[..., Any], Any]:
        settings = load_settings(self.ctx)
        rctx = CustomerRowContext(
            today=self.ctx.today(),
            categories=settings.categories,
            users={**_users(self.s, active_only=True), **self.owner_map},
            default_owner_id=self.ctx.user.id or None,
            thresholds=settings.thresholds,
            rules=self.rules,
        )
        return customer_from_row, rctx

    def keys(self, cand: Any) -> list[tuple[str, Any]]:
        return customer_keys(cand)

    def column_for(self, kind: str, value: Any = None, cand: Any = None) -> tuple[str, str]:
        if kind == "phone":
            key = ""
            if cand is not None and value is not None:
                key = cand.phone_columns.get(value, "")
            elif cand is not None:  # a database hit: the number its reason names
                reason = self._db_reasons.get(cand.row, "")
                key = next((k for n, k in cand.phone_columns.items() if f" {format_phone(n)} " in reason), "")
            if key not in self.cols.index:
                key = "phone" if "phone" in self.cols.index else "mobile"
            return self.where(key)
        return self.where("code" if kind == "code" else "name")

    def find_in_db(self, kept: Sequence[Any]) -> dict[int, tuple[str, str]]:
        found = find_existing_customers(self.s, kept)
        self._db_reasons = {row: hit.reason for row, (_kind, hit) in found.items()}
        hidden = _invisible_customers(self.s, self.ctx, {hit.id for _kind, hit in found.values()})
        return {
            row: (
                kind,
                f"与其他部门的客户档案重复（{hit.reason}），您无权查看该档案"
                if hit.id in hidden
                else f"与已有客户 {hit.code} {hit.name} 重复（{hit.reason}）",
            )
            for row, (kind, hit) in found.items()
        }


def _invisible_customers(s: Session, ctx: ServiceContext, ids: set[int]) -> set[int]:
    """Of ``ids``, the customers outside the acting user's visibility scope (named in no message)."""
    scope = customer_scope(ctx)
    if not scope.limited or not ids:
        return set()
    rows = _chunked_in(
        s, lambda part: select(Customer.id, Customer.department_id).where(Customer.id.in_(part)), ids
    )
    return {cid for cid, dep in rows if dep != scope.department_id}


def _by_number(condition: Any) -> Any:
    return (
        select(Customer.id, Customer.code, Customer.name, Contact.phone, Contact.mobile)
        .join(Contact, Contact.customer_id == Customer.id)
        .where(condition)
    )


def find_existing_customers(
    s: Session, candidates: Sequence[CustomerCandidate]
) -> dict[int, tuple[str, DuplicateHit]]:
    """The batched form of ``services.customers.find_duplicates``: same phone, or same name and address,
    (or the same 客户编号) as a customer in the database. Sheet row → (key kind, hit); a few IN queries."""
    phones = {p for c in candidates for p in c.phones}
    by_phone: dict[str, DuplicateHit] = {}
    # One look-up per column, each by its own index: ``phone IN (…) OR mobile IN (…)`` (ordered by code) made
    # SQLite walk every customer for each chunk of numbers.
    rows = [
        *_chunked_in(s, lambda part: _by_number(Contact.phone.in_(part)), phones),
        *_chunked_in(s, lambda part: _by_number(Contact.mobile.in_(part)), phones),
    ]
    for cid, code, name, phone, mobile in sorted(rows, key=lambda r: r.code):
        for number in (phone, mobile):
            if number in phones and number not in by_phone:
                by_phone[number] = DuplicateHit(cid, code, name, f"电话 {format_phone(number)} 相同")
    by_name_address: dict[tuple[str, str], DuplicateHit] = {}
    for cid, code, name, address in sorted(
        _chunked_in(
            s,
            lambda part: select(Customer.id, Customer.code, Customer.name, Customer.address).where(
                Customer.name.in_(part)
            ),
            {c.clean.name for c in candidates},
        ),
        key=lambda r: r.code,
    ):
        by_name_address.setdefault((name, address), DuplicateHit(cid, code, name, "名称和地址相同"))
    by_code = {
        code: DuplicateHit(cid, code, name, f"客户编号 {code} 已存在")
        for cid, code, name in _chunked_in(
            s,
            lambda part: select(Customer.id, Customer.code, Customer.name).where(Customer.code.in_(part)),
            {c.code for c in candidates if c.code},
        )
    }
    out: dict[int, tuple[str, DuplicateHit]] = {}
    for c in candidates:
        hit: tuple[str, DuplicateHit] | None = None
        if c.code and c.code in by_code:
            hit = ("code", by_code[c.code])
        for p in sorted(c.phones):
            if hit is None and p in by_phone:
                hit = ("phone", by_phone[p])
        if hit is None and (c.clean.name, c.clean.address) in by_name_address:
            hit = ("name_address", by_name_address[(c.clean.name, c.clean.address)])
        if hit is not None:
            out[c.row] = hit
    return out


class _VisitChecker(_Checker):
    target = ImportTarget.VISITS

    def prepare(self, rows: Sequence[Any]) -> tuple[Callable[..., Any], Any]:
        from huifang_desktop.services.policy import load_scale

        by_code, by_name = _customer_lookups(self.s, self.cols, rows, "customer", "customer_code")
        rctx = VisitRowContext(
            now=self.ctx.now(),
            customers_by_code=by_code,
            customers_by_name=by_name,
            users=_users(self.s, active_only=False),
            satisfaction_levels=load_scale(self.ctx).levels,
            default_visitor_id=self.ctx.user.id or None,
            rules=self.rules,
        )
        return visit_from_row, rctx

    def keys(self, cand: Any) -> list[tuple[str, Any]]:
        return visit_keys(cand)

    def column_for(self, kind: str, value: Any = None, cand: Any = None) -> tuple[str, str]:
        return self.where("number" if kind == "number" else "visited_at")

    def find_in_db(self, kept: Sequence[Any]) -> dict[int, tuple[str, str]]:
        numbers = {
            n
            for (n,) in _chunked_in(
                self.s,
                lambda part: select(VisitRecord.number).where(VisitRecord.number.in_(part)),
                {c.number for c in kept if c.number},
            )
        }
        existing = {
            (cid, at, vt)
            for cid, at, vt in _chunked_in(
                self.s,
                lambda part: select(
                    VisitRecord.customer_id, VisitRecord.visited_at, VisitRecord.visit_type
                ).where(VisitRecord.customer_id.in_(part)),
                {c.customer_id for c in kept},
            )
        }
        out: dict[int, tuple[str, str]] = {}
        for c in kept:
            if c.number and c.number in numbers:
                out[c.row] = ("number", f"回访编号 {c.number} 已存在")
            elif (c.customer_id, c.visited_at, c.visit_type) in existing:
                out[c.row] = ("visit", f"已有该客户 {c.visited_at:%Y-%m-%d %H:%M} 的{c.visit_type}回访记录")
        return out


class _ComplaintChecker(_Checker):
    target = ImportTarget.COMPLAINTS

    def prepare(self, rows: Sequence[Any]) -> tuple[Callable[..., Any], Any]:
        from huifang_desktop.services.complaints import load_policy

        by_code, by_name = _customer_lookups(self.s, self.cols, rows, "customer", "customer")
        rctx = ComplaintRowContext(
            now=self.ctx.now(),
            customers_by_code=by_code,
            customers_by_name=by_name,
            users=_users(self.s, active_only=False),
            categories=load_policy(self.ctx).categories,
            rules=self.rules,
        )
        return complaint_from_row, rctx

    def keys(self, cand: Any) -> list[tuple[str, Any]]:
        return complaint_keys(cand)

    def column_for(self, kind: str, value: Any = None, cand: Any = None) -> tuple[str, str]:
        return self.where(
            "number" if kind == "number" else "subject" if "subject" in self.cols.index else "received_at"
        )

    def find_in_db(self, kept: Sequence[Any]) -> dict[int, tuple[str, str]]:
        numbers = {
            n
            for (n,) in _chunked_in(
                self.s,
                lambda part: select(Complaint.number).where(Complaint.number.in_(part)),
                {c.number for c in kept if c.number},
            )
        }
        existing = {
            (at, subj, who, phone)
            for at, subj, who, phone in _chunked_in(
                self.s,
                lambda part: select(
                    Complaint.received_at, Complaint.subject, Complaint.complainant, Complaint.phone
                ).where(Complaint.subject.in_(part)),
                {c.subject for c in kept},
            )
        }
        out: dict[int, tuple[str, str]] = {}
        for c in kept:
            if c.number and c.number in numbers:
                out[c.row] = ("number", f"投诉编号 {c.number} 已存在")
            elif (c.received_at, c.subject, c.complainant, c.phone) in existing:
                out[c.row] = ("complaint", f"已有 {c.received_at:%Y-%m-%d %H:%M} 主题相同的投诉")
        return out


class _ServiceChecker(_Checker):
    target = ImportTarget.SERVICES

    def prepare(self, rows: Sequence[Any]) -> tuple[Callable[..., Any], Any]:
        from huifang_desktop.services.policy import load_scale
        from huifang_desktop.services.service_records import load_options

        by_code, by_name = _customer_lookups(self.s, self.cols, rows, "customer", "customer_code")
        rctx = ServiceRowContext(
            today=self.ctx.today(),
            customers_by_code=by_code,
            customers_by_name=by_name,
            users=_users(self.s, active_only=False),
            kinds=load_options(self.ctx).kinds,
            satisfaction_levels=load_scale(self.ctx).levels,
            rules=self.rules,
        )
        return service_from_row, rctx

    def keys(self, cand: Any) -> list[tuple[str, Any]]:
        return service_keys(cand)

    def column_for(self, kind: str, value: Any = None, cand: Any = None) -> tuple[str, str]:
        return self.where("number" if kind == "number" else "served_on")

    def find_in_db(self, kept: Sequence[Any]) -> dict[int, tuple[str, str]]:
        numbers = {
            n
            for (n,) in _chunked_in(
                self.s,
                lambda part: select(ServiceRecord.number).where(ServiceRecord.number.in_(part)),
                {c.number for c in kept if c.number},
            )
        }
        existing = {
            tuple(r)
            for r in _chunked_in(
                self.s,
                lambda part: select(
                    ServiceRecord.customer_id,
                    ServiceRecord.served_on,
                    ServiceRecord.kind,
                    ServiceRecord.product,
                    ServiceRecord.serial_no,
                ).where(ServiceRecord.customer_id.in_(part)),
                {c.customer_id for c in kept},
            )
        }
        out: dict[int, tuple[str, str]] = {}
        for c in kept:
            if c.number and c.number in numbers:
                out[c.row] = ("number", f"服务单号 {c.number} 已存在")
            elif (c.customer_id, c.served_on, c.kind, c.product, c.serial_no) in existing:
                out[c.row] = ("service", f"已有该客户 {c.served_on:%Y-%m-%d} 的{c.kind}服务记录")
        return out


_CHECKERS: dict[ImportTarget, type[_Checker]] = {
    ImportTarget.CUSTOMERS: _CustomerChecker,
    ImportTarget.VISITS: _VisitChecker,
    ImportTarget.COMPLAINTS: _ComplaintChecker,
    ImportTarget.SERVICES: _ServiceChecker,
}
