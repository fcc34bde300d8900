"""Importing an office's own Excel ledgers (导入 Excel 台账, domain.md §8): the pure part.

Offices keep 客户台账, 回访台账 and 投诉台账 in Excel, each in its own shape: a title row, a blank row and
merged cells above the header, header names of their own (客户名称 or 单位名称, 联系电话 or 手机, 负责人 or
业务员 …), full-width digits, two phone numbers in one cell, dates typed as text, class names such as 甲类,
numbers written in Chinese, and 合计 rows. This module turns such rows into clean, checked values:

* :func:`detect_header_row` scores the first rows by how many cells are known header names;
* :func:`suggest_mapping` maps columns to the fields of an :class:`ImportTarget` (synonyms, a saved
  mapping preferred);
* value parsers: :func:`cell_text`, :func:`parse_cell_date`, :func:`parse_cell_datetime`,
  :func:`parse_chinese_number`, :func:`parse_count`, :func:`parse_grade`, :func:`split_phone_cell`, …;
* :func:`data_rows` skips empty rows, total rows (合计/总计/小计) and repeated header rows;
* ``*_from_row`` interpret one sheet row for a target, given look-ups the service loads in bulk, and
  return a candidate or the row's problems (:class:`RowIssue`, naming the sheet row and column);
* :func:`sheet_duplicates` finds rows that repeat an earlier row of the same sheet.

No Qt, no database, no openpyxl: the service reads the workbook and passes plain cell values (str, int,
float, bool, date, datetime or None).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from huifang_desktop.domain.complaints import Channel, ComplaintState, Severity
from huifang_desktop.domain.customers import (
    CUSTOMER_KINDS,
    CUSTOMER_STATUSES,
    GRADES_ABCD,
    GRADES_VIP,
    CleanCustomer,
    ContactDraft,
    CustomerDraft,
    GradeThresholds,
    grade_by_volume,
    validate_customer,
)
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.validation import (
    format_phone,
    normalize_phone,
    split_phones,
    to_halfwidth,
    validate_email,
)
from huifang_desktop.domain.visits import VisitMethod, VisitResult, VisitType

# --------------------------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class ImportRules:
    """An office's import settings (setting key ``import_rules``); every number is a default.

    ``serial_min``/``serial_max``: a number in a date column inside this range is an Excel date serial
    (10000 = 1927-05-18, 80000 = 2119-01-11). ``two_digit_year_pivot``: ``26-3-5`` is 2026, ``85-3-5`` 1985.
    """

    header_scan_rows: int = 30  # look for the header among the first N rows
    min_header_matches: int = 2  # a header row has at least N cells that are known header names
    preview_rows: int = 20  # rows shown in the wizard's sheet preview
    batch_size: int = 500  # rows written per batch (one audit row per batch)
    max_rows: int = 100_000  # larger sheets are refused with a message
    serial_min: int = 10_000
    serial_max: int = 80_000
    two_digit_year_pivot: int = 70
    max_unpacked_mb: int = 400  # a workbook that unpacks to more is refused before parsing
    max_ratio: int = 200  # … or that has a large part compressed more than this (a decompression bomb)
    ratio_check_mb: int = 16  # parts below this unpacked size are not ratio-checked

    def __post_init__(self) -> None:
        errors = []
        for f in fields(self):
            if getattr(self, f.name) < 0:
                errors.append(FieldError(f.name, f.name, "不能为负数"))
        if self.batch_size < 1:
            errors.append(FieldError("batch_size", "每批行数", "至少 1 行"))
        if self.header_scan_rows < 1:
            errors.append(FieldError("header_scan_rows", "查找表头的行数", "至少 1 行"))
        if self.serial_min >= self.serial_max:
            errors.append(FieldError("serial_min", "Excel 日期序号范围", "下限应小于上限"))
        if not 0 <= self.two_digit_year_pivot <= 99:
            errors.append(FieldError("two_digit_year_pivot", "两位年份分界", "应在 0–99 之间"))
        if errors:
            raise ValidationError(errors)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImportRules:
        known = {f.name for f in fields(cls)}
        return cls(**{k: int(v) for k, v in data.items() if k in known})


# --------------------------------------------------------------------------------------------- targets


class ImportTarget(StrEnum):
    """What a sheet holds."""

    CUSTOMERS = "客户台账"
    VISITS = "回访台账"
    COMPLAINTS = "投诉台账"
    SERVICES = "售后服务台账"

    @property
    def slug(self) -> str:
        """The command-line and settings name: ``customers``, ``visits``, ``complaints``."""
        return _SLUGS[self]

    @classmethod
    def from_slug(cls, slug: str) -> ImportTarget:
        for target, name in _SLUGS.items():
            if name == slug or target.value == slug:
                return target
        raise ValidationError(FieldError("target", "导入内容", f"“{slug}”不是可导入的台账（可选：{'、'.join(_SLUGS.values())}）"))


_SLUGS = {ImportTarget.CUSTOMERS: "customers", ImportTarget.VISITS: "visits", ImportTarget.COMPLAINTS: "complaints",
          ImportTarget.SERVICES: "services"}


@dataclass(frozen=True, slots=True)
class TargetField:
    """One field a sheet column can be mapped to. ``synonyms`` are header names, the usual one first."""

    key: str
    label: str
    synonyms: tuple[str, ...]
    required: bool = False
    hint: str = ""


_CUSTOMER_FIELDS = (
    TargetField("name", "客户名称", ("客户名称", "单位名称", "名称", "客户", "客户姓名", "姓名", "公司名称", "企业名称",
                                    "单位", "户名", "业主姓名", "业主", "经销商名称", "经销商"), required=True),
    TargetField("code", "客户编号", ("客户编号", "编号", "客户代码", "客户号", "档案编号", "客户编码"),
                hint="留空时自动编号"),
    TargetField("kind", "类型", ("类型", "客户类型", "性质", "客户性质"), hint="个人/单位"),
    TargetField("category", "类别", ("类别", "客户类别", "客户种类")),
    TargetField("grade", "等级", ("等级", "级别", "分类", "客户等级", "客户级别", "客户分级", "分级", "客户分类"),
                hint="A类/a/甲类 → A"),
    TargetField("contact", "联系人", ("联系人", "联系人姓名", "对接人", "联络人")),
    TargetField("phone", "电话", ("联系电话", "电话", "联系方式", "电话号码", "固定电话", "座机", "办公电话",
                                 "联系人电话", "单位电话", "联系号码"), hint="一格可填多个号码"),
    TargetField("mobile", "手机", ("手机", "手机号", "手机号码", "移动电话", "联系人手机")),
    TargetField("email", "邮箱", ("邮箱", "电子邮箱", "email", "e-mail", "邮件", "电子邮件")),
    TargetField("title", "职务", ("职务", "职位", "联系人职务")),
    TargetField("address", "地址", ("地址", "联系地址", "详细地址", "通讯地址", "单位地址", "住址", "家庭住址",
                                   "收货地址", "房号", "门牌号")),
    TargetField("region", "区域", ("区域", "地区", "片区", "所在区域", "区县", "所在地区", "城市", "所属区域")),
    TargetField("source", "来源", ("来源", "客户来源", "获客渠道")),
    TargetField("industry", "行业", ("行业", "所属行业", "行业类别")),
    TargetField("owner", "负责人", ("负责人", "业务员", "客户经理", "销售员", "跟进人", "所属业务员", "责任人",
                                   "专管员", "销售顾问", "客服", "维护人"), hint="须为系统用户"),
    TargetField("volume", "年采购量", ("年采购量", "年提车量", "采购量", "年销量", "年用量", "年购买量", "提车量",
                                      "年采购数量"), hint="可写中文数字，如 一百零五"),
    TargetField("birthday", "生日", ("生日", "出生日期", "出生年月")),
    TargetField("created_on", "建档日期", ("建档日期", "建档时间", "登记日期", "录入日期", "开户日期", "创建日期",
                                          "建立日期")),
    TargetField("status", "状态", ("状态", "客户状态")),
    TargetField("purchase_date", "购买日期", ("购买日期", "购车日期", "购货日期", "交车日期", "交货日期", "提车日期",
                                            "到货日期", "交付日期", "销售日期", "成交日期"),
                hint="记为购买记录，只为尚未过期的回访安排计划"),
    TargetField("product", "产品", ("产品", "车型", "产品名称", "购买产品", "机型", "设备型号", "购买车型")),
    TargetField("notes", "备注", ("备注", "说明", "备注说明")),
)

_VISIT_FIELDS = (
    TargetField("customer", "客户名称", ("客户名称", "客户", "单位名称", "名称", "客户姓名", "姓名", "业主姓名"),
                required=True, hint="或填客户编号"),
    TargetField("customer_code", "客户编号", ("客户编号", "客户代码", "客户号")),
    TargetField("visited_at", "回访时间", ("回访日期", "回访时间", "日期", "时间", "走访日期", "拜访日期"),
                required=True),
    TargetField("number", "回访编号", ("回访编号", "记录编号", "编号"), hint="留空时自动编号"),
    TargetField("visit_type", "回访类型", ("回访类型", "回访类别", "类型", "回访种类")),
    TargetField("method", "回访方式", ("回访方式", "方式", "回访形式")),
    TargetField("visitor", "回访人", ("回访人", "回访人员", "回访员", "走访人", "客服", "经办人")),
    TargetField("contact", "联系人", ("联系人", "被访人", "受访人", "被回访人")),
    TargetField("phone", "联系电话", ("联系电话", "电话", "手机", "联系方式")),
    TargetField("content", "回访内容", ("回访内容", "内容", "回访记录", "沟通内容", "回访情况")),
    TargetField("feedback", "客户意见", ("客户意见", "客户反馈", "意见", "反馈", "意见和建议", "客户意见或建议",
                                        "客户意见/反馈")),
    TargetField("problems", "问题点", ("问题点", "问题", "存在问题", "发现问题")),
    TargetField("measures", "改善对策", ("改善对策", "对策", "改进措施", "措施")),
    TargetField("satisfaction", "满意度", ("满意度", "满意程度", "客户满意度", "评价")),
    TargetField("result", "结果", ("回访结果", "结果")),
    TargetField("handling", "处理情况", ("处理情况", "处理结果", "跟进情况")),
    TargetField("next_visit_on", "下次回访时间", ("下次回访时间", "下次回访", "下次回访日期")),
)

_COMPLAINT_FIELDS = (
    TargetField("received_at", "投诉日期", ("投诉日期", "投诉时间", "受理日期", "受理时间", "日期", "登记日期", "时间"),
                required=True),
    TargetField("subject", "投诉主题", ("投诉主题", "主题", "投诉事由", "事由", "投诉事项", "标题", "投诉问题"),
                required=True, hint="留空时取投诉内容的开头"),
    TargetField("number", "投诉编号", ("投诉编号", "编号", "单号", "投诉单号"), hint="留空时自动编号"),
    TargetField("content", "投诉内容", ("投诉内容", "内容", "详细内容", "问题描述", "投诉详情", "具体内容")),
    TargetField("complainant", "投诉人", ("投诉人", "投诉人姓名", "反映人", "投诉者", "客户姓名", "姓名")),
    TargetField("phone", "联系方式", ("联系方式", "联系电话", "电话", "手机", "投诉人电话")),
    TargetField("customer", "客户", ("客户名称", "客户", "单位名称", "所属客户")),
    TargetField("category", "类别", ("类别", "投诉类别", "投诉类型", "分类", "类型", "投诉分类")),
    TargetField("severity", "严重程度", ("严重程度", "等级", "级别", "投诉等级", "重要程度", "投诉级别")),
    TargetField("channel", "渠道", ("渠道", "投诉渠道", "投诉方式", "受理方式", "来源", "受理渠道")),
    TargetField("handler", "负责人", ("负责人", "处理人", "责任人", "承办人", "经办人")),
    TargetField("state", "处理状态", ("处理状态", "状态", "进度", "办理状态")),
    TargetField("cause", "原因", ("原因", "原因分析", "调查情况", "调查结果")),
    TargetField("measures", "处理措施", ("处理措施", "措施", "整改措施")),
    TargetField("result", "处理结果", ("处理结果", "结果", "处理意见", "答复内容")),
    TargetField("closed_at", "结案日期", ("结案日期", "关闭日期", "完成日期", "办结日期", "处理完成时间", "结案时间")),
)

_SERVICE_FIELDS = (
    TargetField("customer", "客户名称", ("客户名称", "客户", "单位名称", "名称", "客户姓名", "姓名", "用户名称", "用户",
                                        "报修单位", "报修人"), required=True, hint="或填客户编号"),
    TargetField("customer_code", "客户编号", ("客户编号", "客户代码", "客户号")),
    TargetField("served_on", "服务日期", ("服务日期", "服务时间", "维修日期", "报修日期", "上门日期", "日期", "时间"),
                required=True),
    TargetField("number", "服务单号", ("服务单号", "单号", "工单号", "维修单号", "编号", "派工单号"), hint="留空时自动编号"),
    TargetField("kind", "服务类型", ("服务类型", "服务类别", "服务项目", "类型", "类别"), hint="留空为“其他”"),
    TargetField("place", "服务地点", ("服务地点", "地点", "服务地址", "项目", "项目名称")),
    TargetField("product", "产品", ("产品", "产品名称", "设备", "设备名称", "机型", "车型", "产品型号", "型号")),
    TargetField("serial_no", "序列号", ("序列号", "机号", "车架号", "设备编号", "出厂编号", "底盘号")),
    TargetField("problem", "故障/问题", ("故障现象", "故障", "故障描述", "问题", "问题描述", "报修内容")),
    TargetField("content", "服务内容", ("服务内容", "处理措施", "维修内容", "处理情况", "内容")),
    TargetField("parts", "更换配件", ("更换配件", "配件", "更换零件", "零配件")),
    TargetField("parts_amount", "配件金额", ("配件金额", "配件费", "配件费用", "材料费")),
    TargetField("cost", "服务费用", ("服务费用", "费用", "金额", "维修费用", "服务费", "维修费", "收费")),
    TargetField("result", "服务结果", ("服务结果", "结果", "维修结果", "处理结果")),
    TargetField("feedback", "客户反馈", ("客户反馈", "客户意见", "反馈", "意见")),
    TargetField("satisfaction", "满意度", ("满意度", "满意程度", "客户满意度", "评价")),
    TargetField("technician", "服务人员", ("服务人员", "维修人员", "维修工", "技术员", "工程师", "服务工程师", "维修员")),
    TargetField("handler", "负责人", ("负责人", "经办人", "责任人", "跟进人")),
    TargetField("status", "状态", ("状态", "处理状态", "完成情况", "进度")),
    TargetField("completed_on", "完成日期", ("完成日期", "完工日期", "结束日期", "完成时间", "修复日期")),
    TargetField("notes", "备注", ("备注", "说明")),
)

TARGET_FIELDS: Mapping[ImportTarget, tuple[TargetField, ...]] = {
    ImportTarget.CUSTOMERS: _CUSTOMER_FIELDS,
    ImportTarget.VISITS: _VISIT_FIELDS,
    ImportTarget.COMPLAINTS: _COMPLAINT_FIELDS,
    ImportTarget.SERVICES: _SERVICE_FIELDS,
}


def target_field(target: ImportTarget, key: str) -> TargetField:
    for f in TARGET_FIELDS[target]:
        if f.key == key:
            return f
    raise KeyError(key)


def mapping_settings_key(target: ImportTarget) -> str:
    """Setting that holds an office's saved column mapping for ``target`` (field key → header text)."""
    return f"import_mapping.{target.slug}"


# --------------------------------------------------------------------------------------------- cells


def column_letter(index: int) -> str:
    """0 → ``A``, 25 → ``Z``, 26 → ``AA`` (Excel column names)."""
    if index < 0:
        raise ValueError(index)
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


_ALNUM_HALFWIDTH = {c: c - 0xFEE0 for c in range(0xFF10, 0xFF1A)} | \
    {c: c - 0xFEE0 for c in range(0xFF21, 0xFF3B)} | {c: c - 0xFEE0 for c in range(0xFF41, 0xFF5B)}
_SPACES = re.compile(r"[^\S\u3000]+")  # runs of white space other than the full-width space


def _squash(text: str) -> str:
    """Trim the ends (full-width spaces too) and collapse other white space; a full-width space inside a
    name (王\u3000芳, as typed to line up two-character names) is kept as written."""
    return _SPACES.sub(" ", text).strip()


def cell_text(value: Any, *, multiline: bool = False) -> str:
    """A cell as text: half-width digits and letters (ＡＢＣ１２３ → ABC123; Chinese punctuation such as （）
    stays, as in names typed by hand), stray spaces removed. Whole floats lose ``.0`` (a phone number stored
    as a number), dates are ISO. ``multiline`` keeps line breaks (long texts)."""
    if type(value) is str and not multiline:  # the usual cell, first: plain text needs no rewriting
        text = value if value.isascii() else value.translate(_ALNUM_HALFWIDTH)
        if text.isprintable() and "  " not in text:
            return text.strip()
        return _squash(text)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)).normalize(), "f")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).translate(_ALNUM_HALFWIDTH)
    if multiline:
        lines = (_squash(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
        return "\n".join(line for line in lines if line)
    return _squash(text)


def normalize_header(value: Any) -> str:
    """A header cell reduced for matching: no spaces, marks or bracketed notes, lower case.

    ``"客户名称（必填）"`` → ``客户名称``, ``"*联系 电话"`` → ``联系电话``, ``"E-mail"`` → ``e-mail``.
    """
    text = to_halfwidth(cell_text(value)).lower()
    text = re.sub(r"[(（\[【].*?[)）\]】]", "", text)
    return re.sub(r"[\s*＊:：.。、#№]+", "", text)


def is_empty_row(values: Sequence[Any]) -> bool:
    return all(cell_text(v) == "" for v in values)


_TOTAL = re.compile(r"^(本页|本月|本年|本季|总|全年)?(合计|总计|小计|累计|共计|总数)([:：].*|\d.*|共.*)?$")


def is_total_row(values: Sequence[Any]) -> bool:
    """A 合计 / 总计 / 小计 row: its first text cell (numbers skipped) says so (``合计``, ``合 计：``, ``本页小计``).
    A customer called 合计贸易 is not a total row."""
    for v in values:
        if isinstance(v, int | float) and not isinstance(v, bool):
            continue
        text = cell_text(v).replace(" ", "")
        if not text:
            continue
        return bool(_TOTAL.match(text)) or text.lower() in ("total", "sum")
    return False


# --------------------------------------------------------------------------------------------- numbers

_CN_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "俩": 2, "三": 3, "叁": 3,
              "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8,
              "九": 9, "玖": 9}
_CN_SMALL = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_CN_BIG = {"万": 10_000, "萬": 10_000, "亿": 100_000_000}
_NUMBER_TOKEN = re.compile(r"\d+(?:\.\d+)?|[零〇○一壹二贰两俩三叁四肆五伍六陆七柒八捌九玖十拾百佰千仟万萬亿]")
_APPROX = re.compile(r"^(约|大约|大概|近)|(左右|上下|余|多)$")
_UNITS = re.compile(r"(台|辆|件|个|套|只|部|次|人|户|家|箱|吨|元|万元|块|张|份|单)$")


def parse_chinese_number(raw: Any, *, label: str = "数量", field: str = "number") -> Decimal:
    """Numbers as offices write them: ``12``, ``1,200``, ``3.5万``, ``十二``, ``一百零五``, ``两千``,
    ``一百五`` (150), ``三万五`` (35000), ``1万2千``, ``壹佰``. Raises ValidationError naming the field."""
    if isinstance(raw, bool):
        raise ValidationError(FieldError(field, label, f"“{raw}”不是数字"))
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        return Decimal(repr(raw))
    text = to_halfwidth(cell_text(raw)).replace(",", "").replace("，", "").replace(" ", "")
    original = text
    text = _APPROX.sub("", text)
    if not text:
        raise ValidationError(FieldError(field, label, "不能为空"))
    try:
        return Decimal(text)
    except InvalidOperation:
        pass
    tokens = _NUMBER_TOKEN.findall(text)
    if "".join(tokens) != text:
        raise ValidationError(FieldError(field, label, f"“{original}”不是可识别的数字"))
    total = Decimal(0)  # finished 万/亿 groups
    section = Decimal(0)  # the current group below 万
    number: Decimal | None = None  # the last digit not yet multiplied
    last_unit = 0  # the unit just before ``number`` (for 一百五 = 150)
    for tok in tokens:
        if tok in _CN_DIGITS:
            if number is not None and tok in "零〇○":
                continue
            number = Decimal(_CN_DIGITS[tok])
            if tok in "零〇○":
                last_unit = 0  # 一百零五: the 五 is ones
        elif tok in _CN_SMALL:
            section += (number if number is not None else Decimal(1)) * _CN_SMALL[tok]
            number, last_unit = None, _CN_SMALL[tok]
        elif tok in _CN_BIG:
            unit = _CN_BIG[tok]
            group = section + (number or 0)
            if unit == 100_000_000:
                total = (total + group) * unit
            else:
                total += group * unit
            section, number, last_unit = Decimal(0), None, unit
        else:  # arabic digits inside Chinese (3.5万, 1万2千)
            if number is not None:
                raise ValidationError(FieldError(field, label, f"“{original}”不是可识别的数字"))
            number = Decimal(tok)
            last_unit = 0
    if number is not None:
        section += number * (Decimal(last_unit) / 10 if last_unit >= 100 else 1)
    return total + section


def parse_count(raw: Any, *, label: str = "数量", field: str = "count") -> int | None:
    """A whole, non-negative count (``12``, ``12台``, ``十二``, ``1.2万``); None when empty."""
    if raw is None or (isinstance(raw, str) and not cell_text(raw)):
        return None
    text = raw if not isinstance(raw, str) else _UNITS.sub("", to_halfwidth(cell_text(raw)).replace(" ", ""))
    value = parse_chinese_number(text, label=label, field=field)
    if value < 0 or value != value.to_integral_value():
        raise ValidationError(FieldError(field, label, f"“{cell_text(raw)}”应为不小于 0 的整数"))
    return int(value)


# --------------------------------------------------------------------------------------------- dates

_EXCEL_EPOCH = datetime(1899, 12, 30)  # serial 1 = 1900-01-01 (Excel's 1900 leap-year bug included)
_DATE_TEXT = re.compile(r"^(\d{2}|\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})[日号]?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TIME_TAIL = re.compile(r"[T\s]*(\d{1,2})(?:[:：](\d{2})(?:[:：](\d{2}))?|[时点](?:(\d{1,2})分?)?)$")


def excel_serial_to_datetime(serial: float) -> datetime:
    """An Excel date serial (days since 1899-12-30; the fraction is the time of day)."""
    moment = _EXCEL_EPOCH + timedelta(days=float(serial))
    return moment.replace(microsecond=0) if moment.microsecond < 500_000 else \
        (moment + timedelta(seconds=1)).replace(microsecond=0)


def _full_year(y: int, rules: ImportRules) -> int:
    return (2000 + y if y < rules.two_digit_year_pivot else 1900 + y) if y < 100 else y


def _date_from_text(text: str, raw: Any, label: str, field: str, rules: ImportRules) -> date:
    m = _DATE_TEXT.match(text) or _DATE_COMPACT.match(text)
    if not m:
        raise ValidationError(FieldError(
            field, label, f"“{cell_text(raw)}”不是可识别的日期，请写成 2026-03-05 或 2026年3月5日"))
    y, mo, d = (int(g) for g in m.groups())
    try:
        return date(_full_year(y, rules), mo, d)
    except ValueError:
        raise ValidationError(FieldError(field, label, f"“{cell_text(raw)}”不是存在的日期")) from None


def _number_as_date(value: float, raw: Any, label: str, field: str, rules: ImportRules) -> datetime:
    if rules.serial_min <= value <= rules.serial_max:
        return excel_serial_to_datetime(value)
    if float(value).is_integer() and 10_000_101 <= value <= 99_991_231:
        return datetime.combine(_date_from_text(str(int(value)), raw, label, field, rules), time())
    raise ValidationError(FieldError(field, label, f"“{cell_text(raw)}”不是可识别的日期"))


def parse_cell_date(raw: Any, *, label: str = "日期", field: str = "date", rules: ImportRules = ImportRules()
                    ) -> date | None:
    """Dates as offices keep them: real date cells, Excel serials (46086), ``2026年3月5日``, ``2026.3.5``,
    ``2026/03/05``, ``26-3-5``, ``20260305``. Empty → None; an impossible date (2026-02-30) raises."""
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, bool):
        raise ValidationError(FieldError(field, label, f"“{raw}”不是日期"))
    if isinstance(raw, int | float):
        return _number_as_date(raw, raw, label, field, rules).date()
    text = to_halfwidth(cell_text(raw)).replace(" ", "")
    if not text:
        return None
    if re.fullmatch(r"\d{5}(\.0+)?", text):
        return _number_as_date(float(text), raw, label, field, rules).date()
    return _date_from_text(text, raw, label, field, rules)


def parse_cell_datetime(raw: Any, *, label: str = "时间", field: str = "time", default_time: time = time(),
                        rules: ImportRules = ImportRules()) -> datetime | None:
    """Like :func:`parse_cell_date`, with an optional time (``2026-03-05 14:30``, ``2026年3月5日14时30分``,
    an Excel serial with a fraction). A date without a time gets ``default_time``."""
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return raw.replace(microsecond=0, tzinfo=None)
    if isinstance(raw, date):
        return datetime.combine(raw, default_time)
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        moment = _number_as_date(raw, raw, label, field, rules)
        return moment if moment.time() != time() else datetime.combine(moment.date(), default_time)
    text = to_halfwidth(cell_text(raw))
    if not text:
        return None
    compact = text.strip()
    m = _TIME_TAIL.search(compact)
    clock = None
    if m and m.start() > 0 and (m.group(2) is not None or m.group(0).strip()[-1] in "时点分" or m.group(4)):
        hour = int(m.group(1))
        minute = int(m.group(2) or m.group(4) or 0)
        second = int(m.group(3) or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise ValidationError(FieldError(field, label, f"“{text}”中的时间不存在"))
        clock = time(hour, minute, second)
        compact = compact[: m.start()]
    day = parse_cell_date(compact.strip(), label=label, field=field, rules=rules)
    assert day is not None
    return datetime.combine(day, clock if clock is not None else default_time)


# --------------------------------------------------------------------------------------------- choices

_GRADE_WORDS = {"甲": "A", "乙": "B", "丙": "C", "丁": "D", "一": "A", "二": "B", "三": "C", "四": "D",
                "1": "A", "2": "B", "3": "C", "4": "D"}
_VIP_WORDS = {"vip": "VIP", "大客户": "VIP", "重点客户": "VIP", "重要客户": "VIP", "重点": "VIP", "贵宾": "VIP",
              "普通": "普通", "普通客户": "普通", "一般": "普通", "一般客户": "普通",
              "小客户": "小客户", "小": "小客户", "零散客户": "小客户"}


def parse_grade(raw: Any, *, label: str = "等级", field: str = "grade") -> str | None:
    """Class names as offices write them: ``A类``/``a``/``A级``/``甲类``/``一类`` → ``A``; ``VIP``/``大客户`` →
    ``VIP``, ``普通``, ``小客户``. Empty → None."""
    text = cell_text(raw).replace(" ", "")
    if not text:
        return None
    low = text.lower()
    if low in _VIP_WORDS:
        return _VIP_WORDS[low]
    core = re.sub(r"(类客户|级客户|类|级|等|客户)$", "", low)
    if core.upper() in GRADES_ABCD:
        return core.upper()
    if core in _GRADE_WORDS:
        return _GRADE_WORDS[core]
    if core in _VIP_WORDS:
        return _VIP_WORDS[core]
    options = "、".join(GRADES_ABCD + GRADES_VIP)
    raise ValidationError(FieldError(field, label, f"“{text}”不是可识别的等级（可用：{options}，或 甲类/A类）"))


def _choose(raw: Any, table: Mapping[str, str], options: Sequence[str], *, label: str, field: str,
            default: str | None = None, strip: str = "") -> str:
    text = cell_text(raw).replace(" ", "")
    if not text:
        if default is None:
            raise ValidationError(FieldError(field, label, "不能为空"))
        return default
    if text in options:
        return text
    low = text.lower()
    if strip:
        low = re.sub(strip, "", low)
        if low in options:
            return low
    if low in table:
        return table[low]
    raise ValidationError(FieldError(field, label, f"“{text}”不是有效的选项（可选：{'、'.join(options)}）"))


_KIND_WORDS = {"私人": "个人", "自然人": "个人", "个体": "个人", "个体户": "个人", "散户": "个人", "业主": "个人",
               "公司": "单位", "企业": "单位", "法人": "单位", "机构": "单位", "团体": "单位", "集团": "单位",
               "政府": "单位", "事业单位": "单位"}
_ORG_HINT = re.compile(r"(公司|厂|店|中心|局|院|校|所|站|部|行|社|会|馆|队|集团|单位|处|科|场|园|室|城|堂|坊|铺)$|有限|股份")
_PERSON_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$")


def parse_kind(raw: Any, name: str, *, label: str = "类型", field: str = "kind") -> str:
    """个人 or 单位; an empty cell is guessed from the name (2–4 Chinese characters and no 公司/厂/店 → 个人)."""
    if not cell_text(raw):
        return "个人" if _PERSON_NAME.match(name) and not _ORG_HINT.search(name) else "单位"
    return _choose(raw, _KIND_WORDS, CUSTOMER_KINDS, label=label, field=field, strip=r"(客户)$")


_STATUS_WORDS = {"在用": "正常", "合作中": "正常", "有效": "正常", "活跃": "正常", "启用": "正常",
                 "停用": "暂停", "暂停合作": "暂停", "冻结": "暂停", "已流失": "流失", "流失客户": "流失",
                 "已注销": "注销", "作废": "注销", "注销客户": "注销"}


def parse_status(raw: Any, *, label: str = "状态", field: str = "status") -> str:
    return _choose(raw, _STATUS_WORDS, CUSTOMER_STATUSES, label=label, field=field, default="正常")


# --------------------------------------------------------------------------------------------- phones


def split_phone_cell(raw: Any, *, label: str = "电话", field: str = "phone") -> tuple[str, ...]:
    """Every phone number in one cell, normalised (``13812345678/0571-88886666``, ``138…；139…``,
    ``13812345678 13912345678``, a number stored as a number). Raises naming the first bad one."""
    text = cell_text(raw, multiline=True)
    if not text:
        return ()
    if isinstance(raw, int | float) and not isinstance(raw, bool) and re.fullmatch(r"[2-9]\d{8,10}", text):
        text = "0" + text  # a landline typed as a number lost its leading 0 (0571… → 571…)
    found: list[str] = []
    for part in split_phones(text):
        part = re.sub(r"[（(][^0-9()（）]*[)）]", "", part).strip()  # 138…（王经理）
        part = re.sub(r"^[^\d+（(]*[:：]", "", part).strip()  # 手机：138…
        if not part:
            continue
        try:
            found.append(normalize_phone(part, label=label, field=field))
            continue
        except ValidationError as exc:
            tokens = part.split()
            if len(tokens) < 2:
                raise ValidationError(FieldError(field, label, exc.errors[0].message)) from None
            try:
                found.extend(normalize_phone(t, label=label, field=field) for t in tokens)
            except ValidationError:
                raise ValidationError(FieldError(field, label, exc.errors[0].message)) from None
    return tuple(dict.fromkeys(found))


# --------------------------------------------------------------------------------------------- headers


def _field_score(header: str, f: TargetField) -> float:
    """How well a normalised header names field ``f``: 2+ exact (earlier synonyms a little more), 1+ when
    it contains a synonym (longer synonyms more), else 0."""
    if not header:
        return 0.0
    best = 0.0
    for i, syn in enumerate(f.synonyms):
        s = normalize_header(syn)
        if header == s:
            best = max(best, 2.0 + 0.01 * (len(f.synonyms) - i))
        elif len(s) >= 2 and s in header:
            best = max(best, 1.0 + 0.01 * len(s))
    return best


def header_score(values: Sequence[Any], target: ImportTarget) -> float:
    """How much a row looks like the header of a ``target`` sheet: known names count 1, cells that only
    contain one count ½. Title rows (one long cell) and data rows score low."""
    score = 0.0
    for v in values:
        if not isinstance(v, str):
            continue
        h = normalize_header(v)
        if not h or len(h) > 20:
            continue
        best = max((_field_score(h, f) for f in TARGET_FIELDS[target]), default=0.0)
        score += 1.0 if best >= 2 else (0.5 if best >= 1 else 0.0)
    return score


def detect_header_row(rows: Sequence[Sequence[Any]], target: ImportTarget, rules: ImportRules = ImportRules()
                      ) -> int | None:
    """The 1-based row number of the header among the first ``rules.header_scan_rows`` rows (``rows[0]``
    is sheet row 1), or None when no row has ``rules.min_header_matches`` known names."""
    best_row, best = None, 0.0
    for i, values in enumerate(rows[: rules.header_scan_rows], start=1):
        s = header_score(values, target)
        if s > best:
            best_row, best = i, s
    return best_row if best >= rules.min_header_matches else None


def suggest_mapping(headers: Sequence[Any], target: ImportTarget, saved: Mapping[str, str] | None = None
                    ) -> dict[str, int]:
    """Field key → 0-based column index. A saved mapping (field → header text, from an earlier import of
    this office) is applied first where its header is present; the rest by synonyms, best match first,
    each column and each field used once."""
    norm = [normalize_header(h) for h in headers]
    mapping: dict[str, int] = {}
    used: set[int] = set()
    keys = {f.key for f in TARGET_FIELDS[target]}
    for key, header in (saved or {}).items():
        if key not in keys or key in mapping:
            continue
        want = normalize_header(header)
        for col, h in enumerate(norm):
            if h and h == want and col not in used:
                mapping[key] = col
                used.add(col)
                break
    pairs = []
    for order, f in enumerate(TARGET_FIELDS[target]):
        if f.key in mapping:
            continue
        for col, h in enumerate(norm):
            s = _field_score(h, f)
            if s > 0 and col not in used:
                pairs.append((-s, order, col, f.key))
    for _s, _order, col, key in sorted(pairs):
        if key in mapping or col in used:
            continue
        mapping[key] = col
        used.add(col)
    return dict(sorted(mapping.items(), key=lambda kv: kv[1]))


def _share(values: Sequence[str], test: Callable[[str], bool]) -> float:
    return sum(1 for v in values if test(v)) / len(values) if values else 0.0


def _is_grade(text: str) -> bool:
    try:
        return parse_grade(text) is not None
    except ValidationError:
        return False


def refine_mapping(mapping: Mapping[str, int], target: ImportTarget, samples: Sequence[Sequence[Any]],
                   categories: Sequence[str] = ()) -> dict[str, int]:
    """Correct a header-based mapping by the columns' values (``samples``: the first data rows).

    A 客户台账 column headed 客户类别 whose values are classes (A类, 甲, VIP, b, 大客户) and not the office's
    类别 is the 等级 column (or, when another column already is, not imported and listed)."""
    out = dict(mapping)
    if target is not ImportTarget.CUSTOMERS or "category" not in out:
        return out
    col = out["category"]
    values = [t for t in (cell_text(r[col]) if col < len(r) else "" for r in samples) if t]
    if not values:
        return out
    known = set(categories)
    in_categories = _share(values, lambda v: v in known)
    as_grades = _share(values, _is_grade)
    if in_categories < 0.5 and as_grades >= 0.6:
        del out["category"]
        if "grade" not in out:
            out["grade"] = col
    return dict(sorted(out.items(), key=lambda kv: kv[1]))


def unused_columns(headers: Sequence[Any], mapping: Mapping[str, int]) -> tuple[tuple[str, str], ...]:
    """The columns with a header that no field takes: (letter, header) each, so none is dropped unseen."""
    used = set(mapping.values())
    return tuple((column_letter(i), cell_text(h)) for i, h in enumerate(headers) if cell_text(h) and i not in used)


def missing_required(target: ImportTarget, mapping: Mapping[str, int]) -> list[TargetField]:
    return [f for f in TARGET_FIELDS[target] if f.required and f.key not in mapping]


def mapping_by_header(headers: Sequence[Any], mapping: Mapping[str, int]) -> dict[str, str]:
    """Field key → header text: what is saved, so the next sheet with other column positions still maps."""
    return {k: cell_text(headers[c]) for k, c in mapping.items() if 0 <= c < len(headers) and cell_text(headers[c])}


# --------------------------------------------------------------------------------------------- rows


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One data row: its sheet row number (1-based, as Excel shows it) and its cell values."""

    number: int
    values: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class RowSkips:
    """Rows below the header that were not interpreted, by why. ``empty`` counts blank rows and rows that
    only look filled: a 序号 alone, a footnote (注：…, 制表人 …). ``hidden``: rows hidden in Excel, skipped
    unless asked for; their sheet row numbers in ``hidden_rows``."""

    empty: int = 0
    totals: int = 0
    repeated_headers: int = 0
    hidden: int = 0
    hidden_rows: tuple[int, ...] = ()


_SERIAL_HEADERS = frozenset({"序号", "序", "no", "行号", "顺序号", "序列号码"})
_FOOTNOTE = re.compile(r"^(注|备注|说明|附注|附|制表|填表|审核|审批|统计|打印|复核|经办|※|\*)")
_FOOTNOTE_MIN_LEN = 25  # one long text alone in a row is a remark under the table, not a customer


def is_blank_like(values: Sequence[Any], header: Sequence[str]) -> bool:
    """A row that only looks filled: nothing but a 序号 (the number column was filled down past the data),
    or a footnote alone in its row (``注：…``, ``制表人：…``, one long sentence)."""
    filled = [(i, v) for i, v in enumerate(values) if v is not None and cell_text(v)]
    if not filled:
        return True
    if all(i < len(header) and header[i] in _SERIAL_HEADERS for i, _v in filled):
        return True
    if len(filled) == 1:
        i, v = filled[0]
        text = cell_text(v)
        if i == 0 and re.fullmatch(r"\d{1,6}", text) and (not header or not header[0]):
            return True
        if isinstance(v, str) and (_FOOTNOTE.match(text) or len(text) >= _FOOTNOTE_MIN_LEN):
            return True
    return False


def data_rows(rows: Sequence[Sequence[Any]], header_row: int, *, hidden: Iterable[int] = (),
              include_hidden: bool = False) -> tuple[list[SheetRow], RowSkips]:
    """The rows below ``header_row`` (1-based) without empty rows (and rows with only a 序号 or a
    footnote), 合计/总计/小计 rows and repeats of the header (sheets printed with a header on every page).
    Rows numbered in ``hidden`` (hidden in Excel) are skipped and counted unless ``include_hidden``.
    Trailing empty rows are not counted."""
    header = [normalize_header(v) for v in rows[header_row - 1]] if 0 < header_row <= len(rows) else []
    first = next((i for i, h in enumerate(header) if h), None)  # a repeated header shows here first
    hidden_set = set(hidden) if not include_hidden else set()
    out: list[SheetRow] = []
    empty = totals = repeats = 0
    hidden_rows: list[int] = []
    pending_empty = 0
    for number in range(header_row + 1, len(rows) + 1):
        values = tuple(rows[number - 1])
        if is_blank_like(values, header):
            pending_empty += 1
            continue
        empty += pending_empty
        pending_empty = 0
        if number in hidden_set:
            hidden_rows.append(number)
            continue
        if is_total_row(values):
            totals += 1
            continue
        if (first is not None and first < len(values) and isinstance(values[first], str)
                and normalize_header(values[first]) == header[first]
                and [normalize_header(v) for v in values[: len(header)]] == header[: len(values)]):
            repeats += 1
            continue
        out.append(SheetRow(number, values))
    return out, RowSkips(empty, totals, repeats, len(hidden_rows), tuple(hidden_rows))


# --------------------------------------------------------------------------------------------- issues


class IssueKind(StrEnum):
    ERROR = "错误"
    DUPLICATE = "重复"


@dataclass(frozen=True, slots=True)
class RowIssue:
    """One problem of one sheet row: the row as Excel numbers it, the column (letter and header) and why."""

    row: int
    column: str  # ``D``; '' when the problem is not one column's
    header: str  # the sheet's header text, or the field's label
    message: str
    kind: IssueKind = IssueKind.ERROR

    @property
    def where(self) -> str:
        if self.column:
            return f"{self.column}列（{self.header}）" if self.header else f"{self.column}列"
        return self.header

    def __str__(self) -> str:
        return f"第 {self.row} 行 {self.where}：{self.message}"


@dataclass(frozen=True, slots=True)
class Columns:
    """Where each mapped field is in the sheet, with the header text to name it in messages."""

    target: ImportTarget
    index: Mapping[str, int]
    headers: tuple[Any, ...]

    def letter(self, key: str) -> str:
        return column_letter(self.index[key]) if key in self.index else ""

    def header(self, key: str) -> str:
        col = self.index.get(key)
        if col is not None and col < len(self.headers):
            text = _header_text(self.headers[col])
            if text:
                return text
        return target_field(self.target, key).label


@functools.lru_cache(maxsize=1024)
def _header_text(value: Any) -> str:
    return cell_text(value)


class _Row:
    """Reads one sheet row through the mapping, collecting issues instead of stopping at the first."""

    def __init__(self, row: SheetRow, cols: Columns) -> None:
        self.row = row
        self.cols = cols
        self.issues: list[RowIssue] = []

    def raw(self, key: str) -> Any:
        col = self.cols.index.get(key)
        if col is None or col >= len(self.row.values):
            return None
        return self.row.values[col]

    def has(self, key: str) -> bool:
        return key in self.cols.index

    def text(self, key: str, *, max_len: int = 200, multiline: bool = False) -> str:
        value = cell_text(self.raw(key), multiline=multiline)
        if len(value) > max_len:
            self.issue(key, f"不能超过 {max_len} 个字（现有 {len(value)} 个字）")
            return value[:max_len]
        return value

    def issue(self, key: str, message: str, kind: IssueKind = IssueKind.ERROR) -> None:
        self.issues.append(RowIssue(self.row.number, self.cols.letter(key), self.cols.header(key), message, kind))

    def take(self, key: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(raw, *args, label=header, field=key, **kwargs)``; a ValidationError becomes an issue → None."""
        try:
            return fn(self.raw(key), *args, label=self.cols.header(key), field=key, **kwargs)
        except ValidationError as exc:
            for e in exc.errors:
                self.issue(key, e.message)
            return None


def _users_key(name: str) -> str:
    return cell_text(name).replace(" ", "").lower()


def user_lookup(users: Iterable[tuple[int, str, str]]) -> dict[str, int]:
    """``(id, username, display name)`` → a look-up by display name or username (case and spaces ignored);
    a display name two users share maps to neither (-1)."""
    out: dict[str, int] = {}
    for uid, username, display in users:
        for key in {_users_key(username), _users_key(display)}:
            if key:
                out[key] = uid if out.get(key, uid) == uid else -1
    return out


# --------------------------------------------------------------------------------------------- customers


@dataclass(frozen=True, slots=True)
class CustomerRowContext:
    today: date
    categories: tuple[str, ...]
    users: Mapping[str, int]  # from :func:`user_lookup`
    default_owner_id: int | None = None
    thresholds: GradeThresholds = field(default_factory=GradeThresholds)
    rules: ImportRules = ImportRules()


@dataclass(frozen=True, slots=True)
class CustomerCandidate:
    """A checked customer row, ready to be written. ``owner_name``: the 负责人 as written when that person
    is not a user (the customer is left unassigned, or gets the user the importer maps or creates).
    ``phone_columns``: number → the field (``phone``/``mobile``) it was found in, to name duplicates.
    ``purchase_on``/``product``: a 购买日期/交车日期 column (purchase history)."""

    row: int
    code: str  # '' → numbered on import
    clean: CleanCustomer
    grade: str
    annual_volume: int
    owner_name: str = ""
    phone_columns: Mapping[str, str] = field(default_factory=dict)
    purchase_on: date | None = None
    purchase_kind: str = "购货"
    product: str = ""
    phones: frozenset[str] = field(default=frozenset(), init=False)  # every number of every contact

    def __post_init__(self) -> None:
        object.__setattr__(self, "phones",
                           frozenset(p for c in self.clean.contacts for p in (c.phone, c.mobile) if p))


_CONTACT_FIELD = re.compile(r"^contacts\[\d+\]\.(\w+)$")
_DELIVERY_HEADER = re.compile(r"交车|交货|到货|提车|交付")


def customer_from_row(row: SheetRow, cols: Columns, ctx: CustomerRowContext
                      ) -> CustomerCandidate | list[RowIssue]:
    """Interpret one row of a 客户台账: the customer file checked by :func:`validate_customer`, its phones
    split into contacts (several numbers in one cell become more contacts of the same person). Every
    problem of the row is reported at once. A 负责人 who is not a user never blocks the row: the customer
    is left unassigned and the name is kept in ``owner_name``."""
    r = _Row(row, cols)
    name = r.text("name", max_len=100)
    code = r.text("code", max_len=20).upper()
    if code and not re.fullmatch(r"[0-9A-Z_\-./]+", code):
        r.issue("code", f"“{code}”只能由字母、数字和 - _ . / 组成")
    kind = r.take("kind", parse_kind, name) or "单位"
    status = r.take("status", parse_status) or "正常"
    grade = r.take("grade", parse_grade)
    volume = r.take("volume", parse_count) if r.has("volume") else None
    category = r.text("category", max_len=20)
    birthday = r.take("birthday", parse_cell_date, rules=ctx.rules)
    created_on = r.take("created_on", parse_cell_date, rules=ctx.rules)
    purchase_on = r.take("purchase_date", parse_cell_date, rules=ctx.rules)
    if purchase_on is not None and purchase_on > ctx.today:
        r.issue("purchase_date", "不能晚于今天")
    owner_id = ctx.default_owner_id
    owner_name = r.text("owner", max_len=40)
    unknown_owner = ""
    if owner_name:
        found = ctx.users.get(_users_key(owner_name))
        if found is None or found < 0:  # not a user (or two users share the name): unassigned, listed
            owner_id, unknown_owner = None, owner_name
        else:
            owner_id = found
    email = ""
    if r.has("email"):
        email = r.take("email", validate_email) or ""
    mobiles: list[str] = []
    landlines: list[str] = []
    found_in: dict[str, str] = {}
    for key in ("mobile", "phone"):
        for number in r.take(key, split_phone_cell) or ():
            (mobiles if number.startswith("1") else landlines).append(number)
            found_in.setdefault(number, key)
    mobiles, landlines = list(dict.fromkeys(mobiles)), list(dict.fromkeys(landlines))
    contact_name = r.text("contact", max_len=50) or (name if kind == "个人" else "") or "联系人"
    title = r.text("title", max_len=50)
    contacts: list[ContactDraft] = []
    for i in range(max(len(mobiles), len(landlines), 1)):
        contacts.append(ContactDraft(
            name=contact_name, mobile=mobiles[i] if i < len(mobiles) else "",
            phone=landlines[i] if i < len(landlines) else "", email=email if i == 0 else "",
            title=title if i == 0 else "其他电话", is_primary=i == 0))
    draft = CustomerDraft(
        name=name, kind=kind, category=category or "普通", address=r.text("address", max_len=200),
        region=r.text("region", max_len=50), source=r.text("source", max_len=20),
        industry=r.text("industry", max_len=50), birthday=birthday, created_on=created_on, status=status,
        notes=r.text("notes", max_len=4000, multiline=True), owner_id=owner_id, contacts=tuple(contacts))
    product = r.text("product", max_len=100)
    try:
        clean = validate_customer(draft, today=ctx.today, categories=ctx.categories)
    except ValidationError as exc:
        # Report the file's own checks too (all problems in one pass), except for a cell already named.
        named = {i.column for i in r.issues}
        for e in exc.errors:
            key = _customer_error_column(e, cols)
            if key == "phone" and (cols.letter("phone") in named or cols.letter("mobile") in named):
                continue
            if cols.letter(key) not in named or not cols.letter(key):
                r.issue(key, e.message)
        return r.issues
    if r.issues:
        return r.issues
    if "\u3000" in name:  # the file's check folds full-width spaces; inside a name they are kept
        clean = replace(clean, name=name)
    if grade is None:
        grade = grade_by_volume(volume, ctx.thresholds) if volume is not None else "D"
    header = cols.header("purchase_date") if r.has("purchase_date") else ""
    return CustomerCandidate(row.number, code, clean, grade, volume or 0, unknown_owner, found_in, purchase_on,
                             "交货" if _DELIVERY_HEADER.search(header) else "购货", product)


def _customer_error_column(e: FieldError, cols: Columns) -> str:
    """The mapped field a validate_customer error belongs to (contacts[1].mobile → the 手机 or 电话 column)."""
    m = _CONTACT_FIELD.match(e.field)
    key = m.group(1) if m else e.field
    if key == "contacts":
        key = "phone"
    if key == "name" and m:
        key = "contact"
    if key in ("phone", "mobile") and key not in cols.index:
        key = "mobile" if key == "phone" else "phone"
    return key


# --------------------------------------------------------------------------------------------- visits


@dataclass(frozen=True, slots=True)
class VisitRowContext:
    now: datetime
    customers_by_code: Mapping[str, int]
    customers_by_name: Mapping[str, tuple[int, ...]]
    users: Mapping[str, int]
    satisfaction_levels: tuple[str, ...]
    default_visitor_id: int | None = None
    rules: ImportRules = ImportRules()


@dataclass(frozen=True, slots=True)
class VisitCandidate:
    """A checked 回访台账 row: a history record (no plan, no follow-up)."""

    row: int
    number: str  # '' → numbered on import
    customer_id: int
    visited_at: datetime
    visit_type: str
    method: str
    result: str
    satisfaction: str
    visitor_id: int | None
    contact_name: str
    contact_phone: str
    content: str
    feedback: str
    problems: str
    measures: str
    handling: str
    next_visit_on: date | None


_VISIT_TYPES = tuple(t.value for t in VisitType)
_METHODS = tuple(m.value for m in VisitMethod)
_RESULTS = tuple(r.value for r in VisitResult)
_METHOD_WORDS = {"电话回访": "电话", "打电话": "电话", "来电": "电话", "上门回访": "上门", "走访": "上门", "拜访": "上门",
                 "面访": "上门", "现场": "上门", "当面": "上门", "信函": "书信", "书面": "书信", "来信": "书信",
                 "邮箱": "邮件", "email": "邮件", "e-mail": "邮件", "电子邮件": "邮件", "手机短信": "短信",
                 "短信回访": "短信", "微信回访": "微信", "qq": "微信"}
_RESULT_WORDS = {"已回访": "成功", "完成": "成功", "已完成": "成功", "正常": "成功", "接通": "成功", "已接通": "成功",
                 "无人接听": "未接通", "未接": "未接通", "未接听": "未接通", "无人接": "未接通", "占线": "未接通",
                 "空号": "不可达", "停机": "不可达", "关机": "不可达", "联系不上": "不可达", "错号": "不可达",
                 "拒访": "拒绝", "拒接": "拒绝", "拒绝回访": "拒绝", "再次回访": "需再次回访", "待回访": "需再次回访",
                 "需回访": "需再次回访", "改天再访": "需再次回访"}
_SATISFACTION_WORDS = {"非常满意": "很满意", "十分满意": "很满意", "较满意": "满意", "比较满意": "满意", "基本满意": "一般",
                       "还行": "一般", "不太满意": "不满意", "较不满意": "不满意", "非常不满意": "很不满意",
                       "很差": "很不满意"}


def _existing_customer(r: _Row, by_code: Mapping[str, int], by_name: Mapping[str, tuple[int, ...]]) -> int | None:
    """The customer a ledger row names: by its 客户编号, else by a name only one file has (an issue otherwise)."""
    code = r.text("customer_code", max_len=20).upper()
    name = r.text("customer", max_len=100)
    if code:
        found = by_code.get(code)
        if found is None:
            r.issue("customer_code", f"客户编号“{code}”不存在")
        return found
    if name:
        ids = by_name.get(name, ())
        if not ids:
            r.issue("customer", f"客户“{name}”不在系统中，请先导入客户台账，或填写客户编号")
        elif len(ids) > 1:
            r.issue("customer", f"有 {len(ids)} 个客户叫“{name}”，请增加“客户编号”一列区分")
        else:
            return ids[0]
        return None
    r.issue("customer" if r.has("customer") else "customer_code", "请填写客户名称或客户编号")
    return None


def visit_from_row(row: SheetRow, cols: Columns, ctx: VisitRowContext) -> VisitCandidate | list[RowIssue]:
    """Interpret one row of a 回访台账. The customer is found by 客户编号, else by a name only one file has.
    An empty 结果 is 成功; a 回访人 who is not a user is kept as text in 处理情况."""
    r = _Row(row, cols)
    customer_id = _existing_customer(r, ctx.customers_by_code, ctx.customers_by_name)
    visited_at = r.take("visited_at", parse_cell_datetime, rules=ctx.rules)
    if visited_at is None and not any(i.column == cols.letter("visited_at") for i in r.issues):
        r.issue("visited_at", "不能为空")
    elif visited_at is not None and visited_at > ctx.now:
        r.issue("visited_at", "不能晚于现在")
    number = r.text("number", max_len=30).upper()
    vtype = r.take("visit_type", _choose, {}, _VISIT_TYPES, default=VisitType.ROUTINE.value,
                   strip=r"(回访|访问)$") or ""
    method = r.take("method", _choose, _METHOD_WORDS, _METHODS, default=VisitMethod.PHONE.value) or ""
    satisfaction = r.text("satisfaction", max_len=20)
    if satisfaction:
        satisfaction = _SATISFACTION_WORDS.get(satisfaction, satisfaction)
        if satisfaction not in ctx.satisfaction_levels:
            r.issue("satisfaction", f"“{satisfaction}”不是本单位满意度的选项（{'、'.join(ctx.satisfaction_levels)}）")
    result = r.take("result", _choose, _RESULT_WORDS, _RESULTS, default=VisitResult.SUCCESS.value) or ""
    visitor_id = ctx.default_visitor_id
    handling = r.text("handling", max_len=4000, multiline=True)
    visitor_name = r.text("visitor", max_len=40)
    if visitor_name:
        found = ctx.users.get(_users_key(visitor_name))
        if found is not None and found > 0:
            visitor_id = found
        else:
            visitor_id = None
            handling = "\n".join(t for t in (handling, f"回访人：{visitor_name}") if t)
    phone = ""
    numbers = r.take("phone", split_phone_cell)
    if numbers:
        phone = numbers[0]
    next_on = r.take("next_visit_on", parse_cell_date, rules=ctx.rules)
    if r.issues:
        return r.issues
    assert customer_id is not None and visited_at is not None
    return VisitCandidate(
        row.number, number, customer_id, visited_at, vtype, method, result, satisfaction, visitor_id,
        r.text("contact", max_len=50), phone, r.text("content", max_len=4000, multiline=True),
        r.text("feedback", max_len=4000, multiline=True), r.text("problems", max_len=4000, multiline=True),
        r.text("measures", max_len=4000, multiline=True), handling, next_on)


# --------------------------------------------------------------------------------------------- complaints


@dataclass(frozen=True, slots=True)
class ComplaintRowContext:
    now: datetime
    customers_by_code: Mapping[str, int]
    customers_by_name: Mapping[str, tuple[int, ...]]
    users: Mapping[str, int]
    categories: tuple[str, ...]
    default_time: time = time(9, 0)
    rules: ImportRules = ImportRules()


@dataclass(frozen=True, slots=True)
class ComplaintCandidate:
    """A checked 投诉台账 row."""

    row: int
    number: str  # '' → numbered on import
    received_at: datetime
    subject: str
    content: str
    complainant: str
    anonymous: bool
    phone: str
    customer_id: int | None
    category: str
    severity: str
    channel: str
    state: str
    handler_id: int | None
    handler_name: str  # as written in the sheet when that person is not a user
    cause: str
    measures: str
    result: str
    closed_at: datetime | None


_CHANNELS = tuple(c.value for c in Channel)
_SEVERITIES = tuple(v.value for v in Severity)
_CLOSED = ComplaintState.CLOSED.value
# The states an imported complaint may have (待回访 comes in as 处理中: see complaint_from_row).
IMPORT_COMPLAINT_STATES = (ComplaintState.PENDING.value, ComplaintState.IN_PROGRESS.value, _CLOSED,
                           ComplaintState.WITHDRAWN.value)
_CHANNEL_WORDS = {"热线": "电话", "400": "电话", "来电": "电话", "电话投诉": "电话", "上门": "来访", "现场": "来访",
                  "当面": "来访", "来人": "来访", "来信": "信函", "书面": "信函", "信件": "信函", "email": "邮件",
                  "e-mail": "邮件", "邮箱": "邮件", "网站": "网络", "微信": "网络", "微博": "网络", "app": "网络",
                  "在线": "网络", "网上": "网络", "转办": "上级转办", "12345": "上级转办", "12315": "上级转办",
                  "上级": "上级转办", "政府转办": "上级转办"}
_SEVERITY_WORDS = {"普通": "一般", "轻微": "一般", "较轻": "一般", "一般投诉": "一般", "较重": "重要", "严重": "重要",
                   "较大": "重要", "重要投诉": "重要", "特别严重": "重大", "特大": "重大", "重大投诉": "重大"}
_STATE_WORDS = {"已处理": "已关闭", "已解决": "已关闭", "结案": "已关闭", "已结案": "已关闭", "完成": "已关闭",
                "已完成": "已关闭", "办结": "已关闭", "已办结": "已关闭", "关闭": "已关闭", "已回访": "已关闭",
                "处理": "处理中", "正在处理": "处理中", "跟进中": "处理中", "待回访": "处理中", "未解决": "处理中",
                "未处理": "待受理", "新建": "待受理", "待处理": "待受理", "撤销": "已撤销", "撤回": "已撤销",
                "不成立": "已撤销"}


def complaint_from_row(row: SheetRow, cols: Columns, ctx: ComplaintRowContext
                       ) -> ComplaintCandidate | list[RowIssue]:
    """Interpret one row of a 投诉台账. An empty 主题 takes the start of 投诉内容; an empty 处理状态 is 已关闭
    when a 处理结果 or 结案日期 is given, else 待受理 (待回访 is imported as 处理中: the closing visit is
    planned when the handler finishes). No 投诉人, phone or customer → anonymous."""
    r = _Row(row, cols)
    received_at = r.take("received_at", parse_cell_datetime, default_time=ctx.default_time, rules=ctx.rules)
    if received_at is None and not r.issues:
        r.issue("received_at", "不能为空")
    elif received_at is not None and received_at > ctx.now:
        r.issue("received_at", "不能晚于现在")
    content = r.text("content", max_len=4000, multiline=True)
    subject = r.text("subject", max_len=200)
    if not subject and content:
        first = re.split(r"[。！？!?\n]", content, maxsplit=1)[0]
        subject = first[:30] + ("…" if len(first) > 30 else "")
    if not subject:
        r.issue("subject" if r.has("subject") or not r.has("content") else "content", "主题和内容不能都为空")
    complainant = r.text("complainant", max_len=50)
    numbers = r.take("phone", split_phone_cell) or ()
    customer_id = None
    customer = r.text("customer", max_len=100)
    if customer:
        code_hit = ctx.customers_by_code.get(customer.upper())
        ids = (code_hit,) if code_hit else ctx.customers_by_name.get(customer, ())
        customer_id = ids[0] if len(ids) == 1 else None
    category = r.text("category", max_len=30)
    if category and category not in ctx.categories:
        stripped = re.sub(r"(问题|类|方面)$", "", category)
        if stripped in ctx.categories:
            category = stripped
        else:
            r.issue("category", f"“{category}”不在投诉类别中（{'、'.join(ctx.categories)}），可在设置中增加类别")
    if not category:
        category = "其他" if "其他" in ctx.categories else ctx.categories[-1]
    severity = r.take("severity", _choose, _SEVERITY_WORDS, _SEVERITIES, default=Severity.NORMAL.value,
                      strip=r"(投诉)$") or ""
    channel = r.take("channel", _choose, _CHANNEL_WORDS, _CHANNELS, default=Channel.PHONE.value,
                     strip=r"(投诉|反映)$") or ""
    result = r.text("result", max_len=4000, multiline=True)
    closed_at = r.take("closed_at", parse_cell_datetime, default_time=time(17, 0), rules=ctx.rules)
    state_default = _CLOSED if (result or closed_at) else ComplaintState.PENDING.value
    state = r.take("state", _choose, _STATE_WORDS, IMPORT_COMPLAINT_STATES, default=state_default) or ""
    if closed_at is not None and received_at is not None and closed_at < received_at:
        r.issue("closed_at", "结案日期不能早于投诉日期")
    handler_id, handler_name = None, r.text("handler", max_len=40)
    if handler_name:
        found = ctx.users.get(_users_key(handler_name))
        if found is not None and found > 0:
            handler_id, handler_name = found, ""
    if r.issues:
        return r.issues
    assert received_at is not None
    anonymous = not complainant and not numbers and customer_id is None
    return ComplaintCandidate(
        row.number, r.text("number", max_len=30).upper(), received_at, subject, content, complainant, anonymous,
        numbers[0] if numbers else "", customer_id, category, severity, channel, state, handler_id, handler_name,
        r.text("cause", max_len=4000, multiline=True), r.text("measures", max_len=4000, multiline=True), result,
        closed_at if state == _CLOSED else None)


# --------------------------------------------------------------------------------------------- services


@dataclass(frozen=True, slots=True)
class ServiceRowContext:
    today: date
    customers_by_code: Mapping[str, int]
    customers_by_name: Mapping[str, tuple[int, ...]]
    users: Mapping[str, int]
    kinds: tuple[str, ...]  # the office's 服务类型 list
    satisfaction_levels: tuple[str, ...]
    rules: ImportRules = ImportRules()


@dataclass(frozen=True, slots=True)
class ServiceCandidate:
    """A checked 售后服务台账 row: a service call as it happened (no follow-up visit is planned for it)."""

    row: int
    number: str  # '' → numbered on import
    customer_id: int
    served_on: date
    kind: str
    place: str
    product: str
    serial_no: str
    problem: str
    content: str
    parts: str
    parts_amount: Decimal | None
    cost: Decimal | None
    result: str
    feedback: str
    satisfaction: str
    technician: str
    handler_id: int | None
    status: str  # 处理中 / 已完成 / 已取消
    completed_on: date | None
    notes: str


SERVICE_STATUSES = ("处理中", "已完成", "已取消")
_SERVICE_STATUS_WORDS = {"完成": "已完成", "已处理": "已完成", "已解决": "已完成", "已修复": "已完成", "修复": "已完成",
                         "已维修": "已完成", "结束": "已完成", "已结束": "已完成", "ok": "已完成", "未完成": "处理中",
                         "进行中": "处理中", "维修中": "处理中", "待处理": "处理中", "跟进中": "处理中", "未处理": "处理中",
                         "取消": "已取消", "作废": "已取消", "撤销": "已取消"}


def parse_money(raw: Any, *, label: str = "金额", field: str = "amount") -> Decimal | None:
    """An amount in 元 (``1,200``, ``¥350.5``, ``350元``, ``三百五``); None when empty; never negative."""
    if raw is None or (isinstance(raw, str) and not cell_text(raw)):
        return None
    text = raw
    if isinstance(raw, str):
        text = to_halfwidth(cell_text(raw)).replace(" ", "").lstrip("¥￥").removesuffix("元").removesuffix("圆")
    value = parse_chinese_number(text, label=label, field=field)
    if value < 0:
        raise ValidationError(FieldError(field, label, f"“{cell_text(raw)}”不能是负数"))
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)  # 四舍五入


def service_from_row(row: SheetRow, cols: Columns, ctx: ServiceRowContext) -> ServiceCandidate | list[RowIssue]:
    """Interpret one row of a 售后服务台账. The customer is found as in the visit ledger; a 负责人 who is not
    a user is kept in 备注; an empty 状态 is 已完成 (the ledger records what was done)."""
    r = _Row(row, cols)
    customer_id = _existing_customer(r, ctx.customers_by_code, ctx.customers_by_name)
    served_on = r.take("served_on", parse_cell_date, rules=ctx.rules)
    if served_on is None and not any(i.column == cols.letter("served_on") for i in r.issues):
        r.issue("served_on", "不能为空")
    elif served_on is not None and served_on > ctx.today:
        r.issue("served_on", "不能晚于今天")
    default_kind = "其他" if "其他" in ctx.kinds else ctx.kinds[0]
    kind = r.take("kind", _choose, {}, ctx.kinds, default=default_kind, strip=r"(服务)$") or ""
    status = r.take("status", _choose, _SERVICE_STATUS_WORDS, SERVICE_STATUSES, default="已完成") or ""
    completed_on = r.take("completed_on", parse_cell_date, rules=ctx.rules)
    if completed_on is not None and served_on is not None and completed_on < served_on:
        r.issue("completed_on", "不能早于服务日期")
    if status == "已完成" and completed_on is None and served_on is not None:
        completed_on = served_on
    satisfaction = r.text("satisfaction", max_len=20)
    if satisfaction:
        satisfaction = _SATISFACTION_WORDS.get(satisfaction, satisfaction)
        if satisfaction not in ctx.satisfaction_levels:
            r.issue("satisfaction", f"“{satisfaction}”不是本单位满意度的选项（{'、'.join(ctx.satisfaction_levels)}）")
    notes = r.text("notes", max_len=4000, multiline=True)
    handler_id: int | None = None
    handler_name = r.text("handler", max_len=40)
    if handler_name:
        found = ctx.users.get(_users_key(handler_name))
        if found is not None and found > 0:
            handler_id = found
        else:
            notes = "\n".join(t for t in (notes, f"原负责人：{handler_name}") if t)
    parts_amount = r.take("parts_amount", parse_money)
    cost = r.take("cost", parse_money)
    if r.issues:
        return r.issues
    assert customer_id is not None and served_on is not None
    return ServiceCandidate(
        row.number, r.text("number", max_len=30).upper(), customer_id, served_on, kind,
        r.text("place", max_len=200), r.text("product", max_len=100), r.text("serial_no", max_len=60).upper(),
        r.text("problem", max_len=4000, multiline=True), r.text("content", max_len=4000, multiline=True),
        r.text("parts", max_len=200), parts_amount, cost, r.text("result", max_len=4000, multiline=True),
        r.text("feedback", max_len=4000, multiline=True), satisfaction, r.text("technician", max_len=50),
        handler_id, status, completed_on if status == "已完成" else None, notes)


def service_keys(c: ServiceCandidate) -> list[tuple[str, Any]]:
    keys: list[tuple[str, Any]] = [("service", (c.customer_id, c.served_on, c.kind, c.product, c.serial_no))]
    if c.number:
        keys.append(("number", c.number))
    return keys


def customer_keys(c: CustomerCandidate) -> list[tuple[str, Any]]:
    """What makes two customer rows the same customer (domain.md §2): any phone, or name and address
    (as ``services.customers.find_duplicates``), or the same 客户编号."""
    keys: list[tuple[str, Any]] = [("phone", p) for p in sorted(c.phones)]
    keys.append(("name_address", (c.clean.name, c.clean.address)))
    if c.code:
        keys.append(("code", c.code))
    return keys


def visit_keys(v: VisitCandidate) -> list[tuple[str, Any]]:
    keys: list[tuple[str, Any]] = [("visit", (v.customer_id, v.visited_at, v.visit_type))]
    if v.number:
        keys.append(("number", v.number))
    return keys


def complaint_keys(c: ComplaintCandidate) -> list[tuple[str, Any]]:
    keys: list[tuple[str, Any]] = [("complaint", (c.received_at, c.subject, c.complainant, c.phone))]
    if c.number:
        keys.append(("number", c.number))
    return keys


def describe_key(kind: str, value: Any) -> str:
    """Why two rows are the same, in Chinese."""
    if kind == "phone":
        return f"电话 {format_phone(value)} 相同"
    if kind == "name_address":
        return "名称和地址相同"
    if kind == "code":
        return f"客户编号 {value} 相同"
    if kind == "number":
        return f"编号 {value} 相同"
    if kind == "visit":
        return "客户、回访时间和类型相同"
    if kind == "service":
        return "客户、服务日期、类型和产品（序列号）相同"
    return "投诉时间、主题和投诉人相同"


def sheet_duplicates(candidates: Sequence[Any], keys: Callable[[Any], list[tuple[str, Any]]],
                     column_for: Callable[..., tuple[str, str]]) -> tuple[list[Any], list[RowIssue]]:
    """Split candidates into the first of each kind and the later rows that repeat an earlier one.
    ``column_for(kind, value, candidate)`` gives the (letter, header) to name in the issue: the column the
    repeated value was found in."""
    seen: dict[tuple[str, Any], int] = {}
    kept: list[Any] = []
    issues: list[RowIssue] = []
    for cand in candidates:
        hit = None
        ks = keys(cand)
        for k in ks:
            if k in seen:
                hit = k
                break
        if hit is not None:
            letter, header = column_for(hit[0], hit[1], cand)
            issues.append(RowIssue(cand.row, letter, header, f"与第 {seen[hit]} 行重复（{describe_key(*hit)}）",
                                   IssueKind.DUPLICATE))
            continue
        for k in ks:
            seen.setdefault(k, cand.row)
        kept.append(cand)
    return kept, issues


def sort_issues(issues: Iterable[RowIssue]) -> tuple[RowIssue, ...]:
    return tuple(sorted(issues, key=lambda i: (i.row, i.kind != IssueKind.ERROR, i.column)))


@dataclass(frozen=True, slots=True)
class IssueGroup:
    """Problems of one kind in one column: how many rows, the first rows and how to fix them."""

    kind: IssueKind
    where: str  # ``D列（联系电话）``
    what: str  # the problem with the row's own values left out
    rows: tuple[int, ...]  # every sheet row with this problem, in order
    example: str  # the first row's message, values included
    hint: str

    @property
    def count(self) -> int:
        return len(self.rows)

    def first_rows(self, n: int = 5) -> str:
        shown = "、".join(str(r) for r in self.rows[:n])
        return f"第 {shown} 行" + (f" 等 {self.count} 行" if self.count > n else "")


_HINTS: tuple[tuple[str, str], ...] = (
    (r"不在类别列表中", "在“设置 → 客户类别”中增加这些类别；若这一列其实是客户等级，请在列对应中把它对应到“等级”"),
    (r"手机号码|固定电话|电话号码|含有非数字字符|分机号", "在 Excel 中改正号码：手机 11 位；固定电话带区号，如 0531-26485794 或 +86-531-26485794"),
    (r"日期|时间", "把日期写成 2026-03-05 或 2026年3月5日（不能晚于今天，也不能是不存在的日期）"),
    (r"等级", "等级写成 A/B/C/D、A类/甲类，或 VIP/大客户"),
    (r"与第 N 行重复", "表中同一客户出现了多次：只导入第一行；如确是不同客户，请改正电话或名称"),
    (r"与已有客户|与其他部门的客户档案重复|已存在", "这些记录已在系统中，不会再导入；需要更新时请在系统中直接修改"),
    (r"不能超过", "缩短这一格的文字，或把多出的内容放到“备注”"),
    (r"不能为空|请填写|至少需要", "补上这一格，或删除这一行"),
    (r"不是有效的选项|不是可识别", "改成列出的选项之一"),
    (r"不在系统中|不存在", "先导入客户台账，或填写客户编号"),
)


def _issue_what(issue: RowIssue) -> str:
    text = re.sub(r"“[^”]*”", "“…”", issue.message)
    if issue.kind is IssueKind.DUPLICATE:
        text = re.sub(r"（.*）$", "", text)
        text = "与已有客户重复" if text.startswith("与已有客户") else text
    text = re.sub(r"（现有 \d+ 个字）", "", text)
    return re.sub(r"第 \d+ 行", "第 N 行", text)


def issue_hint(what: str) -> str:
    for pattern, hint in _HINTS:
        if re.search(pattern, what):
            return hint
    return "在 Excel 中改正后重新检查"


def group_issues(issues: Iterable[RowIssue]) -> list[IssueGroup]:
    """The report by kind of problem: errors first, then duplicates, the most frequent first."""
    groups: dict[tuple[IssueKind, str, str], list[RowIssue]] = {}
    for i in issues:
        groups.setdefault((i.kind, i.where, _issue_what(i)), []).append(i)
    out = [IssueGroup(kind, where, what, tuple(dict.fromkeys(i.row for i in items)), str(items[0]),
                      issue_hint(what)) for (kind, where, what), items in groups.items()]
    return sorted(out, key=lambda g: (g.kind is not IssueKind.ERROR, -g.count, g.rows[0]))


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


__all__ = [
    "IMPORT_COMPLAINT_STATES",
    "SERVICE_STATUSES",
    "TARGET_FIELDS",
    "Columns",
    "ComplaintCandidate",
    "ComplaintRowContext",
    "CustomerCandidate",
    "CustomerRowContext",
    "ImportRules",
    "ImportTarget",
    "IssueGroup",
    "IssueKind",
    "RowIssue",
    "RowSkips",
    "ServiceCandidate",
    "ServiceRowContext",
    "SheetRow",
    "TargetField",
    "VisitCandidate",
    "VisitRowContext",
    "cell_text",
    "chunks",
    "column_letter",
    "complaint_from_row",
    "complaint_keys",
    "customer_from_row",
    "customer_keys",
    "data_rows",
    "describe_key",
    "detect_header_row",
    "excel_serial_to_datetime",
    "group_issues",
    "header_score",
    "is_blank_like",
    "is_empty_row",
    "is_total_row",
    "issue_hint",
    "mapping_by_header",
    "mapping_settings_key",
    "missing_required",
    "normalize_header",
    "parse_cell_date",
    "parse_cell_datetime",
    "parse_chinese_number",
    "parse_count",
    "parse_grade",
    "parse_kind",
    "parse_money",
    "parse_status",
    "refine_mapping",
    "service_from_row",
    "service_keys",
    "sheet_duplicates",
    "sort_issues",
    "split_phone_cell",
    "suggest_mapping",
    "target_field",
    "unused_columns",
    "user_lookup",
    "visit_from_row",
    "visit_keys",
]
