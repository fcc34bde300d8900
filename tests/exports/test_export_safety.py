"""Every Excel export (issue 21): text a user typed stays text (no formula, kept exactly as typed), a control
character stored in the database never breaks an export, and every sheet prints on A4, one page wide, with
its title and header repeated and a page footer. The services refuse control characters on input."""

from __future__ import annotations

import csv
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select, update

from huifang_desktop import app
from huifang_desktop.config import AppPaths
from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.roles import Role
from huifang_desktop.exports.sheets import FOOTER_PAGES
from huifang_desktop.exports.stats_xlsx import CHART_SHEET
from huifang_desktop.services import complaints as cs
from huifang_desktop.services import ledgers as lg
from huifang_desktop.services import review as rv
from huifang_desktop.services import service_records as sr
from huifang_desktop.services import stats as st
from huifang_desktop.services import users as us
from huifang_desktop.services import visits as v
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.customers import register_customer, set_archived
from huifang_desktop.services.settings import load_settings, save_settings
from huifang_desktop.services.workflow import add_purchase
from huifang_desktop.storage.models import AuditLog, Complaint, Customer, ServiceRecord, User, VisitRecord
from tests.test_cli_visits import run  # noqa: F401  (fixture)

HOSTILE = ("=1+1", '=HYPERLINK("http://x","y")', "+1", "-1", "@SUM(A1)")
CONTROLS = "甲\x00乙\x07丙\x1b丁"  # NUL, BEL, ESC


@pytest.fixture
def office(ctx: ServiceContext, clerk: UserInfo, supervisor: UserInfo) -> ServiceContext:
    """Two customers (one archived), a plan made into a visit, a complaint, a service record; acting as the
    supervisor, who may export everything (绝密 ledgers and the audit log too)."""
    c1 = ctx.as_user(clerk)
    ids = [
        register_customer(
            c1,
            CustomerDraft(
                name=name,
                kind="单位",
                category="终端客户",
                created_on=created,
                contacts=(ContactDraft(name="联系人", mobile=mobile),),
            ),
        ).id
        for name, mobile, created in (
            ("杭州明达机械", "13812345678", "2026-01-05"),
            ("远纳运输", "13600003333", "2025-06-01"),
        )
    ]
    set_archived(c1, ids[1], True, "已停业")
    add_purchase(
        c1,
        ids[0],
        day="2026-10-08",
        product="叉车",
        spec="CPD25",
        quantity=3,
        amount="360000",
        warranty_end="2027-10-07",
    )
    plan = v.list_plans(c1, start=date(2026, 1, 1), end=date(2027, 12, 31))[0]
    v.record_visit(
        c1,
        v.VisitRecordDraft(
            customer_id=plan.customer_id,
            plan_id=plan.id,
            result="成功",
            visited_at="2026-11-20 10:00",
            satisfaction="满意",
            problems="漏油",
        ),
    )
    cs.register(
        c1,
        cs.IntakeDraft(
            subject="送货延误三天",
            complainant="张经理",
            phone="13812345678",
            customer_id=ids[0],
            category="交付物流",
            received_at="2026-11-02 09:00",
        ),
    )
    sr.add_service_record(
        c1,
        sr.ServiceDraft(
            customer_id=ids[0],
            served_on="2026-11-18",
            kind="维修",
            product="叉车",
            problem="漏油",
            status="已完成",
            content="换密封件",
            cost="1200.5",
        ),
    )
    return ctx.as_user(supervisor)


def _store(ctx: ServiceContext, text: str) -> None:
    """``text`` straight into the database, as an import or an older version may have left it: every
    customer's name and contact, the complaint's subject, the visit's problems, the service's content,
    the clerks' names and the audit notes."""
    with ctx.sessions() as s, s.begin():
        s.execute(update(Customer).values(name=text, primary_contact=text))
        s.execute(update(Complaint).values(subject=text, complainant=text))
        s.execute(update(VisitRecord).values(problems=text))
        s.execute(update(ServiceRecord).values(content=text, problem=text))
        s.execute(update(User).where(User.role == Role.CLERK.value).values(display_name=text))
        s.execute(update(AuditLog).values(note=text))


def _ledger(ledger: lg.Ledger) -> Callable[[ServiceContext, Path], Any]:
    return lambda ctx, out: lg.export(ctx, ledger, lg.LedgerFilter(), out)


def _stats(ctx: ServiceContext, out: Path) -> Any:
    return st.export_xlsx(ctx, st.build_report(ctx, "2026-11"), out)


WRITERS: dict[str, Callable[[ServiceContext, Path], Any]] = {
    **{ledger.slug: _ledger(ledger) for ledger in lg.Ledger},
    "ledgers.export_complaints": lambda ctx, out: lg.export_complaints(ctx, out),
    "stats.export_xlsx": _stats,
    "review.export_audit": lambda ctx, out: rv.export_audit(ctx, out),
}
# the ledgers (not the statistics and the audit log) end in a 合计 row and have a 说明 sheet
LEDGERS = [name for name in WRITERS if not name.startswith(("stats", "review"))]


def _cells(wb: Workbook) -> list[Any]:
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("writer", list(WRITERS))
def test_user_text_is_written_as_text_exactly_as_typed(
    office: ServiceContext, tmp_path: Path, writer: str, text: str
) -> None:
    save_settings(office, replace(load_settings(office), company=text))
    _store(office, text)
    out = tmp_path / "out.xlsx"
    WRITERS[writer](office, out)
    cells = _cells(load_workbook(out))
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    mine = [c for c in cells if c.value == text]
    assert len(mine) >= 2  # the office name in the title and the names/texts of the rows
    assert all(c.data_type == "s" and c.quotePrefix for c in mine)  # an edited cell stays text in Excel too


@pytest.mark.parametrize("writer", list(WRITERS))
def test_a_control_character_in_the_database_does_not_break_an_export(
    office: ServiceContext, tmp_path: Path, writer: str
) -> None:
    postgres = office.engine.dialect.name == "postgresql"
    _store(office, CONTROLS.replace("\x00", "") if postgres else CONTROLS)  # PostgreSQL cannot store a NUL
    out = tmp_path / "out.xlsx"
    WRITERS[writer](office, out)
    values = [c.value for c in _cells(load_workbook(out))]
    assert "甲乙丙丁" in values  # the control characters are dropped, the text kept


@pytest.mark.parametrize("writer", list(WRITERS))
def test_every_exported_sheet_prints_on_a4_one_page_wide(
    office: ServiceContext, tmp_path: Path, writer: str
) -> None:
    out = tmp_path / "out.xlsx"
    WRITERS[writer](office, out)
    wb = load_workbook(out)
    for ws in wb.worksheets:
        setup = ws.page_setup
        assert int(setup.paperSize) == 9, ws.title  # A4
        assert setup.orientation == (
            "landscape" if ws.max_column > 8 or ws.title == CHART_SHEET else "portrait"
        ), ws.title
        assert (int(setup.fitToWidth), int(setup.fitToHeight)) == (1, 0), ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.oddFooter.center.text == FOOTER_PAGES and "&D &T" in ws.oddFooter.right.text, ws.title
    data = wb.worksheets[0] if writer != "stats.export_xlsx" else wb["主要指标"]
    assert data.print_title_rows in ("$1:$2", "$1:$4")  # the title and the header on every page
    assert data.freeze_panes is not None
    if writer in LEDGERS:
        assert wb.sheetnames[-1] == "说明"
        last = [c.value for c in data[data.max_row]]
        assert "合计" in last


def test_long_text_wraps_within_a_bounded_column(office: ServiceContext, tmp_path: Path) -> None:
    long = "客户反映叉车液压系统漏油，" * 12
    _store(office, "明达")
    with office.sessions() as s, s.begin():
        s.execute(update(VisitRecord).values(problems=long))
    out = tmp_path / "out.xlsx"
    every = [c.key for c in lg.columns(lg.Ledger.VISITS)]  # as ``export visits`` writes it, 问题点 included
    lg.export(office, lg.Ledger.VISITS, lg.LedgerFilter(), out, columns_=every)
    ws = load_workbook(out).worksheets[0]
    header = [c.value for c in ws[2]]
    column = header.index("问题点")
    cell = ws.cell(3, column + 1)
    assert cell.value == long and cell.alignment.wrap_text
    assert all(d.width <= 40 for d in ws.column_dimensions.values())
    assert ws.row_dimensions[3].height >= 4 * 14  # the row grows to show the wrapped lines (Calc does not)
    # dates and times stay real dates, shown to the minute in a column wide enough for them (never ####)
    at = header.index("回访时间") + 1
    assert ws.cell(3, at).is_date and ws.cell(3, at).number_format == "yyyy-mm-dd hh:mm"
    assert ws.column_dimensions[ws.cell(3, at).column_letter].width >= 18


def _names_and_states(ws: Any) -> dict[str, str]:
    header = [c.value for c in ws[2]]
    name, state = header.index("客户名称"), header.index("状态")
    return {r[name].value: r[state].value for r in ws.iter_rows(min_row=3) if r[0].value != "合计"}


def test_the_customer_ledger_all_holds_the_archived_customers(office: ServiceContext, tmp_path: Path) -> None:
    """客户台账（全部） left out the archived customers (131 in the measured office, issue 21): it holds them,
    状态 已归档, and the title and 说明 say so; 未归档 and a status leave them out, 已归档 holds only them."""
    out = tmp_path / "客户台账.xlsx"
    assert lg.export(office, lg.Ledger.CUSTOMERS, lg.LedgerFilter(), out).rows == 2
    wb = load_workbook(out)
    assert wb.worksheets[0]["A1"].value == "本公司 客户台账（全部；含已归档客户）"
    assert ["已归档客户", "含已归档客户"] in [[c.value for c in row] for row in wb["说明"].iter_rows()]
    assert _names_and_states(wb.worksheets[0]) == {"杭州明达机械": "正常", "远纳运输": "已归档"}
    assert lg.export(office, lg.Ledger.CUSTOMERS, lg.LedgerFilter(state=lg.UNARCHIVED), out).rows == 1
    ws = load_workbook(out).worksheets[0]
    assert ws["A1"].value == "本公司 客户台账（全部；状态：未归档）"
    assert _names_and_states(ws) == {"杭州明达机械": "正常"}
    lg.export(office, lg.Ledger.CUSTOMERS, lg.LedgerFilter(state="正常"), out)
    assert (
        load_workbook(out).worksheets[0]["A1"].value == "本公司 客户台账（全部；状态：正常；不含已归档客户）"
    )
    assert lg.export(office, lg.Ledger.CUSTOMERS, lg.LedgerFilter(state=lg.ARCHIVED), out).rows == 1
    ws = load_workbook(out).worksheets[0]
    assert ws["A1"].value == "本公司 客户台账（全部；状态：已归档）"
    header = [c.value for c in ws[2]]
    assert (ws.cell(3, header.index("客户名称") + 1).value, ws.cell(3, header.index("状态") + 1).value) == (
        "远纳运输",
        "已归档",
    )


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b"])
def test_services_refuse_control_characters_naming_the_field(
    ctx: ServiceContext, admin: UserInfo, office: ServiceContext, char: str
) -> None:
    def refused(call: Callable[[], Any], label: str) -> None:
        with pytest.raises(ValidationError) as err:
            call()
        assert any(e.label == label and "控制字符" in e.message for e in err.value.errors), err.value.errors

    refused(
        lambda: register_customer(
            office,
            CustomerDraft(
                name=f"明达{char}",
                kind="单位",
                category="终端客户",
                contacts=(ContactDraft(name="联系人", mobile="13900001111"),),
            ),
        ),
        "客户名称",
    )
    refused(
        lambda: register_customer(
            office,
            CustomerDraft(
                name="明达二厂",
                kind="单位",
                category="终端客户",
                notes=f"多行\n备注{char}",
                contacts=(ContactDraft(name="联系人", mobile="13900001111"),),
            ),
        ),
        "备注",
    )
    refused(
        lambda: register_customer(
            office,
            CustomerDraft(
                name="明达三厂",
                kind="单位",
                category="终端客户",
                contacts=(ContactDraft(name=f"王{char}", mobile="13900001111"),),
            ),
        ),
        "联系人1姓名",
    )
    refused(lambda: cs.register(office, cs.IntakeDraft(subject=f"延误{char}", complainant="张")), "主题")
    with office.sessions() as s:
        first = s.query(Customer.id).order_by(Customer.id).first()
    assert first is not None
    refused(
        lambda: v.record_visit(
            office,
            v.VisitRecordDraft(
                customer_id=first[0], result="成功", visited_at="2026-11-20 15:30", problems=f"漏油{char}"
            ),
        ),
        "问题点",
    )
    refused(
        lambda: sr.add_service_record(
            office,
            sr.ServiceDraft(customer_id=first[0], served_on="2026-11-18", kind="维修", content=f"换件{char}"),
        ),
        "服务内容",
    )
    refused(
        lambda: us.create_user(ctx.as_user(admin), "xiaozhao", f"小赵{char}", Role.CLERK, "secret-123"),
        "姓名",
    )
    # a tab and a newline are text, not controls: multi-line fields keep them
    kept = register_customer(
        office,
        CustomerDraft(
            name="明达\t四厂",
            kind="单位",
            category="终端客户",
            notes="第一行\n第二行",
            contacts=(ContactDraft(name="联系人", mobile="13900001111"),),
        ),
    )
    assert kept.id


def test_titles_say_what_is_included(office: ServiceContext, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    lg.export(office, lg.Ledger.CUSTOMERS, lg.LedgerFilter(state="正常", text="明达"), out)
    assert (
        load_workbook(out).worksheets[0]["A1"].value
        == "本公司 客户台账（全部；搜索：明达；状态：正常；不含已归档客户）"
    )
    lg.export(office, lg.Ledger.VISITS, lg.LedgerFilter(start=date(2026, 10, 1), end=date(2026, 10, 31)), out)
    assert load_workbook(out).worksheets[0]["A1"].value == "本公司 回访台账（2026-10-01 至 2026-10-31）"
    lg.export_complaints(office, out, cs.ComplaintFilter(states=frozenset({"处理中"}), overdue_only=True))
    assert load_workbook(out).worksheets[0]["A1"].value == "本公司 投诉台账（全部；处理状态：处理中；仅逾期）"


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_reads_the_hostile_names_as_text(office: ServiceContext, tmp_path: Path) -> None:
    """A real spreadsheet program, not openpyxl, opens the file: the names come out as typed, not evaluated
    (a formula =1+1 would come out as 2, the HYPERLINK as y)."""
    with office.sessions() as s, s.begin():
        first = s.execute(select(Customer.id).order_by(Customer.id)).scalars().first()
        s.execute(
            update(Customer)
            .where(Customer.id == first)
            .values(name="=1+1", primary_contact='=HYPERLINK("http://x","y")')
        )
    out = tmp_path / "客户台账.xlsx"
    lg.export(office, lg.Ledger.CUSTOMERS, lg.LedgerFilter(), out)
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",
            "--outdir",
            str(tmp_path),
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    rows = list(csv.reader((tmp_path / "客户台账.csv").read_text("utf-8").splitlines()))
    at = rows[1].index("联系人")
    assert (rows[2][1], rows[2][at]) == ("=1+1", '=HYPERLINK("http://x","y")')


def test_an_imported_name_with_control_characters_is_refused_naming_row_and_column(
    run: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    """An import (a .csv can hold BEL and ESC) used to store them, and every export failed afterwards. Now the
    check names each row and column (issue 21 item 2), nothing is written, and the office still exports."""
    data, sheet = tmp_path / "data", tmp_path / "客户.csv"
    opened = app.open_context(AppPaths(data))
    try:
        us.create_user(opened, "xiaowang", "小王", Role.CLERK, "secret-123", "客服部")
    finally:
        opened.engine.dispose()
    sheet.write_text(
        "客户名称,电话\n甲\x07公司,13812345678\n乙\x1b公司,13912345678\n丙公司,13712345678\n", "utf-8"
    )
    code, out, err = run(["--data-dir", str(data), "import", "customers", str(sheet)])
    assert code == 1
    assert "A列（客户名称）：含有不可见的控制字符" in out and "第 2、3 行" in out
    code, out, err = run(["--data-dir", str(data), "import", "customers", str(sheet), "--accept-valid"])
    assert code == 0, out + err
    xlsx = tmp_path / "客户台账.xlsx"
    code, out, err = run(["--data-dir", str(data), "export", "customers", str(xlsx)])
    assert code == 0, out + err
    names = [
        row[1] for row in load_workbook(xlsx).worksheets[0].iter_rows(min_row=3, max_row=3, values_only=True)
    ]
    assert names == ["丙公司"]
