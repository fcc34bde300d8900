"""The ``print`` command (record / blank / report / day / visits), run in-process through ``app.main``."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from huifang_desktop import app
from huifang_desktop.config import AppPaths
from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.roles import Role
from huifang_desktop.printing.templates import forms_dir
from huifang_desktop.services import users
from huifang_desktop.services import visits as v
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.customers import register_customer
from huifang_desktop.storage.models import AuditLog

NOW = datetime(2026, 11, 24, 10, 0)


@pytest.fixture
def run(run_main: Any) -> Any:
    """``run(args) -> (exit code, stdout, stderr)`` (tests/conftest.py ``run_main``)."""
    return run_main


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[Path, ServiceContext, dict[str, int]]]:
    """A data folder with a clerk, two plans on 2026-11-24 (one visited) and a report of that day."""
    data = tmp_path / "data"
    base = app.open_context(AppPaths(data))
    ctx = ServiceContext(base.engine, base.sessions, clock=lambda: NOW)
    clerk = users.create_user(ctx, "xiaowang", "小王", Role.CLERK, "secret-123", "客服部")
    cctx = ctx.as_user(clerk)
    a = register_customer(
        cctx, CustomerDraft(name="甲公司", contacts=(ContactDraft(name="张经理", mobile="13900000001"),))
    )
    b = register_customer(
        cctx, CustomerDraft(name="乙公司", contacts=(ContactDraft(name="李经理", mobile="13900000002"),))
    )
    plan_a = v.add_manual_plan(cctx, a.id, "例行", "电话", "2026-11-24")
    plan_b = v.add_manual_plan(cctx, b.id, "使用", "电话", "2026-11-24")
    rec = v.record_visit(
        cctx,
        v.prefill_record(cctx, plan_b.id).to_draft(
            result="成功", visited_at="2026-11-24 09:30", satisfaction="很满意", feedback="一切正常"
        ),
    )
    draft = v.draft_report(cctx, clerk.id, NOW.date(), NOW.date())
    report = v.save_report(cctx, draft, "按计划完成。", "", "")
    yield data, cctx, {"plan_a": plan_a.id, "plan_b": plan_b.id, "record": rec.id, "report": report.id}
    base.engine.dispose()


def _text(path: Path) -> list[str]:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return [re.sub(r"\s+", "", pg.extract_text() or "") for pg in reader.pages]


def _logged(ctx: ServiceContext) -> list[tuple[str, int | None, dict[str, Any]]]:
    with ctx.sessions() as s:
        rows = s.execute(select(AuditLog).where(AuditLog.action == "打印").order_by(AuditLog.id)).scalars()
        return [(r.entity, r.entity_id, json.loads(r.new or "{}")) for r in rows]


def test_cli_print_writes_each_kind_of_document_and_logs_it(run: Any, office: Any, tmp_path: Path) -> None:
    data, cctx, ids = office
    out = tmp_path / "out"
    out.mkdir()
    cases = [
        (["record", str(ids["record"])], [], "record.pdf", 1, ["HF20261124-001", "乙公司", "一切正常"]),
        (["blank", str(ids["plan_a"])], [], "blank.pdf", 1, ["甲公司", "张经理"]),
        (
            ["report", str(ids["report"])],
            [],
            "report.pdf",
            1,
            ["回访报告表", "BG20261124-001", "按计划完成。"],
        ),
        (["day", "2026-11-24"], [], "day.pdf", 3, ["回访任务单", "甲公司"]),
        (
            ["visits"],
            ["--from", "2026-11-01", "--to", "2026-11-30"],
            "visits.pdf",
            1,
            ["回访台账", "本页合计"],
        ),
        (["visits"], ["--no-appendix"], "visits2.pdf", 1, ["回访台账", "本页合计"]),
    ]
    for before, after, name, pages, expected in cases:
        target = out / name
        code, stdout, err = run(["--data-dir", str(data), "print", *before, str(target), *after])
        assert (code, err) == (0, ""), (before, err)
        assert f"共 {pages} 页到 {target}" in stdout
        texts = _text(target)
        assert len(texts) == pages
        for value in expected:
            assert value in "".join(texts), (name, value)
    assert "HF20261124-001" in _text(out / "day.pdf")[2]
    logged = _logged(cctx)
    assert [(e, i) for e, i, _ in logged] == [
        ("visit_record", ids["record"]),
        ("visit_plan", ids["plan_a"]),
        ("visit_report", ids["report"]),
        ("visit_plan", None),
        ("visit_plan", None),
        ("visit_plan", None),
    ]
    assert all(n["output"] == "PDF 文件" and n["target"].startswith(str(out)) for _, _, n in logged)
    assert [n["pages"] for _, _, n in logged] == [1, 1, 1, 3, 1, 1]
    assert [n.get("appendix") for _, _, n in logged[-2:]] == [True, False]
    assert logged[3][2]["plans"] == [ids["plan_a"], ids["plan_b"]]


def test_cli_print_uses_the_data_folders_form_templates(run: Any, office: Any, tmp_path: Path) -> None:
    data, _cctx, ids = office
    forms = data / "forms"
    forms.mkdir()
    text = (forms_dir() / "visit_record.toml").read_text(encoding="utf-8")
    (forms / "visit_record.toml").write_text(
        text.replace('title = "回访记录表"', 'title = "客户回访单"'), encoding="utf-8"
    )
    target = tmp_path / "r.pdf"
    code, stdout, _ = run(["--data-dir", str(data), "print", "record", str(ids["record"]), str(target)])
    assert code == 0 and "已打印客户回访单" in stdout
    assert "客户回访单" in _text(target)[0]


def test_cli_print_errors_are_chinese_and_write_nothing(run: Any, office: Any, tmp_path: Path) -> None:
    data, cctx, ids = office
    target = tmp_path / "x.pdf"
    code, out, err = run(["--data-dir", str(data), "print", "record", "999", str(target)])
    assert (code, out) == (1, "") and err == "错误：没有编号为 999 的回访记录。\n"
    code, _, err = run(["--data-dir", str(data), "print", "day", "明天", str(target)])
    assert code == 1 and err.startswith("错误：日期：")
    code, _, err = run(["--data-dir", str(data), "print", "day", "2026-11-28", str(target)])
    assert code == 1 and "没有要打印的回访计划" in err
    missing = tmp_path / "没有这个文件夹" / "x.pdf"
    code, _, err = run(["--data-dir", str(data), "print", "blank", str(ids["plan_a"]), str(missing)])
    assert (
        code == 1 and err.startswith(f"错误：无法保存文件 {missing}：文件夹不存在") and "Traceback" not in err
    )
    assert not target.exists() and not missing.parent.exists()
    assert _logged(cctx) == []


def test_cli_print_complaint_by_number(run: Any, office: Any, tmp_path: Path) -> None:
    from huifang_desktop.services import complaints as cs

    data, cctx, _ids = office
    d = cs.register(
        cctx,
        cs.IntakeDraft(
            subject="送货延误三天", complainant="张经理", phone="13900000001", category="交付物流"
        ),
    )
    target = tmp_path / "complaint.pdf"
    code, stdout, err = run(["--data-dir", str(data), "print", "complaint", d.number, str(target)])
    assert (code, err) == (0, ""), err
    assert "投诉处理表" in stdout
    text = "".join(_text(target))
    assert d.number in text and "送货延误三天" in text and "登记投诉" in text
    assert _logged(cctx)[-1][:2] == ("complaint", d.id)
    code, _out, err = run(["--data-dir", str(data), "print", "complaint", "TS19990101-999", str(target)])
    assert code == 1 and "没有编号为 TS19990101-999 的投诉" in err


def test_cli_print_inquiry_of_a_late_complaint(run: Any, office: Any, tmp_path: Path) -> None:
    """002 制度3 第十三条: an open case N working days past its 处理期限 gets a 查办单 (`print inquiry`)."""
    from huifang_desktop.services import complaints as cs

    data, cctx, _ids = office
    d = cs.register(
        cctx,
        cs.IntakeDraft(
            subject="送货延误三天", complainant="张经理", phone="13900000001", category="交付物流"
        ),
    )
    target = tmp_path / "inquiry.pdf"
    run.clock = lambda: datetime(2026, 11, 24, 11, 0)  # on time: no 查办单
    code, _out, err = run(["--data-dir", str(data), "print", "inquiry", d.number, str(target)])
    assert code == 1 and "未逾期" in err and not target.exists()
    run.clock = lambda: datetime(2026, 12, 15, 9, 0)  # due 11-27: long past it, still open
    code, stdout, err = run(["--data-dir", str(data), "print", "inquiry", d.number, str(target)])
    assert (code, err) == (0, ""), err
    assert "投诉查办单" in stdout
    text = "".join(_text(target))
    assert d.number in text and "送货延误三天" in text and "待查办" in text and "逾期原因" in text


def test_cli_print_takes_the_offices_numbers_and_still_ids(run: Any, office: Any, tmp_path: Path) -> None:
    data, _cctx, ids = office
    for what, number, key in (("record", "HF20261124-001", "record"), ("report", "BG20261124-001", "report")):
        for arg in (number, number.lower(), str(ids[key])):
            target = tmp_path / f"{what}-{arg}.pdf"
            code, _stdout, err = run(["--data-dir", str(data), "print", what, arg, str(target)])
            assert (code, err) == (0, ""), (what, arg, err)
            assert number in "".join(_text(target))
    code, out, err = run(
        ["--data-dir", str(data), "print", "record", "HF19990101-001", str(tmp_path / "x.pdf")]
    )
    assert (code, out) == (1, "") and err == "错误：没有编号为 HF19990101-001 的回访记录。\n"


def test_cli_print_empty_forms_to_fill_in_by_hand(run: Any, office: Any, tmp_path: Path) -> None:
    data, cctx, _ids = office
    for kind, title, absent in (
        ("record", "回访记录表", "乙公司"),
        ("complaint", "投诉处理表", "TS"),
        ("inquiry", "投诉查办单", "TS"),
    ):
        target = tmp_path / f"{kind}.pdf"
        code, _stdout, err = run(["--data-dir", str(data), "print", "empty", kind, str(target)])
        assert (code, err) == (0, ""), err
        text = "".join(_text(target))
        assert title in text and "草稿" not in text and absent not in text
    assert [(e, n["empty"]) for e, _i, n in _logged(cctx)] == [
        ("form", "record"),
        ("form", "complaint"),
        ("form", "inquiry"),
    ]
    code, _, err = run(["--data-dir", str(data), "print", "empty", "report", str(tmp_path / "x.pdf")])
    assert code == 1 and err.startswith("错误：") and "不是可打印的空白表单" in err and "record" in err
