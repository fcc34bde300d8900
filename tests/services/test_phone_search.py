"""Phone search the way clerks ask (issue 18 item 5): any run of 4+ digits matches anywhere in any number of
the customer's contacts — the last four digits, a landline without its area code, a run in the middle —
through the suffix index (contact_phone_suffix), which follows every write of contacts; 3 digits keep
matching the beginning of a number only."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from huifang_desktop.demo import generate_demo
from huifang_desktop.domain.customers import ContactDraft, CustomerDraft, code_endings, phone_suffixes
from huifang_desktop.services import importing
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.customers import (
    CustomerDetail,
    count_customers,
    get_customer,
    list_customers,
    register_customer,
    update_customer,
)
from huifang_desktop.storage.models import Contact, Customer, PhoneSuffix
from huifang_desktop.storage.queries import CustomerFilter, customer_text_probe
from tests.services.test_importing import _validate, ugly_customer_workbook


def _found(ctx: ServiceContext, q: str) -> list[str]:
    rows = list_customers(ctx, CustomerFilter(text=q))
    assert count_customers(ctx, CustomerFilter(text=q)) == len(rows)  # the count agrees with the page
    return [r.name for r in rows]


def _suffixes(ctx: ServiceContext, customer_id: int) -> set[str]:
    with ctx.sessions() as s:
        return set(s.scalars(select(PhoneSuffix.suffix).where(PhoneSuffix.customer_id == customer_id)))


@pytest.fixture
def office(cctx: ServiceContext) -> dict[str, CustomerDetail]:
    def reg(name: str, *contacts: ContactDraft) -> CustomerDetail:
        return register_customer(cctx, CustomerDraft(name=name, contacts=contacts), confirm_duplicates=True)

    return {
        "mobile": reg("杭州明达贸易", ContactDraft(name="张三", mobile="138 1234 5678")),
        "landline": reg("济南恒通机械", ContactDraft(name="李四", phone="0531-26485794")),
        "second": reg(
            "宁波顺通物流",
            ContactDraft(name="王五", mobile="13900001111", is_primary=True),
            ContactDraft(name="赵六", phone="0571-88881234 转 801"),
        ),
        "other": reg("温州新城汽贸", ContactDraft(name="钱七", mobile="13700009999")),
    }


def test_the_last_four_digits_of_a_mobile_find_the_customer(
    cctx: ServiceContext, office: dict[str, CustomerDetail]
) -> None:
    assert _found(cctx, "5678") == ["杭州明达贸易"]
    assert _found(cctx, "9999") == ["温州新城汽贸"]


def test_a_landline_is_found_without_its_area_code_and_by_a_run_inside_it(
    cctx: ServiceContext, office: dict[str, CustomerDetail]
) -> None:
    assert _found(cctx, "26485794") == ["济南恒通机械"]
    assert _found(cctx, "6485") == ["济南恒通机械"]
    assert _found(cctx, "2648-5794") == ["济南恒通机械"]  # typed with the usual dash
    assert _found(cctx, "0531-26485794") == ["济南恒通机械"]  # the whole number still does


def test_a_middle_run_and_a_second_contacts_number_are_found(
    cctx: ServiceContext, office: dict[str, CustomerDetail]
) -> None:
    assert _found(cctx, "38123") == ["杭州明达贸易"]  # 1[38123]45678: a run in the middle
    assert _found(cctx, "1234") == [
        "杭州明达贸易",
        "宁波顺通物流",
    ]  # 0571-8888[1234], not the primary contact
    assert _found(cctx, "8888") == ["宁波顺通物流"]
    assert _found(cctx, "0801") == []  # the extension is not part of the number
    assert _found(cctx, "4321") == []


def test_three_digits_keep_matching_the_beginning_of_a_number_only(
    cctx: ServiceContext, office: dict[str, CustomerDetail]
) -> None:
    assert _found(cctx, "678") == []  # the end of 13812345678: not a prefix, so not found
    assert _found(cctx, "138") == ["杭州明达贸易"]
    assert _found(cctx, "053") == ["济南恒通机械"]
    probe = str(customer_text_probe("678"))  # the prefix ranges on the contacts, no suffix range
    assert "contact.mobile >=" in probe and "contact_phone_suffix.suffix >=" not in probe
    assert "contact_phone_suffix.suffix >=" in str(customer_text_probe("5678"))


def test_names_initials_and_codes_are_searched_as_before(
    cctx: ServiceContext, office: dict[str, CustomerDetail]
) -> None:
    assert _found(cctx, "恒通") == ["济南恒通机械"]
    assert _found(cctx, "hzmd") == ["杭州明达贸易"]
    assert _found(cctx, office["other"].code) == ["温州新城汽贸"]
    assert _found(cctx, office["other"].code[-4:]) == ["温州新城汽贸"]  # 客户编号 ending, as before


def test_the_suffix_rows_are_every_ending_of_four_or_more_digits_and_the_codes_endings(
    cctx: ServiceContext, office: dict[str, CustomerDetail]
) -> None:
    mobile = office["mobile"]
    assert mobile.code == "KH000001"
    assert _suffixes(cctx, mobile.id) == {"13812345678"[i:] for i in range(8)} | {
        "#000001",
        "#00001",
        "#0001",
        "#001",
    }
    assert phone_suffixes(["057188881234x801", None, ""]) == {"057188881234"[i:] for i in range(9)}
    assert code_endings("A-2023-0045") == {"#0045", "#045"}
    second = office["second"]
    assert _suffixes(cctx, second.id) == phone_suffixes(["13900001111", "057188881234x801"]) | code_endings(
        second.code
    )


def test_digits_ending_a_code_find_it_and_a_run_inside_a_code_does_not(
    cctx: ServiceContext, office: dict[str, CustomerDetail]
) -> None:
    assert office["other"].code == "KH000004"
    assert _found(cctx, "000004") == ["温州新城汽贸"]
    assert _found(cctx, "004") == ["温州新城汽贸"]  # 3 digits: the end of a code, as before
    assert _found(cctx, "00000") == []  # inside KH000004, not its end
    assert _found(cctx, "0003") == ["宁波顺通物流"]


def test_a_changed_phone_no_longer_matches_its_old_number(
    cctx: ServiceContext, office: dict[str, CustomerDetail]
) -> None:
    c = office["mobile"]
    update_customer(
        cctx,
        c.id,
        CustomerDraft(name=c.name, contacts=(ContactDraft(name="张三", mobile="13800002468"),)),
        c.version,
    )
    assert _found(cctx, "5678") == []
    assert _found(cctx, "2468") == ["杭州明达贸易"]
    assert _suffixes(cctx, c.id) == phone_suffixes(["13800002468"]) | code_endings(c.code)


def test_a_deleted_contact_no_longer_matches(cctx: ServiceContext, office: dict[str, CustomerDetail]) -> None:
    c = get_customer(cctx, office["second"].id)
    update_customer(
        cctx,
        c.id,
        CustomerDraft(
            name=c.name, contacts=(ContactDraft(name="王五", mobile="13900001111", is_primary=True),)
        ),
        c.version,
    )
    assert _found(cctx, "8888") == []
    assert _found(cctx, "1111") == ["宁波顺通物流"]


def test_a_failed_edit_leaves_the_suffix_rows_as_they_were(
    cctx: ServiceContext, office: dict[str, CustomerDetail]
) -> None:
    c = office["mobile"]
    before = _suffixes(cctx, c.id)
    with pytest.raises(Exception, match="修改"):
        update_customer(
            cctx,
            c.id,
            CustomerDraft(name=c.name, contacts=(ContactDraft(name="张三", mobile="13800002468"),)),
            c.version - 1,
        )  # someone saved it since
    assert _suffixes(cctx, c.id) == before
    assert _found(cctx, "5678") == ["杭州明达贸易"]


def test_imported_customers_are_found_by_any_run_and_their_rows_go_with_an_undo(
    ctx: ServiceContext, clerk: UserInfo, tmp_path: Path
) -> None:
    cctx = ctx.as_user(clerk)
    _p, report = _validate(cctx, ugly_customer_workbook(tmp_path / "客户台账.xlsx"))
    result = importing.run_import(cctx, report)
    assert result.imported >= 3 and result.run_id is not None
    assert _found(cctx, "6666") == ["杭州宏达物流有限公司"]  # 0571-88886666, its second number
    assert _found(cctx, "88886666") == ["杭州宏达物流有限公司"]
    assert _found(cctx, "2222") == ["赵六"]
    importing.undo_import(cctx, result.run_id)
    assert _found(cctx, "6666") == []
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(PhoneSuffix)) == 0


def test_a_generated_office_is_found_by_the_last_four_digits(ctx: ServiceContext) -> None:
    generate_demo(ctx, customers=40, seed=3)
    with ctx.sessions() as s:
        numbers = s.execute(select(Contact.customer_id, Contact.phone, Contact.mobile)).all()
        codes = {cid: code for cid, code in s.execute(select(Customer.id, Customer.code))}
        rows = s.scalar(select(func.count()).select_from(PhoneSuffix))
        archived = set(s.scalars(select(Customer.id).where(Customer.archived.is_(True))))
    by_customer: dict[int, list[str | None]] = {}
    for cid, phone, mobile in numbers:
        by_customer.setdefault(cid, []).extend((phone, mobile))
    assert rows == sum(len(phone_suffixes(n) | code_endings(codes[cid])) for cid, n in by_customer.items())
    for cid, nums in list(by_customer.items())[:10]:
        if cid in archived:
            continue
        last_four = next(n for n in nums if n).partition("x")[0][-4:]
        hits = list_customers(ctx, CustomerFilter(text=last_four))
        assert cid in {r.id for r in hits}


def test_a_search_of_four_digits_reads_the_suffix_index(
    ctx: ServiceContext, cctx: ServiceContext, office: dict[str, CustomerDetail]
) -> None:
    probe = customer_text_probe("5678")
    assert probe is not None
    compiled = probe.compile(ctx.engine, compile_kwargs={"literal_binds": True})
    with ctx.engine.connect() as conn:
        if ctx.engine.dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
            assert "contact_phone_suffix USING COVERING INDEX ux_contact_phone_suffix" in plan
            assert "(suffix>? AND suffix<?)" in plan and "(suffix=?)" in plan
            assert "SCAN" not in plan  # no code is read one by one: the 客户编号 ending is a lookup too
        else:
            conn.execute(text("SET enable_seqscan = off"))  # four rows: without this any plan is a scan
            plan = " ".join(str(r[0]) for r in conn.execute(text(f"EXPLAIN {compiled}")))
            assert "ux_contact_phone_suffix" in plan and "Seq Scan" not in plan
