"""Showing one complaint in the detail pane: its header, fields, handling, attachments and history, which
action buttons apply to it and, for a disabled one, why.

:class:`ComplaintDetailView` fills the widgets of :class:`~.detail_layout.ComplaintDetailLayout` from a
``ComplaintDetail`` (and reads the handling page back into a draft); the actions are in
:class:`~.detail.ComplaintDetailPane`, its subclass. Buttons are enabled from ``ComplaintDetail.actions``
(what the acting user may do now; the services check again).
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from huifang_desktop.domain.complaints import MessageKind, Severity
from huifang_desktop.domain.roles import Role
from huifang_desktop.domain.validation import already
from huifang_desktop.services import complaints as complaint_service
from huifang_desktop.services import policy
from huifang_desktop.services import review as review_service
from huifang_desktop.services.complaints import (
    REVIEW_RETURNED,
    AttachmentRow,
    ComplaintDetail,
    HandlingDraft,
    InquiryRow,
)
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.ui.common.feedback import mark_fields
from huifang_desktop.ui.common.forms import picked_datetime, qdatetime
from huifang_desktop.ui.complaints.detail_layout import PAGE_INQUIRY, ComplaintDetailLayout
from huifang_desktop.ui.complaints.model import full_time

STATE_BADGE = {
    "待受理": "#d46b08",
    "处理中": "#1f6feb",
    "待回访": "#722ed1",
    "已关闭": "#389e0d",
    "已撤销": "#8c8c8c",
}

COMPLAINT_ONLY = frozenset({"accept", "finish", "visit", "close", "reopen_linked", "supervise"})
NOT_LATE, NO_INQUIRY = "否", "无需"  # complaint_follow.Lateness.NONE, InquiryState.NOT_NEEDED
LATE_BADGE = "　<span style='color:#fff; background:#d9363e;'>&nbsp;{0}&nbsp;</span>"
INQUIRY_BADGE = {"待查办": "#d46b08", "已查办": "#389e0d"}
MESSAGE_ONLY = frozenset({"reply", "convert"})


class ComplaintDetailView(ComplaintDetailLayout):
    """The pane's widgets showing one complaint (``load``; None: the placeholder)."""

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.detail: ComplaintDetail | None = None
        self.review: review_service.ReviewDetail | None = None  # the returned file's review (退回), else None
        self.inquiry: InquiryRow | None = None
        self.policy = complaint_service.load_policy(ctx)
        self.setup_ui(policy.load_scale(ctx).levels, self.policy.categories)

    # --- loading --------------------------------------------------------------------------------------------
    def load(self, complaint_id: int | None) -> None:
        """Show a complaint (None: the placeholder). A complaint that cannot be read says why."""
        if complaint_id is None:
            self.detail = None
            self.stack.setCurrentWidget(self.placeholder)
            return
        try:
            detail = complaint_service.get_complaint(self.ctx, complaint_id)
        except ServiceError as exc:
            self.detail = None
            self.placeholder.setText(str(exc))
            self.stack.setCurrentWidget(self.placeholder)
            return
        self.present(detail)

    def present(self, detail: ComplaintDetail) -> None:
        """Show a complaint just read; another complaint than the one shown starts with a clean pane."""
        if self.detail is None or self.detail.id != detail.id:
            self.close_form()
            self.message.clear()
            mark_fields(self.handling_fields, None)
        self.show_detail(detail)

    def reload(self) -> None:
        if self.detail is not None:
            self.load(self.detail.id)

    def show_detail(self, d: ComplaintDetail) -> None:
        self.detail = d
        r = d.row
        self.stack.setCurrentIndex(1)
        badge = STATE_BADGE.get(r.state, "#595959")
        overdue = LATE_BADGE.format(r.lateness) if r.lateness != NOT_LATE else ""
        if r.inquiry in INQUIRY_BADGE:
            overdue += (
                f"　<span style='color:{INQUIRY_BADGE[r.inquiry]}; font-weight:bold;'>{r.inquiry}</span>"
            )
        severity = f"　{r.severity}" if r.kind == MessageKind.COMPLAINT.value else ""
        self.title.setText(
            f"<span style='font-size:15px; font-weight:bold;'>{r.number}</span>　{r.kind}{severity}　"
            f"<span style='color:{badge}; font-weight:bold;'>{r.state}</span>{overdue}"
        )
        role = Role(d.handler_role).label if d.handler_role else ""
        parts = [
            self.tr("负责人：{0}（{1}）").format(r.handler or self.tr("未指定"), role),
            self.tr("首问责任人：{0}").format(r.first_responder or "—"),
        ]
        if r.state not in ("已关闭", "已撤销") and r.deadline is not None:
            deadline = full_time(r.deadline)
            parts.append(
                self.tr("期限：<span style='color:#d9363e;'>{0}</span>").format(deadline)
                if r.overdue
                else self.tr("期限：{0}").format(deadline)
            )
        if r.escalation_level:
            parts.append(self.tr("已逾期升级 {0} 级").format(r.escalation_level))
        if r.chase_count:
            parts.append(self.tr("催办 {0} 次").format(r.chase_count))
        if r.occurrences > 1:
            parts.append(self.tr("重复投诉 {0} 次").format(r.occurrences))
        if r.closed_at is not None:
            parts.append(self.tr("关闭于 {0}").format(full_time(r.closed_at)))
        if d.withdraw_reason:
            parts.append(self.tr("撤销原因：{0}").format(d.withdraw_reason))
        if d.review_status and d.review_status != REVIEW_RETURNED:
            parts.append(self.tr("审阅：{0}").format(d.review_status))
        self.facts.setText("　·　".join(parts))
        self._fill_review(d)
        self._fill_inquiry(d)
        self._fill_content(d)
        self._fill_handling(d)
        self.attachments.set_rows(d.attachments, self.ctx.now())
        self.events.set_rows(d.events, self.ctx.now())
        self.event_view.resizeRowsToContents()
        self.pages.setTabText(
            2, self.tr("附件（{0}）").format(len(d.attachments)) if d.attachments else self.tr("附件")
        )
        self.pages.setTabText(3, self.tr("处理记录（{0}）").format(len(d.events)))
        self.event_view.scrollToBottom()
        self._update_buttons(d)

    def _fill_urgent(self, d: ComplaintDetail) -> None:
        """紧急 (002 制度5 §2, §5): dispatch by, and report back by once the result is written down."""
        self.info_labels["urgent"].setVisible(d.urgent)
        self.info_names["urgent"].setVisible(d.urgent)
        if not d.urgent:
            return
        back = full_time(d.report_back_due) if d.report_back_due else self.tr("填写处理结果后起算")
        self.info_labels["urgent"].setText(
            self.tr("派工期限 {0}；反馈期限 {1}").format(
                full_time(d.dispatch_due) if d.dispatch_due else "—", back
            )
        )

    def _fill_content(self, d: ComplaintDetail) -> None:
        r = d.row
        info = self.info_labels
        info["subject"].setText(r.subject)
        info["complainant"].setText(r.complainant or "—")
        info["phone"].setText(r.phone or "—")
        info["customer"].setText(r.customer_name or self.tr("未关联"))
        info["channel"].setText(f"{r.channel}　{full_time(r.received_at)}")
        severity = r.severity if r.kind == MessageKind.COMPLAINT.value else ""
        info["category"].setText(" · ".join(p for p in (r.category, severity) if p) or "—")
        info["department"].setText(r.department or "—")
        info["first_reply_due"].setText(full_time(d.first_reply_due))
        info["handling_due"].setText(
            full_time(d.handling_due) + (self.tr("（特殊情况）") if d.special else "")
        )
        self._fill_urgent(d)
        links = []
        if d.linked_to_number:
            links.append(self.tr("客户不认可 {0} 的处理结果").format(d.linked_to_number))
        if d.converted_from:
            links.append(self.tr("由 {0} 转为投诉").format(d.converted_from))
        if d.reply_only:
            links.append(self.tr("只需书面答复"))
        if r.anonymous:
            links.append(self.tr("匿名投诉：附答复函后关闭，不做回访"))
        info["first_responder"].setText(r.first_responder or "—")
        late = r.lateness if r.kind == MessageKind.COMPLAINT.value else "—"
        if r.inquiry != NO_INQUIRY:
            late += self.tr("　查办：{0}").format(r.inquiry)
        info["lateness"].setText(late)
        info["lateness"].setStyleSheet("color: #d9363e;" if r.lateness != NOT_LATE else "")
        info["link"].setText("；".join(links))
        info["link"].setVisible(bool(links))
        self.info_names["link"].setVisible(bool(links))
        self.content_text.setPlainText(d.content)
        self.occurrences.set_rows(d.occurrences, self.ctx.now())
        self.occurrence_title.setText(self.tr("投诉经过（共 {0} 次）").format(len(d.occurrences)))

    def _fill_handling(self, d: ComplaintDetail) -> None:
        self.investigation.setPlainText(d.investigation)
        self.cause.setPlainText(d.cause)
        self.measures.setPlainText(d.measures)
        self.result.setPlainText(d.result)
        self.replied.setChecked(d.replied_at is not None)
        self.replied_at.setDateTime(qdatetime(d.replied_at or self.ctx.now()))
        if d.reply_way:
            self.reply_way.setCurrentText(d.reply_way)
        self.reply_text.setPlainText(d.reply_text)
        self._replied_toggled(self.replied.isChecked())
        self._handling_shown = self._handling_draft()  # what 办结转回访 compares with: edits are saved first
        editable = self.handling_editable()
        for w in (self.investigation, self.cause, self.measures, self.result, self.reply_text):
            w.setReadOnly(not editable)
        self.replied.setEnabled(editable)
        self.save_handling_button.setEnabled(editable)
        if editable and self.review is not None:
            self.handling_hint.setText(self.tr("主管退回了投诉处理表：改好后点上方“修改后重新提交”。"))
        elif editable:
            self.handling_hint.setText(
                self.tr("待受理的投诉保存处理情况即视为受理。") if d.state == "待受理" else ""
            )
        elif d.state in ("已关闭", "已撤销"):
            self.handling_hint.setText(self.tr("{0}，处理情况不能再修改。").format(already(d.state)))
        else:
            self.handling_hint.setText(self.tr("由 {0} 负责，您只能查看。").format(d.row.handler or "—"))
        self.visit_info.setText(self._visit_text(d))

    def _visit_text(self, d: ComplaintDetail) -> str:
        if d.row.kind != MessageKind.COMPLAINT.value:
            return self.tr("{0}答复后即关闭，不做回访。").format(d.row.kind)
        if d.row.anonymous or d.reply_only:
            return self.tr("不做回访：附上答复函（或公开信）后由负责人关闭。")
        parts = []
        if d.visit_due is not None:
            parts.append(self.tr("第 {0} 轮，{1} 前完成").format(d.visit_round, d.visit_due.isoformat()))
        if d.visited_at is not None:
            verdict = self.tr("满意") if d.visit_satisfied else self.tr("不满意")
            parts.append(
                self.tr("{0} 回访：{1}").format(full_time(d.visited_at), d.row.satisfaction or verdict)
            )
        if d.visit_note:
            parts.append(d.visit_note)
        if not parts:
            return self.tr("办结后安排（{0} 天内），客户满意方可关闭。").format(
                self.policy.closing_visit_days
            )
        return "；".join(parts)

    def handling_editable(self) -> bool:
        """The handling page can be edited: the open complaint's worker, or a returned file's corrector."""
        return self.detail is not None and (
            "edit" in self.detail.actions or (self.review is not None and "edit" in self.review.actions)
        )

    def _fill_review(self, d: ComplaintDetail) -> None:
        """已退回：<reason> with 修改后重新提交, when the review returned the closed file (also here, not
        only in 审阅's 我的退回)."""
        self.review = None
        if d.review_status == REVIEW_RETURNED:
            try:
                self.review = review_service.detail(self.ctx, review_service.ReviewKind.COMPLAINT, d.id)
            except ServiceError:
                self.review = None
        rv = self.review
        self.review_banner.setVisible(rv is not None)
        if rv is None:
            return
        item = rv.item
        who = "　".join(p for p in (item.returned_by, full_time(item.returned_at)) if p)
        text = self.tr("<b>已退回：</b>{0}").format(item.comment or self.tr("（未写原因）"))
        if who:
            text += f"<span style='color:#8c8c8c;'>（{who}）</span>"
        can_edit, can_send = "edit" in rv.actions, "resubmit" in rv.actions
        if not can_send:
            text += self.tr("<br>由 {0} 修改后重新提交。").format(item.owner or d.row.handler or "—")
        self.review_text.setText(text)
        self.resubmit_button.setVisible(can_send)
        self.resubmit_button.setText(self.tr("修改后重新提交(&U)") if can_edit else self.tr("重新提交(&U)"))

    def _fill_inquiry(self, d: ComplaintDetail) -> None:
        """The 查办 page: its state, the record if there is one; editable for a supervisor (RECORD_INQUIRY)."""
        r = d.row
        is_complaint = r.kind == MessageKind.COMPLAINT.value
        self.pages.setTabVisible(PAGE_INQUIRY, is_complaint)
        self.inquiry = None
        if is_complaint and r.inquiry != NO_INQUIRY:
            try:
                self.inquiry = complaint_service.get_inquiry(self.ctx, d.id)
            except ServiceError:
                self.inquiry = None
        q = self.inquiry
        for box, text in (
            (self.inquiry_reason, q.reason if q else ""),
            (self.inquiry_measures, q.measures if q else ""),
        ):
            box.setPlainText(text)
        self.inquiry_responsible.setText(q.responsible if q else "")
        self.inquiry_decided.setText(
            self.tr("{0}　{1}").format(q.decided_by, full_time(q.decided_at))
            if q is not None and q.decided_at is not None
            else "—"
        )
        closed = self.tr("，关闭于 {0}").format(full_time(r.closed_at)) if r.closed_at else ""
        state = self.tr("是否逾期：{0}（处理期限 {1}{2}）").format(
            r.lateness, full_time(d.handling_due), closed
        )
        self.inquiry_state.setText(state + ("　" + r.inquiry if r.inquiry != NO_INQUIRY else ""))
        editable = "inquiry" in d.actions
        for w in (self.inquiry_reason, self.inquiry_measures, self.inquiry_responsible):
            w.setReadOnly(not editable)
        self.save_inquiry_button.setVisible(editable)
        if r.inquiry == NO_INQUIRY:
            hint = self.tr("未逾期，无需查办。")
        elif editable:
            hint = self.tr("填写逾期原因和改进措施，保存即由您决定（Alt+Q）。")
        else:
            hint = self.tr("查办单由主管填写，您只能查看。")
        self.inquiry_hint.setText(hint)
        tab = self.tr("查办") if r.inquiry == NO_INQUIRY else self.tr("查办（{0}）").format(r.inquiry)
        self.pages.setTabText(PAGE_INQUIRY, tab)

    def _replied_toggled(self, on: bool) -> None:
        editable = self.handling_editable()
        self.replied_at.setEnabled(on and editable)
        self.reply_way.setEnabled(on and editable)

    def _update_buttons(self, d: ComplaintDetail) -> None:
        is_complaint = d.row.kind == MessageKind.COMPLAINT.value
        for key, b in self.buttons.items():
            visible = key not in (MESSAGE_ONLY if is_complaint else COMPLAINT_ONLY)
            if key == "reopen_linked":
                visible = visible and d.state == "已关闭"
            if key == "supervise":  # 督办 is for open 重大 cases only
                visible = (
                    visible and d.row.severity == Severity.MAJOR.value and d.state not in ("已关闭", "已撤销")
                )
            b.setVisible(visible)
            enabled = key in d.actions
            b.setEnabled(enabled)
            b.setToolTip("" if enabled else self._why_not(key, d))
        if self.form_box.isVisible():
            open_key = self._current_form_key()
            if open_key is not None and open_key not in d.actions:
                self.close_form()
        self.add_attachment_button.setEnabled("attach" in d.actions)
        self.attachment_kind.setEnabled("attach" in d.actions)
        self._attachment_buttons()

    def _why_not(self, key: str, d: ComplaintDetail) -> str:
        """A short reason for a disabled button (the service gives the full one if called anyway)."""
        state = d.state
        if state in ("已关闭", "已撤销") and key != "reopen_linked":
            return already(state)
        if "edit" not in d.actions and key not in ("chase", "reassign", "supervise", "reopen_linked"):
            return self.tr("由 {0} 负责处理").format(d.row.handler or "—")
        if key == "close":
            needed = self.policy.handler_roles[Severity(d.row.severity)].label
            if d.row.anonymous or d.reply_only:
                return self.tr("须先附上答复函或公开信，并由{0}或更高级别关闭").format(needed)
            if not d.visit_satisfied:
                return self.tr("须先完成结案回访且客户满意")
            return self.tr("{0}投诉须由{1}或更高级别关闭").format(d.row.severity, needed)
        if key == "finish":
            if d.row.anonymous or d.reply_only:
                return self.tr("匿名或只需书面答复的投诉不做回访：附答复函后直接关闭")
            return self.tr("受理后方可办结")
        if key == "visit":
            if state == "待回访":  # the service refused this user: the visit is the planned visitor's
                return self.tr("结案回访由计划的回访人登记（回访独立性：处理人和业务员不能登记）")
            return self.tr("办结转回访后方可登记")
        if key == "accept":
            return self.tr("只有待受理的投诉需要受理")
        if key == "chase":
            return self.tr("逾期的投诉才需催办（主管及以上）")
        if key == "reassign":
            return self.tr("需主管权限")
        if key == "supervise":
            return (
                self.tr("经理可督办未结的重大投诉")
                if d.row.severity == "重大"
                else self.tr("只有重大投诉才需督办")
            )
        if key == "withdraw":
            return self.tr("须由{0}或更高级别撤销").format(
                self.policy.handler_roles[Severity(d.row.severity)].label
            )
        return ""

    def _handling_draft(self) -> HandlingDraft:
        """The handling page as typed (what 保存处理情况 and 办结转回访 send)."""
        replied = self.replied.isChecked()
        return HandlingDraft(
            investigation=self.investigation.toPlainText(),
            cause=self.cause.toPlainText(),
            measures=self.measures.toPlainText(),
            result=self.result.toPlainText(),
            replied_at=picked_datetime(self.replied_at) if replied else None,
            reply_way=self.reply_way.currentText() if replied else "",
            reply_text=self.reply_text.toPlainText(),
        )

    def selected_attachment(self) -> AttachmentRow | None:
        rows = self.attachment_view.selectionModel().selectedRows()
        return self.attachments.attachment(rows[0].row()) if rows else None

    def _attachment_buttons(self) -> None:
        picked = self.selected_attachment() is not None
        self.open_attachment_button.setEnabled(picked)
        self.save_attachment_button.setEnabled(picked)
        self.remove_attachment_button.setEnabled(
            picked and self.detail is not None and "attach" in self.detail.actions
        )
