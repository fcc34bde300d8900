"""Text lengths checked against the columns before they reach the database, the same on SQLite and PostgreSQL.

PostgreSQL refuses a value longer than its ``VARCHAR(n)`` (a traceback about "value too long"), SQLite stores
it whatever its length: one behaviour on both is a :class:`ValidationError` naming the field in Chinese and
its limit, raised before anything is written (the transaction is rolled back, nothing saved changes).

:func:`install` hooks a session factory: every object added or changed (``before_flush``) and every row of a
``session.execute(insert(…)/update(…), rows)`` (``do_orm_execute``, used by the Excel import) is checked.
The audit log's free-text label is a copy made for reading the log: it is shortened instead of refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from sqlalchemy import String, Table, event, inspect
from sqlalchemy.orm import Mapper, ORMExecuteState, Session, sessionmaker
from sqlalchemy.sql.dml import Insert, Update

from huifang_desktop.domain.errors import FieldError, ValidationError

# Column name → Chinese label; "table.column" entries win over the plain column name.
_LABELS: dict[str, str] = {
    "name": "名称",
    "username": "用户名",
    "display_name": "姓名",
    "role": "角色",
    "password_hash": "密码",
    "key": "设置项",
    "kind": "类别",
    "mime": "文件类型",
    "sha256": "校验值",
    "action": "操作",
    "entity": "对象类型",
    "label": "对象",
    "code": "客户编号",
    "initials": "拼音首字母",
    "category": "类别",
    "grade": "客户等级",
    "grade_reason": "定级说明",
    "address": "地址",
    "region": "区域",
    "source": "客户来源",
    "industry": "行业",
    "status": "状态",
    "primary_phone": "主要电话",
    "primary_contact": "主要联系人",
    "target": "导入内容",
    "file_name": "文件名",
    "sheet": "工作表",
    "month": "月份",
    "signed_role": "签字人角色",
    "content_hash": "内容校验值",
    "signature_hash": "签字校验值",
    "number": "编号",
    "phone": "电话",
    "mobile": "手机",
    "email": "邮箱",
    "title": "职务",
    "product": "产品",
    "spec": "规格型号",
    "source_key": "计划来源",
    "rule_key": "回访规则",
    "visit_type": "回访类型",
    "method": "回访方式",
    "state": "状态",
    "cancel_reason": "取消原因",
    "place": "服务地点",
    "serial_no": "产品序列号",
    "parts": "更换配件",
    "satisfaction": "满意度",
    "technician": "服务人员",
    "follow_up_by": "回访人",
    "follow_up_result": "回访结果",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "transfer_department": "转交部门",
    "result": "结果",
    "complainant": "投诉人",
    "subject": "投诉主题",
    "severity": "严重程度",
    "handler_role": "处理人角色",
    "reply_way": "答复方式",
    "withdraw_reason": "撤销原因",
    "converted_from": "转自编号",
    "review_status": "审阅状态",
    "person": "跟进人",
    "from_state": "原状态",
    "to_state": "新状态",
    "channel": "投诉渠道",
    "received_by": "接收部门或人员",
    "counter.name": "编号计数器",
    "department.name": "部门",
    "attachment.name": "附件名称",
    "attachment.kind": "附件类别",
    "customer.name": "客户名称",
    "customer.kind": "客户性质",
    "contact.name": "联系人姓名",
    "purchase.kind": "购货类别",
    "service_record.kind": "服务类别",
    "service_record.number": "服务单号",
    "visit_record.number": "回访记录编号",
    "visit_report.number": "回访报告编号",
    "complaint.number": "投诉编号",
    "complaint.kind": "类型",
    "complaint.category": "投诉类别",
    "complaint.phone": "联系方式",
    "complaint_occurrence.phone": "联系方式",
    "audit_log.username": "操作人",
    "complaint_event.username": "操作人",
    "service_follow_up.result": "跟进结果",
    "public_key": "签字公钥",
    "prev_hash": "上一条校验值",
    "row_hash": "本条校验值",
    "signature": "电子签名",
    "contact_phone_suffix.suffix": "电话号码片段",
    "scan_page.source": "扫描文件名",
    "scan_page.reason": "未识别原因",
    "assessment_event.source": "考核来源",
    "assessment_event.subject": "考核对象",
    "assessment_event.detail": "考核说明",
    "assessment_entry.graded_key": "考核项目代码",
    "assessment_entry.label": "考核项目",
    "assessment_entry.reason": "考核原因",
    "assessment_entry.corrects": "更正月份",
    "complaint_notice.kind": "提醒类别",
    "complaint_notice.note": "提醒内容",
    "complaint_inquiry.responsible": "责任人",
    "complaint_inquiry.decided_by": "查办决定人",
    "customer_class.source": "等级来源",
    "customer_class.reason": "等级原因",
    "handover.note": "交接说明",
    "plan_owner_change.reason": "变更原因",
}
_SHORTENED = frozenset({"audit_log.label"})  # a copy for reading: cut to fit, never refused


def label_for(table: str, column: str) -> str | None:
    return _LABELS.get(f"{table}.{column}") or _LABELS.get(column)


@cache
def _limits(table: Table) -> tuple[tuple[str, int], ...]:
    """(column name, length) of the table's ``String(length)`` columns."""
    return tuple(
        (c.name, int(c.type.length)) for c in table.columns if isinstance(c.type, String) and c.type.length
    )


def _too_long(table: str, column: str, value: str, limit: int) -> FieldError:
    label = label_for(table, column) or column
    return FieldError(column, label, f"不能超过 {limit} 个字（现在 {len(value)} 个字）")


def check_row(table: Table, row: Mapping[str, Any]) -> list[FieldError]:
    """The too-long values of one row given as ``{column name: value}``."""
    errors = []
    for column, limit in _limits(table):
        value = row.get(column)
        if isinstance(value, str) and len(value) > limit:
            if f"{table.name}.{column}" in _SHORTENED and isinstance(row, dict):
                row[column] = value[: limit - 1] + "…"
                continue
            errors.append(_too_long(table.name, column, value, limit))
    return errors


@cache
def _attribute_limits(mapper: Mapper[Any]) -> tuple[tuple[str, str, str, int], ...]:
    """(attribute key, table name, column name, length) of a mapped class's limited text columns."""
    table = mapper.local_table
    if not isinstance(table, Table):
        return ()
    return tuple(
        (mapper.get_property_by_column(table.c[column]).key, table.name, column, limit)
        for column, limit in _limits(table)
    )


def _check_objects(objects: Iterable[object], *, changed_only: bool) -> None:
    """Raise for the objects' too-long values (``changed_only``: only the attributes changed in this flush,
    so a row saved long ago is not refused for a field nobody touched)."""
    errors: list[FieldError] = []
    for obj in objects:
        state = inspect(obj)
        values = state.dict  # what was set; no lazy loads
        for key, table, column, limit in _attribute_limits(state.mapper):
            value = values.get(key)
            if not isinstance(value, str) or len(value) <= limit:
                continue
            if changed_only and not state.attrs[key].history.has_changes():
                continue
            if f"{table}.{column}" in _SHORTENED:
                setattr(obj, key, value[: limit - 1] + "…")
                continue
            errors.append(_too_long(table, column, value, limit))
    if errors:
        raise ValidationError(errors)


def _before_flush(session: Session, _context: object, _instances: object) -> None:
    _check_objects(session.new, changed_only=False)
    _check_objects(session.dirty, changed_only=True)


def _on_execute(state: ORMExecuteState) -> None:
    statement = state.statement
    if not isinstance(statement, Insert | Update) or not isinstance(statement.table, Table):
        return
    params = state.parameters
    rows = params if isinstance(params, list) else [params] if isinstance(params, dict) else []
    errors: list[FieldError] = []
    for row in rows:
        errors += check_row(statement.table, row)
    if errors:
        raise ValidationError(errors[:5])


def install(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Check every session of ``factory`` (see the module's text); returns ``factory``."""
    event.listen(factory, "before_flush", _before_flush)
    event.listen(factory, "do_orm_execute", _on_execute)
    return factory
