"""Words of the demo complaint register: cases per category, consultations, suggestions, reasons, names.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from itertools import accumulate
from typing import Generic, TypeVar

from huifang_desktop.domain.complaints import (
    Channel,
)

T = TypeVar("T")


# --- vocabulary -------------------------------------------------------------------------------------------

class Pick(Generic[T]):
    """A weighted choice drawn with one ``rng.random()``."""

    __slots__ = ("cum", "items")

    def __init__(self, items: Sequence[T], weights: Sequence[float] | None = None) -> None:
        self.items = tuple(items)
        self.cum = tuple(accumulate(weights if weights is not None else [1.0] * len(self.items)))

    def __call__(self, rng: random.Random) -> T:
        return self.items[min(bisect(self.cum, rng.random() * self.cum[-1]), len(self.items) - 1)]


# (主题, 内容, 调查情况, 原因, 处理措施, 处理结果) per default category
CASES: dict[str, tuple[tuple[str, str, str, str, str, str], ...]] = {
    "产品质量": (
        ("新车发动机故障灯常亮", "提车不到一个月，发动机故障灯常亮，动力不足。", "技术员上门读取故障码，为尿素喷射系统故障。",
         "尿素泵质量缺陷", "免费更换尿素泵，该部件延长保修一年", "已更换尿素泵，试车正常"),
        ("挖掘机液压油管渗漏", "新购挖掘机斗杆油管接头渗油，影响施工。", "现场检查，接头密封圈破损。", "密封圈批次质量问题",
         "更换同批次密封圈并补偿停工损失", "已更换密封圈，补偿两天停工费用"),
        ("自卸车举升缸无法复位", "自卸车卸货后举升缸不能完全落下。", "检查液压系统，换向阀卡滞。", "换向阀装配不良",
         "更换换向阀总成", "已更换换向阀，举升复位正常"),
        ("轮胎使用三个月出现鼓包", "新换轮胎三个月侧面鼓包。", "送厂家鉴定，胎侧帘线断裂。", "轮胎制造缺陷",
         "按三包免费更换同型号轮胎", "已免费更换两条轮胎"),
        ("装载机空调不制冷", "装载机驾驶室空调不制冷，夏季无法作业。", "检测空调系统，冷媒泄漏。", "冷凝器焊缝砂眼",
         "更换冷凝器并加注冷媒", "已修复，制冷正常"),
    ),
    "服务态度": (
        ("前台接待态度冷淡", "到店咨询时前台人员爱理不理。", "调取监控并询问当班人员。", "当班人员未按接待规范服务",
         "批评教育当事人并组织接待礼仪培训", "已当面向客户致歉"),
        ("客服电话多次被挂断", "打客服电话反映问题，多次被直接挂断。", "调取通话记录核实。", "客服高峰期违规挂断来电",
         "增加高峰期坐席，考核挂断率", "已回电致歉并解答客户问题"),
        ("维修技师言语粗鲁", "维修技师在车间与客户争吵，言语粗鲁。", "询问在场人员，情况属实。", "技师服务意识差",
         "调离该技师并扣发当月绩效", "已由主管向客户赔礼道歉"),
        ("销售承诺赠送保养未兑现", "购车时承诺赠送一年保养，现在不认账。", "核对购车合同及销售记录。", "销售口头承诺未录入合同",
         "按承诺补赠一年保养，规范销售承诺", "已补发保养卡"),
    ),
    "交付物流": (
        ("送货延误三天", "约定日期未到货，影响工地开工。", "核查物流调度记录。", "调度失误，车辆临时调往其他线路",
         "调整排班并赔偿运费", "已赔偿运费并致歉"),
        ("到货配件型号不符", "订购的滤清器到货型号不对，无法安装。", "核对订单与出库单。", "仓库拣货错误",
         "当天换货并加强出库复核", "已上门换货"),
        ("交车时随车工具缺失", "新车交付时随车工具包和灭火器缺失。", "核对交车清单。", "交车检查漏项",
         "补齐随车物品，修订交车检查表", "已补齐随车工具"),
        ("运输途中车身刮伤", "新车运到后发现车门有明显划痕。", "查看运输交接照片。", "运输绑扎不当",
         "免费喷漆修复并赠送保养一次", "已修复，客户认可"),
    ),
    "维修": (
        ("维修后故障再次出现", "刹车异响维修后一周又出现同样问题。", "复查刹车系统，刹车片安装不到位。", "维修工艺不规范",
         "免费返修并由主管复检", "已返修，路试正常"),
        ("维修等待时间过长", "车辆进厂维修十天仍未修好。", "核查维修进度与配件到货。", "配件缺货未及时告知客户",
         "调拨配件加急维修，提供代步车", "已修复交车"),
        ("保养漏换机油滤芯", "保养结算单有机油滤芯，实际未更换。", "检查车辆及领料记录。", "技师漏换，质检未发现",
         "免费补换并退还滤芯费用", "已补换滤芯并退款"),
        ("上门服务迟到半天", "约好上午上门维修，下午才到。", "核查派工记录。", "派工冲突未提前通知",
         "改进派工排程，迟到主动告知", "已致歉并减免上门费"),
    ),
    "收费": (
        ("维修费用与报价不符", "结算金额比维修前报价高出一千多元。", "核对报价单和结算单。", "增加项目未经客户确认",
         "退还未经确认的费用", "已退还差价"),
        ("发票抬头开错", "开具的增值税发票抬头错误，无法报销。", "核对开票申请。", "开票员录入错误",
         "作废重开发票并快递寄送", "已重开发票"),
        ("保修期内被收取工时费", "车辆在保修期内维修却收了工时费。", "核实保修期限与维修项目。", "收银员误判保修范围",
         "退还工时费并培训收银人员", "已退还工时费"),
        ("配件价格高于市场价", "同型号配件比市场价贵三成。", "比对配件价格。", "部分配件价格未及时调整",
         "调整价格并退还差价", "已退还差价"),
    ),
    "其他": (
        ("停车场车辆被剐蹭", "在公司停车场停放期间车辆被剐蹭。", "调取停车场监控。", "场内车辆倒车剐蹭",
         "协调肇事方赔偿并加强停车场管理", "已由肇事方赔偿修理费"),
        ("宣传资料与实际配置不符", "宣传册写标配倒车影像，实车没有。", "核对宣传资料与车型配置。", "宣传资料未及时更新",
         "免费加装倒车影像，更新宣传资料", "已免费加装"),
        ("节假日营业时间未按公示", "公示节假日正常营业，到店却关门。", "核实当日排班。", "临时调整未及时公告",
         "完善营业时间变更公告流程", "已致歉并赠送保养券"),
    ),
}
GENERIC_CASE = ("{category}问题", "客户反映{category}方面的问题。", "已核实客户反映的情况。", "内部管理不到位",
                 "整改并向客户说明", "已处理并答复客户")
CONSULTATIONS = (
    ("整车保修期多久", "整车保修三年或十万公里，以先到者为准。"),
    ("首保需要带哪些资料", "请携带购车发票、保养手册和行驶证原件。"),
    ("挖掘机以旧换新政策", "目前以旧换新最高补贴三万元，具体以评估为准。"),
    ("分期付款首付比例", "首付最低百分之三十，可选一至三年分期。"),
    ("配件能否邮寄到外地", "可以，省内两天到货，运费到付。"),
    ("年检可以代办吗", "可以代办，需提前三天预约。"),
    ("驾驶员培训如何报名", "每月第一周开班，可电话或到店报名。"),
    ("续保有没有优惠", "老客户续保可享九折并赠送一次保养。"),
)
SUGGESTIONS = (
    ("希望周末延长营业时间", "已采纳，自下月起周六营业至十八点。"),
    ("建议开设配件网上商城", "感谢建议，网上商城正在筹备，预计年内上线。"),
    ("希望维修进度短信通知", "已开通维修进度短信提醒。"),
    ("建议休息区增加充电插座", "已在客户休息区加装充电插座。"),
    ("建议提供上门保养服务", "已试点上门保养，欢迎预约。"),
)
PUBLIC_TOPICS = (
    ("售后服务热线长时间占线", "服务态度", "关于售后服务热线接通问题的公开答复"),
    ("配件统一调价", "收费", "关于配件价格调整的说明"),
    ("厂区夜间试车噪音扰民", "其他", "关于夜间试车噪音问题的致歉信"),
)
WITHDRAW_REASONS = ("投诉人来电撤回投诉", "重复登记，已并入其他投诉", "经核实非本公司产品", "客户与销售人员协商解决，自愿撤回",
                     "登记错误")
MESSAGE_WITHDRAW_REASONS = ("客户已自行解决", "重复登记", "客户撤回")
OCCURRENCE_NOTES = ("客户又到店反映", "客户再次来电催问", "客户在网上留言反映同一问题", "客户向其他部门反映同一问题", "")
CHASE_NOTES = ("请尽快答复客户", "请今天内给出处理意见", "客户多次来电催问，请加快处理", "")
SATISFIED_FEEDBACK = ("客户认可处理结果", "客户表示满意，感谢及时处理", "客户对处理速度满意", "客户认可赔偿方案")
UNSATISFIED_FEEDBACK = ("客户认为赔偿不足", "客户反映问题仍未彻底解决", "客户对处理时间过长不满")
SIGN_COMMENTS = ("处理及时，同意结案", "请注意总结同类问题", "回访记录完整", "同意")
RETURN_COMMENTS = ("请补充调查情况和原因", "处理结果写得不够具体，请补充", "请补填答复客户的时间和方式")
SECOND_MEASURES = ("二次上门复查并更换相关部件", "提高补偿标准", "安排技术主管跟进")
CHANNELS = Pick([c.value for c in Channel if c is not Channel.REFERRED], (50, 15, 3, 5, 20))
ANONYMOUS_CHANNELS = Pick((Channel.PHONE.value, Channel.LETTER.value, Channel.ONLINE.value), (4, 3, 5))
REPLY_WAYS = Pick(("电话", "当面", "书面", "短信", "邮件", "微信"), (50, 15, 10, 10, 5, 10))
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰华红建国文辉玲萍鹏飞斌宇浩凯健俊帆旭宁林欣晨瑞博雪琳晶"
MOBILE_PREFIXES = ("130", "133", "135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "177",
                    "180", "181", "186", "187", "188", "189", "199")


def person_name(rng: random.Random) -> str:
    given = GIVEN[rng.randrange(len(GIVEN))]
    if rng.random() < 0.7:
        given += GIVEN[rng.randrange(len(GIVEN))]
    return SURNAMES[rng.randrange(len(SURNAMES))] + given


def mobile(rng: random.Random) -> str:
    return MOBILE_PREFIXES[rng.randrange(len(MOBILE_PREFIXES))] + f"{rng.randrange(100_000_000):08d}"


def fake_pdf(title: str) -> bytes:
    """A tiny but well-formed one-page PDF showing ``title`` (ASCII), for demo attachments."""
    safe = "".join(ch for ch in title if 32 <= ord(ch) < 127 and ch not in "()\\")
    stream = f"BT /F1 14 Tf 72 760 Td ({safe}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
         b"/Resources << /Font << /F1 5 0 R >> >> >>"),
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


