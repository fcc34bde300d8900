"""Demo complaints (演示投诉): ``demo --complaints N`` fills the complaint register of a demo office.

Every complaint is *replayed* through the same steps as :mod:`huifang_desktop.services.complaints` —
register, repeats, accept, save_handling, finish_handling with its closing-visit plan, the closing visit
(a numbered 回访记录表 through the visit calendar when the complaint has a customer file, else kept on the
complaint), close, withdraw, reply, convert, escalate_overdue, chase, attach — with the same deadlines
(:func:`~huifang_desktop.domain.complaints.deadlines`, the office's policy and work calendar), routing,
numbers, event texts and plan keys, each step at a realistic moment before ``ctx.now()``. What the services
would store is written directly as rows (Core ``insert()`` executemany, explicit ids, one transaction per
batch), so 50,000 complaints take seconds, not the minutes 50,000 service calls would.

The mix: about 70 % 投诉 (some converted from a 咨询/建议, some reopened by a customer who rejected the
result of an earlier one, some anonymous or reply-only closing with a 答复函 or a shared 公开信, some
repeated 2–3 times), 20 % 咨询, 10 % 建议; severities 80/15/5 %. Older complaints are mostly 已关闭 (some
late: 查办), a few 已撤销; recent ones are 待受理 / 处理中 / 待回访; a share of steps run late, so those
complaints were escalated (逾期升级, handler moved one level up) and chased (催办) as the program would have
done at each start; complaints still overdue now are escalated already, so the next start finds nothing
new to escalate.

Numbers: 投诉/咨询/建议 numbers come from the same counters as ``register`` (``complaint:<kind>:<scope>``),
continued from their current values and left at the last serial used. 回访记录表 numbers (HF + date +
serial) are given per batch inside its transaction from the ``visit:<yyyymmdd>`` counters (and never below
a number already in ``visit_record``), so they continue after any visit generator that ran before, and
``record_visit`` continues after them.

Everything is reproducible for a seed and the database it starts from (users, customers, settings).
"""

from __future__ import annotations

import hashlib
import json
import random
from bisect import bisect, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Integer, bindparam, cast, func, insert, select, text, update

from huifang_desktop.domain.complaints import (
    Channel,
    ComplaintPolicy,
    ComplaintState,
    Deadlines,
    MessageKind,
    Severity,
    closing_outcome,
    closing_visit_due,
    closing_visit_role,
    current_deadline,
    deadlines,
    escalated_role,
    format_complaint_number,
    handler_role,
    needs_chase,
    needs_closing_visit,
    sequence_scope,
)
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, Role
from huifang_desktop.domain.schedule import Assignee, PlannedVisit, RuleSet, follow_up, plan_key
from huifang_desktop.domain.signoff import ReviewKind, SignOff, content_hash, signature_hash
from huifang_desktop.domain.visits import (
    SatisfactionScale,
    VisitMethod,
    VisitResult,
    VisitType,
    format_visit_number,
)
from huifang_desktop.domain.workcal import WorkCalendar
from huifang_desktop.services.complaints import CLOSING_RULE, load_policy
from huifang_desktop.services.context import SYSTEM_USER, ServiceContext
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.services.policy import load_scale, work_calendar
from huifang_desktop.services.visits import load_rules
from huifang_desktop.storage.chain import chain_rows
from huifang_desktop.storage.models import (
    Attachment,
    AuditLog,
    Complaint,
    ComplaintAttachment,
    ComplaintEvent,
    ComplaintOccurrence,
    Counter,
    Customer,
    Department,
    User,
    VisitPlan,
    VisitRecord,
)

DEMO_ACTION = "生成演示数据"  # services.demo's audit action (not imported from there: demo calls this module)
NEVER = 10 ** 6  # a step delay that never comes (the complaint stays at that stage)
_FAR = datetime(9999, 1, 1)
_KIND_PREFIX = {MessageKind.CONSULTATION: "ZX", MessageKind.SUGGESTION: "JY"}  # as services.complaints
_PENDING_PLAN, _DONE_PLAN, _CANCELLED_PLAN = "待回访", "已回访", "已取消"
_STATES = {s.value: s for s in ComplaintState}
_REVIEW_PENDING, _REVIEW_RETURNED, _REVIEW_SIGNED = "待审阅", "退回", "已签字"  # as services.complaints / review
_ANALYZED = ("complaint", "complaint_event", "complaint_occurrence", "visit_plan", "visit_record")

T = TypeVar("T")
ProgressFn = Callable[[int, int], bool | None]


@dataclass(frozen=True, slots=True)
class ComplaintDemoProfile:
    """Sizes and shares of the demo complaint register; every number here is a default to change."""

    years: int = 3  # complaints received over the last N years
    batch_size: int = 5000  # complaints per transaction (with their occurrences, events, visits, files)
    kind_shares: tuple[float, float, float] = (0.70, 0.20, 0.10)  # 投诉, 咨询, 建议
    severity_shares: tuple[float, float, float] = (0.80, 0.15, 0.05)  # 一般, 重要, 重大 (of 投诉)
    customer_share: float = 0.75  # linked to a customer file (the others: walk-ins, passers-by)
    anonymous_share: float = 0.04
    reply_only_share: float = 0.03  # 上级转办, only a written reply asked
    special_share: float = 0.03  # 特殊情况: the longer handling limit
    repeat_shares: tuple[float, float] = (0.06, 0.02)  # complained about 2 and 3 times
    withdraw_share: float = 0.03
    linked_share: float = 0.02  # a customer rejecting an earlier result (new complaint linked to it)
    converted_share: float = 0.03  # 投诉 that came in as a 咨询 or 建议 and were converted
    late_share: float = 0.05  # one step takes far longer than its deadline (overdue, escalated, 查办)
    late_workdays: tuple[int, int] = (3, 25)
    stuck_share: float = 0.004  # never finished: still open however old (long overdue, escalated, chased)
    unreached_share: float = 0.08  # first closing-visit call not answered
    unsatisfied_share: float = 0.06  # first closing visit not satisfied: handled again
    pending_close_share: float = 0.25  # 重要/重大 closing visits recorded by a clerk: wait for the handler
    direct_handling_share: float = 0.3  # handling written straight from 待受理 (takes it on)
    chase_share: float = 0.6  # overdue complaints a supervisor chases (催办)
    chase_every_workdays: int = 5  # and chases again while it stays overdue
    chase_max: int = 6  # 催办 per missed deadline at most
    scanned_letter_share: float = 0.3  # 信函 complaints whose letter is scanned in
    public_letter_every: int = 2500  # one 公开信 per N complaints (at least one from 50 on)
    public_letter_size: tuple[int, int] = (3, 8)  # complaints one 公开信 answers
    weekend_share: float = 0.03  # received on a non-working day (registered the next working day)
    after_hours_share: float = 0.06  # received after the office day
    review_workdays: int = 3  # closed complaints / closing-visit records older than this are signed (审阅签字)
    returned_share: float = 0.05  # of the newer ones, returned (退回) to the clerk with a reason
    comment_share: float = 0.2  # signed with a 指导意见
    recent_min: int = 10  # at least this many received in the last few working days (open ones)
    recent_workdays: int = 3
    work_start: time = time(8, 30)

    def validate(self) -> None:
        errors = []
        if self.years < 1:
            errors.append(FieldError("years", "投诉年数", "至少 1 年"))
        if self.batch_size < 1:
            errors.append(FieldError("batch_size", "每批投诉数", "至少 1"))
        if self.public_letter_size[0] < 1 or self.public_letter_size[0] > self.public_letter_size[1]:
            errors.append(FieldError("public_letter_size", "公开信投诉数", "范围无效"))
        if self.late_workdays[0] < 1 or self.late_workdays[0] > self.late_workdays[1]:
            errors.append(FieldError("late_workdays", "拖延工作日", "范围无效"))
        if errors:
            raise ValidationError(errors)


def generate_complaints(ctx: ServiceContext, count: int, *, seed: int = 1, progress: ProgressFn | None = None,
                        profile: ComplaintDemoProfile = ComplaintDemoProfile()) -> int:
    """Write ``count`` demo complaints (all kinds) into the office; returns how many were written.

    Needs the office's users (clerks, a supervisor, a manager: :func:`services.demo.generate_demo` makes
    them) and uses its customers when there are any. Rows continue after what the database holds (ids,
    number counters). ``progress(done, total)`` is called before the first batch and after every committed
    batch; when it returns False generation stops there (committed batches stay, counters consistent).
    """
    ctx.require(Permission.MANAGE_USERS, "生成演示数据")
    profile.validate()
    if count < 0:
        raise ValidationError(FieldError("complaints", "投诉数", "不能为负数"))
    policy, cal, scale, rules = load_policy(ctx), work_calendar(ctx), load_scale(ctx), load_rules(ctx)
    with ctx.engine.connect() as conn:
        office = _load_office(conn)
    if not office.staff:
        raise ServiceError("没有可处理投诉的用户（客服专员、主管或经理），请先生成演示客户和用户。")
    rng = random.Random(seed)
    now = ctx.now()
    env = _Env(rng=rng, profile=profile, policy=policy, cal=cal, scale=scale, rules=rules, now=now,
               office=office)
    specs = _draw_specs(env, count)
    gen = _Generator(env, office.next_ids, office.counters)
    done = 0
    if progress is not None and progress(0, count) is False:
        return 0
    for start in range(0, count, profile.batch_size):
        chunk = specs[start:start + profile.batch_size]
        batch = gen.build(chunk)
        with ctx.engine.begin() as conn:
            _write_batch(conn, batch, _audit_row(ctx, batch, seed))
        done += len(chunk)
        if progress is not None and progress(done, count) is False:
            break
    if done:
        with ctx.engine.begin() as conn:
            for table in _ANALYZED:
                conn.execute(text(f"ANALYZE {table}"))
    return done


# --- the office as it is ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Person:
    id: int
    name: str
    role: Role
    department_id: int | None


@dataclass(slots=True)
class _Ids:
    complaint: int
    occurrence: int
    event: int
    attachment: int
    plan: int
    record: int


@dataclass(slots=True)
class _Office:
    staff: list[_Person]  # active non-admin users, by id
    by_role: dict[Role, list[_Person]]
    people: dict[int, _Person]
    departments: list[str]
    # customers (not archived) ordered by 建档日期: parallel lists for a bisect on the day
    cust_days: list[int]
    cust_rows: list[tuple[int, int | None, int | None, str, str]]  # id, owner, department, contact, phone
    counters: dict[str, int]
    next_ids: _Ids
    cust_by_id: dict[int, tuple[int, int | None, int | None, str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cust_by_id = {r[0]: r for r in self.cust_rows}


def _load_office(conn: Connection) -> _Office:
    staff = [_Person(r.id, r.display_name or r.username, Role(r.role), r.department_id) for r in conn.execute(
        select(User.id, User.username, User.display_name, User.role, User.department_id)
        .where(User.active.is_(True), User.role != Role.ADMIN.value).order_by(User.id))]
    by_role: dict[Role, list[_Person]] = {r: [p for p in staff if p.role is r]
                                          for r in (Role.CLERK, Role.SUPERVISOR, Role.MANAGER)}
    departments = list(conn.execute(select(Department.name).order_by(Department.id)).scalars())
    days: list[int] = []
    rows: list[tuple[int, int | None, int | None, str, str]] = []
    for r in conn.execute(select(Customer.id, Customer.owner_id, Customer.department_id,
                                 Customer.primary_contact, Customer.primary_phone, Customer.created_on)
                          .where(Customer.archived.is_(False)).order_by(Customer.created_on, Customer.id)):
        days.append(r.created_on.toordinal())
        rows.append((r.id, r.owner_id, r.department_id, r.primary_contact or "", r.primary_phone or ""))
    counters = {name: int(value) for name, value in conn.execute(
        select(Counter.name, Counter.value).where(Counter.name.like("complaint:%")))}

    def next_id(column: Any) -> int:
        return int(conn.execute(select(func.coalesce(func.max(column), 0))).scalar() or 0) + 1

    ids = _Ids(next_id(Complaint.id), next_id(ComplaintOccurrence.id), next_id(ComplaintEvent.id),
               next_id(Attachment.id), next_id(VisitPlan.id), next_id(VisitRecord.id))
    return _Office(staff, by_role, {p.id: p for p in staff}, departments, days, rows, counters, ids)


def _pick_user(office: _Office, role: Role, department_id: int | None, prefer: Sequence[int | None] = ()
               ) -> int | None:
    """services.complaints._pick_user on the loaded users: a preferred one, one of the department, anyone."""
    people = office.by_role.get(role, [])
    ids = {p.id for p in people}
    for uid in prefer:
        if uid is not None and uid in ids:
            return uid
    for p in people:
        if p.department_id == department_id:
            return p.id
    return people[0].id if people else None


# --- vocabulary -------------------------------------------------------------------------------------------

class _Pick(Generic[T]):
    """A weighted choice drawn with one ``rng.random()``."""

    __slots__ = ("cum", "items")

    def __init__(self, items: Sequence[T], weights: Sequence[float] | None = None) -> None:
        self.items = tuple(items)
        self.cum = tuple(accumulate(weights if weights is not None else [1.0] * len(self.items)))

    def __call__(self, rng: random.Random) -> T:
        return self.items[min(bisect(self.cum, rng.random() * self.cum[-1]), len(self.items) - 1)]


# (主题, 内容, 调查情况, 原因, 处理措施, 处理结果) per default category
_CASES: dict[str, tuple[tuple[str, str, str, str, str, str], ...]] = {
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
_GENERIC_CASE = ("{category}问题", "客户反映{category}方面的问题。", "已核实客户反映的情况。", "内部管理不到位",
                 "整改并向客户说明", "已处理并答复客户")
_CONSULTATIONS = (
    ("整车保修期多久", "整车保修三年或十万公里，以先到者为准。"),
    ("首保需要带哪些资料", "请携带购车发票、保养手册和行驶证原件。"),
    ("挖掘机以旧换新政策", "目前以旧换新最高补贴三万元，具体以评估为准。"),
    ("分期付款首付比例", "首付最低百分之三十，可选一至三年分期。"),
    ("配件能否邮寄到外地", "可以，省内两天到货，运费到付。"),
    ("年检可以代办吗", "可以代办，需提前三天预约。"),
    ("驾驶员培训如何报名", "每月第一周开班，可电话或到店报名。"),
    ("续保有没有优惠", "老客户续保可享九折并赠送一次保养。"),
)
_SUGGESTIONS = (
    ("希望周末延长营业时间", "已采纳，自下月起周六营业至十八点。"),
    ("建议开设配件网上商城", "感谢建议，网上商城正在筹备，预计年内上线。"),
    ("希望维修进度短信通知", "已开通维修进度短信提醒。"),
    ("建议休息区增加充电插座", "已在客户休息区加装充电插座。"),
    ("建议提供上门保养服务", "已试点上门保养，欢迎预约。"),
)
_PUBLIC_TOPICS = (
    ("售后服务热线长时间占线", "服务态度", "关于售后服务热线接通问题的公开答复"),
    ("配件统一调价", "收费", "关于配件价格调整的说明"),
    ("厂区夜间试车噪音扰民", "其他", "关于夜间试车噪音问题的致歉信"),
)
_WITHDRAW_REASONS = ("投诉人来电撤回投诉", "重复登记，已并入其他投诉", "经核实非本公司产品", "客户与销售人员协商解决，自愿撤回",
                     "登记错误")
_MESSAGE_WITHDRAW_REASONS = ("客户已自行解决", "重复登记", "客户撤回")
_OCCURRENCE_NOTES = ("客户又到店反映", "客户再次来电催问", "客户在网上留言反映同一问题", "客户向其他部门反映同一问题", "")
_CHASE_NOTES = ("请尽快答复客户", "请今天内给出处理意见", "客户多次来电催问，请加快处理", "")
_SATISFIED_FEEDBACK = ("客户认可处理结果", "客户表示满意，感谢及时处理", "客户对处理速度满意", "客户认可赔偿方案")
_UNSATISFIED_FEEDBACK = ("客户认为赔偿不足", "客户反映问题仍未彻底解决", "客户对处理时间过长不满")
_SIGN_COMMENTS = ("处理及时，同意结案", "请注意总结同类问题", "回访记录完整", "同意")
_RETURN_COMMENTS = ("请补充调查情况和原因", "处理结果写得不够具体，请补充", "请补填答复客户的时间和方式")
_SECOND_MEASURES = ("二次上门复查并更换相关部件", "提高补偿标准", "安排技术主管跟进")
_CHANNELS = _Pick([c.value for c in Channel if c is not Channel.REFERRED], (50, 15, 3, 5, 20))
_ANONYMOUS_CHANNELS = _Pick((Channel.PHONE.value, Channel.LETTER.value, Channel.ONLINE.value), (4, 3, 5))
_REPLY_WAYS = _Pick(("电话", "当面", "书面", "短信", "邮件", "微信"), (50, 15, 10, 10, 5, 10))
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈姚卢"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰华红建国文辉玲萍鹏飞斌宇浩凯健俊帆旭宁林欣晨瑞博雪琳晶"
_MOBILE_PREFIXES = ("130", "133", "135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "177",
                    "180", "181", "186", "187", "188", "189", "199")


def _person_name(rng: random.Random) -> str:
    given = _GIVEN[rng.randrange(len(_GIVEN))]
    if rng.random() < 0.7:
        given += _GIVEN[rng.randrange(len(_GIVEN))]
    return _SURNAMES[rng.randrange(len(_SURNAMES))] + given


def _mobile(rng: random.Random) -> str:
    return _MOBILE_PREFIXES[rng.randrange(len(_MOBILE_PREFIXES))] + f"{rng.randrange(100_000_000):08d}"


def _fake_pdf(title: str) -> bytes:
    """A tiny but well-formed one-page PDF showing ``title`` (ASCII), for demo attachments."""
    safe = "".join(ch for ch in title if 32 <= ord(ch) < 127 and ch not in "()\\")
    stream = f"BT /F1 14 Tf 72 760 Td ({safe}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
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


# --- what each complaint will go through ------------------------------------------------------------------

@dataclass(slots=True)
class _Spec:
    received_at: datetime
    kind: MessageKind  # the kind it is registered as (a converted one starts as 咨询/建议)
    convert: bool = False  # a 咨询/建议 later converted into a 投诉
    severity: Severity = Severity.NORMAL
    customer: bool = True
    anonymous: bool = False
    reply_only: bool = False
    special: bool = False
    repeats: int = 0  # further occurrences (0–2)
    withdraw: bool = False
    withdraw_at_visit: bool = False  # withdrawn while waiting for the closing visit (its plan cancelled)
    linked: bool = False
    late_stage: str = ""  # accept / handle / visit / close / reply: that step takes late_days working days
    late_days: int = 0
    unreached: bool = False
    unsatisfied: bool = False
    pending_close: bool = False
    direct_handling: bool = False
    chase: bool = False
    cluster: int | None = None  # index into _Env.clusters (a shared 公开信)
    fast: bool = False  # every step minutes after the one before (a recent complaint left at one stage)
    pinned: bool = False  # set by _ensure_variety: kept out of the 公开信 groups


@dataclass(slots=True)
class _Cluster:
    topic: tuple[str, str, str]
    letter_at: datetime
    members: int
    attachment_id: int | None = None
    file: list[str] = field(default_factory=list)  # [sha256, name, kind] as the content hash lists it


@dataclass(slots=True)
class _Env:
    rng: random.Random
    profile: ComplaintDemoProfile
    policy: ComplaintPolicy
    cal: WorkCalendar
    scale: SatisfactionScale
    rules: RuleSet
    now: datetime
    office: _Office
    clusters: list[_Cluster] = field(default_factory=list)
    start_minutes: int = field(init=False)  # the office day, in minutes after midnight
    end_minutes: int = field(init=False)

    def __post_init__(self) -> None:
        self.start_minutes = self.profile.work_start.hour * 60 + self.profile.work_start.minute
        end = self.policy.workday_end
        self.end_minutes = max(end.hour * 60 + end.minute, self.start_minutes + 60)

    def moment(self, day: date) -> datetime:
        """A moment inside the office day ``day``."""
        minute = self.rng.randint(self.start_minutes, self.end_minutes - 10)
        return datetime.combine(day, time(minute // 60, minute % 60))

    def later(self, t: datetime, workdays: int) -> datetime:
        """``workdays`` working days after ``t`` (at a random office time), or for 0 a few minutes to hours
        later the same office day (the next working morning when the day is over)."""
        cal, rng = self.cal, self.rng
        if workdays >= NEVER:
            return _FAR
        if workdays > 0:
            return self.moment(cal.add_workdays(t.date(), workdays))
        cand = t + timedelta(minutes=rng.randint(5, 150))
        minute = cand.hour * 60 + cand.minute
        if cand.date() == t.date() and cal.is_workday(t.date()) and self.start_minutes <= minute \
                and minute < self.end_minutes:
            return cand
        day = t.date()
        if not (cal.is_workday(day) and t.hour * 60 + t.minute < self.start_minutes):
            day = cal.next_workday(day + timedelta(days=1))
        return datetime.combine(day, self.profile.work_start) + timedelta(minutes=rng.randint(1, 120))

    def escalation_moment(self, deadline: datetime, since: datetime) -> datetime:
        """When the program next started after ``deadline`` passed and the complaint had it (``since``): the
        next working morning (escalate_overdue runs at start), or now if that is still to come."""
        day = self.cal.next_workday(max(deadline, since).date() + timedelta(days=1))
        at = datetime.combine(day, self.profile.work_start) + timedelta(minutes=self.rng.randint(0, 40))
        return max(min(at, self.now), since) if deadline < self.now else at


def _draw_specs(env: _Env, count: int) -> list[_Spec]:
    """What happens to each of the ``count`` complaints, ordered by receipt; reproducible for the seed."""
    rng, p, cal, now = env.rng, env.profile, env.cal, env.now
    today = now.date()
    first = today - timedelta(days=p.years * 365)
    days = [first + timedelta(days=i) for i in range((today - first).days + 1)]
    offdays = [d for d in days if not cal.is_workday(d)]
    workdays = [d for d in days if cal.is_workday(d)] or [today]
    recent = max(0, min(count, p.recent_min))
    recent_days = workdays[-p.recent_workdays:]
    times: list[datetime] = []
    for i in range(count):
        in_recent = i >= count - recent
        for _try in range(1000):
            if in_recent:
                at = env.moment(recent_days[rng.randrange(len(recent_days))])
            elif offdays and rng.random() < p.weekend_share:
                at = env.moment(offdays[rng.randrange(len(offdays))])
            else:
                day = workdays[rng.randrange(len(workdays))]
                if rng.random() < p.after_hours_share:
                    minute = rng.randint(env.end_minutes + 5, 21 * 60)
                    at = datetime.combine(day, time(minute // 60, minute % 60))
                else:
                    at = env.moment(day)
            if at <= now - timedelta(minutes=10):
                break
            in_recent = in_recent and _try < 20  # the office day has hardly begun: take an earlier day
        else:
            at = now - timedelta(minutes=10)
        times.append(at)
    times.sort()
    kinds = _Pick(tuple(MessageKind), p.kind_shares)
    severities = _Pick(tuple(Severity), p.severity_shares)
    specs = [_draw_spec(env, at, kinds(rng), severities) for at in times]
    _ensure_variety(env, specs)
    specs.sort(key=lambda s: s.received_at)
    _form_clusters(env, specs)
    return specs


def _draw_spec(env: _Env, at: datetime, kind: MessageKind, severities: _Pick[Severity]) -> _Spec:
    rng, p = env.rng, env.profile
    s = _Spec(received_at=at, kind=kind)
    s.customer = rng.random() < p.customer_share
    s.withdraw = rng.random() < p.withdraw_share
    s.chase = rng.random() < p.chase_share
    if rng.random() < p.late_share:
        s.late_days = rng.randint(*p.late_workdays)
        s.late_stage = "reply" if kind is not MessageKind.COMPLAINT else \
            ("accept", "handle", "handle", "visit", "close")[rng.randrange(5)]
    if kind is not MessageKind.COMPLAINT:
        return s
    if rng.random() < p.converted_share:
        s.kind = MessageKind.CONSULTATION if rng.random() < 0.75 else MessageKind.SUGGESTION
        s.convert = True
    s.severity = severities(rng)
    s.special = rng.random() < p.special_share
    roll = rng.random()
    s.repeats = 2 if roll < p.repeat_shares[1] else (1 if roll < sum(p.repeat_shares) else 0)
    roll = rng.random()
    if roll < p.anonymous_share:
        s.anonymous, s.customer = True, False
    elif roll < p.anonymous_share + p.reply_only_share:
        s.reply_only = True
    s.linked = not s.anonymous and not s.convert and rng.random() < p.linked_share
    s.unreached = rng.random() < p.unreached_share
    s.unsatisfied = not s.unreached and rng.random() < p.unsatisfied_share
    s.pending_close = s.severity is not Severity.NORMAL and rng.random() < p.pending_close_share
    s.direct_handling = rng.random() < p.direct_handling_share
    if rng.random() < p.stuck_share:
        s.late_stage, s.late_days = ("accept", "handle", "visit")[rng.randrange(3)], NEVER
    return s


# Recent complaints left at each open stage: (stage that never comes, kind, severity, working days back)
_OPEN_STAGES: tuple[tuple[str, MessageKind, Severity, int], ...] = (
    ("", MessageKind.COMPLAINT, Severity.NORMAL, 2),  # closed the same day: its 投诉处理表 waits for review
    ("visit", MessageKind.COMPLAINT, Severity.NORMAL, 1),  # 待回访, its plan in the calendar
    ("close", MessageKind.COMPLAINT, Severity.IMPORTANT, 1),  # 待回访, visit satisfied, waits for 主管 to close
    ("handle", MessageKind.COMPLAINT, Severity.IMPORTANT, 1),  # 处理中
    ("reply", MessageKind.CONSULTATION, Severity.NORMAL, 0),  # 咨询 not yet answered
    ("accept", MessageKind.COMPLAINT, Severity.NORMAL, 0),  # 待受理
)


def _ensure_variety(env: _Env, specs: list[_Spec]) -> None:
    """Make sure a small demo still shows every state and case: the newest complaints are left at each
    open stage, and a few older ones get each special case (a negligible change for a large demo)."""
    rng, cal, now = env.rng, env.cal, env.now
    n = len(specs)
    stages = _OPEN_STAGES[len(_OPEN_STAGES) - min(n, len(_OPEN_STAGES)):]  # the newest n: 待受理 first
    for s, (stage, kind, severity, back) in zip(specs[n - len(stages):], stages, strict=True):
        s.kind, s.severity, s.late_stage, s.late_days = kind, severity, stage, NEVER if stage else 0
        s.customer, s.fast, s.pinned, s.chase = True, True, True, False
        s.anonymous = s.reply_only = s.withdraw = s.convert = s.linked = s.special = False
        s.unreached = s.unsatisfied = s.direct_handling = False
        s.repeats = 0
        s.pending_close = stage == "close"
        day = now.date()
        since_start = (now.hour * 60 + now.minute) - env.start_minutes
        if back or not cal.is_workday(day) or since_start < 40:
            for _ in range(max(back, 1)):
                day -= timedelta(days=1)
                while not cal.is_workday(day):
                    day -= timedelta(days=1)
            minute = env.start_minutes + rng.randint(0, 90)
        else:
            minute = env.start_minutes + rng.randint(0, since_start - 25)
        s.received_at = datetime.combine(day, time(minute // 60, minute % 60))
    month_ago = now - timedelta(days=30)  # old enough to have gone through every step
    older = [i for i in range(n - len(stages)) if specs[i].kind is MessageKind.COMPLAINT
             and not specs[i].convert and specs[i].received_at < month_ago]
    if len(older) < 30:
        return
    cases: list[Callable[[_Spec], None]] = [
        lambda s: setattr(s, "withdraw", True),
        lambda s: setattr(s, "withdraw_at_visit", True),
        lambda s: (setattr(s, "anonymous", True), setattr(s, "customer", False)),
        lambda s: setattr(s, "reply_only", True),
        lambda s: (setattr(s, "repeats", 1), setattr(s, "late_stage", "visit"), setattr(s, "late_days", 6)),
        lambda s: (setattr(s, "repeats", 2), setattr(s, "late_stage", "visit"), setattr(s, "late_days", 8)),
        lambda s: setattr(s, "linked", True),
        lambda s: (setattr(s, "convert", True), setattr(s, "kind", MessageKind.CONSULTATION)),
        lambda s: setattr(s, "unsatisfied", True),
        lambda s: setattr(s, "unreached", True),
        lambda s: (setattr(s, "late_stage", "handle"), setattr(s, "late_days", 8)),
        lambda s: setattr(s, "severity", Severity.IMPORTANT),
        lambda s: setattr(s, "severity", Severity.MAJOR),
        lambda s: (setattr(s, "late_stage", "handle"), setattr(s, "late_days", NEVER),
                   setattr(s, "chase", True)),
        lambda s: (setattr(s, "severity", Severity.MAJOR), setattr(s, "pending_close", True)),
    ]
    for i, apply in zip(rng.sample(older, len(cases)), cases, strict=True):
        s = specs[i]
        s.anonymous = s.reply_only = s.withdraw = s.linked = s.unreached = s.unsatisfied = False
        s.repeats, s.late_stage, s.late_days = 0, "", 0
        s.customer, s.pinned = True, True
        apply(s)


def _form_clusters(env: _Env, specs: list[_Spec]) -> None:
    """Groups of anonymous complaints about one matter, answered together by one 公开信."""
    rng, p = env.rng, env.profile
    n = len(specs)
    if n < 50:
        return
    batch = p.batch_size
    for _ in range(max(1, n // p.public_letter_every)):
        size = rng.randint(*p.public_letter_size)
        for _try in range(50):
            start = rng.randrange(0, max(1, n - size))
            members = list(range(start, min(start + size, n)))
            if members[0] // batch == members[-1] // batch and not any(
                    specs[i].pinned or specs[i].cluster is not None for i in members):
                break
        else:
            continue
        topic = _PUBLIC_TOPICS[len(env.clusters) % len(_PUBLIC_TOPICS)]
        last = specs[members[-1]].received_at
        env.clusters.append(_Cluster(topic, env.moment(env.cal.add_workdays(last.date(), 2)), len(members)))
        for i in members:
            s = specs[i]
            s.kind, s.convert, s.cluster = MessageKind.COMPLAINT, False, len(env.clusters) - 1
            s.anonymous, s.customer, s.reply_only, s.linked, s.withdraw = True, False, False, False, False
            s.repeats, s.late_stage, s.late_days, s.severity = 0, "", 0, Severity.NORMAL


# --- one batch of rows ------------------------------------------------------------------------------------

@dataclass(slots=True)
class _Batch:
    complaints: list[dict[str, Any]] = field(default_factory=list)
    occurrences: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)  # numbered by _write_batch
    counters: dict[str, int] = field(default_factory=dict)  # complaint counters moved by this batch
    next_ids: _Ids | None = None


@dataclass(frozen=True, slots=True)
class _Closed:
    """A closed 投诉 a later complaint may be linked to (客户不认可处理结果)."""

    id: int
    number: str
    closed_at: datetime
    subject: str
    complainant: str
    phone: str
    customer_id: int | None
    category: str
    severity: Severity
    department_id: int | None


class _Generator:
    """Builds the rows of each batch; keeps the ids, number counters and closed complaints across batches."""

    def __init__(self, env: _Env, ids: _Ids, counters: dict[str, int]) -> None:
        self.env = env
        self.ids = ids
        self.counters = dict(counters)
        self.closed: list[_Closed] = []
        self.batch = _Batch()

    def build(self, specs: Sequence[_Spec]) -> _Batch:
        self.batch = _Batch()
        for spec in specs:
            _Case(self, spec).run()
        self.batch.next_ids = replace(self.ids)
        return self.batch

    # ids and numbers
    def new_id(self, table: str) -> int:
        value = getattr(self.ids, table)
        setattr(self.ids, table, value + 1)
        return value

    def number(self, kind: MessageKind, when: datetime) -> str:
        """services.complaints._number: the kind's pattern and the counter of its scope."""
        pattern = self.env.policy.number_pattern
        if kind in _KIND_PREFIX:
            pattern = _KIND_PREFIX[kind] + "{yyyymmdd}-{seq:03}"
        name = f"complaint:{kind.value}:{sequence_scope(pattern, when.date())}"
        serial = self.counters.get(name, 0) + 1
        self.counters[name] = self.batch.counters[name] = serial
        return format_complaint_number(pattern, when.date(), serial)

    def event(self, complaint_id: int, at: datetime, actor: _Person | None, action: str, *,
              from_state: str = "", to_state: str = "", note: str = "") -> None:
        self.batch.events.append({
            "id": self.new_id("event"), "complaint_id": complaint_id, "at": at,
            "user_id": actor.id if actor else None,
            "username": actor.name if actor else SYSTEM_USER.display_name, "action": action,
            "from_state": from_state, "to_state": to_state, "note": note})

    def linked_candidate(self, at: datetime) -> _Closed | None:
        window = timedelta(days=60)
        eligible = [c for c in self.closed[-300:] if c.closed_at < at - timedelta(hours=2)
                    and at - c.closed_at <= window]
        return eligible[self.env.rng.randrange(len(eligible))] if eligible else None


class _Case:
    """One complaint replayed step by step, as the services would have written it."""

    def __init__(self, gen: _Generator, spec: _Spec) -> None:
        self.g, self.s, self.env = gen, spec, gen.env
        self.rng = gen.env.rng
        self.ended = False
        self.extras: list[tuple[datetime, str]] = []  # repeats and withdrawal, by time
        self.plan: dict[str, Any] | None = None  # the current closing-visit plan row
        self.seen_reset_at: datetime | None = None
        # [(deadline, since), escalation moment, next 催办 moment, escalation done, 催办 so far]
        self.notice: list[Any] | None = None
        self.deadline_since = spec.received_at  # when the current deadline took effect
        self.c: dict[str, Any] = {}
        self.texts = ("", "", "", "", "", "")
        self.customer: tuple[int, int | None, int | None, str, str] | None = None
        self.registrar: _Person = gen.env.office.staff[0]
        self.files: list[list[str]] = []  # [sha256, name, kind] of the attached files (content hash)

    # --- helpers ----------------------------------------------------------------------------------------
    def person(self, user_id: int | None) -> _Person | None:
        return self.env.office.people.get(user_id) if user_id is not None else None

    def name(self, user_id: int | None) -> str:
        p = self.person(user_id)
        return p.name if p else ""

    def handler(self) -> _Person:
        """Who acts on the complaint: its handler, else someone of the handler's level."""
        p = self.person(self.c["handler_id"])
        if p is not None:
            return p
        office = self.env.office
        for role in (Role(self.c["handler_role"]), Role.MANAGER, Role.SUPERVISOR):
            if office.by_role.get(role):
                return office.by_role[role][0]
        return self.registrar

    def touch(self, at: datetime, actor: _Person | None = None, *, updated: bool = True) -> None:
        self.c["version"] += 1
        if updated:
            self.c["updated_at"] = at
        if actor is not None and actor.id == self.c["handler_id"]:
            self.c["escalation_seen"] = True  # the handler opened the register

    def event(self, at: datetime, actor: _Person | None, action: str, **kw: str) -> None:
        self.g.event(self.c["id"], at, actor, action, **kw)

    @property
    def state(self) -> ComplaintState:
        return _STATES[self.c["state"]]

    def refresh_deadline(self, at: datetime) -> None:
        c = self.c
        self.deadline_since = at
        visit_due = datetime.combine(c["visit_due"], self.env.policy.workday_end) if c["visit_due"] else None
        c["deadline"] = current_deadline(self.state, Deadlines(c["first_reply_due"], c["handling_due"]),
                                         visit_due)

    def move(self, at: datetime, actor: _Person, target: ComplaintState, action: str, note: str = "") -> None:
        before = self.c["state"]
        self.c["state"] = target.value
        if target is ComplaintState.CLOSED:
            self.c["closed_at"] = at
            self.c["review_status"] = _REVIEW_PENDING  # the closed 投诉处理表 goes to the supervisor's review
        self.refresh_deadline(at)
        self.touch(at, actor)
        self.event(at, actor, action, from_state=before, to_state=target.value, note=note)

    def delay(self, stage: str, weights: Sequence[float]) -> int:
        """Working days the step ``stage`` takes: drawn from ``weights`` (0, 1, 2 … days), or its delay."""
        if stage and self.s.late_stage == stage:
            return self.s.late_days
        return 0 if self.s.fast else self.pick(weights)

    def pick(self, weights: Sequence[float]) -> int:
        r = self.rng.random() * sum(weights)
        for i, w in enumerate(weights):
            r -= w
            if r < 0:
                return i
        return len(weights) - 1

    def step(self, t: datetime, stage: str, weights: Sequence[float]) -> datetime:
        """When the next step (``stage``) happens after ``t``."""
        days = self.delay(stage, weights)
        if days == 0 and self.s.fast:
            return t + timedelta(minutes=self.rng.randint(5, 40))
        return self.env.later(t, days)

    # --- the clock: everything due before ``t`` happens first -------------------------------------------
    def reach(self, t: datetime) -> bool:
        """Advance to ``t``: repeats, withdrawal, escalation and 催办 due before it happen first. False when
        ``t`` is after now or the complaint ended (the caller stops)."""
        if self.ended:
            return False
        limit = min(t, self.env.now)
        while self.extras and self.extras[0][0] <= limit:
            at, what = self.extras.pop(0)
            self.catch_up(at)
            if what == "withdraw":
                self.withdraw(at)
                self.ended = True
                return False
            self.add_occurrence(at)
        self.catch_up(limit)
        if t > self.env.now:
            self.ended = True
            return False
        return True

    def catch_up(self, t: datetime) -> None:
        """escalate_overdue at the first start after a missed deadline, and a supervisor's 催办 a working
        day later if it is still overdue then."""
        c, env = self.c, self.env
        deadline = c["deadline"]
        if self.state.is_final or deadline is None or deadline >= t:
            return
        notice = self.notice
        if notice is None or notice[0] != (deadline, self.deadline_since):
            start = env.escalation_moment(deadline, self.deadline_since)
            notice = self.notice = [(deadline, self.deadline_since), start, env.later(start, 1), False,
                                    0 if self.s.chase else NEVER]
        _key, start, chase_at, escalated, chases = notice
        if start > t:
            return
        if not escalated:
            notice[3] = True
            if (c["kind"] == MessageKind.COMPLAINT.value and env.policy.escalate_overdue
                    and c["handler_role"] != Role.MANAGER.value and c["escalated_deadline"] != deadline):
                self.escalate(start, deadline)
        while chases < env.profile.chase_max and chase_at < t and needs_chase(self.state, deadline, chase_at):
            self.chase(chase_at)
            chases += 1
            chase_at = env.later(chase_at, env.profile.chase_every_workdays)
        notice[2], notice[4] = chase_at, chases

    def escalate(self, at: datetime, deadline: datetime) -> None:
        c = self.c
        current = Role(c["handler_role"])
        up = escalated_role(current)
        if up is None:
            return
        new_handler = _pick_user(self.env.office, up, c["department_id"])
        old_name = self.name(c["handler_id"])
        c["handler_role"], c["escalation_level"] = up.value, c["escalation_level"] + 1
        if new_handler is not None:
            c["handler_id"] = new_handler
        c["escalated_at"], c["escalated_deadline"], c["escalation_seen"] = at, deadline, False
        self.seen_reset_at = at
        self.touch(at, updated=False)
        new_name = self.name(c["handler_id"])
        self.event(at, None, "逾期升级",
                   note=f"逾期（期限 {deadline:%Y-%m-%d %H:%M}）自动升级：{current.label} {old_name} → "
                        f"{up.label} {new_name or '（无此级别人员）'}")

    def chase(self, at: datetime) -> None:
        office = self.env.office
        chasers = office.by_role.get(Role.SUPERVISOR) or office.by_role.get(Role.MANAGER)
        if not chasers:
            return
        actor = chasers[self.rng.randrange(len(chasers))]
        c = self.c
        c["chase_count"] += 1
        c["escalation_seen"] = False
        self.seen_reset_at = at
        self.touch(at)
        text_ = _CHASE_NOTES[self.rng.randrange(len(_CHASE_NOTES))]
        self.event(at, actor, "催办", note=f"第 {c['chase_count']} 次催办" + (f"：{text_}" if text_ else ""))

    # --- the life of a complaint ------------------------------------------------------------------------
    def run(self) -> None:
        s, env = self.s, self.env
        reg_at = self.registration_moment(s.received_at)
        if reg_at > env.now:
            reg_at = max(s.received_at, env.now - timedelta(minutes=1))
        self.register(reg_at)
        if s.kind is MessageKind.COMPLAINT:
            self.plan_extras(reg_at)
            self.complaint_life(reg_at)
        else:
            self.message_life(reg_at)
        self.finish()

    def registration_moment(self, received: datetime) -> datetime:
        env = self.env
        minute = received.hour * 60 + received.minute
        if env.cal.is_workday(received.date()) and env.start_minutes <= minute < env.end_minutes:
            return received + timedelta(minutes=self.rng.randint(1, 15))
        return env.later(received, 0)

    def pick_customer(self, day: date) -> tuple[int, int | None, int | None, str, str] | None:
        office = self.env.office
        n = bisect_right(office.cust_days, day.toordinal())
        return office.cust_rows[self.rng.randrange(n)] if n else None

    def register(self, at: datetime) -> None:
        g, s, env, rng = self.g, self.s, self.env, self.rng
        office, policy = env.office, env.policy
        clerks = office.by_role.get(Role.CLERK) or office.staff
        self.registrar = clerks[rng.randrange(len(clerks))] if rng.random() < 0.9 or not \
            office.by_role.get(Role.SUPERVISOR) else office.by_role[Role.SUPERVISOR][0]
        if s.pinned and s.late_stage == "accept" and office.by_role.get(Role.SUPERVISOR):
            self.registrar = office.by_role[Role.SUPERVISOR][0]  # taken by the supervisor: not yet seen
        kind = s.kind
        linked = g.linked_candidate(s.received_at) if s.linked else None
        channel = Channel.REFERRED.value if s.reply_only else (
            _ANONYMOUS_CHANNELS(rng) if s.anonymous else _CHANNELS(rng))
        category, severity = "", Severity.NORMAL
        if kind is MessageKind.COMPLAINT:
            category = policy.categories[rng.randrange(len(policy.categories))]
            severity = s.severity
        if s.cluster is not None:
            topic = env.clusters[s.cluster].topic
            category = topic[1] if topic[1] in policy.categories else category
            subject, content = topic[0], f"反映{topic[0]}的问题。"
            self.texts = (subject, content, "已核实反映的情况。", "管理不到位", "统一整改并发布公开信说明",
                          "已发布公开信答复")
        elif kind is MessageKind.COMPLAINT:
            self.texts = self.case_texts(category)
            subject, content = self.texts[0], self.texts[1]
        else:
            pool = _CONSULTATIONS if kind is MessageKind.CONSULTATION else _SUGGESTIONS
            subject, reply = pool[rng.randrange(len(pool))]
            content = f"客户询问：{subject}。" if kind is MessageKind.CONSULTATION else f"客户建议：{subject}。"
            self.texts = (subject, content, "", "", "", reply)
        complainant, phone, customer_id, dep = "", "", None, None
        if linked is not None:
            complainant, phone, customer_id, dep = linked.complainant, linked.phone, linked.customer_id, \
                linked.department_id
            category, severity = linked.category, linked.severity
            subject, content = f"（不认可处理结果）{linked.subject}"[:200], f"客户不认可投诉 {linked.number} 的处理结果。"
            self.texts = (subject, content, f"复查投诉 {linked.number} 的处理情况。", "原处理方案未能解决客户的问题",
                          "重新制定处理方案并由主管跟进", "已按新方案处理完毕")
            self.customer = office.cust_by_id.get(customer_id) if customer_id is not None else None
        elif not s.anonymous:
            self.customer = self.pick_customer(s.received_at.date()) if s.customer else None
            if self.customer is not None:
                customer_id, complainant, phone, dep = self.customer[0], self.customer[3], self.customer[4], \
                    self.customer[2]
                complainant = complainant or _person_name(rng)
            else:
                complainant, phone = _person_name(rng), _mobile(rng)
        dep = dep or self.registrar.department_id
        role = handler_role(severity, policy)
        prefer: list[int | None] = []
        if role is Role.CLERK:
            prefer = [self.customer[1] if self.customer else None, self.registrar.id]
        elif self.registrar.role is role:
            prefer = [self.registrar.id]
        handler = _pick_user(office, role, dep, prefer)
        dl = deadlines(s.received_at, kind, severity, policy, env.cal, special=s.special)
        cid = g.new_id("complaint")
        self.c = c = {
            "id": cid, "number": g.number(kind, s.received_at), "kind": kind.value,
            "received_at": s.received_at, "channel": channel, "complainant": complainant,
            "anonymous": s.anonymous, "phone": phone, "customer_id": customer_id, "subject": subject,
            "content": content, "category": category, "severity": severity.value, "special": s.special,
            "reply_only": s.reply_only, "department_id": dep,
            "handler_id": handler, "handler_role": role.value, "state": ComplaintState.PENDING.value,
            "first_reply_due": dl.first_reply, "handling_due": dl.handling, "deadline": dl.first_reply,
            "accepted_at": None, "investigation": "", "cause": "", "measures": "", "result": "",
            "replied_at": None, "reply_way": "", "reply_text": "", "handled_at": None, "visit_round": 0,
            "visit_plan_id": None, "visit_due": None, "visit_record_id": None, "visited_at": None,
            "visit_satisfied": None, "satisfaction": "", "visit_note": "", "closed_at": None,
            "withdraw_reason": "", "escalation_level": 0, "escalated_at": None, "escalated_deadline": None,
            "escalation_seen": handler == self.registrar.id, "chase_count": 0,
            "linked_to_id": linked.id if linked else None, "converted_from": "", "occurrences": 1,
            "created_by_id": self.registrar.id, "created_at": at, "updated_at": at, "review_status": "",
            "supervisor_comment": "", "signed_by_id": None, "signed_at": None, "signed_role": "",
            "content_hash": "", "signature_hash": "", "revision": 0, "version": 1,
        }
        self.deadline_since = at
        if not c["escalation_seen"]:
            self.seen_reset_at = at
        g.batch.complaints.append(c)
        g.batch.occurrences.append({
            "id": g.new_id("occurrence"), "complaint_id": cid, "received_at": s.received_at,
            "channel": channel,
            "complainant": complainant, "phone": phone, "received_by": self.registrar.name, "note": "",
            "created_by_id": self.registrar.id, "created_at": at})
        note = f"负责人：{self.name(handler) or '（未指定）'}（{role.label}），处理期限 {dl.handling:%Y-%m-%d %H:%M}"
        if linked is not None:
            note += f"；客户不认可 {linked.number} 的处理结果"
            g.event(linked.id, at, self.registrar, "客户不认可", note=f"新投诉 {c['number']}")
        self.event(at, self.registrar, f"登记{kind.value}", to_state=c["state"], note=note)
        if channel == Channel.LETTER.value and rng.random() < env.profile.scanned_letter_share:
            scanned_at = at + timedelta(minutes=rng.randint(1, 4))  # before any next step (≥ 5 min)
            if scanned_at <= env.now:
                self.attach(scanned_at, self.registrar, "扫描件", f"来信扫描件-{c['number']}.pdf")

    def case_texts(self, category: str) -> tuple[str, str, str, str, str, str]:
        cases = _CASES.get(category)
        if not cases:
            return tuple(t.format(category=category) for t in _GENERIC_CASE)  # type: ignore[return-value]
        return cases[self.rng.randrange(len(cases))]

    def plan_extras(self, reg_at: datetime) -> None:
        s, env, rng = self.s, self.env, self.rng
        t = reg_at
        for _ in range(s.repeats):
            t = env.later(t, rng.randint(0, 3))
            self.extras.append((t, "repeat"))
        if s.withdraw:
            self.extras.append((env.later(reg_at, rng.randint(0, 3)), "withdraw"))
        self.extras.sort()

    def add_occurrence(self, at: datetime) -> None:
        g, c, rng = self.g, self.c, self.rng
        office = self.env.office
        channel = _CHANNELS(rng)
        received = at - timedelta(minutes=rng.randint(1, 30))
        received = max(received, c["received_at"])
        clerks = office.by_role.get(Role.CLERK) or office.staff
        actor = clerks[rng.randrange(len(clerks))]
        by = office.departments[rng.randrange(len(office.departments))] if office.departments and \
            rng.random() < 0.6 else actor.name
        note = _OCCURRENCE_NOTES[rng.randrange(len(_OCCURRENCE_NOTES))]
        g.batch.occurrences.append({
            "id": g.new_id("occurrence"), "complaint_id": c["id"], "received_at": received,
            "channel": channel,
            "complainant": c["complainant"], "phone": c["phone"], "received_by": by, "note": note,
            "created_by_id": actor.id, "created_at": at})
        c["occurrences"] += 1
        self.touch(at, actor)
        self.event(at, actor, "重复投诉",
                   note=f"第 {c['occurrences']} 次，{channel}，{received:%Y-%m-%d %H:%M}"
                        + (f"：{note}" if note else ""))

    def complaint_life(self, t: datetime) -> None:
        s, env, rng = self.s, self.env, self.rng
        if s.cluster is not None:
            self.public_letter_life(t, env.clusters[s.cluster])
            return
        t = self.step(t, "accept", (0.65, 0.35))
        if not self.reach(t):
            return
        if not (s.direct_handling and s.late_stage != "handle"):
            self.accept(t)
            t = self.step(t, "handle", (0.35, 0.4, 0.2, 0.05))
            if not self.reach(t):
                return
        self.save_handling(t, second=False)
        if not needs_closing_visit(s.anonymous, s.reply_only):  # the reply letter instead of a visit
            t = self.step(t, "", (1,))
            if not self.reach(t):
                return
            self.attach(t, self.handler(), "答复函", f"答复函-{self.c['number']}.pdf")
            t = self.step(t, "close", (0.6, 0.4))
            if self.reach(t):
                self.close(t, self.handler(), "已附答复函")
            return
        t = self.step(t, "", (0.8, 0.2))
        if not self.reach(t):
            return
        self.finish_handling(t)
        t = self.step(t, "visit", (0.45, 0.45, 0.1))
        if s.withdraw_at_visit:
            if self.reach(t):
                self.withdraw(t)
            return
        if s.unreached:
            if not self.reach(t):
                return
            self.closing_visit(t, reached=False, satisfied=None)
            t = self.step(t, "", (0.3, 0.7))
        if s.unsatisfied:
            if not self.reach(t):
                return
            self.closing_visit(t, reached=True, satisfied=False)
            t = env.later(t, rng.randint(1, 3))
            if not self.reach(t):
                return
            self.save_handling(t, second=True)
            t = self.step(t, "", (1,))
            if not self.reach(t):
                return
            self.finish_handling(t)
            t = self.step(t, "", (0.3, 0.5, 0.2))
        if not self.reach(t):
            return
        if not self.closing_visit(t, reached=True, satisfied=True, by_clerk=s.pending_close):
            t = self.step(t, "close", (0.6, 0.4))
            if self.reach(t):
                self.close(t, self.handler(), "结案回访满意")

    def public_letter_life(self, t: datetime, cluster: _Cluster) -> None:
        """Anonymous complaints about one matter: handled before the 公开信 goes out, closed after it."""
        t = self.env.later(t, 0)
        if not self.reach(t):
            return
        self.accept(t)
        span = max((cluster.letter_at - t).total_seconds(), 600.0)
        t = min(t + timedelta(seconds=span * self.rng.uniform(0.3, 0.9)),
                cluster.letter_at - timedelta(minutes=5))
        if not self.reach(t):
            return
        self.save_handling(t, second=False)
        if not self.reach(cluster.letter_at):
            return
        self.attach_public_letter(cluster)
        t = self.env.later(cluster.letter_at, self.rng.randint(0, 1))
        if self.reach(t):
            self.close(t, self.handler(), "已附答复函")

    def message_life(self, t: datetime) -> None:
        s, env, rng = self.s, self.env, self.rng
        if s.convert:
            t = self.step(t, "", (0.6, 0.4))
            if not self.reach(t):
                return
            self.convert(t)
            self.plan_extras(t)
            self.complaint_life(t)
            return
        if s.withdraw:
            self.extras.append((env.later(t, rng.randint(0, 1)), "withdraw"))
        if s.kind is MessageKind.CONSULTATION:
            t = self.step(t, "reply", (0.8, 0.2))
        else:
            t = self.step(t, "reply", (0, 0.3, 0.3, 0.25, 0.15))
        if self.reach(t):
            self.reply(t)

    # --- the services' steps ----------------------------------------------------------------------------
    def accept(self, at: datetime) -> None:
        actor = self.handler()
        self.c["accepted_at"] = at
        self.move(at, actor, ComplaintState.IN_PROGRESS, "受理")

    def save_handling(self, at: datetime, *, second: bool) -> None:
        c, s, rng = self.c, self.s, self.rng
        actor = self.handler()
        _subject, _content, investigation, cause, measures, result = self.texts
        changed = []
        if second:
            extra = _SECOND_MEASURES[rng.randrange(len(_SECOND_MEASURES))]
            new = {"measures": f"{measures}；{extra}", "result": f"{result}；{extra}"}
        else:
            new = {"investigation": investigation, "cause": cause, "measures": measures, "result": result}
            if s.reply_only:
                new["reply_text"] = f"已书面答复上级转办部门：{result}"
        replied, way = None, ""
        if not s.anonymous:
            way = "书面" if s.reply_only else _REPLY_WAYS(rng)
            replied = max(at - timedelta(minutes=rng.randint(0, 90)), c["received_at"])
            new["replied_at"], new["reply_way"] = replied, way
        labels = {"investigation": "调查情况", "cause": "原因", "measures": "处理措施", "result": "处理结果",
                  "reply_text": "答复内容", "replied_at": "答复时间", "reply_way": "答复方式"}
        for key in labels:  # the order services.complaints.save_handling lists them in
            if key in new and new[key] != c[key]:
                changed.append(key)
                c[key] = new[key]
        if self.state is ComplaintState.PENDING:  # writing down the handling takes the complaint on
            c["accepted_at"] = at
            self.move(at, actor, ComplaintState.IN_PROGRESS, "受理")
        else:
            self.touch(at, actor)
        if "replied_at" in changed and replied is not None:
            self.event(at, actor, "答复客户", note=f"{replied:%Y-%m-%d %H:%M} {way}")
        self.event(at, actor, "处理记录", note="修改：" + "、".join(labels[k] for k in changed))

    def finish_handling(self, at: datetime) -> None:
        c, env = self.c, self.env
        actor = self.handler()
        due = closing_visit_due(at, env.policy, env.cal)
        c["handled_at"], c["visit_due"] = at, due
        c["visit_satisfied"], c["visited_at"], c["satisfaction"] = None, None, ""
        c["visit_round"] += 1
        plan = self.plan_closing_visit(at, due)
        note = f"结案回访 {due:%Y-%m-%d} 前"
        if plan is not None:
            note += f"，回访人：{self.name(plan['owner_id'])}"
        elif c["customer_id"] is None:
            note += "（投诉人无客户档案，回访在投诉处理表中登记）"
        self.move(at, actor, ComplaintState.AWAITING_VISIT, "办结转回访", note)

    def plan_closing_visit(self, at: datetime, due: date) -> dict[str, Any] | None:
        c, env = self.c, self.env
        if c["customer_id"] is None:
            c["visit_plan_id"] = None
            return None
        role = closing_visit_role(Severity(c["severity"]), env.policy)
        owner = c["handler_id"] if c["handler_id"] and Role(c["handler_role"]).rank >= role.rank else None
        if owner is None:
            owner = _pick_user(env.office, role, c["department_id"],
                               [self.customer[1] if self.customer else None])
        existing = self.plan
        if existing is not None and existing["state"] == _PENDING_PLAN:
            existing["due"], existing["earliest"] = due, min(existing["earliest"], due)
            existing["owner_id"], existing["manual"] = owner, True
            existing["version"] += 1
            return existing
        key = plan_key(f"complaint:{c['id']}", CLOSING_RULE, c["visit_round"])
        plan = {"id": self.g.new_id("plan"), "customer_id": c["customer_id"], "source_key": key,
                "rule_key": CLOSING_RULE, "visit_type": VisitType.COMPLAINT.value,
                "method": VisitMethod.PHONE.value,
                "earliest": at.date(), "due": due, "owner_id": owner, "attempt": 1, "state": _PENDING_PLAN,
                "cancel_reason": "", "manual": False, "done_on": None, "record_id": None, "created_at": at,
                "version": 1}
        self.g.batch.plans.append(plan)
        self.plan = plan
        c["visit_plan_id"] = plan["id"]
        return plan

    def closing_visit(self, at: datetime, *, reached: bool, satisfied: bool | None, by_clerk: bool = False
                      ) -> bool:
        """Record the closing visit (回访记录表 on the plan, or on the complaint without a customer file) and
        apply it as apply_closing_visit_in does. True when the complaint got closed by it."""
        c, env, rng, g = self.c, self.env, self.rng, self.g
        plan = self.plan if self.plan is not None and self.plan["state"] == _PENDING_PLAN else None
        visitor = self.person(plan["owner_id"]) if plan is not None else None
        visitor = visitor or self.handler()
        clerks = env.office.by_role.get(Role.CLERK)
        if by_clerk and plan is not None and clerks:  # the calendar lets any clerk record it
            owner = self.person(self.customer[1]) if self.customer else None
            visitor = owner if owner is not None and owner.role is Role.CLERK \
                else clerks[rng.randrange(len(clerks))]
        visited_at = max(at - timedelta(minutes=rng.randint(3, 30)), c["handled_at"] + timedelta(minutes=1))
        scale = env.scale
        satisfaction = ""
        if reached:
            good = [lv for lv in scale.levels if lv in scale.satisfied]
            bad = [lv for lv in scale.levels if lv not in scale.satisfied]
            options = good if satisfied else bad
            satisfaction = options[0] if len(options) == 1 else options[min(self.pick((0.5, 0.4, 0.1)),
                                                                            len(options) - 1)]
        feedback = "" if not reached else (_SATISFIED_FEEDBACK if satisfied else _UNSATISFIED_FEEDBACK)[
            rng.randrange(len(_SATISFIED_FEEDBACK if satisfied else _UNSATISFIED_FEEDBACK))]
        record_id, next_plan = None, None
        if plan is not None:
            content = f"投诉 {c['number']} 结案回访" + ("" if reached else "，电话无人接听")
            note = "；".join(t_ for t_ in (feedback, content) if t_)
            result = VisitResult.SUCCESS if reached else VisitResult.NO_ANSWER
            record_id = g.new_id("record")
            g.batch.records.append({
                "id": record_id, "number": "", "plan_id": plan["id"], "customer_id": plan["customer_id"],
                "contact_name": self.customer[3] if self.customer else c["complainant"],
                "contact_phone": self.customer[4] if self.customer else c["phone"],
                "visit_type": VisitType.COMPLAINT.value, "method": plan["method"], "visited_at": visited_at,
                "visitor_id": visitor.id, "content": content, "feedback": feedback, "problems": "",
                "measures": "", "satisfaction": satisfaction, "handling": "", "transfer_department": "",
                "transfer_due": None, "transfer_done_at": None, "transfer_answer": "", "next_visit_on": None,
                "result": result.value, "customer_signed": False, "created_at": at, "revision": 0,
                "version": 1, **self.review(visited_at, at, visitor.id, c["department_id"])})
            plan["state"], plan["done_on"], plan["record_id"] = _DONE_PLAN, visited_at.date(), record_id
            plan["version"] += 1
            next_plan = self.follow_up_plan(plan, result, satisfied if reached else None, visited_at, at)
        else:
            note = feedback
        # apply_closing_visit_in
        c["visit_record_id"] = record_id
        if next_plan is not None:
            c["visit_plan_id"] = next_plan["id"]
            self.plan = next_plan
        self.touch(at, visitor)
        if not reached:
            c["visit_note"] = note
            again = f"已安排再次回访 {next_plan['due']:%Y-%m-%d}" if next_plan else "请再次回访"
            self.event(at, visitor, "结案回访", note=f"未能联系上客户，{again}")
            return False
        c["visited_at"], c["visit_satisfied"] = visited_at, bool(satisfied)
        c["satisfaction"], c["visit_note"] = satisfaction, note
        self.event(at, visitor, "结案回访", note=(satisfaction or ("满意" if satisfied else "不满意"))
                   + (f"：{note}" if note else ""))
        if closing_outcome(bool(satisfied)) is ComplaintState.IN_PROGRESS:
            c["visit_due"] = next_plan["due"] if next_plan is not None else None
            self.move(at, visitor, ComplaintState.IN_PROGRESS, "回访不满意退回",
                      "客户不满意，退回处理中" + (f"；已安排再次回访 {next_plan['due']:%Y-%m-%d}" if next_plan else ""))
            return False
        required = handler_role(Severity(c["severity"]), env.policy)
        if visitor.role.rank >= required.rank:
            self.move(at, visitor, ComplaintState.CLOSED, "关闭", "结案回访满意")
            self.closed_now()
            return True
        self.event(at, visitor, "待关闭", note=f"回访满意，待{required.label}审核关闭")
        return False

    def follow_up_plan(self, plan: dict[str, Any], result: VisitResult, satisfied: bool | None,
                       visited_at: datetime, at: datetime) -> dict[str, Any] | None:
        """visits._plan_follow_ups: the next attempt after a visit that did not reach or satisfy."""
        env = self.env
        previous = PlannedVisit(rule_key=plan["rule_key"], visit_type=VisitType(plan["visit_type"]),
                                method=VisitMethod(plan["method"]), earliest=plan["earliest"],
                                due=plan["due"], who=Assignee.OWNER, source_key=plan["source_key"],
                                attempt=plan["attempt"])
        nxt = follow_up(result, satisfied, plan["attempt"], visited_at.date(), env.rules, env.cal,
                        previous=previous, origin=f"record:{plan['record_id']}")
        if nxt is None:
            return None
        new = {"id": self.g.new_id("plan"), "customer_id": plan["customer_id"], "source_key": nxt.source_key,
               "rule_key": nxt.rule_key, "visit_type": nxt.visit_type.value, "method": nxt.method.value,
               "earliest": nxt.earliest, "due": nxt.due, "owner_id": plan["owner_id"], "attempt": nxt.attempt,
               "state": _PENDING_PLAN, "cancel_reason": "", "manual": False, "done_on": None,
               "record_id": None, "created_at": at, "version": 1}
        self.g.batch.plans.append(new)
        return new

    def close(self, at: datetime, actor: _Person, note: str) -> None:
        self.move(at, actor, ComplaintState.CLOSED, "关闭", note)
        self.closed_now()

    def closed_now(self) -> None:
        c = self.c
        if c["kind"] == MessageKind.COMPLAINT.value and not c["anonymous"]:
            self.g.closed.append(_Closed(c["id"], c["number"], c["closed_at"], c["subject"], c["complainant"],
                                         c["phone"], c["customer_id"], c["category"], Severity(c["severity"]),
                                         c["department_id"]))
            if len(self.g.closed) > 2000:
                del self.g.closed[:1000]

    def withdraw(self, at: datetime) -> None:
        c, rng = self.c, self.rng
        actor = self.handler()
        if c["kind"] == MessageKind.COMPLAINT.value:
            reason = _WITHDRAW_REASONS[rng.randrange(len(_WITHDRAW_REASONS))]
        else:
            reason = _MESSAGE_WITHDRAW_REASONS[rng.randrange(len(_MESSAGE_WITHDRAW_REASONS))]
        c["withdraw_reason"] = reason[:200]
        self.move(at, actor, ComplaintState.WITHDRAWN, "撤销", reason)
        plan = self.plan
        if plan is not None and plan["state"] == _PENDING_PLAN:
            plan["state"], plan["cancel_reason"] = _CANCELLED_PLAN, f"投诉已撤销：{reason}"[:200]
            plan["version"] += 1

    def reply(self, at: datetime) -> None:
        c = self.c
        actor = self.handler()
        way = _REPLY_WAYS(self.rng) if c["kind"] == MessageKind.SUGGESTION.value else (
            "电话" if self.rng.random() < 0.7 else "当面")
        text_ = self.texts[5]
        before = c["state"]
        c["reply_text"], c["reply_way"], c["replied_at"], c["result"] = text_, way, at, text_
        c["state"], c["closed_at"], c["deadline"] = ComplaintState.CLOSED.value, at, None
        self.touch(at, actor)
        self.event(at, actor, "答复", from_state=before, to_state=c["state"], note=f"{way}：{text_[:80]}")

    def convert(self, at: datetime) -> None:
        """convert_to_complaint: a complaint number, severity, routing and deadlines counted from now."""
        c, s, env, rng, g = self.c, self.s, self.env, self.rng, self.g
        policy = env.policy
        actor = self.handler()
        old_number, old_kind = c["number"], c["kind"]
        category = policy.categories[rng.randrange(len(policy.categories))]
        severity = s.severity
        role = handler_role(severity, policy)
        dep = c["department_id"] or actor.department_id
        prefer: list[int | None] = []
        if role is Role.CLERK:
            prefer = [self.customer[1] if self.customer else None, actor.id]
        elif actor.role is role:
            prefer = [actor.id]
        handler = _pick_user(env.office, role, dep, prefer)
        dl = deadlines(at, MessageKind.COMPLAINT, severity, policy, env.cal, special=s.special)
        self.texts = self.case_texts(category)
        c.update(kind=MessageKind.COMPLAINT.value, severity=severity.value, category=category,
                 number=g.number(MessageKind.COMPLAINT, at), converted_from=old_number,
                 handler_role=role.value, handler_id=handler, department_id=dep,
                 first_reply_due=dl.first_reply, handling_due=dl.handling,
                 state=ComplaintState.PENDING.value, escalation_level=0, escalated_deadline=None)
        self.refresh_deadline(at)
        self.touch(at, actor)
        self.event(at, actor, "转为投诉", to_state=c["state"],
                   note=f"由{old_kind} {old_number} 转为投诉，负责人：{self.name(handler)}")

    def attach(self, at: datetime, actor: _Person, kind: str, name: str) -> None:
        g, c = self.g, self.c
        data = _fake_pdf(f"Huifang demo - {name.rsplit('-', 1)[-1]}")
        aid = g.new_id("attachment")
        g.batch.attachments.append({
            "id": aid, "name": name, "kind": kind, "mime": "application/pdf", "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(), "data": data, "created_by_id": actor.id,
            "created_at": at})
        g.batch.links.append({"complaint_id": c["id"], "attachment_id": aid})
        self.files.append([g.batch.attachments[-1]["sha256"], name, kind])
        self.touch(at, actor)
        self.event(at, actor, "添加附件", note=f"{kind}：{name}")

    def attach_public_letter(self, cluster: _Cluster) -> None:
        """One 公开信 attached to all the cluster's complaints (attach() with several ids)."""
        g, env = self.g, self.env
        at = cluster.letter_at
        office = env.office
        actor = (office.by_role.get(Role.SUPERVISOR) or office.by_role.get(Role.MANAGER) or office.staff)[0]
        size = cluster.members
        name = f"公开信-{cluster.topic[2]}.pdf"
        if cluster.attachment_id is None:
            data = _fake_pdf(f"Huifang demo - public letter {at:%Y-%m-%d}")
            cluster.attachment_id = g.new_id("attachment")
            g.batch.attachments.append({
                "id": cluster.attachment_id, "name": name, "kind": "公开信", "mime": "application/pdf",
                "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "data": data,
                "created_by_id": actor.id, "created_at": at})
            cluster.file = [g.batch.attachments[-1]["sha256"], name, "公开信"]
        g.batch.links.append({"complaint_id": self.c["id"], "attachment_id": cluster.attachment_id})
        self.files.append(cluster.file)
        self.touch(at, actor)
        self.event(at, actor, "添加附件", note=f"公开信：{name}" + (f"（同时附于 {size} 件投诉）" if size > 1 else ""))

    def review(self, day_of: datetime, ready_at: datetime, owner_id: int | None, department_id: int | None
               ) -> dict[str, Any]:
        """审阅: signed by a supervisor (or the manager; never the item's own clerk) a few working days after
        ``day_of`` once older than ``review_workdays``, else still 待审阅, a few 退回 with the reason. The hashes
        of a signed item are filled by :func:`_sign` (records: once numbered)."""
        env, rng = self.env, self.rng
        p = env.profile
        out: dict[str, Any] = {"status": _REVIEW_PENDING, "supervisor_comment": "", "signed_by_id": None,
                               "signed_at": None, "signed_role": "", "content_hash": "", "signature_hash": ""}
        signer = _signer(env.office, owner_id, department_id)
        if signer is None:
            return out
        if env.cal.add_workdays(day_of.date(), p.review_workdays + 1) <= env.now.date():  # older than that
            day = env.cal.add_workdays(day_of.date(), rng.randint(1, 3))
            signed_at = datetime.combine(day, time(14, 0)) + timedelta(minutes=rng.randrange(240))
            comment = _SIGN_COMMENTS[rng.randrange(len(_SIGN_COMMENTS))] \
                if rng.random() < p.comment_share else ""
            out.update(status=_REVIEW_SIGNED, supervisor_comment=comment, signed_by_id=signer.id,
                       signed_at=min(max(signed_at, ready_at + timedelta(minutes=5)), env.now),
                       signed_role=signer.role.value)
        elif rng.random() < p.returned_share and not self.s.pinned:
            out.update(status=_REVIEW_RETURNED,
                       supervisor_comment=_RETURN_COMMENTS[rng.randrange(len(_RETURN_COMMENTS))])
        return out

    def finish(self) -> None:
        """At the end: what was overdue got escalated at the program's last start; the handler has seen the
        escalation / 催办 notices of all but the last day or two."""
        c = self.c
        if not self.state.is_final:
            self.ended = False
            self.reach(self.env.now)
        if self.state is ComplaintState.CLOSED and c["review_status"] == _REVIEW_PENDING:
            review = self.review(c["closed_at"], c["closed_at"], c["handler_id"], c["department_id"])
            c.update(review_status=review.pop("status"), **review)
            if c["review_status"] != _REVIEW_PENDING:
                c["version"] += 1
            if c["review_status"] == _REVIEW_SIGNED:
                _sign(ReviewKind.COMPLAINT, c, {**c, "attachments": sorted(self.files)})
        if self.state.is_final:
            c["escalation_seen"] = True
        elif not c["escalation_seen"] and self.seen_reset_at is not None and \
                self.env.now - self.seen_reset_at > timedelta(days=2):
            c["escalation_seen"] = True


def _signer(office: _Office, owner_id: int | None, department_id: int | None) -> _Person | None:
    """Who signs an item: a supervisor of the department, else any supervisor, else the manager — never the
    item's own clerk (review_rules.allow_self_sign is off by default)."""
    pool = [p for p in (*office.by_role.get(Role.SUPERVISOR, ()), *office.by_role.get(Role.MANAGER, ()))
            if p.id != owner_id]
    return next((p for p in pool if p.department_id == department_id), pool[0] if pool else None)


def _sign(kind: ReviewKind, row: dict[str, Any], values: dict[str, Any]) -> None:
    """The two hashes review.sign stores: the content's and the signature's (signer, role, time, comment)."""
    content = content_hash(kind, values)
    row["content_hash"] = content
    row["signature_hash"] = signature_hash(content, SignOff(row["signed_by_id"], row["signed_role"],
                                                            row["signed_at"], row["supervisor_comment"],
                                                            row["revision"]))


# --- writing ----------------------------------------------------------------------------------------------

_IN_CHUNK = 500  # names per IN (…) look-up


def _write_batch(conn: Connection, batch: _Batch, audit_row: dict[str, Any]) -> None:
    """Insert one batch in the caller's transaction: plans, numbered visit records, complaints and their rows,
    the counters moved to the last serials used, one audit row."""
    if batch.plans:
        conn.execute(insert(VisitPlan), batch.plans)
    if batch.records:
        _set_counters(conn, _number_records(conn, batch.records))
        for r in batch.records:
            if r["status"] == _REVIEW_SIGNED:  # the content hash covers the 编号
                _sign(ReviewKind.RECORD, r, r)
        conn.execute(insert(VisitRecord), batch.records)
    if batch.complaints:
        conn.execute(insert(Complaint), batch.complaints)
    if batch.occurrences:
        conn.execute(insert(ComplaintOccurrence), batch.occurrences)
    if batch.events:
        conn.execute(insert(ComplaintEvent), batch.events)
    if batch.attachments:
        conn.execute(insert(Attachment), batch.attachments)
    if batch.links:
        conn.execute(insert(ComplaintAttachment), batch.links)
    _set_counters(conn, batch.counters)
    chain_rows(conn, [audit_row])
    conn.execute(insert(AuditLog), [audit_row])
    if batch.next_ids is not None:
        _sync_sequences(conn, batch.next_ids)


def _number_records(conn: Connection, records: list[dict[str, Any]]) -> dict[str, int]:
    """回访记录表 numbers as record_visit gives them (HF + visit date + the day's serial from the counter
    ``visit:<yyyymmdd>``), continuing after the counters and after any number already stored for the day.
    Returns the counters' new values."""
    days = sorted({r["visited_at"].date() for r in records})
    names = [f"visit:{d:%Y%m%d}" for d in days]
    last = _counter_values(conn, names)
    serial_of = cast(func.substr(VisitRecord.number, 12), Integer)
    day_of = func.substr(VisitRecord.number, 3, 8)
    stored = conn.execute(select(day_of, func.max(serial_of))
                          .where(VisitRecord.number >= f"HF{days[0]:%Y%m%d}-",
                                 VisitRecord.number < f"HF{days[-1]:%Y%m%d}.").group_by(day_of))
    for day, serial in stored:
        name = f"visit:{day}"
        if serial is not None:
            last[name] = max(last.get(name, 0), int(serial))
    for r in sorted(records, key=lambda r: (r["visited_at"], r["id"])):
        name = f"visit:{r['visited_at']:%Y%m%d}"
        last[name] = last.get(name, 0) + 1
        r["number"] = format_visit_number(r["visited_at"].date(), last[name])
    return {name: last[name] for name in names}


def _counter_values(conn: Connection, names: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in range(0, len(names), _IN_CHUNK):
        out.update((n, int(v)) for n, v in conn.execute(
            select(Counter.name, Counter.value).where(Counter.name.in_(names[i:i + _IN_CHUNK]))))
    return out


def _set_counters(conn: Connection, values: dict[str, int]) -> None:
    """Move each counter to ``values[name]`` (never backwards), creating missing ones."""
    if not values:
        return
    current = _counter_values(conn, sorted(values))
    updates = [{"k": n, "v": v} for n, v in values.items() if n in current and v > current[n]]
    inserts = [{"name": n, "value": v} for n, v in values.items() if n not in current]
    if updates:
        conn.execute(update(Counter).where(Counter.name == bindparam("k")).values(value=bindparam("v")),
                     updates)
    if inserts:
        conn.execute(insert(Counter), inserts)


def _sync_sequences(conn: Connection, ids: _Ids) -> None:
    """PostgreSQL: move the id sequences past the explicit ids (SQLite needs nothing)."""
    if conn.dialect.name != "postgresql":
        return
    for table, next_id in (("complaint", ids.complaint), ("complaint_occurrence", ids.occurrence),
                           ("complaint_event", ids.event), ("attachment", ids.attachment),
                           ("visit_plan", ids.plan), ("visit_record", ids.record)):
        conn.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v, false)"),
                     {"t": table, "v": next_id})


def _audit_row(ctx: ServiceContext, batch: _Batch, seed: int) -> dict[str, Any]:
    """One audit row per batch instead of one per step."""
    kinds = {k.value: 0 for k in MessageKind}
    for c in batch.complaints:
        kinds[c["kind"]] += 1
    counts = {**kinds, "事件": len(batch.events), "回访计划": len(batch.plans), "回访记录": len(batch.records),
              "附件": len(batch.attachments)}
    label = f"{batch.complaints[0]['number']}–{batch.complaints[-1]['number']}" if batch.complaints else ""
    return {
        "at": ctx.now(), "user_id": ctx.user.id or None, "username": ctx.user.username, "action": DEMO_ACTION,
        "entity": "complaint", "entity_id": None, "label": label[:200], "old": None,
        "new": json.dumps(counts, ensure_ascii=False, sort_keys=True), "note": f"演示投诉（种子 {seed}）",
    }


__all__ = ["DEMO_ACTION", "ComplaintDemoProfile", "generate_complaints"]
