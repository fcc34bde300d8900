"""What an import can read: the office's import settings (:class:`ImportRules`, setting ``import_rules``)
and, for each ledger (:class:`ImportTarget`), the fields a sheet column can be mapped to with the header names
offices use for them (:class:`TargetField`, :data:`TARGET_FIELDS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from huifang_desktop.domain.errors import FieldError, ValidationError


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


DEFAULT_RULES = ImportRules()  # the defaults, for arguments and fields that take the rules


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
        raise ValidationError(
            FieldError(
                "target", "导入内容", f"“{slug}”不是可导入的台账（可选：{'、'.join(_SLUGS.values())}）"
            )
        )


_SLUGS = {
    ImportTarget.CUSTOMERS: "customers",
    ImportTarget.VISITS: "visits",
    ImportTarget.COMPLAINTS: "complaints",
    ImportTarget.SERVICES: "services",
}


@dataclass(frozen=True, slots=True)
class TargetField:
    """One field a sheet column can be mapped to. ``synonyms`` are header names, the usual one first."""

    key: str
    label: str
    synonyms: tuple[str, ...]
    required: bool = False
    hint: str = ""


_CUSTOMER_FIELDS = (
    TargetField(
        "name",
        "客户名称",
        (
            "客户名称",
            "单位名称",
            "名称",
            "客户",
            "客户姓名",
            "姓名",
            "公司名称",
            "企业名称",
            "单位",
            "户名",
            "业主姓名",
            "业主",
            "经销商名称",
            "经销商",
        ),
        required=True,
    ),
    TargetField(
        "code",
        "客户编号",
        ("客户编号", "编号", "客户代码", "客户号", "档案编号", "客户编码"),
        hint="留空时自动编号",
    ),
    TargetField("kind", "类型", ("类型", "客户类型", "性质", "客户性质"), hint="个人/单位"),
    TargetField("category", "类别", ("类别", "客户类别", "客户种类")),
    TargetField(
        "grade",
        "等级",
        ("等级", "级别", "分类", "客户等级", "客户级别", "客户分级", "分级", "客户分类"),
        hint="A类/a/甲类 → A",
    ),
    TargetField("contact", "联系人", ("联系人", "联系人姓名", "对接人", "联络人")),
    TargetField(
        "phone",
        "电话",
        (
            "联系电话",
            "电话",
            "联系方式",
            "电话号码",
            "固定电话",
            "座机",
            "办公电话",
            "联系人电话",
            "单位电话",
            "联系号码",
        ),
        hint="一格可填多个号码",
    ),
    TargetField("mobile", "手机", ("手机", "手机号", "手机号码", "移动电话", "联系人手机")),
    TargetField("email", "邮箱", ("邮箱", "电子邮箱", "email", "e-mail", "邮件", "电子邮件")),
    TargetField("title", "职务", ("职务", "职位", "联系人职务")),
    TargetField(
        "address",
        "地址",
        (
            "地址",
            "联系地址",
            "详细地址",
            "通讯地址",
            "单位地址",
            "住址",
            "家庭住址",
            "收货地址",
            "房号",
            "门牌号",
        ),
    ),
    TargetField(
        "region", "区域", ("区域", "地区", "片区", "所在区域", "区县", "所在地区", "城市", "所属区域")
    ),
    TargetField("source", "来源", ("来源", "客户来源", "获客渠道")),
    TargetField("industry", "行业", ("行业", "所属行业", "行业类别")),
    TargetField(
        "owner",
        "负责人",
        (
            "负责人",
            "业务员",
            "客户经理",
            "销售员",
            "跟进人",
            "所属业务员",
            "责任人",
            "专管员",
            "销售顾问",
            "客服",
            "维护人",
        ),
        hint="须为系统用户",
    ),
    TargetField(
        "volume",
        "年采购量",
        ("年采购量", "年提车量", "采购量", "年销量", "年用量", "年购买量", "提车量", "年采购数量"),
        hint="可写中文数字，如 一百零五",
    ),
    TargetField("birthday", "生日", ("生日", "出生日期", "出生年月")),
    TargetField(
        "created_on",
        "建档日期",
        ("建档日期", "建档时间", "登记日期", "录入日期", "开户日期", "创建日期", "建立日期"),
    ),
    TargetField("status", "状态", ("状态", "客户状态")),
    TargetField(
        "purchase_date",
        "购买日期",
        (
            "购买日期",
            "购车日期",
            "购货日期",
            "交车日期",
            "交货日期",
            "提车日期",
            "到货日期",
            "交付日期",
            "销售日期",
            "成交日期",
        ),
        hint="记为购买记录，只为尚未过期的回访安排计划",
    ),
    TargetField("product", "产品", ("产品", "车型", "产品名称", "购买产品", "机型", "设备型号", "购买车型")),
    TargetField("notes", "备注", ("备注", "说明", "备注说明")),
)

_VISIT_FIELDS = (
    TargetField(
        "customer",
        "客户名称",
        ("客户名称", "客户", "单位名称", "名称", "客户姓名", "姓名", "业主姓名"),
        required=True,
        hint="或填客户编号",
    ),
    TargetField("customer_code", "客户编号", ("客户编号", "客户代码", "客户号")),
    TargetField(
        "visited_at",
        "回访时间",
        ("回访日期", "回访时间", "日期", "时间", "走访日期", "拜访日期"),
        required=True,
    ),
    TargetField("number", "回访编号", ("回访编号", "记录编号", "编号"), hint="留空时自动编号"),
    TargetField("visit_type", "回访类型", ("回访类型", "回访类别", "类型", "回访种类")),
    TargetField("method", "回访方式", ("回访方式", "方式", "回访形式")),
    TargetField("visitor", "回访人", ("回访人", "回访人员", "回访员", "走访人", "客服", "经办人")),
    TargetField("contact", "联系人", ("联系人", "被访人", "受访人", "被回访人")),
    TargetField("phone", "联系电话", ("联系电话", "电话", "手机", "联系方式")),
    TargetField("content", "回访内容", ("回访内容", "内容", "回访记录", "沟通内容", "回访情况")),
    TargetField(
        "feedback",
        "客户意见",
        ("客户意见", "客户反馈", "意见", "反馈", "意见和建议", "客户意见或建议", "客户意见/反馈"),
    ),
    TargetField("problems", "问题点", ("问题点", "问题", "存在问题", "发现问题")),
    TargetField("measures", "改善对策", ("改善对策", "对策", "改进措施", "措施")),
    TargetField("satisfaction", "满意度", ("满意度", "满意程度", "客户满意度", "评价")),
    TargetField("result", "结果", ("回访结果", "结果")),
    TargetField("handling", "处理情况", ("处理情况", "处理结果", "跟进情况")),
    TargetField("next_visit_on", "下次回访时间", ("下次回访时间", "下次回访", "下次回访日期")),
)

_COMPLAINT_FIELDS = (
    TargetField(
        "received_at",
        "投诉日期",
        ("投诉日期", "投诉时间", "受理日期", "受理时间", "日期", "登记日期", "时间"),
        required=True,
    ),
    TargetField(
        "subject",
        "投诉主题",
        ("投诉主题", "主题", "投诉事由", "事由", "投诉事项", "标题", "投诉问题"),
        required=True,
        hint="留空时取投诉内容的开头",
    ),
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
    TargetField(
        "closed_at", "结案日期", ("结案日期", "关闭日期", "完成日期", "办结日期", "处理完成时间", "结案时间")
    ),
)

_SERVICE_FIELDS = (
    TargetField(
        "customer",
        "客户名称",
        (
            "客户名称",
            "客户",
            "单位名称",
            "名称",
            "客户姓名",
            "姓名",
            "用户名称",
            "用户",
            "报修单位",
            "报修人",
        ),
        required=True,
        hint="或填客户编号",
    ),
    TargetField("customer_code", "客户编号", ("客户编号", "客户代码", "客户号")),
    TargetField(
        "served_on",
        "服务日期",
        ("服务日期", "服务时间", "维修日期", "报修日期", "上门日期", "日期", "时间"),
        required=True,
    ),
    TargetField(
        "number",
        "服务单号",
        ("服务单号", "单号", "工单号", "维修单号", "编号", "派工单号"),
        hint="留空时自动编号",
    ),
    TargetField(
        "kind", "服务类型", ("服务类型", "服务类别", "服务项目", "类型", "类别"), hint="留空为“其他”"
    ),
    TargetField("place", "服务地点", ("服务地点", "地点", "服务地址", "项目", "项目名称")),
    TargetField(
        "product", "产品", ("产品", "产品名称", "设备", "设备名称", "机型", "车型", "产品型号", "型号")
    ),
    TargetField("serial_no", "序列号", ("序列号", "机号", "车架号", "设备编号", "出厂编号", "底盘号")),
    TargetField("problem", "故障/问题", ("故障现象", "故障", "故障描述", "问题", "问题描述", "报修内容")),
    TargetField("content", "服务内容", ("服务内容", "处理措施", "维修内容", "处理情况", "内容")),
    TargetField("parts", "更换配件", ("更换配件", "配件", "更换零件", "零配件")),
    TargetField("parts_amount", "配件金额", ("配件金额", "配件费", "配件费用", "材料费")),
    TargetField("cost", "服务费用", ("服务费用", "费用", "金额", "维修费用", "服务费", "维修费", "收费")),
    TargetField("result", "服务结果", ("服务结果", "结果", "维修结果", "处理结果")),
    TargetField("feedback", "客户反馈", ("客户反馈", "客户意见", "反馈", "意见")),
    TargetField("satisfaction", "满意度", ("满意度", "满意程度", "客户满意度", "评价")),
    TargetField(
        "technician",
        "服务人员",
        ("服务人员", "维修人员", "维修工", "技术员", "工程师", "服务工程师", "维修员"),
    ),
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
