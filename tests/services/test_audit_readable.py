"""操作日志 for people (issue 18 item 6): names instead of ids, Chinese field names and role labels, a 变更
column old → new, and hashes / key material only in the detail fields and the Excel export."""

from __future__ import annotations

import re
from collections import namedtuple
from pathlib import Path

from openpyxl import load_workbook

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.services import review as rv
from huifang_desktop.services import visits as v
from huifang_desktop.services.audit import _audit_row
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.customers import register_customer

HEX64 = re.compile(r"\b[0-9a-f]{64}\b")
# a row of the log's select, columns by name (services.audit._audit_select)
_LogRow = namedtuple(
    "_LogRow", "id at user_name username action entity entity_id label old new note seq prev_hash row_hash"
)


def _record(cctx: ServiceContext, clerk: UserInfo) -> v.VisitRecordRow:
    c = register_customer(
        cctx,
        CustomerDraft(
            name="杭州远纳运输有限公司",
            created_on="2026-11-01",
            contacts=(ContactDraft(name="张倩", mobile="13900001111"),),
        ),
    )
    return v.record_visit(
        cctx,
        v.VisitRecordDraft(
            customer_id=c.id,
            result="成功",
            visited_at="2026-11-24 09:00",
            satisfaction="满意",
            feedback="原意见",
            content="了解使用情况",
            visitor_id=clerk.id,
        ),
    )


def _list_text(row: rv.AuditRow) -> str:
    """Everything the 操作日志 list shows of a row."""
    return f"{row.user} {row.action} {row.object_text} {row.old} {row.new} {row.change} {row.note}"


def test_a_visit_record_row_names_the_visitor_not_the_id(
    cctx: ServiceContext, sctx: ServiceContext, clerk: UserInfo
) -> None:
    rec = _record(cctx, clerk)
    row = rv.audit_log(sctx, rv.AuditFilter(action="填写回访记录")).rows[0]
    assert row.entity_id == rec.id
    assert "回访人：小王" in row.new
    assert f"回访人：{clerk.id}" not in row.new and "visitor_id" not in row.new
    assert "客户签字：否" in row.new  # booleans in words, not True/False


def test_the_change_column_reads_field_old_to_new(
    cctx: ServiceContext, sctx: ServiceContext, clerk: UserInfo
) -> None:
    rec = _record(cctx, clerk)
    current = v.get_record(cctx, rec.id)
    v.update_record(
        cctx,
        rec.id,
        v.VisitRecordDraft(
            customer_id=current.customer_id,
            result=current.result,
            visited_at=current.visited_at,
            satisfaction="很满意",
            feedback="新意见",
            content=current.content,
            visitor_id=clerk.id,
            contact_name=current.contact_name,
            contact_phone=current.contact_phone,
            visit_type=current.visit_type,
            method=current.method,
            plan_id=current.plan_id,
        ),
        current.version,
    )
    row = rv.audit_log(sctx, rv.AuditFilter(action="修改回访记录")).rows[0]
    assert "客户意见/反馈：原意见 → 新意见" in row.change
    assert "满意度：满意 → 很满意" in row.change
    assert row.old == "客户意见/反馈：原意见；满意度：满意"  # 原值 / 新值 stay


def test_user_rows_show_role_labels_and_no_hash_but_the_detail_has_them(
    sctx: ServiceContext, ctx: ServiceContext, admin: UserInfo, clerk: UserInfo
) -> None:
    actx = ctx.as_user(admin)
    made = rv.audit_log(actx, rv.AuditFilter(action="新建用户", entity_id=clerk.id)).rows[0]
    key = rv.audit_log(actx, rv.AuditFilter(action="登记签字密钥", entity_id=clerk.id)).rows[0]
    for row in (made, key):
        shown = _list_text(row)
        assert "账户：客服专员，启用" in shown
        assert "clerk" not in shown and "{" not in shown and not HEX64.search(shown), shown
        assert "密码" not in shown and "公钥" not in shown
        # the detail view: the stored JSON in full, the chain position and hashes
        assert HEX64.fullmatch(row.row_hash) and row.seq is not None and row.seq >= 1
        assert HEX64.search(row.raw_new) and '"role": "clerk"' in row.raw_new
    assert made.new == "部门：客服部；角色：客服专员；账户：客服专员，启用；用户名：xiaowang"
    assert "原因：新建用户" in key.new


def test_the_excel_export_keeps_hashes_and_key_material_in_full(
    ctx: ServiceContext, admin: UserInfo, clerk: UserInfo, tmp_path: Path
) -> None:
    actx = ctx.as_user(admin)
    out = tmp_path / "操作日志.xlsx"
    rv.export_audit(actx, out, rv.AuditFilter(action="登记签字密钥"))
    ws = load_workbook(out).active
    header = [c.value for c in ws[2]]
    assert header[-3:] == ["审计链序号", "上一行校验值", "本行校验值"]
    rows = [dict(zip(header, [c.value for c in r], strict=True)) for r in ws.iter_rows(min_row=3)]
    rows = [r for r in rows if r["操作"] == "登记签字密钥"]
    assert rows and all(HEX64.fullmatch(r["本行校验值"] or "") for r in rows)
    assert all("签字公钥：" in r["新值"] and HEX64.search(r["新值"]) for r in rows)


def test_readable_formats_nested_state_lists_and_unknown_ids() -> None:
    raw = (
        '{"role": "supervisor", "state": {"role": "manager", "active": false, "password": "'
        + "a" * 64
        + '"}}'
    )
    assert rv.readable(raw) == "角色：客服主管；账户：公司经理，停用"
    assert rv.readable('{"state": "处理中"}') == "状态：处理中"  # a complaint's state stays 状态
    assert "a" * 64 in rv.readable(raw, full=True)
    assert rv.readable('{"visitor_id": 99999}') == "回访人：#99999"
    assert rv.readable('{"form": "回访记录表", "pages": 2, "output": "PDF 文件", "records": [1, 2, 3]}') == (
        "表单：回访记录表；页数：2；输出方式：PDF 文件；回访记录：3 份"
    )


def test_a_service_records_customer_is_named_but_the_demo_count_stays_a_count() -> None:
    names = rv.AuditNames({("customer", 7): "KH000007 杭州远纳"})
    row = _LogRow(
        1,
        None,
        "",
        "u",
        "登记售后服务",
        "service_record",
        3,
        "FW1",
        None,
        '{"客户": 7, "服务类型": "维修"}',
        "",
        1,
        "",
        "",
    )
    assert _audit_row(row, names).new == "客户：KH000007 杭州远纳；服务类型：维修"
    demo = _LogRow(
        2, None, "", "system", "生成演示数据", "database", None, "", None, '{"客户": 200}', "", 2, "", ""
    )
    assert _audit_row(demo, names).new == "客户：200"


def test_a_save_conflict_names_the_other_persons_changes_in_chinese(
    cctx: ServiceContext, sctx: ServiceContext, clerk: UserInfo
) -> None:
    from huifang_desktop.services.errors import ConflictError

    rec = _record(cctx, clerk)
    current = v.get_record(cctx, rec.id)

    def draft(feedback: str) -> v.VisitRecordDraft:
        return v.VisitRecordDraft(
            customer_id=current.customer_id,
            result=current.result,
            visited_at=current.visited_at,
            satisfaction=current.satisfaction,
            feedback=feedback,
            content=current.content,
            visitor_id=clerk.id,
            contact_name=current.contact_name,
            contact_phone=current.contact_phone,
            visit_type=current.visit_type,
            method=current.method,
            plan_id=current.plan_id,
        )

    v.update_record(sctx, rec.id, draft("主管补充的意见"), current.version)
    try:
        v.update_record(cctx, rec.id, draft("旧窗口的修改"), current.version)
    except ConflictError as exc:
        message = str(exc)
    else:
        raise AssertionError("a stale save must conflict")
    assert "客户意见/反馈：原意见 → 主管补充的意见" in message and "feedback" not in message


def test_names_are_looked_up_for_users_customers_and_departments_in_one_go(
    cctx: ServiceContext, clerk: UserInfo
) -> None:
    c = register_customer(
        cctx,
        CustomerDraft(
            name="宁波甬达物流",
            created_on="2026-11-01",
            contacts=(ContactDraft(name="李四", mobile="13900002222"),),
        ),
    )
    raw = (
        f'{{"customer_id": {c.id}, "department_id": {clerk.department_id}, "clerk_id": {clerk.id}, '
        f'"owner_id": 424242}}'
    )
    with cctx.sessions() as s:
        names = rv.AuditNames.lookup(s, [raw, None, "not json"])
    assert (
        rv.readable(raw, names) == f"客户：{c.code} 宁波甬达物流；部门：客服部；回访人：小王；负责人：#424242"
    )


SNAKE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


def test_setting_changes_read_as_the_changed_field_with_chinese_names_and_values(
    mctx: ServiceContext,
) -> None:
    from dataclasses import replace

    from huifang_desktop.services import complaints as cs
    from huifang_desktop.services import settings as st

    rules = v.load_rules(mctx)
    v.save_rules(mctx, rules)  # stored once, then changed: old and new both hold the whole rule book
    first = rules.rules[0]
    v.save_rules(mctx, replace(rules, rules=(replace(first, sample_rate=0.5), *rules.rules[1:])))
    st.save_settings(mctx, replace(st.load_settings(mctx), visibility=st.VISIBILITY_DEPARTMENT))
    cs.save_policy(mctx, cs.load_policy(mctx))
    rows = rv.audit_log(mctx, rv.AuditFilter(action="修改设置")).rows
    by_label = {r.label: r for r in rows}
    assert by_label["单位设置"].change == "客户档案可见范围：全公司 → 本部门"  # stored as "office"
    assert by_label["单位设置"].object_text == "设置 单位设置"
    changed = next(r for r in rows if r.change.startswith("规则"))
    assert changed.change == f"规则 {first.name} · 抽查比例：100% → 50%"
    for row in rows:
        shown = _list_text(row)
        assert not SNAKE.search(shown) and "owner" not in shown and "clerk" not in shown, shown
