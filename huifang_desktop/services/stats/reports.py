"""The monthly / quarterly reports (tables and charts) and their files (.xlsx, PDF)."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from huifang_desktop.domain.chain import head_label
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.stats import (
    AssessmentStatus,
    ChartKind,
    ChartSpec,
    ColumnFormat,
    EventKind,
    Period,
    PeriodKind,
    ReportTable,
    StatsReport,
    change_text,
)
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.outputs import checked_target, write_failed
from huifang_desktop.services.settings import load_settings
from huifang_desktop.services.stats.assessment import AssessmentView, assessment
from huifang_desktop.services.stats.figures import _require_view, statistics
from huifang_desktop.services.stats.options import (
    CUSTOM_TITLE,
    EXPORT_ACTION,
    GROUP_LABELS,
    MONTH_FORM,
    MONTH_TITLE,
    QUARTER_FORM,
    QUARTER_TITLE,
    YEAR_TITLE,
    StatsError,
    load_stats_options,
)
from huifang_desktop.services.stats.rows import ComplaintFigures, Statistics, VisitTotals
from huifang_desktop.storage.chain import chain_head

# --- reports -----------------------------------------------------------------------------------------

_PCT = ColumnFormat.PERCENT
_INT = ColumnFormat.INT
_TXT = ColumnFormat.TEXT
_NUM = ColumnFormat.NUMBER
_MONEY = ColumnFormat.MONEY


def report_title(period: Period) -> str:
    return {
        PeriodKind.MONTH: MONTH_TITLE,
        PeriodKind.QUARTER: QUARTER_TITLE,
        PeriodKind.YEAR: YEAR_TITLE,
    }.get(period.kind, CUSTOM_TITLE)


PENDING_TEXT = "…"  # the previous period is still being counted


def _summary_table(st: Statistics) -> ReportTable:
    t, c, svc = st.totals, st.complaints, st.services
    rows: list[tuple[Any, ...]] = []
    formats: list[ColumnFormat] = []

    def add(label: str, now: Any, before: Callable[[], Any], fmt: ColumnFormat, target: Any = None) -> None:
        if st.complete:
            previous = before()
            diff = change_text(now, previous, as_percent=fmt is _PCT)
        else:
            previous, diff = None, PENDING_TEXT
        rows.append((label, now, previous, diff, "" if target is None else target))  # "": no target
        formats.append(fmt)

    # read only when st.complete (the lambdas are called by ``add`` then)
    p, pc = cast(VisitTotals, st.previous_totals), cast(ComplaintFigures, st.previous_complaints)
    ps = st.previous_services
    add("计划回访（次）", t.planned, lambda: p.planned, _INT)
    add("已回访（次）", t.done, lambda: p.done, _INT)
    add("按时回访（次）", t.on_time, lambda: p.on_time, _INT)
    add("逾期未回访（次）", t.overdue, lambda: p.overdue, _INT)
    add("回访率", t.visit_rate.value, lambda: p.visit_rate.value, _PCT, t.visit_rate.target)
    add("按时回访率", t.on_time_rate.value, lambda: p.on_time_rate.value, _PCT)
    add("回访记录（份）", t.records, lambda: p.records, _INT)
    add("满意率", t.satisfaction.satisfied_rate.value, lambda: p.satisfaction.satisfied_rate.value, _PCT)
    add("满意度均分（0–100）", t.satisfaction.average, lambda: p.satisfaction.average, _NUM)
    add("投诉（件）", c.received, lambda: pc.received, _INT)
    add("处理率", c.handling_rate.value, lambda: pc.handling_rate.value, _PCT, c.handling_rate.target)
    add("结案率", c.closing_rate.value, lambda: pc.closing_rate.value, _PCT)
    add("平均处理时长（天）", c.avg_handling_days, lambda: pc.avg_handling_days, _NUM)
    add("平均结案时长（天）", c.avg_closing_days, lambda: pc.avg_closing_days, _NUM)
    add("重复投诉（件）", c.repeated, lambda: pc.repeated, _INT)
    add("客户不认可重新投诉（件）", c.reopened, lambda: pc.reopened, _INT)
    add("逾期升级（件）", c.escalated, lambda: pc.escalated, _INT)
    add(f"售后服务次数（{'、'.join(svc.visit_types)}回访）", svc.visits, lambda: ps.visits if ps else 0, _INT)
    return ReportTable(
        "summary",
        "主要指标",
        ("指标", "本期", "上期", "变化", "目标"),
        tuple(rows),
        (_TXT, _INT, _INT, _TXT, _PCT),
        (26, 12, 12, 16, 10),
        note=svc.note,
        row_formats=tuple(formats),
    )


def _groups_table(st: Statistics) -> ReportTable:
    label = GROUP_LABELS[st.group_by]
    rows = [
        (
            g.key or "（空）",
            g.planned,
            g.done,
            g.on_time,
            g.overdue,
            g.visit_rate.value,
            g.on_time_rate.value,
            g.visit_rate.target,
            g.records,
            g.satisfaction.satisfied_rate.value,
            g.satisfaction.average,
        )
        for g in st.groups
    ]
    t = st.totals
    rows.append(
        (
            "合计",
            t.planned,
            t.done,
            t.on_time,
            t.overdue,
            t.visit_rate.value,
            t.on_time_rate.value,
            t.visit_rate.target,
            t.records,
            t.satisfaction.satisfied_rate.value,
            t.satisfaction.average,
        )
    )
    return ReportTable(
        "groups",
        f"回访情况（按{label}）",
        (
            label,
            "计划",
            "已回访",
            "按时",
            "逾期",
            "回访率",
            "按时率",
            "目标回访率",
            "回访记录",
            "满意率",
            "满意度均分",
        ),
        tuple(rows),
        (_TXT, _INT, _INT, _INT, _INT, _PCT, _PCT, _PCT, _INT, _PCT, _NUM),
        (16, 8, 8, 8, 8, 9, 9, 10, 9, 9, 10),
    )


def _rules_table(st: Statistics) -> ReportTable:
    rows = []
    for r in st.rules:
        meets = r.visit_rate.meets_target
        rows.append(
            (
                r.name,
                r.sample_rate,
                r.planned,
                r.done,
                r.on_time,
                r.overdue,
                r.visit_rate.value,
                r.visit_rate.target,
                "—" if meets is None else ("达标" if meets else "未达标"),
            )
        )
    return ReportTable(
        "rules",
        "各规则回访率与目标",
        ("回访规则", "抽样比例", "计划", "已回访", "按时", "逾期", "回访率", "目标回访率", "是否达标"),
        tuple(rows),
        (_TXT, _PCT, _INT, _INT, _INT, _INT, _PCT, _PCT, _TXT),
        (24, 9, 8, 8, 8, 8, 9, 10, 9),
    )


def _distribution(
    key: str,
    title: str,
    head: str,
    pairs: Sequence[tuple[str, int]],
    total: int | None = None,
    extra: Sequence[tuple[str, int]] = (),
) -> ReportTable:
    whole = total if total is not None else sum(n for _k, n in pairs)
    rows = [(k, n, n / whole if whole else None) for k, n in pairs]
    rows += [(k, n, None) for k, n in extra if n]
    rows.append(("合计", whole, 1.0 if whole else None))
    return ReportTable(key, title, (head, "数量", "占比"), tuple(rows), (_TXT, _INT, _PCT), (20, 10, 10))


def _trend_table(st: Statistics) -> ReportTable:
    rows = tuple(
        (
            p.month,
            p.planned,
            p.done,
            p.visit_rate,
            p.on_time_rate,
            p.records,
            p.satisfied_rate,
            p.average,
            p.complaints,
        )
        for p in st.trend
    )
    return ReportTable(
        "trend",
        "月度趋势",
        ("月份", "计划", "已回访", "回访率", "按时率", "回访记录", "满意率", "满意度均分", "投诉"),
        rows,
        (_TXT, _INT, _INT, _PCT, _PCT, _INT, _PCT, _NUM, _INT),
        (10, 8, 8, 9, 9, 9, 9, 10, 8),
    )


SOURCE_LABELS = {
    "visit_plan": "回访计划",
    "visit_record": "回访记录",
    "customer": "客户档案",
    "assessment_entry": "经理登记",
    "visit_report": "回访报告表",
}


def source_text(source: str, source_id: int | None, subject: str) -> str:
    """Where a charged event comes from, as printed: ``回访计划 #12 甲公司``."""
    label = SOURCE_LABELS.get(source, source or "—")
    ref = f" #{source_id}" if source_id is not None and source != "assessment_entry" else ""
    return f"{label}{ref}" + (f" {subject}" if subject else "")


def _shown_kinds(view: AssessmentView) -> list[EventKind]:
    """The table's columns: the kinds the rules charge, and any other kind the month has events of."""
    a = view.assessment
    used = {line.kind for line in a.kind_totals() if line.count}
    return [k for k in EventKind if k in used or (k.ruled and a.rules.rule(k).enabled)]


def _assessment_events_table(view: AssessmentView) -> ReportTable:
    """考核明细: every charged event with its source (the plan, record, customer or entry behind it)."""
    a = view.assessment
    names = {c.clerk_id: c.clerk for c in a.clerks}
    rows = tuple(
        (
            names.get(e.owner_id, ""),
            e.kind.value,
            e.day.isoformat(),
            source_text(e.source, e.source_id, e.subject),
            e.detail,
            e.amount,
            e.points,
        )
        for e in a.events
    )
    return ReportTable(
        "assessment_events",
        "考核明细",
        ("姓名", "考核事项", "日期", "来源", "说明", "金额（元）", "绩效扣分"),
        rows,
        (_TXT, _TXT, _TXT, _TXT, _TXT, _MONEY, _INT),
        (9, 13, 11, 24, 40, 9, 8),
        note="每一项考核都列出引起它的回访计划、回访记录、客户档案或经理登记。",
    )


def _assessment_table(view: AssessmentView) -> ReportTable:
    a = view.assessment
    kinds = _shown_kinds(view)
    rows = [
        (c.clerk, c.department, *(c.line(k).count for k in kinds), c.count, c.amount, c.points)
        for c in a.clerks
    ]
    totals = {line.kind: line.count for line in a.kind_totals()}
    rows.append(("合计", "", *(totals[k] for k in kinds), a.count, a.amount, a.points))
    if view.status is AssessmentStatus.CONFIRMED:
        note = (
            f"已由{view.confirmed_by}于 {view.confirmed_at:%Y-%m-%d %H:%M} 确认（{view.integrity.value}）"
            if view.confirmed_at
            else "已确认"
        )
    else:
        note = f"未确认（经理确认后锁定；月度台账上交期限 {view.deadline:%Y-%m-%d}）"
    amounts = "；".join(
        f"{k.value} {a.rules.rule(k).amount} 元/次"
        + (f"、扣 {a.rules.rule(k).points} 分" if a.rules.rule(k).points else "")
        + (f"，重复×{a.rules.multiplier(k)}" if a.rules.multiplier(k) > 1 else "")
        for k in a.rules.enabled_kinds()
    )
    return ReportTable(
        "assessment",
        f"考核（{view.status.value}）",
        ("姓名", "部门", *(k.value for k in kinds), "次数", "金额（元）", "绩效扣分"),
        tuple(rows),
        (_TXT, _TXT, *([_INT] * len(kinds)), _INT, _MONEY, _INT),
        (10, 10, *([9] * len(kinds)), 7, 9, 8),
        note=f"{note}。标准：{amounts}。",
    )


def build_report(
    ctx: ServiceContext,
    period: Period | str,
    group_by: str = "clerk",
    *,
    complete: bool = True,
    company: str | None = None,
) -> StatsReport:
    """月度回访统计表 (a month, with the 考核) or 季度客户服务报告 (a quarter; also a year or a custom period):
    titled tables of real numbers and the charts drawn from them, for the xlsx, the PDF and the screen.
    ``complete=False``: without the previous period and the trend (see :func:`statistics`)."""
    st = statistics(ctx, period, group_by, complete=complete)
    view = assessment(ctx, st.period, figures=st.figures) if st.period.kind is PeriodKind.MONTH else None
    return report_from(ctx, st, view, company=company)


def report_from(
    ctx: ServiceContext, st: Statistics, view: AssessmentView | None = None, *, company: str | None = None
) -> StatsReport:
    """The report of statistics already counted (``view``: the month's assessment, for a month)."""
    p = st.period
    tables = [
        _summary_table(st),
        _groups_table(st),
        _rules_table(st),
        _distribution(
            "satisfaction",
            "满意度分布",
            "满意度",
            st.totals.satisfaction.levels,
            extra=(("其他（旧选项）", st.totals.satisfaction.other),),
        ),
        _distribution("results", "回访结果", "结果", st.totals.by_result),
        _distribution("types", "回访类型", "回访类型", st.totals.by_type),
        _distribution("complaint_categories", "投诉类别", "类别", st.complaints.by_category),
        _distribution("complaint_severities", "投诉严重程度", "严重程度", st.complaints.by_severity),
        _distribution("complaint_states", "投诉处理状态", "状态", st.complaints.by_state),
        _trend_table(st),
    ]
    if view is not None:
        tables.extend((_assessment_table(view), _assessment_events_table(view)))
    group_label = GROUP_LABELS[st.group_by]
    charts = (
        ChartSpec(ChartKind.LINE, "回访率趋势", "trend", 0, (3, 4), percent=True, y_title="回访率"),
        ChartSpec(ChartKind.LINE, "满意率趋势", "trend", 0, (6,), percent=True, y_title="满意率"),
        ChartSpec(ChartKind.BAR, "投诉类别", "complaint_categories", 0, (1,), y_title="件"),
        ChartSpec(
            ChartKind.BAR,
            f"各{group_label}回访情况",
            "groups",
            0,
            (1, 2),
            y_title="次",
            limit=load_stats_options(ctx).top_clerks,
        ),
    )
    notes: tuple[str, ...] = (
        st.services.note,
        (
            f"对比期间：{st.previous.label}。回访率 = 已回访 ÷ 计划（期间内到期、"
            "未取消的回访计划）；按时率 = 按时完成 ÷ 计划；处理率 = 已处理 ÷ 投诉（不含已撤销）。"
        ),
    )
    # the audit chain's head when printed (the report's last line): a chain rewritten later no longer matches
    with ctx.sessions() as s:
        head = head_label(*chain_head(s))
    notes += (f"{head}（打印时的操作日志校验值，可用 huifang-desktop verify 核对）",)
    return StatsReport(
        report_title(p),
        p,
        load_settings(ctx).company if company is None else company,
        st.generated_at,
        tuple(tables),
        charts,
        notes,
    )


# --- files -------------------------------------------------------------------------------------------

ProgressCallback = Callable[[int, int], None]
CancelCheck = Callable[[], bool]


def _check_target(out: Path, suffix: str = ".xlsx") -> None:
    checked_target(out, StatsError, suffix=suffix)


def export_xlsx(ctx: ServiceContext, report: StatsReport, out_path: Path | str) -> Path:
    """Write the report as .xlsx (a sheet per table, frozen headers, native Excel charts) and log it."""
    from huifang_desktop.exports.stats_xlsx import write_stats_workbook

    _require_view(ctx)
    out = Path(out_path)
    _check_target(out)
    try:
        sheets = write_stats_workbook(report, out)
    except OSError as exc:
        raise write_failed(out, exc, StatsError) from exc
    with ctx.sessions() as s, s.begin():
        audit(
            s,
            ctx,
            EXPORT_ACTION,
            "statistics",
            None,
            f"{report.title} {report.period.label}",
            new={"period": report.period.key, "file": str(out), "sheets": sheets},
        )
    return out


def report_pdf(
    ctx: ServiceContext,
    report: StatsReport,
    out: Path | str | None = None,
    *,
    forms_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    cancelled: CancelCheck | None = None,
) -> Any:
    """The report as PDF through the forms renderer (template ``stats_month`` / ``stats_quarter`` in
    ``forms/``) with the charts on the pages after it; a :class:`~services.printing.PrintedDocument` for the
    preview; ``out``: also save it (logged as 打印 like every printed form)."""
    from huifang_desktop.printing.stats_report import render_stats_report
    from huifang_desktop.services import printing
    from huifang_desktop.services.printing.rendering import _safe_name, _template

    _require_view(ctx)
    name = MONTH_FORM if report.period.kind is PeriodKind.MONTH else QUARTER_FORM
    template = _template(name, forms_dir)
    if template.title != report.title and report.period.kind not in (PeriodKind.MONTH, PeriodKind.QUARTER):
        template = replace(template, title=report.title)
    buffer = io.BytesIO()

    def step(done: int, total: int) -> bool:
        if progress is not None:
            progress(done, total)
        return not (cancelled is not None and cancelled())

    from huifang_desktop.printing import RenderCancelled

    try:
        pages = render_stats_report(template, report, buffer, printed_at=ctx.now(), progress=step)
    except RenderCancelled:
        raise printing.PrintCancelled("已取消，没有生成文件。") from None
    except ValueError as exc:
        raise printing.PrintError(f"无法打印{template.title}：{exc}") from exc
    doc = printing.PrintedDocument(
        buffer.getvalue(),
        pages,
        template.title,
        f"{template.title} {report.period.label}",
        _safe_name(f"{template.title}_{report.period.key.replace('..', '至')}.pdf"),
        "statistics",
        None,
        f"{template.title} {report.period.label}",
        {"period": report.period.key},
    )
    if out is not None:
        printing.save_pdf(ctx, doc, out)
    return doc


def export_report(
    ctx: ServiceContext,
    period: Period | str,
    out_path: Path | str,
    group_by: str = "clerk",
    *,
    forms_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    cancelled: CancelCheck | None = None,
) -> tuple[StatsReport, Path]:
    """Build the period's report and write it as .xlsx or .pdf (by the file's extension)."""
    out = Path(out_path)
    suffix = out.suffix.lower()
    if suffix not in (".xlsx", ".pdf"):
        raise ValidationError(FieldError("out", "输出文件", "请以 .xlsx 或 .pdf 结尾"))
    _check_target(out, suffix)
    if progress is not None:
        progress(0, 3)
    report = build_report(ctx, period, group_by)
    if cancelled is not None and cancelled():
        from huifang_desktop.services.printing import PrintCancelled

        raise PrintCancelled("已取消，没有生成文件。")
    if progress is not None:
        progress(1, 3)
    if suffix == ".xlsx":
        export_xlsx(ctx, report, out)
    else:
        report_pdf(ctx, report, out, forms_dir=forms_dir, cancelled=cancelled)
    if progress is not None:
        progress(3, 3)
    return report, out
