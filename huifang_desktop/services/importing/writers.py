"""The writer base (numbers reserved from the counters a batch at a time, numbers kept from the sheet moving
the counter past them) and the 客户台账 writer: customers, their contacts, phone suffixes and purchases as
bulk Core inserts.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from huifang_desktop.domain.customers import format_customer_code
from huifang_desktop.domain.importing.initials import name_initials
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.importing.checkers import find_existing_customers
from huifang_desktop.services.importing.common import CUSTOMER_COUNTER, insert_rows, table_of
from huifang_desktop.services.importing.validation import ValidationReport
from huifang_desktop.services.settings import load_settings
from huifang_desktop.storage import phone_index
from huifang_desktop.storage.models import (
    Contact,
    Counter,
    Customer,
    Purchase,
    User,
)


def _reserve_serials(s: Session, name: str, n: int) -> int:
    """Move counter ``name`` on by ``n`` inside the caller's transaction; the first of the ``n`` serials."""
    value = s.execute(
        update(Counter).where(Counter.name == name).values(value=Counter.value + n).returning(Counter.value)
    ).scalar()
    if value is None:
        s.execute(insert(Counter).values(name=name, value=n))
        return 1
    return int(value) - n + 1


def _raise_counter(s: Session, name: str, at_least: int) -> None:
    """Kept numbers from the sheet: the counter moves past them, so new numbers never collide."""
    value = s.execute(select(Counter.value).where(Counter.name == name)).scalar()
    if value is None:
        s.execute(insert(Counter).values(name=name, value=at_least))
    elif value < at_least:
        s.execute(update(Counter).where(Counter.name == name).values(value=at_least))


class _Writer(ABC):
    entity = ""

    def __init__(self, ctx: ServiceContext, report: ValidationReport) -> None:
        self.ctx, self.report = ctx, report
        self.now = ctx.now()
        self.first_number = ""
        self.last_number = ""
        self.kept: dict[str, int] = {}  # counter → highest serial kept from the sheet
        self.ids: list[int] = []  # the records the last batch created (kept as the run's items)
        self.owner_ids: dict[str, int] = {}  # 负责人 as written → the account created for them
        self.purchases = 0

    def recheck(self, s: Session, cands: list[Any]) -> tuple[list[Any], list[Any]]:
        return cands, []

    @abstractmethod
    def write(self, s: Session, batch: Sequence[Any]) -> list[str]:
        """Insert one batch inside the caller's transaction, set ``self.ids``; the numbers given."""

    def numbered(self, numbers: list[str]) -> list[str]:
        if numbers:
            self.first_number = self.first_number or numbers[0]
            self.last_number = numbers[-1]
        return numbers

    def keep(self, counter: str, serial: int) -> None:
        self.kept[counter] = max(self.kept.get(counter, 0), serial)

    def finish(self, s: Session) -> None:
        for name, serial in self.kept.items():
            _raise_counter(s, name, serial)


_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


class _Initials:
    """``pinyin_initials`` for many names (through ``domain.importing.initials.name_initials``: pypinyin is
    not even imported for most sheets). A ledger repeats its words (杭州…, …有限公司, surnames) and pypinyin's
    segmentation never crosses an ASCII character, so each run of non-ASCII text is converted once and
    remembered; ASCII letters and digits are kept lower-case as ``pinyin_initials`` keeps them. Same
    result."""

    def __init__(self) -> None:
        self.memo: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        out: list[str] = []
        pos = 0
        for m in _NON_ASCII_RUN.finditer(name):
            out.extend(ch.lower() for ch in name[pos : m.start()] if ch.isalnum())
            run = m.group()
            hit = self.memo.get(run)
            if hit is None:
                hit = self.memo[run] = name_initials(run)
            out.append(hit)
            pos = m.end()
        out.extend(ch.lower() for ch in name[pos:] if ch.isalnum())
        return "".join(out)


class _CustomerWriter(_Writer):
    entity = "customer"

    def __init__(self, ctx: ServiceContext, report: ValidationReport) -> None:
        super().__init__(ctx, report)
        self.prefix = load_settings(ctx).customer_code_prefix
        self.code_re = re.compile(re.escape(self.prefix) + r"(\d+)$")
        self.initials = _Initials()
        with ctx.sessions() as s:
            self.departments = dict(s.execute(select(User.id, User.department_id)).all())

    def recheck(self, s: Session, cands: list[Any]) -> tuple[list[Any], list[Any]]:
        hits = find_existing_customers(s, cands)
        return [c for c in cands if c.row not in hits], [c for c in cands if c.row in hits]

    def write(self, s: Session, batch: Sequence[Any]) -> list[str]:
        auto = sum(1 for c in batch if not c.code)
        serial = _reserve_serials(s, CUSTOMER_COUNTER, auto) if auto else 0
        rows: list[dict[str, Any]] = []
        for c in batch:
            cc = c.clean
            if c.code:
                code = c.code
                m = self.code_re.match(code)
                if m:
                    self.keep(CUSTOMER_COUNTER, int(m.group(1)))
            else:
                code = format_customer_code(serial, self.prefix)
                serial += 1
            primary = next(k for k in cc.contacts if k.is_primary)
            owner_id = cc.owner_id if cc.owner_id is not None else self.owner_ids.get(c.owner_name)
            rows.append(
                {
                    "code": code,
                    "name": cc.name,
                    "initials": self.initials(cc.name),
                    "kind": cc.kind,
                    "category": cc.category,
                    "grade": c.grade,
                    "grade_pinned": False,
                    "grade_reason": "导入时的等级" if c.grade != "D" else "",
                    "annual_volume": c.annual_volume,
                    "address": cc.address,
                    "region": cc.region,
                    "source": cc.source,
                    "industry": cc.industry,
                    "birthday": cc.birthday,
                    "created_on": cc.created_on or self.ctx.today(),
                    "status": cc.status,
                    "notes": cc.notes,
                    "owner_id": owner_id,
                    "department_id": self.departments.get(owner_id) if owner_id is not None else None,
                    "archived": c.archived,
                    "primary_phone": primary.mobile or primary.phone or "",
                    "primary_contact": primary.name,
                    "version": 1,
                    "updated_at": self.now,
                }
            )
        # One executemany, then the ids by code (unique): SQLite runs an INSERT … RETURNING row by row.
        insert_rows(s, table_of(Customer), rows)
        codes = [r["code"] for r in rows]
        by_code = dict(s.execute(select(Customer.code, Customer.id).where(Customer.code.in_(codes))).all())
        ids = [by_code[code] for code in codes]
        self.ids = ids
        contacts = [
            {
                "customer_id": cid,
                "name": k.name,
                "phone": k.phone,
                "mobile": k.mobile,
                "email": k.email,
                "title": k.title,
                "is_primary": k.is_primary,
            }
            for cid, c in zip(ids, batch, strict=True)
            for k in c.clean.contacts
        ]
        insert_rows(s, table_of(Contact), contacts)
        phone_index.insert_pairs(
            s, phone_index.bulk_pairs([{**r, "id": cid} for cid, r in zip(ids, rows, strict=True)], contacts)
        )
        purchases = [
            {
                "customer_id": cid,
                "day": c.purchase_on,
                "kind": c.purchase_kind,
                "product": c.product or "（导入）",
                "spec": "",
                "quantity": 1,
                "amount": None,
                "warranty_end": None,
                "created_at": self.now,
            }
            for cid, c in zip(ids, batch, strict=True)
            if c.purchase_on is not None
        ]
        if purchases:  # history: plan_catch_up plans only their windows still open (imported customers)
            s.execute(insert(Purchase), purchases)
            self.purchases += len(purchases)
        return self.numbered([r["code"] for r in rows])
