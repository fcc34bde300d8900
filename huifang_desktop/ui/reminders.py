"""The start reminder (status bar and tray): today's visits, my complaints, my review work.

``collect`` asks the services (count queries only) and runs in the worker thread with the daily catch-up;
``reminder_text`` words the counts on the GUI thread. Neither needs a tab to be built. ``show_unregistered``
puts the 未完成备案 link in the status bar (it opens the list of those files).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QLabel, QMainWindow

from huifang_desktop.domain.roles import Permission, can
from huifang_desktop.services import complaints, handover, holidays, review, scans, tamper, visits
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.ui.customers.unregistered import UnregisteredDialog

translate = QCoreApplication.translate  # lupdate reads translate("Context", "text") calls


@dataclass(frozen=True, slots=True)
class Reminder:
    due: int
    overdue: int
    complaints: complaints.Notices
    review: review.PendingCounts | None  # None: the review counts could not be read
    signer: bool
    chain: tuple[str, ...] = ()  # what the start-up tamper check found (only checked for VIEW_AUDIT roles)
    unreturned_forms: int = 0  # on-site visits whose signed form has not come back after the set days
    holiday_years: tuple[int, ...] = ()  # this year, or from November the next, without holiday data
    may_enter_holidays: bool = False  # the user can enter them (设置 → 节假日)
    unregistered: int = 0  # new customer files not registered within 5 working days (002 §1.4)


def collect(ctx: ServiceContext) -> Reminder:
    due, overdue = visits.due_summary(ctx, ctx.today(), ctx.user.id or None)
    try:
        counts: review.PendingCounts | None = review.pending_counts(ctx)
    except ServiceError:
        counts = None
    return Reminder(
        due,
        overdue,
        complaints.notices(ctx),
        counts,
        can(ctx.user.role, Permission.SIGN_OFF),
        chain_findings(ctx),
        scans.unreturned_forms(ctx),
        holidays.unknown_years(ctx, near_only=True),
        ctx.may(Permission.MANAGE_SETTINGS),
        len(handover.unregistered_files(ctx)),
    )


def chain_findings(ctx: ServiceContext) -> tuple[str, ...]:
    """The start-up tamper check (only the audit chain's new tail and the users: cheap on a large office),
    for supervisors, managers and administrators; clerks are not shown it."""
    if not ctx.may(Permission.VIEW_AUDIT):
        return ()
    return tuple(tamper.verify_tail(ctx).findings)


def chain_text(findings: tuple[str, ...]) -> str:
    """The red status-bar line of a break, or ""."""
    if not findings:
        return ""
    more = translate("Reminder", "（另有 {0} 处）").format(len(findings) - 1) if len(findings) > 1 else ""
    return translate(
        "Reminder", "数据校验发现问题：{0}{1} 请在“操作日志”中做全面校验，或运行 huifang-desktop verify。"
    ).format(findings[0], more)


def visits_text(due: int, overdue: int) -> str:
    return translate("Reminder", "今日待回访 {0} 个，逾期 {1} 个").format(due, overdue)


def complaints_text(n: complaints.Notices) -> str:
    """My open / overdue complaints and new escalations, or ""."""
    follow = (
        translate("Reminder", "投诉提醒 {0} 条（首问反馈、催办、督办、查办）").format(n.follow_unseen)
        if n.follow_unseen
        else ""
    )
    if not n.open_mine:
        return follow
    text = translate("Reminder", "待办投诉 {0} 件，逾期 {1} 件").format(n.open_mine, n.overdue_mine)
    if n.escalated_to_me:
        text += translate("Reminder", "（{0} 件为新分派或催办）").format(n.escalated_to_me)
    return "，".join(t for t in (text, follow) if t)


def review_text(counts: review.PendingCounts | None, signer: bool) -> str:
    """What waits for my review, and my items returned to me, or ""."""
    if counts is None:
        return ""
    parts = []
    if signer and counts.pending:
        overdue = translate("Reminder", "（逾期 {0}）").format(counts.overdue) if counts.overdue else ""
        parts.append(translate("Reminder", "待审阅 {0} 件{1}").format(counts.pending, overdue))
    if counts.returned_to_me:
        kinds = "、".join(f"{kind.short} {n}" for kind, n in counts.returned_by_kind)
        parts.append(
            translate("Reminder", "退回待修改 {0} 件（{1}，见“审阅”）").format(counts.returned_to_me, kinds)
        )
    return "，".join(parts)


def forms_text(unreturned: int) -> str:
    """On-site visits whose signed paper form is late (scan-back), or ""."""
    if not unreturned:
        return ""
    return translate("Reminder", "上门回访签字单未回收 {0} 份（工具 → 导入扫描件…）").format(unreturned)


def holidays_text(years: tuple[int, ...], may_enter: bool) -> str:
    """This year's (from November: next year's) holidays not entered yet, or ""."""
    if not years:
        return ""
    how = (
        translate("Reminder", "请在“设置 → 节假日”粘贴国务院放假通知录入")
        if may_enter
        else translate("Reminder", "请告知客服主管或系统管理员在“设置 → 节假日”录入")
    )
    return translate("Reminder", "{0} 年节假日尚未录入，到期日只避开周末（{1}）").format(
        "、".join(str(y) for y in years), how
    )


def unregistered_text(count: int) -> str:
    """New customer files still without their basic information 5 working days after first contact, or ""."""
    if not count:
        return ""
    return translate(
        "Reminder", "新客户档案超过5个工作日未完成备案 {0} 个（请补全类别、地址、联系人和电话）"
    ).format(count)


def show_unregistered(window: QMainWindow, ctx: ServiceContext, count: int) -> None:
    """A link in ``window``'s status bar while new files wait for their 备案 (002 §1.4): "未完成备案 N" opens
    the list (:class:`UnregisteredDialog`), from which each file opens; hidden when there are none."""
    link: QLabel | None = window.findChild(QLabel, "unregisteredLink")
    if not count:
        if link is not None:
            link.hide()
        return
    if link is None:
        link = QLabel(window)
        link.setObjectName("unregisteredLink")
        link.setTextFormat(Qt.TextFormat.RichText)
        link.linkActivated.connect(lambda _href: open_unregistered(window, ctx))
        window.statusBar().addPermanentWidget(link)
    text = translate("Reminder", "未完成备案 {0}").format(count)
    link.setText(f'<a href="unregistered">{html.escape(text)}</a>')
    link.setToolTip(unregistered_text(count))
    link.show()


def open_unregistered(window: QMainWindow, ctx: ServiceContext) -> UnregisteredDialog:
    """The list of files past their 备案 deadline, opened from the status-bar link; the link's count is
    read again when it closes."""
    dialog = UnregisteredDialog(ctx, window)
    dialog.finished.connect(lambda _r: show_unregistered(window, ctx, len(handover.unregistered_files(ctx))))
    dialog.open()
    return dialog


def reminder_parts(r: Reminder, *extra: str) -> list[str]:
    """Each non-empty line of the reminder, in full (the tray, the status bar's tooltip)."""
    return [
        t
        for t in (
            visits_text(r.due, r.overdue),
            complaints_text(r.complaints),
            review_text(r.review, r.signer),
            forms_text(r.unreturned_forms),
            holidays_text(r.holiday_years, r.may_enter_holidays),
            unregistered_text(r.unregistered),
            *extra,
        )
        if t
    ]


def reminder_text(r: Reminder, *extra: str) -> str:
    return "；".join(reminder_parts(r, *extra))


def status_text(r: Reminder, *extra: str) -> str:
    """The reminder short enough for the status bar of a 1280-point-wide window (1920×1080 at 150 %): counts
    without their explanations, no 未完成备案 (its link is beside); :func:`reminder_parts` is the tooltip."""
    n = r.complaints
    mine = (
        translate("Reminder", "待办投诉 {0} 件，逾期 {1} 件").format(n.open_mine, n.overdue_mine)
        if n.open_mine
        else ""
    )
    follow = translate("Reminder", "投诉提醒 {0} 条").format(n.follow_unseen) if n.follow_unseen else ""
    review_parts = []
    if r.review is not None and r.signer and r.review.pending:
        review_parts.append(translate("Reminder", "待审阅 {0} 件").format(r.review.pending))
    if r.review is not None and r.review.returned_to_me:
        review_parts.append(translate("Reminder", "退回待修改 {0} 件").format(r.review.returned_to_me))
    forms = (
        translate("Reminder", "签字单未回收 {0} 份").format(r.unreturned_forms) if r.unreturned_forms else ""
    )
    years = "、".join(str(y) for y in r.holiday_years)
    holiday = translate("Reminder", "{0} 年节假日未录入").format(years) if years else ""
    parts = (visits_text(r.due, r.overdue), mine, follow, *review_parts, forms, holiday, *extra)
    return "；".join(t for t in parts if t)
