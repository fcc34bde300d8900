"""The Chinese name of every key a service writes into an audit row's old/new values
(tests/test_audit_labels.py checks each one has a name). Read where the log is shown (review's audit log)
and where a refused save tells what the other person changed
(:func:`huifang_desktop.services.context.recent_changes`); kept apart from both so the context does not
import the review workflow."""

from __future__ import annotations

from huifang_desktop.domain.stats import EventKind

FIELD_LABELS: dict[str, str] = {
    "page": "页码", "signed_form_received_at": "签字单回收时间", "signed_form_days": "签字单回收提醒天数",
    "status": "状态", "state": "状态", "reason": "原因", "comment": "指导意见", "signer": "签字人", "role": "角色",
    "signed_at": "签字时间", "revision": "修订次数", "content_hash": "内容校验值", "integrity": "签字校验",
    "contact_name": "联系人", "contact_phone": "联系电话", "visit_type": "回访类型", "method": "回访方式",
    "visited_at": "回访时间", "visitor_id": "回访人", "content": "回访内容", "feedback": "客户意见/反馈",
    "problems": "问题点", "measures": "措施", "satisfaction": "满意度", "handling": "处理情况",
    "transfer_department": "转交部门", "transfer_answer": "转交处理结果", "transfer_done_at": "转交答复时间",
    "next_visit_on": "下次回访时间", "result": "结果", "customer_signed": "客户签字", "summary": "回访汇总",
    "actions": "处理措施", "evaluation": "评价", "period": "报告期间", "total": "回访次数", "due_on": "应交日期",
    "investigation": "调查情况", "responsible": "责任人", "cause": "原因", "reply_text": "答复内容", "replied_at": "答复时间",
    "reply_way": "答复方式", "handler": "负责人", "severity": "严重程度", "number": "编号", "due": "期限",
    "name": "名称", "grade": "等级", "owner": "负责人", "file": "文件", "kind": "类型", "rows": "行数",
    "category": "类别", "address": "地址", "region": "区域", "source": "来源", "industry": "行业",
    "birthday": "生日", "created_on": "建档日期", "notes": "备注", "contacts": "联系人", "deadline": "期限",
    "grade_reason": "定级原因", "pinned": "手动定级", "archived": "归档", "active": "启用", "username": "用户名",
    "department": "部门", "visitor": "回访人", "earliest": "最早日期", "channel": "渠道", "received_at": "受理时间",
    "occurrence": "次数", "chase_count": "催办次数", "level": "级别", "size": "大小", "sha256": "校验值",
    "count": "数量", "to": "至", "cancel_reason": "取消原因", "customers": "客户数", "complaints": "未结投诉数",
    "drafts": "报告草稿数",
    "refused_after_days": "拒绝后再联系天数", "refused_recontacts": "拒绝后再联系次数",
    "on_site_severities": "须上门回访的投诉严重程度", "on_site_method": "上门方式", "clerks": "回访人数", "empty": "空白表单", "head": "负责主管",
    # printed and exported documents
    "form": "表单", "output": "输出方式", "pages": "页数", "target": "输出到", "records": "回访记录",
    "plans": "回访计划", "blank": "空白表", "day": "日期", "clerk_id": "回访人", "sheets": "工作表",
    "filter": "筛选条件", "aside": "原文件另存为",
    # users, log-in, keys (state: the user's resulting role and active flag, see signing.with_state)
    "host": "计算机", "locked_until": "锁定至", "public_key": "签字公钥", "password": "密码摘要",
    "user_id": "用户", "customer_id": "客户", "department_id": "部门", "owner_id": "负责人",
    "handler_id": "负责人", "signer_id": "签字人", "technician_id": "服务人员", "plan_id": "回访计划",
    # assessments
    "amount": "金额", "points": "扣分", "confirmed_at": "确认时间", "confirmed_by_id": "确认人",
    # 设置 (OfficeSettings and the rule books)
    "company": "单位名称", "visibility": "客户档案可见范围", "grade_a": "A级年采购量", "grade_b": "B级年采购量",
    "grade_c": "C级年采购量", "grading_window_days": "定级统计天数",
    "grading_period": "定级统计期间", "class_scheme": "分级方式", "vip_share_percent": "VIP客户比例", "categories": "类别",
    "sources": "客户来源", "regions": "区域", "customer_code_prefix": "客户编号前缀",
    "retention_years": "保存年限", "require_visit_text": "成功回访须填内容和意见",
    "login_attempts": "允许输错密码次数", "lockout_minutes": "锁定分钟数", "holidays": "节假日",
    "rules": "规则", "key": "规则", "sample_rate": "抽查比例", "allow_self_sign": "允许本人签字",
    "top_secret": "绝密台账", "columns": "显示列",
    # rule books inside 修改设置 rows: visit rules, follow-ups, complaint policy, assessment rules
    "anchor": "起算日期", "windows": "回访时限", "window": "回访时限", "repeat_every": "重复间隔",
    "repeat_unit": "重复单位", "unit": "单位", "until": "重复截止", "fallback_months": "无日期时推算（月）",
    "shift_to_workday": "遇节假日顺延", "target_rate": "目标回访率", "trigger": "触发事件", "who": "回访人",
    "min_units": "数量不少于", "below_units": "数量少于", "enabled": "启用", "follow_up": "跟进回访",
    "max_attempts": "最多回访次数", "phone_from_attempt": "第几次起改电话", "phone_method": "电话方式",
    "retry_results": "需再次回访的结果", "retry_unsatisfied": "不满意时再次回访", "horizon_months": "计划范围（月）",
    "routine_days": "例行回访间隔（天）", "routine_method": "例行回访方式", "routine_rule_keys": "例行回访规则",
    "closing_visit_days": "结案回访天数", "closing_visit_in_workdays": "结案回访按工作日计",
    "consultation_reply_hours": "咨询答复时限（小时）", "escalate_overdue": "逾期自动升级",
    "first_reply_workdays": "首次答复时限（工作日）", "handler_roles": "负责人角色",
    "handling_workdays": "处理时限（工作日）", "number_pattern": "编号格式", "repeat_similarity": "重复投诉相似度",
    "repeat_window_days": "重复投诉统计天数", "special_handling_workdays": "专项处理时限（工作日）",
    "suggestion_reply_workdays": "建议答复时限（工作日）", "workday_end": "下班时间", "assessed_roles": "考核对象",
    "delivery_triggers": "交货类触发事件", "monthly_due_workdays": "月度台账期限（工作日）",
    "repeat_multiplier": "重复倍数", "rule_key": "回访规则", "severity_who": "投诉结案回访人",
    "technical_grades": "技术回访客户等级", "technical_method": "技术回访方式", "technical_months": "技术回访间隔（月）",
    "sampling_salt": "抽样种子", "transfer_hours": "转交答复时限（小时）", "workdays": "调休上班日",
    # a ledger filter (筛选条件)
    "text": "关键字", "start": "开始日期", "end": "截止日期", "mine": "仅本人", "sort": "排序",
    "descending": "倒序",
    # 考核 rules, graded entries and adjustments
    "monthly_due_day": "月度台账上交日（次月）", "delivery_rule_keys": "交货未回访的回访规则",
    "end_customer_rule_keys": "终端客户回访规则", "repeats_double": "重复违反加倍", "corrects": "更正月份",
    "month": "月份",
    **{kind.key: kind.value for kind in EventKind},  # 考核 rules by event (missed_visit → 例行回访未按期)
}


__all__ = ["FIELD_LABELS"]
