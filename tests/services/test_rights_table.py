"""Every public service function, called as every role, against ONE expected table derived from
``domain/roles.py`` PERMISSIONS: a role without the listed permissions is refused with PermissionDenied, a role
with them is not (it may still meet NotFound or a validation error for the small fixture arguments).

Each public function of ``huifang_desktop.services.*`` is classified exactly once — a new one that is not
makes :func:`test_every_public_service_function_is_classified` fail, so nobody forgets its right."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import huifang_desktop.services as services_pkg
from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.holiday_notice import parse_notice
from huifang_desktop.domain.roles import PERMISSIONS, Permission, Role
from huifang_desktop.services import (
    audit,
    backups,
    complaints,
    customers,
    handover,
    holidays,
    importing,
    ledgers,
    policy,
    presets,
    printing,
    review,
    scans,
    service_records,
    settings,
    stats,
    tamper,
    users,
    visits,
    workflow,
)
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.errors import PermissionDenied, ServiceError
from huifang_desktop.storage.queries import CustomerFilter

P = Permission
NO = 999_999  # an id that does not exist: the right is checked before the record is looked up

# --- functions any logged-in user may call: readers of their own data or of what their visibility scope
# shows (the scope is the rights check), pure predicates, and the log-in itself --------------------------
ANY_USER = {
    "backups.backup_folder",
    "backups.rotation",
    "complaints.load_policy",
    "complaints.load_complaint_rules",
    "complaints.list_complaints",
    "complaints.count_complaints",
    "complaints.state_counts",
    "complaints.get_complaint",
    "complaints.find_repeats",
    "complaints.find_id",
    "complaints.history",
    "complaints.notices",
    "complaints.mark_notices_seen",
    "complaints.handlers",
    "complaints.attachment_data",
    "complaints.load_follow_policy",
    "complaints.inquiries",
    "complaints.pending_inquiry_count",
    "complaints.get_inquiry",
    "policy.customer_scope",
    "policy.check_visible",
    "policy.complaint_visibility",
    "policy.visited_complaints",
    "policy.work_calendar",
    "policy.load_scale",
    "customers.list_customers",
    "customers.count_customers",
    "customers.get_customer",
    "customers.get_customer_by_code",
    "customers.find_duplicates",
    "customers.history",
    "customers.validate_draft",
    "importing.load_import_rules",
    "importing.saved_mapping",
    "importing.preview",
    "ledgers.load_options",
    "ledgers.choices",
    "ledgers.saved_filters",
    "ledgers.save_filter",
    "ledgers.delete_filter",
    "ledgers.visible_columns",
    "ledgers.save_visible_columns",
    "ledgers.describe_filter",
    "ledgers.is_top_secret",
    "printing.load_print_options",
    "printing.may_output",
    "printing.visit_record_pdf",
    "printing.visit_records_pdf",
    "printing.blank_visit_record_pdf",
    "printing.plan_form_pdf",
    "printing.day_plans_pdf",
    "printing.visit_report_pdf",
    "printing.report_draft_pdf",
    "printing.complaint_pdf",
    "printing.record_id_of",
    "printing.report_id_of",
    "printing.complaint_id_of",
    "printing.empty_form_pdf",
    "printing.inquiry_pdf",
    "printing.inquiry_values",
    "review.load_review_rules",
    "review.pending_counts",
    "review.returned_items",
    "review.detail",
    "review.get_report",
    "review.verify",
    "service_records.load_options",
    "service_records.visibility_condition",
    "service_records.get_service_record",
    "service_records.find_id",
    "service_records.service_conditions",
    "service_records.list_service_records",
    "service_records.count_service_records",
    "service_records.choices",
    "settings.load_settings",
    "settings.get_value",
    "stats.load_stats_options",
    "stats.load_assessment_rules",
    "stats.visit_totals",
    "stats.group_rows",
    "stats.rule_rows",
    "stats.complaint_figures",
    "stats.trend",
    "stats.statistics",
    "stats.complete_statistics",
    "stats.compute_assessment",
    "stats.assessment",
    "stats.build_report",
    "stats.report_from",
    "stats.export_xlsx",
    "stats.report_pdf",
    "stats.export_report",
    "users.has_users",
    "users.list_departments",
    "users.authenticate",
    "users.list_users",
    "users.get_user",
    "users.find_user",
    "users.clerks",
    "users.change_password",
    "users.demo_login",
    "users.is_demo_office",
    "users.demo_accounts",
    "users.locked_until",
    "users.must_change_password",
    "printing.draft_visit_record_pdf",
    "backups.note_instance",
    "signing.credential_key",
    "signing.unlock",
    "tamper.chain_head",
    "users.department_rows",
    "users.team_users",
    "visits.load_rules",
    "visits.load_options",
    "visits.list_plans",
    "visits.get_plan",
    "visits.day_counts",
    "visits.due_summary",
    "visits.prefill_record",
    "visits.get_record",
    "visits.overdue_transfers",
    "visits.list_records",
    "visits.draft_report",
    "visits.plan_counts",
    "visits.rates",
    "visits.independence_on",
    "visits.independence_covers",
    "handover.unregistered_files",
    "scans.record_attachments",
    "scans.record_attachment_data",
    "scans.unreturned_forms",
    "classes.class_history",
    "holidays.office_calendar",
    "holidays.year_holidays",
    "holidays.entered_years",
    "holidays.unknown_years",
}

# --- the office's routines, run at start (or by ``plan``) for whoever is logged in: they derive what the
# stored facts already decide (the day's backup, catch-up plans, escalation of overdue complaints) ---------
OFFICE_DUTIES = {
    "backups.ensure_daily_backup",
    "complaints.escalate_overdue",
    "visits.plan_catch_up",
    "visits.daily_catch_up",
    "visits.on_purchase",
    "visits.on_trigger",
    "classes.monthly_recompute",
    "classes.recompute_all",
}

# --- helpers that run inside a caller's transaction (they take the Session): the calling service checked --
IN_TRANSACTION = {
    "classes.apply_class",
    "classes.regrade_in",
    "complaints.apply_closing_visit_in",
    "context.audit",
    "visits.plan_purchase_in",
    "context.audit_values",
    "signing.ensure_key_at_login",
    "signing.password_changed",
    "signing.set_new_key",
    "visits.closing_visit_plan_for",
    "users.disable_in",
}

# --- rights that depend on the record, decided after loading it: its handler / owner / author, or a
# permission (WORK_FOR_OTHERS, REASSIGN, SIGN_OFF). Tested with real records in the modules' own tests. ----
RECORD_RULES = {
    "complaints.save_handling": "handler, or WORK_FOR_OTHERS; test_complaints.py",
    "complaints.finish_handling": "handler, or WORK_FOR_OTHERS; test_complaints.py",
    "complaints.record_closing_visit": "handler, or WORK_FOR_OTHERS; test_complaints.py",
    "complaints.closing_visit_plan": "the planned visitor, the handler or WORK_FOR_OTHERS — never the handler or "
    "业务员 under independence; test_owner_at_close.py",
    "workflow.record_closing_visit": "as complaints.closing_visit_plan; test_owner_at_close.py",
    "complaints.close": "handler at the complaint's level (the ladder); test_complaints.py",
    "complaints.reply_message": "handler, or WORK_FOR_OTHERS; test_complaints.py",
    "complaints.reopen_linked": "EDIT_CUSTOMERS on a visible closed complaint; test_complaints.py",
    "complaints.attach_file": "as complaints.attach, after reading the file; test_complaints.py",
    "complaints.detach": "handler, or WORK_FOR_OTHERS; test_complaints.py",
    "visits.add_manual_plan": "EDIT_CUSTOMERS; another owner needs REASSIGN; test_visits.py",
    "review.tampered_items": "SIGN_OFF via scan_tampered (below)",
}


def _doc(top_secret: bool = True) -> printing.PrintedDocument:
    return printing.PrintedDocument(
        b"%PDF-1.4", 1, "客户台账", "客户台账", "x.pdf", "customer", None, "客户台账", top_secret=top_secret
    )


def _intake() -> complaints.IntakeDraft:
    return complaints.IntakeDraft(
        subject="送货延误", complainant="张经理", phone="13812345678", category="交付物流", content="晚到三天"
    )


@dataclass
class World:
    tmp: Path
    customer_id: int
    record_id: int = 0


Call = Callable[[ServiceContext, World], Any]

# --- function → (permissions it needs, a call with small fixture arguments) ---------------------------
NEEDS: dict[str, tuple[tuple[Permission, ...], Call]] = {
    "backups.set_backup_folder": (
        (P.BACKUP_RESTORE,),
        lambda c, w: backups.set_backup_folder(c, w.tmp / "b"),
    ),
    "backups.make_backup": ((P.BACKUP_RESTORE,), lambda c, w: backups.make_backup(c, w.tmp / "b")),
    "backups.restore": ((P.BACKUP_RESTORE,), lambda c, w: backups.restore(c, w.tmp / "none.db", w.tmp / "a")),
    "complaints.save_policy": (
        (P.MANAGE_SETTINGS,),
        lambda c, w: complaints.save_policy(c, complaints.load_policy(c)),
    ),
    "complaints.save_complaint_rules": (
        (P.MANAGE_SETTINGS,),
        lambda c, w: complaints.save_complaint_rules(c, complaints.load_complaint_rules(c)),
    ),
    "complaints.register": ((P.EDIT_CUSTOMERS,), lambda c, w: complaints.register(c, _intake())),
    "complaints.add_occurrence": ((P.EDIT_CUSTOMERS,), lambda c, w: complaints.add_occurrence(c, NO)),
    "complaints.convert_to_complaint": (
        (P.EDIT_CUSTOMERS,),
        lambda c, w: complaints.convert_to_complaint(c, NO),
    ),
    "complaints.chase": ((P.SIGN_OFF,), lambda c, w: complaints.chase(c, NO)),
    "complaints.reassign": ((P.REASSIGN,), lambda c, w: complaints.reassign(c, NO, NO)),
    "complaints.save_follow_policy": (
        (P.MANAGE_SETTINGS,),
        lambda c, w: complaints.save_follow_policy(c, complaints.load_follow_policy(c)),
    ),
    "complaints.supervise": ((P.SUPERVISE_COMPLAINTS,), lambda c, w: complaints.supervise(c, NO)),
    "complaints.record_inquiry": (
        (P.RECORD_INQUIRY,),
        lambda c, w: complaints.record_inquiry(c, NO, complaints.InquiryDraft("原因", "措施")),
    ),
    "complaints.attach": ((P.EDIT_CUSTOMERS,), lambda c, w: complaints.attach(c, [NO], "a.txt", b"x")),
    "customers.register_customer": (
        (P.EDIT_CUSTOMERS,),
        lambda c, w: customers.register_customer(
            c,
            CustomerDraft(
                name=f"新客户{c.user.id}",
                contacts=(ContactDraft(name="李四", mobile=f"1370000{c.user.id:04d}"),),
            ),
        ),
    ),
    "customers.update_customer": (
        (P.EDIT_CUSTOMERS,),
        lambda c, w: customers.update_customer(
            c,
            w.customer_id,
            CustomerDraft(name="甲公司", contacts=(ContactDraft(name="张三", mobile="13800000001"),)),
            1,
        ),
    ),
    "customers.set_archived": ((P.EDIT_CUSTOMERS,), lambda c, w: customers.set_archived(c, NO, True, "x")),
    "customers.add_purchase": (
        (P.EDIT_CUSTOMERS,),
        lambda c, w: customers.add_purchase(c, NO, day="2026-11-01", product="x", quantity=1),
    ),
    "customers.recompute_grade": ((P.EDIT_CUSTOMERS,), lambda c, w: customers.recompute_grade(c, NO)),
    "customers.pin_grade": ((P.PIN_GRADE,), lambda c, w: customers.pin_grade(c, NO, "A", "大客户")),
    "customers.reassign_customers": ((P.REASSIGN,), lambda c, w: customers.reassign_customers(c, NO, [NO])),
    "importing.save_mapping": (
        (P.EDIT_CUSTOMERS,),
        lambda c, w: importing.save_mapping(c, importing.ImportTarget.CUSTOMERS, {}),
    ),
    "importing.validate": (
        (P.EDIT_CUSTOMERS,),
        lambda c, w: importing.validate(c, w.tmp / "none.xlsx", None, importing.ImportTarget.CUSTOMERS, {}),
    ),
    "importing.run_import": (
        (P.EDIT_CUSTOMERS,),
        lambda c, w: importing.run_import(
            c,
            SimpleNamespace(
                target=importing.ImportTarget.CUSTOMERS, issues=(1,), error_rows=1, duplicate_rows=0
            ),
            only_valid=False,
        ),
    ),
    "importing.create_owner_accounts": (
        (P.MANAGE_USERS,),
        lambda c, w: importing.create_owner_accounts(c, ["某人"]),
    ),
    "importing.list_import_runs": ((P.EDIT_CUSTOMERS,), lambda c, w: importing.list_import_runs(c)),
    "importing.undo_import": ((P.EDIT_CUSTOMERS,), lambda c, w: importing.undo_import(c, NO)),
    "ledgers.save_options": (
        (P.MANAGE_SETTINGS,),
        lambda c, w: ledgers.save_options(c, ledgers.load_options(c)),
    ),
    "ledgers.page": ((P.EDIT_CUSTOMERS,), lambda c, w: ledgers.page(c, ledgers.Ledger.VISITS)),
    "ledgers.totals": ((P.EDIT_CUSTOMERS,), lambda c, w: ledgers.totals(c, ledgers.Ledger.VISITS)),
    "ledgers.stream": ((P.EDIT_CUSTOMERS,), lambda c, w: list(ledgers.stream(c, ledgers.Ledger.VISITS))),
    "ledgers.export_complaints": (
        (P.EDIT_CUSTOMERS,),
        lambda c, w: ledgers.export_complaints(c, w.tmp / "t.xlsx"),
    ),
    "ledgers.export": (
        (P.EDIT_CUSTOMERS, P.EXPORT_TOP_SECRET),
        lambda c, w: ledgers.export(
            c, ledgers.Ledger.CUSTOMERS, ledgers.LedgerFilter(), w.tmp / f"l{c.user.id}.xlsx"
        ),
    ),
    "ledgers.print_document": (
        (P.EDIT_CUSTOMERS, P.EXPORT_TOP_SECRET),
        lambda c, w: ledgers.print_document(c, ledgers.Ledger.CUSTOMERS),
    ),
    "printing.save_print_options": (
        (P.MANAGE_SETTINGS,),
        lambda c, w: printing.save_print_options(c, printing.load_print_options(c)),
    ),
    "printing.check_output": ((P.EXPORT_TOP_SECRET,), lambda c, w: printing.check_output(c, _doc())),
    "printing.log_output": ((P.EXPORT_TOP_SECRET,), lambda c, w: printing.log_output(c, _doc(), "打印机")),
    "printing.save_pdf": ((P.EXPORT_TOP_SECRET,), lambda c, w: printing.save_pdf(c, _doc(), w.tmp / "d.pdf")),
    "ledgers.visit_ledger_pdf": ((P.EDIT_CUSTOMERS,), lambda c, w: ledgers.visit_ledger_pdf(c)),
    "review.save_review_rules": (
        (P.MANAGE_SETTINGS,),
        lambda c, w: review.save_review_rules(c, review.load_review_rules(c)),
    ),
    "review.review_queue": ((P.SIGN_OFF,), lambda c, w: review.review_queue(c)),
    "review.queue_summary": ((P.SIGN_OFF,), lambda c, w: review.queue_summary(c)),
    "review.queue_group": ((P.SIGN_OFF,), lambda c, w: review.queue_group(c, None, review.ReviewKind.RECORD)),
    "review.signed_queue": ((P.SIGN_OFF,), lambda c, w: review.signed_queue(c)),
    "review.scan_tampered": ((P.SIGN_OFF,), lambda c, w: review.scan_tampered(c)),
    "review.returned_queue": ((P.SIGN_OFF,), lambda c, w: review.returned_queue(c, mine=False)),
    "review.sign": ((P.SIGN_OFF,), lambda c, w: review.sign(c, review.ReviewKind.RECORD, NO)),
    "review.batch_sign": ((P.SIGN_OFF,), lambda c, w: review.batch_sign(c, [])),
    "review.return_for_rework": (
        (P.SIGN_OFF,),
        lambda c, w: review.return_for_rework(c, review.ReviewKind.RECORD, NO, "不全"),
    ),
    "review.reopen": ((P.REOPEN,), lambda c, w: review.reopen(c, review.ReviewKind.RECORD, NO, "更正")),
    "review.resubmit": ((P.EDIT_CUSTOMERS,), lambda c, w: review.resubmit(c, review.ReviewKind.RECORD, NO)),
    "audit.audit_log": ((P.VIEW_AUDIT,), lambda c, w: audit.audit_log(c)),
    "audit.audit_actions": ((P.VIEW_AUDIT,), lambda c, w: audit.audit_actions(c)),
    "audit.audit_rows": ((P.VIEW_AUDIT,), lambda c, w: audit.audit_rows(c)),
    "audit.export_audit": ((P.VIEW_AUDIT,), lambda c, w: audit.export_audit(c, w.tmp / f"a{c.user.id}.xlsx")),
    "service_records.save_options": (
        (P.MANAGE_SETTINGS,),
        lambda c, w: service_records.save_options(c, service_records.load_options(c)),
    ),
    "service_records.add_service_record": (
        (P.EDIT_CUSTOMERS,),
        lambda c, w: service_records.add_service_record(
            c, service_records.ServiceDraft(NO, "2026-11-24", "维修")
        ),
    ),
    "service_records.update_service_record": (
        (P.EDIT_CUSTOMERS,),
        lambda c, w: service_records.update_service_record(
            c, NO, service_records.ServiceDraft(NO, "2026-11-24", "维修"), 1
        ),
    ),
    "service_records.add_follow_up": (
        (P.EDIT_CUSTOMERS,),
        lambda c, w: service_records.add_follow_up(c, NO, result="已解决"),
    ),
    "settings.save_settings": (
        (P.MANAGE_SETTINGS,),
        lambda c, w: settings.save_settings(c, settings.load_settings(c)),
    ),
    "settings.set_value": ((P.MANAGE_SETTINGS,), lambda c, w: settings.set_value(c, "x", 1, what="x")),
    "holidays.save_notice": (
        (P.MANAGE_SETTINGS,),
        lambda c, w: holidays.save_notice(
            c,
            parse_notice(
                "国务院办公厅关于2027年部分节假日安排的通知 一、元旦：1月1日（周五）放假1天，不调休。"
            ),
        ),
    ),
    "holidays.set_day": (
        (P.MANAGE_SETTINGS,),
        lambda c, w: holidays.set_day(c, date(2027, 2, 8), "放假", "春节"),
    ),
    "holidays.clear_year": ((P.MANAGE_SETTINGS,), lambda c, w: holidays.clear_year(c, 2027)),
    "stats.save_stats_options": (
        (P.MANAGE_SETTINGS,),
        lambda c, w: stats.save_stats_options(c, stats.load_stats_options(c)),
    ),
    "stats.save_assessment_rules": (
        (P.MANAGE_SETTINGS, P.CONFIRM_ASSESSMENT),
        lambda c, w: stats.save_assessment_rules(c, stats.load_assessment_rules(c)),
    ),
    "stats.confirm_assessment": (
        (P.SIGN_OFF, P.CONFIRM_ASSESSMENT),
        lambda c, w: stats.confirm_assessment(c, "2026-10"),
    ),
    "stats.add_graded_event": (
        (P.CONFIRM_ASSESSMENT,),
        lambda c, w: stats.add_graded_event(c, 1, "attitude", 50, "2026-11-24", "服务态度差"),
    ),
    "stats.add_adjustment": (
        (P.CONFIRM_ASSESSMENT,),
        lambda c, w: stats.add_adjustment(c, "2026-10", 1, -50, "更正"),
    ),
    "stats.list_entries": ((P.SIGN_OFF,), lambda c, w: stats.list_entries(c, "2026-10")),
    "users.ensure_department": ((P.MANAGE_USERS,), lambda c, w: users.ensure_department(c, "新部门")),
    "users.create_user": (
        (P.MANAGE_USERS,),
        lambda c, w: users.create_user(c, f"u{c.user.id}", "新人", Role.CLERK, "secret-123456"),
    ),
    "users.reset_password": ((P.MANAGE_USERS,), lambda c, w: users.reset_password(c, "nobody")),
    "users.unlock_user": ((P.MANAGE_USERS,), lambda c, w: users.unlock_user(c, "nobody")),
    "tamper.verify_all": ((P.VIEW_AUDIT,), lambda c, w: tamper.verify_all(c)),
    "scans.import_pages": ((P.EDIT_CUSTOMERS,), lambda c, w: scans.import_pages(c, [])),
    "scans.list_unfiled": ((P.EDIT_CUSTOMERS,), lambda c, w: scans.list_unfiled(c)),
    "scans.unfiled_page_data": ((P.EDIT_CUSTOMERS,), lambda c, w: scans.unfiled_page_data(c, NO)),
    "scans.file_page": ((P.EDIT_CUSTOMERS,), lambda c, w: scans.file_page(c, NO, "HF20261124-001")),
    "scans.attach_to_record": (
        (P.EDIT_CUSTOMERS,),
        lambda c, w: scans.attach_to_record(c, NO, "a.txt", b"x"),
    ),
    "scans.attach_file_to_record": (
        (P.EDIT_CUSTOMERS,),
        lambda c, w: scans.attach_file_to_record(c, NO, w.tmp / "none.txt"),
    ),
    "scans.detach_from_record": ((P.EDIT_CUSTOMERS,), lambda c, w: scans.detach_from_record(c, NO, NO)),
    "tamper.verify_tail": ((P.VIEW_AUDIT,), lambda c, w: tamper.verify_tail(c)),
    "users.mark_demo_office": ((P.MANAGE_USERS,), lambda c, w: users.mark_demo_office(c)),
    "users.set_active": ((P.MANAGE_USERS,), lambda c, w: users.set_active(c, NO, False)),
    "users.add_user": (
        (P.MANAGE_USERS,),
        lambda c, w: users.add_user(c, f"n{c.user.id}", "新人", Role.CLERK),
    ),
    "users.set_role": ((P.MANAGE_USERS,), lambda c, w: users.set_role(c, "nobody", Role.CLERK)),
    "users.set_department": ((P.MANAGE_USERS,), lambda c, w: users.set_department(c, "nobody", "客服部")),
    "users.add_department": ((P.MANAGE_USERS,), lambda c, w: users.add_department(c, f"部门{c.user.id}")),
    "users.rename_department": (
        (P.MANAGE_USERS,),
        lambda c, w: users.rename_department(c, "无此部门", "新名"),
    ),
    "users.set_department_head": (
        (P.MANAGE_USERS,),
        lambda c, w: users.set_department_head(c, "无此部门", None),
    ),
    "visits.close_chain": ((P.REASSIGN,), lambda c, w: visits.close_chain(c, NO, "客户已出国")),
    "handover.hand_over": ((P.REASSIGN,), lambda c, w: handover.hand_over(c, NO, [NO])),
    "handover.open_work": ((P.MANAGE_USERS,), lambda c, w: handover.open_work(c, NO)),
    "handover.disable_user": ((P.MANAGE_USERS,), lambda c, w: handover.disable_user(c, NO, [NO])),
    "presets.apply_preset": ((P.MANAGE_SETTINGS,), lambda c, w: presets.apply_preset(c, "no-such-preset")),
    "visits.save_rules": ((P.MANAGE_SETTINGS,), lambda c, w: visits.save_rules(c, visits.load_rules(c))),
    "visits.save_options": (
        (P.MANAGE_SETTINGS,),
        lambda c, w: visits.save_options(c, visits.load_options(c)),
    ),
    "policy.save_scale": ((P.MANAGE_SETTINGS,), lambda c, w: policy.save_scale(c, "x")),
    "visits.record_visit": (
        (P.EDIT_CUSTOMERS,),
        lambda c, w: visits.record_visit(
            c,
            visits.VisitRecordDraft(
                customer_id=w.customer_id, result="成功", satisfaction="满意", visited_at="2026-11-24 09:00"
            ),
        ),
    ),
    "workflow.record_visit": (
        (P.EDIT_CUSTOMERS,),
        lambda c, w: workflow.record_visit(
            c,
            visits.VisitRecordDraft(
                customer_id=w.customer_id, result="成功", satisfaction="满意", visited_at="2026-11-24 09:00"
            ),
        ),
    ),
    "workflow.add_purchase": (
        (P.EDIT_CUSTOMERS,),
        lambda c, w: workflow.add_purchase(c, NO, day="2026-11-01", product="x", quantity=1),
    ),
    "visits.update_record": (
        (P.EDIT_CUSTOMERS,),
        lambda c, w: visits.update_record(c, NO, visits.VisitRecordDraft(customer_id=NO, result="成功"), 1),
    ),
    "visits.mark_transfer_answered": (
        (P.EDIT_CUSTOMERS,),
        lambda c, w: visits.mark_transfer_answered(c, NO, "已处理"),
    ),
    "visits.save_report": (
        (P.EDIT_CUSTOMERS,),
        lambda c, w: visits.save_report(
            c, visits.draft_report(c, c.user.id, date(2026, 11, 1), date(2026, 11, 24)), "好", "", ""
        ),
    ),
}

# --- rights on someone else's record, called with a real one: a complaint handled by the manager, a visit
# plan owned by another clerk (小李). Allowed: the record's own person (the manager's complaint) and the roles
# holding the listed permissions. ----------------------------------------------------------------------------
OTHERS_RECORD: dict[str, tuple[tuple[Permission, ...], str, Call]] = {
    "complaints.accept": (
        (P.EDIT_CUSTOMERS, P.WORK_FOR_OTHERS),
        "complaint",
        lambda c, w: complaints.accept(c, w.record_id),
    ),
    "complaints.withdraw": (
        (P.EDIT_CUSTOMERS, P.WORK_FOR_OTHERS),
        "complaint",
        lambda c, w: complaints.withdraw(c, w.record_id, "重复登记"),
    ),
    "visits.move_plan": (
        (P.EDIT_CUSTOMERS, P.REASSIGN),
        "plan",
        lambda c, w: visits.move_plan(c, w.record_id, "2026-12-02", 1),
    ),
    "visits.cancel_plan": (
        (P.EDIT_CUSTOMERS, P.REASSIGN),
        "plan",
        lambda c, w: visits.cancel_plan(c, w.record_id, "客户要求"),
    ),
}

CATEGORIES: dict[str, set[str]] = {
    "ANY_USER": ANY_USER,
    "OFFICE_DUTIES": OFFICE_DUTIES,
    "IN_TRANSACTION": IN_TRANSACTION,
    "RECORD_RULES": set(RECORD_RULES),
    "NEEDS": set(NEEDS),
    "OTHERS_RECORD": set(OTHERS_RECORD),
}


def public_service_functions() -> dict[str, Callable[..., Any]]:
    """Every public function defined in a ``huifang_desktop.services`` module that takes the context, named
    by the top-level module or package callers import (``review.sign`` for ``review/signoff.py``)."""
    found: dict[str, Callable[..., Any]] = {}
    for info in pkgutil.walk_packages(services_pkg.__path__, "huifang_desktop.services."):
        module = importlib.import_module(info.name)
        top = info.name.split(".")[2]
        for name, fn in vars(module).items():
            home = getattr(fn, "__module__", "")
            own = home == module.__name__ or (info.ispkg and home.startswith(module.__name__ + "."))
            if (
                inspect.isfunction(fn)
                and own
                and not name.startswith("_")
                and "ctx" in inspect.signature(fn).parameters
            ):
                found[f"{top}.{name}"] = fn
    return found


def test_every_public_service_function_is_classified() -> None:
    functions = set(public_service_functions())
    where: dict[str, list[str]] = {}
    for category, names in CATEGORIES.items():
        for name in names:
            where.setdefault(name, []).append(category)
    unclassified = sorted(functions - set(where))
    assert not unclassified, (
        "public service functions without a right in tests/services/test_rights_table.py "
        f"(add each to NEEDS, or to ANY_USER etc. with care): {unclassified}"
    )
    twice = {name: cats for name, cats in where.items() if len(cats) > 1}
    assert not twice, f"classified more than once: {twice}"
    gone = sorted(set(where) - functions)
    assert not gone, f"classified but no longer a public service function: {gone}"


def allowed_roles(needs: tuple[Permission, ...]) -> set[Role]:
    """From the one table: the roles holding every permission listed."""
    return {role for role in Role if all(p in PERMISSIONS[role] for p in needs)}


@pytest.fixture
def everyone(
    ctx: ServiceContext, admin: UserInfo, supervisor: UserInfo, manager: UserInfo, clerk: UserInfo
) -> dict[Role, UserInfo]:
    return {Role.ADMIN: admin, Role.SUPERVISOR: supervisor, Role.MANAGER: manager, Role.CLERK: clerk}


@pytest.mark.parametrize("name", sorted(NEEDS))
def test_each_right_is_refused_exactly_to_the_roles_without_it(
    name: str, ctx: ServiceContext, everyone: dict[Role, UserInfo], tmp_path: Path
) -> None:
    needs, call = NEEDS[name]
    clerk_ctx = ctx.as_user(everyone[Role.CLERK])
    world = World(
        tmp_path,
        customers.register_customer(
            clerk_ctx,
            CustomerDraft(name="甲公司", contacts=(ContactDraft(name="张三", mobile="13800000001"),)),
        ).id,
    )
    refused, allowed = set(), set()
    for role in Role:
        try:
            call(ctx.as_user(everyone[role]), world)
        except PermissionDenied:
            refused.add(role)
        except (ServiceError, ValidationError, OSError):  # past the check: NotFound, a bad fixture value …
            allowed.add(role)
        else:
            allowed.add(role)
    expected = allowed_roles(needs)
    assert allowed == expected, (
        f"{name} needs {[p.value for p in needs]}: allowed {sorted(r.value for r in allowed)}, the table says "
        f"{sorted(r.value for r in expected)}"
    )
    assert refused == set(Role) - expected


@pytest.mark.parametrize("name", sorted(OTHERS_RECORD))
def test_rights_on_someone_elses_record(
    name: str, ctx: ServiceContext, everyone: dict[Role, UserInfo], clerk2: UserInfo, tmp_path: Path
) -> None:
    needs, kind, call = OTHERS_RECORD[name]
    other = ctx.as_user(clerk2)  # 小李, 销售部
    customer = customers.register_customer(
        other, CustomerDraft(name="乙公司", contacts=(ContactDraft(name="王五", mobile="13900000002"),))
    ).id
    manager = everyone[Role.MANAGER]
    refused, allowed = set(), set()
    for role in Role:  # each role acts on a record of its own, all alike
        if kind == "complaint":
            record = complaints.register(ctx, replace(_intake(), handler_id=manager.id)).id
        else:
            record = visits.add_manual_plan(
                other, customer, "专项", "电话", "2026-12-01", owner_id=clerk2.id
            ).id
        try:
            call(ctx.as_user(everyone[role]), World(tmp_path, customer, record))
        except PermissionDenied:
            refused.add(role)
        else:
            allowed.add(role)
    expected = allowed_roles(needs) | ({Role.MANAGER} if kind == "complaint" else set())
    assert allowed == expected, f"{name}: allowed {sorted(r.value for r in allowed)}"
    assert refused == set(Role) - expected


def test_the_table_refuses_somebody_for_every_listed_right() -> None:
    """No entry of NEEDS is vacuous: every one of them refuses at least one role (so the test can fail)."""
    assert all(allowed_roles(needs) != set(Role) for needs, _call in NEEDS.values())


def test_any_user_readers_run_for_a_clerk(ctx: ServiceContext, clerk: UserInfo) -> None:
    """A sample of the ANY_USER readers, as a clerk: no PermissionDenied (their scope limits what they read)."""
    c = ctx.as_user(clerk)
    today = datetime(2026, 11, 24).date()
    complaints.list_complaints(c)
    customers.list_customers(c, CustomerFilter())
    review.pending_counts(c)
    review.returned_items(c)
    visits.list_plans(c, start=today, end=today)
    stats.statistics(c, "2026-10")
    users.clerks(c)
