"""``assessment show / confirm / adjust`` run in-process through ``huifang_desktop.app.main`` (clock fixed at
2026-11-24 10:00): confirming needs the manager's log-in, and ``stats --month`` of the confirmed month then
reproduces the confirmed figures from the frozen rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from huifang_desktop import app
from huifang_desktop.config import AppPaths
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import users
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.storage.models import Customer, MonthlyAssessment, VisitPlan

NOW = datetime(2026, 11, 24, 10, 0)


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[Path, ServiceContext]]:
    """A clerk with two October plans missed (a routine visit, a 到货回访) and a manager."""
    data = tmp_path / "data"
    base = app.open_context(AppPaths(data))
    ctx = ServiceContext(base.engine, base.sessions, clock=lambda: NOW)
    clerk = users.create_user(ctx, "xiaowang", "小王", Role.CLERK, "secret-123", "客服部")
    users.create_user(ctx, "zhao", "赵经理", Role.MANAGER, "secret-456", "")
    with ctx.sessions() as s, s.begin():
        c = Customer(
            code="KH000001",
            name="甲公司",
            initials="jgs",
            grade="A",
            created_on=date(2026, 1, 5),
            owner_id=clerk.id,
            updated_at=datetime(2026, 1, 5),
        )
        s.add(c)
        s.flush()
        for n, (due, rule) in enumerate(
            ((date(2026, 10, 12), "routine"), (date(2026, 10, 20), "delivery_arrival"))
        ):
            s.add(
                VisitPlan(
                    customer_id=c.id,
                    source_key=f"t:{n}",
                    rule_key=rule,
                    visit_type="例行",
                    method="电话",
                    earliest=due,
                    due=due,
                    owner_id=clerk.id,
                    state="待回访",
                    created_at=datetime(2026, 9, 1),
                )
            )
    yield data, ctx
    base.engine.dispose()


def test_cli_confirm_needs_the_managers_log_in_and_freezes_the_month(
    run_main: Any, office: Any, tmp_path: Path
) -> None:
    data, ctx = office
    run_main.clock = lambda: NOW
    code, out, _ = run_main(["--data-dir", str(data), "assessment", "show", "--month", "2026-10"])
    assert code == 0 and "合计 2 次 100 元" in out and "回访计划 #1 甲公司" in out
    code, _, err = run_main(
        ["--data-dir", str(data), "assessment", "confirm", "--month", "2026-10", "--password", "x"]
    )
    assert code == 1 and "--user" in err
    code, _, err = run_main(
        [
            "--data-dir",
            str(data),
            "--user",
            "zhao",
            "assessment",
            "confirm",
            "--month",
            "2026-10",
            "--password",
            "wrong-password",
        ]
    )
    assert code == 1
    code, _, err = run_main(
        [
            "--data-dir",
            str(data),
            "--user",
            "xiaowang",
            "assessment",
            "confirm",
            "--month",
            "2026-10",
            "--password",
            "secret-123",
        ]
    )
    assert code == 1 and "无权确认考核" in err
    code, out, err = run_main(
        [
            "--data-dir",
            str(data),
            "--user",
            "zhao",
            "assessment",
            "confirm",
            "--month",
            "2026-10",
            "--password",
            "secret-456",
            "--comment",
            "同意",
        ]
    )
    assert (code, err) == (0, "") and "2 次，100 元" in out and "签字有效" in out
    with ctx.sessions() as s:
        assert s.execute(select(MonthlyAssessment.total_amount)).scalar_one() == 100
    with ctx.sessions() as s, s.begin():  # the data changes afterwards
        for p in s.execute(select(VisitPlan)).scalars():
            p.state, p.done_on = "已回访", p.due
    out_file = tmp_path / "十月.xlsx"
    code, _, err = run_main(["--data-dir", str(data), "stats", "--month", "2026-10", str(out_file)])
    assert code == 0, err
    sheet = load_workbook(out_file)["考核（已确认）"]
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert 100 in values  # the confirmed 100 元, not the 0 元 the data would give now
    code, out, err = run_main(
        [
            "--data-dir",
            str(data),
            "--user",
            "zhao",
            "assessment",
            "adjust",
            "--month",
            "2026-10",
            "--clerk",
            "xiaowang",
            "--amount",
            "-50",
            "--reason",
            "到货回访已补记",
            "--password",
            "secret-456",
        ]
    )
    assert (code, err) == (0, "") and "记入 2026-11" in out


def test_cli_grade_charges_a_graded_event_of_002_rule_9(run_main: Any, office: Any) -> None:
    """002 制度9 七(二): 态度冷淡、擅自减少服务流程 — 200 元 and 5 points, charged by the manager with a reason."""
    data, _ctx = office
    run_main.clock = lambda: NOW
    base = [
        "--data-dir",
        str(data),
        "--user",
        "zhao",
        "assessment",
        "grade",
        "--month",
        "2026-11",
        "--clerk",
        "xiaowang",
        "--password",
        "secret-456",
    ]
    code, _, err = run_main([*base, "--kind", "nonsense", "--amount", "50", "--reason", "x"])
    assert code == 1 and "attitude" in err  # the kinds are listed
    code, _, err = run_main([*base, "--kind", "attitude", "--amount", "150", "--reason", "服务态度差"])
    assert code == 1 and "30–100" in err  # outside the kind's range
    code, _, err = run_main(
        [*base, "--kind", "attitude", "--amount", "50", "--reason", "x", "--day", "2026-10-05"]
    )
    assert code == 1 and "不在" in err
    code, out, err = run_main(
        [
            *base,
            "--kind",
            "态度冷淡、擅自减少服务流程",
            "--amount",
            "200",
            "--reason",
            "客户投诉：擅自减少交车检查",
        ]
    )
    assert (code, err) == (0, "") and "200 元、扣 5 分（2026-11-24）" in out
    code, out, _ = run_main(["--data-dir", str(data), "assessment", "show", "--month", "2026-11"])
    assert code == 0 and "经理登记" in out and "200 元" in out
    code, _, err = run_main(
        [
            "--data-dir",
            str(data),
            "--user",
            "xiaowang",
            "assessment",
            "grade",
            "--month",
            "2026-11",
            "--clerk",
            "xiaowang",
            "--kind",
            "attitude",
            "--amount",
            "50",
            "--reason",
            "x",
            "--password",
            "secret-123",
        ]
    )
    assert code == 1 and "无权" in err
