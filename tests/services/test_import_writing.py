"""How the import writes (services/importing/writers.py, storage/phone_index.py): the quick bulk paths store
exactly what the ordinary ones store, and the column length checks still hold."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.services import importing
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.importing import ColumnMapping, ImportTarget
from huifang_desktop.services.importing.common import insert_rows, table_of
from huifang_desktop.storage import phone_index
from huifang_desktop.storage.models import Contact, Customer, PhoneSuffix


def _sheet(path: Path, rows: int) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(["客户名称", "联系人", "手机", "电话", "建档日期"])
    for n in range(rows):
        ws.append(
            [
                f"测试导入{n:03d}有限公司",
                "王经理",
                f"1390000{n:04d}",
                f"0571-8{n:07d}" if n % 2 else None,
                f"2025-{n % 12 + 1:02d}-{n % 28 + 1:02d}",
            ]
        )
    wb.save(path)
    return path


def _import(cctx: ServiceContext, path: Path) -> importing.ImportResult:
    p = importing.preview(cctx, path, None, ImportTarget.CUSTOMERS)
    assert p.header_row is not None
    report = importing.validate(
        cctx, path, p.sheet, ImportTarget.CUSTOMERS, ColumnMapping(p.header_row, p.mapping)
    )
    assert report.valid_count == report.data_rows
    return importing.run_import(cctx, report)


def test_the_suffix_rows_of_an_import_are_those_of_the_customers_numbers_and_codes(
    cctx: ServiceContext, tmp_path: Path
) -> None:
    # 45 customers give more than 400 suffix rows (the statement size on SQLite) and a remainder
    result = _import(cctx, _sheet(tmp_path / "c.xlsx", 45))
    assert result.imported == 45
    with cctx.sessions() as s:
        customers = [
            {"id": i, "code": c, "primary_phone": p}
            for i, c, p in s.execute(select(Customer.id, Customer.code, Customer.primary_phone))
        ]
        contacts = [
            {"customer_id": i, "phone": p, "mobile": m}
            for i, p, m in s.execute(select(Contact.customer_id, Contact.phone, Contact.mobile))
        ]
        stored = sorted((x, i) for x, i in s.execute(select(PhoneSuffix.suffix, PhoneSuffix.customer_id)))
    expected = sorted(phone_index.bulk_pairs(customers, contacts))
    assert len(expected) > 400 and len(expected) % 400
    assert stored == expected
    assert (
        sorted((r["suffix"], r["customer_id"]) for r in phone_index.bulk_rows(customers, contacts))
        == expected
    )


def test_rows_written_in_bulk_read_back_as_the_orm_writes_them(cctx: ServiceContext) -> None:
    now = datetime(2026, 3, 5, 9, 30, 15)
    row = {
        "code": "KH900001",
        "name": "批量写入测试",
        "initials": "plxrcs",
        "kind": "单位",
        "category": "普通",
        "grade": "D",
        "grade_pinned": False,
        "grade_reason": "",
        "annual_volume": 0,
        "address": "",
        "region": "",
        "source": "",
        "industry": "",
        "birthday": date(1980, 2, 29),
        "created_on": date(2026, 3, 1),
        "status": "正常",
        "notes": "",
        "owner_id": None,
        "department_id": None,
        "archived": False,
        "primary_phone": "13900000001",
        "primary_contact": "王",
        "version": 1,
        "updated_at": now,
    }
    with cctx.sessions() as s, s.begin():
        insert_rows(s, table_of(Customer), [row])
    with cctx.sessions() as s:
        c = s.execute(select(Customer).where(Customer.code == "KH900001")).scalar_one()
        assert (c.birthday, c.created_on, c.updated_at, c.archived, c.owner_id) == (
            date(1980, 2, 29),
            date(2026, 3, 1),
            now,
            False,
            None,
        )


def test_bulk_rows_are_length_checked_like_the_sessions_inserts(cctx: ServiceContext) -> None:
    with cctx.sessions() as s, s.begin():
        insert_rows(
            s,
            table_of(Customer),
            [
                {
                    "code": "KH900002",
                    "name": "长职务测试",
                    "initials": "",
                    "kind": "单位",
                    "category": "普通",
                    "grade": "D",
                    "grade_pinned": False,
                    "grade_reason": "",
                    "annual_volume": 0,
                    "address": "",
                    "region": "",
                    "source": "",
                    "industry": "",
                    "birthday": None,
                    "created_on": date(2026, 3, 1),
                    "status": "正常",
                    "notes": "",
                    "owner_id": None,
                    "department_id": None,
                    "archived": False,
                    "primary_phone": "",
                    "primary_contact": "",
                    "version": 1,
                    "updated_at": datetime(2026, 3, 1),
                }
            ],
        )
        cid = s.execute(select(Customer.id).where(Customer.code == "KH900002")).scalar_one()
    with pytest.raises(ValidationError) as info, cctx.sessions() as s, s.begin():
        insert_rows(
            s,
            table_of(Contact),
            [
                {
                    "customer_id": cid,
                    "name": "王",
                    "phone": None,
                    "mobile": "13900000002",
                    "email": None,
                    "title": "职" * 51,
                    "is_primary": True,
                }
            ],
        )
    assert info.value.fields == ["title"]
    with cctx.sessions() as s:
        assert s.execute(select(Contact).where(Contact.customer_id == cid)).first() is None
