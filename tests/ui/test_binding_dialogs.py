"""pytest-qt tests of the 新建登记 (complaint intake) and 回访报告表 dialogs on the form binder: the draft read
from a form opened and saved without edits, the widget a refused field marks, and the intake's 关闭 check."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest
from PySide6.QtWidgets import QMessageBox

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.services import complaints as complaint_service
from huifang_desktop.services import visits as visit_service
from huifang_desktop.services.complaints import IntakeDraft
from huifang_desktop.ui.calendar.record_dialog import VisitRecordDialog
from huifang_desktop.ui.calendar.report_dialog import VisitReportDialog
from huifang_desktop.ui.common.feedback import ERROR_STYLE
from huifang_desktop.ui.complaints.intake import IntakeDialog
from huifang_desktop.ui.review.dialogs import ReportCorrectionDialog
from tests.ui.test_calendar_tab import planned  # noqa: F401  (a fixture)

NOW = datetime(2026, 11, 24, 10, 0)  # the test office's clock


# --- the complaint intake ---------------------------------------------------------------------------------
@pytest.fixture
def intake(qtbot, cctx) -> IntakeDialog:
    dialog = IntakeDialog(cctx)
    qtbot.addWidget(dialog)
    return dialog


@pytest.fixture
def sent(monkeypatch) -> list[IntakeDraft]:
    """The drafts the intake hands to the service (registered for real)."""
    drafts: list[IntakeDraft] = []
    real = complaint_service.register

    def register(ctx, draft, *args, **kwargs):
        drafts.append(draft)
        return real(ctx, draft, *args, **kwargs)

    monkeypatch.setattr(complaint_service, "register", register)
    return drafts


def test_intake_opened_and_saved_reads_the_same_draft(intake, sent, clerk):
    empty = IntakeDraft(
        subject="",
        kind="投诉",
        received_at=NOW,
        channel="电话",
        complainant="",
        anonymous=False,
        phone="",
        customer_id=None,
        content="",
        category="",
        severity="一般",
        special=False,
        reply_only=False,
        first_responder_id=clerk.id,
        promised_reply_on=None,
        origin="",
        urgent=False,
    )
    assert intake.draft() == empty
    intake.complainant.setText("刘女士")
    intake.phone.setText("139 0000 1111")
    intake.subject.setText("安装师傅态度差")
    intake.content.setPlainText("师傅迟到两小时。")
    intake.category.setCurrentText("服务态度")
    intake.channel.setCurrentText("来访")
    intake.severity.setCurrentText("重要")
    intake.special.setChecked(True)
    intake.reply_only.setChecked(True)
    intake.save()
    assert intake.result_detail is not None
    assert sent == [
        replace(
            empty,
            subject="安装师傅态度差",
            channel="来访",
            complainant="刘女士",
            phone="139 0000 1111",
            content="师傅迟到两小时。",
            category="服务态度",
            severity="重要",
            special=True,
            reply_only=True,
        )
    ]
    row = intake.result_detail.row
    assert (row.subject, row.complainant, row.category, row.severity) == (
        "安装师傅态度差",
        "刘女士",
        "服务态度",
        "重要",
    )


def test_intake_reads_what_a_suggestion_or_an_anonymous_caller_leaves_out(intake, clerk):
    intake.complainant.setText("刘女士")
    intake.phone.setText("13900001111")
    intake.anonymous.setChecked(True)
    intake.subject.setText("建议延长营业时间")
    intake.severity.setCurrentText("重大")
    intake.reply_only.setChecked(True)
    intake.kind.setCurrentText("建议")
    promised = intake.promised_on.date().toPython()
    draft = intake.draft()
    assert (draft.kind, draft.anonymous, draft.complainant, draft.phone) == ("建议", True, "", "")
    # a 建议 has no severity, no 书面答复 only, and a promised reply day
    assert (draft.severity, draft.reply_only, draft.promised_reply_on) == ("一般", False, promised)
    assert promised > NOW.date()
    intake.kind.setCurrentText("投诉")
    draft = intake.draft()
    assert (draft.severity, draft.reply_only, draft.promised_reply_on) == ("重大", True, None)


def test_intake_refusal_marks_the_bound_widget(intake, monkeypatch):
    intake.subject.setText("送货延误")
    intake.save()  # no category
    assert intake.result_detail is None
    assert intake.category.styleSheet() == ERROR_STYLE and intake.subject.styleSheet() == ""
    # a field named differently from its widget
    refused = [
        ("first_responder_id", "first_responder"),
        ("promised_reply_on", "promised_on"),
        ("department_id", "customer_edit"),
        ("handler_id", "severity"),
        ("received_at", "received_at"),
        ("origin", "origin"),
    ]
    for field, attr in refused:

        def register(ctx, draft, *args, field=field, **kwargs):
            raise ValidationError(FieldError(field, "字段", "不对"))

        monkeypatch.setattr(complaint_service, "register", register)
        intake.save()
        widget = getattr(intake, attr)
        assert widget.styleSheet() == ERROR_STYLE, field
        assert widget.toolTip() == "不对", field
        assert intake.category.styleSheet() == "" and intake.subject.styleSheet() == ""


def test_intake_asks_before_dropping_what_was_typed_only(intake, monkeypatch):
    asked: list[str] = []

    def question(parent, title, text, *args, **kwargs):
        asked.append(text)
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", question)
    intake.show()
    intake.kind.setCurrentText("咨询")  # the preset choices do not count
    intake.channel.setCurrentText("来访")
    intake.subject.setText("   ")  # nor blanks
    intake.reject()
    assert asked == [] and not intake.isVisible()
    for attr in ("complainant", "phone", "subject", "customer_edit"):
        intake.show()
        getattr(intake, attr).setText("刘")
        intake.reject()
        assert asked == ["放弃已填写的内容？"] and intake.isVisible(), attr  # kept open: 取消 answered
        getattr(intake, attr).setText("")
        asked.clear()
    intake.content.setPlainText("经过")
    intake.reject()
    assert asked == ["放弃已填写的内容？"] and intake.isVisible()


# --- the 回访报告表 ----------------------------------------------------------------------------------------
@pytest.fixture
def visited(planned):  # noqa: F811
    """A clerk with a routine phone plan on 2026-11-24 (the calendar tests' ``planned``)."""
    c, _customer, plan = planned
    return c, plan


@pytest.fixture
def saved_reports(monkeypatch) -> list[tuple[object, ...]]:
    calls: list[tuple[object, ...]] = []
    real = visit_service.save_report

    def save_report(ctx, draft, evaluation, problems, actions):
        calls.append((draft.start, draft.end, evaluation, problems, actions))
        return real(ctx, draft, evaluation, problems, actions)

    monkeypatch.setattr(visit_service, "save_report", save_report)
    return calls


def _report(qtbot, c, day: date = date(2026, 11, 24)) -> VisitReportDialog:
    dialog = VisitReportDialog(c)
    qtbot.addWidget(dialog)
    dialog.start.setDate(day)
    dialog.end.setDate(day)
    dialog.make_draft()
    return dialog


def test_report_opened_and_saved_reads_the_drafted_parts(qtbot, visited, saved_reports):
    c, plan = visited
    record = VisitRecordDialog(c, plan.id)
    qtbot.addWidget(record)
    record.result.setCurrentText("成功")
    record.satisfaction.setCurrentText("不满意")
    record.problems.setPlainText("配件到货慢")
    record.measures.setPlainText("催促供应商")
    record.save()
    assert record.saved is not None, record.message.text()
    dialog = _report(qtbot, c)
    draft = visit_service.draft_report(c, c.user.id, date(2026, 11, 24), date(2026, 11, 24))
    assert "配件到货慢" in draft.problems_text and "催促供应商" in draft.measures_text
    assert dialog.problems.toPlainText() == draft.problems_text
    assert dialog.actions_box.toPlainText() == draft.measures_text
    dialog.evaluation.setPlainText("按计划完成。")
    dialog.save()
    assert dialog.saved is not None
    day = date(2026, 11, 24)
    assert saved_reports == [(day, day, "按计划完成。", draft.problems_text, draft.measures_text)]
    saved = dialog.saved
    assert (saved.problems, saved.actions, saved.evaluation) == (
        draft.problems_text,
        draft.measures_text,
        "按计划完成。",
    )
    # reopened for correction: the report's own texts, the period locked
    again = ReportCorrectionDialog(c, saved)
    qtbot.addWidget(again)
    assert not again.start.isEnabled() and not again.end.isEnabled()
    assert again.evaluation.toPlainText() == "按计划完成。"
    assert (again.problems.toPlainText(), again.actions_box.toPlainText()) == (saved.problems, saved.actions)


def test_report_correction_saved_without_edits_sends_the_report_back_as_it_was(qtbot, visited, monkeypatch):
    c, _plan = visited
    dialog = _report(qtbot, c)
    dialog.evaluation.setPlainText("初稿")
    dialog.problems.setPlainText("问题甲")
    dialog.actions_box.setPlainText("措施乙")
    dialog.save()
    row = dialog.saved
    assert row is not None
    sent: list[tuple[object, ...]] = []
    monkeypatch.setattr(
        visit_service,
        "save_report",
        lambda ctx, draft, evaluation, problems, actions: (
            sent.append((draft.start, draft.end, evaluation, problems, actions)) or row
        ),
    )
    again = ReportCorrectionDialog(c, row, "请补充")
    qtbot.addWidget(again)
    assert again.message.text() == "主管意见：请补充"
    again.save()
    assert sent == [(row.period_start, row.period_end, "初稿", "问题甲", "措施乙")]


def test_report_refusal_marks_the_bound_widget(qtbot, visited, monkeypatch):
    c, _plan = visited
    dialog = _report(qtbot, c)
    dialog.save()  # no evaluation
    assert dialog.saved is None and "评价" in dialog.message.text()
    assert dialog.evaluation.styleSheet() == ERROR_STYLE
    for field, attr in (
        ("actions", "actions_box"),
        ("problems", "problems"),
        ("period", "start"),
        ("end", "end"),
    ):

        def save_report(ctx, draft, evaluation, problems, actions, field=field):
            raise ValidationError(FieldError(field, "字段", "不对"))

        monkeypatch.setattr(visit_service, "save_report", save_report)
        dialog.save()
        widget = getattr(dialog, attr)
        assert widget.styleSheet() == ERROR_STYLE and widget.toolTip() == "不对", field
        assert dialog.evaluation.styleSheet() == "", field
