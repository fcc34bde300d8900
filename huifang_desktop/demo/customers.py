"""Customer files of the demo office: names, contacts, purchases and grades, written in batches.

The builders (``_customer_row``, ``_contact_rows``, ``_purchase_rows``, ``batch_audit_row``) append plain
dicts to a ``_Batch``; ``write_batch`` inserts a numbered batch with SQLAlchemy Core in the caller's
transaction. Codes come from :func:`huifang_desktop.domain.customers.format_customer_code` and grades from
:func:`~huifang_desktop.domain.customers.grade_by_volume`, as ``services.customers`` gives them.
"""

from __future__ import annotations

import json
import random
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from itertools import accumulate
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, func, insert, select, text, update

from huifang_desktop.demo.profile import DemoProfile
from huifang_desktop.domain.customers import (
    GRADES_ABCD,
    GradeThresholds,
    format_customer_code,
    grade_by_volume,
    pinyin_initials,
)
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.settings import OfficeSettings
from huifang_desktop.storage import phone_index
from huifang_desktop.storage.chain import chain_rows
from huifang_desktop.storage.models import AuditLog, Contact, Counter, Customer, Purchase

DEMO_ACTION = "生成演示数据"  # the audit action of every demo batch
CUSTOMER_COUNTER = "customer"  # the counter row register_customer draws 客户编号 from
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Owner:
    id: int
    department_id: int | None


# --- vocabulary -----------------------------------------------------------------------------------------


class _Pick(Generic[T]):
    """A weighted choice drawn with one ``rng.random()`` (much cheaper than ``rng.choices`` per row)."""

    __slots__ = ("cum", "items")

    def __init__(self, items: Sequence[T], weights: Sequence[float] | None = None) -> None:
        if not items:
            raise ValueError("empty choice")
        self.items = tuple(items)
        self.cum = tuple(accumulate(weights if weights is not None else [1.0] * len(self.items)))

    def __call__(self, rng: random.Random) -> T:
        return self.items[bisect(self.cum, rng.random() * self.cum[-1])]


# Surnames in rough order of frequency; the weight falls off with the rank.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_SURNAME = _Pick(_SURNAMES, [1 / (rank + 8) for rank in range(len(_SURNAMES))])
_GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰华红建国文辉玲萍鹏飞斌宇浩凯健俊帆旭宁林欣晨瑞博雪琳晶"
    "梅丹波峰鑫志海燕春玉东亮成立新云婷慧佳嘉倩颖子涵轩怡思雨睿泽然宏德福祥荣生发宝忠永庆全昌胜利清松兵"
)

# Hangzhou districts (区域) with some of their streets, weighted by how many customers live there.
_DISTRICTS: dict[str, tuple[float, tuple[str, ...]]] = {
    "上城区": (9, ("解放路", "延安路", "庆春路", "望江路", "秋涛路", "钱江路", "江城路")),
    "拱墅区": (10, ("莫干山路", "湖墅南路", "上塘路", "丽水路", "石祥路", "登云路", "大关路")),
    "西湖区": (11, ("文三路", "天目山路", "古墩路", "教工路", "西溪路", "留下街", "文二西路")),
    "滨江区": (7, ("江南大道", "滨盛路", "长河路", "网商路", "江虹路", "滨安路")),
    "萧山区": (14, ("市心路", "人民路", "金城路", "北干山路", "萧绍路", "通惠路", "建设一路")),
    "余杭区": (12, ("文一西路", "五常大道", "良睦路", "仓前街", "龙舟路", "余杭塘路")),
    "临平区": (8, ("迎宾路", "世纪大道", "临平大道", "星桥路", "南苑街")),
    "钱塘区": (7, ("下沙路", "文泽路", "学林街", "青六路", "义蓬街")),
    "富阳区": (6, ("金桥路", "桂花路", "江滨西大道", "富春街")),
    "临安区": (5, ("钱王街", "衣锦街", "万马路", "城中街")),
    "桐庐县": (4, ("迎春南路", "白云源路", "开元街")),
    "建德市": (4, ("新安路", "严州大道", "府前路")),
    "淳安县": (3, ("新安东路", "环湖北路", "睦州路")),
}
_DISTRICT = _Pick(list(_DISTRICTS), [w for w, _ in _DISTRICTS.values()])
_HOUSING = ("小区", "花园", "家园", "公寓", "新村", "苑")

# 单位 names: [place] + 字号 (two characters) + trade; the trade gives the 行业. The place is the city, the
# province or the customer's own district (萧山… for a firm in 萧山区).
_PLACES = _Pick(("", "杭州", "浙江", "district"), (30, 30, 12, 28))
_BRAND_CHARS = (
    "恒达宏远鑫源华通金桥永盛天宇嘉禾瑞丰广新城东方中联万家正泰德胜隆昌鼎安兴旺富强明辉宝龙顺发鹰振协力众诚汇"
    "开元图创大地蓝青山绿光世腾飞海纳锦程信和合星辰洲润泽成伟业骏豪晟"
)
_TRADES: tuple[tuple[str, str, float], ...] = (  # (name ending, 行业, weight)
    ("物流有限公司", "物流运输", 12),
    ("运输有限公司", "物流运输", 10),
    ("汽车运输队", "物流运输", 4),
    ("货运代理有限公司", "物流运输", 3),
    ("供应链管理有限公司", "物流运输", 3),
    ("建设工程有限公司", "建筑施工", 9),
    ("建筑工程有限公司", "建筑施工", 6),
    ("土石方工程有限公司", "建筑施工", 5),
    ("市政工程有限公司", "市政工程", 4),
    ("园林绿化工程有限公司", "市政工程", 2),
    ("工程机械有限公司", "工程机械", 6),
    ("机械设备租赁有限公司", "设备租赁", 5),
    ("设备租赁部", "设备租赁", 2),
    ("汽车销售服务有限公司", "汽车销售", 4),
    ("商贸有限公司", "商贸", 5),
    ("建材商行", "建材", 3),
    ("混凝土有限公司", "建材", 3),
    ("矿业有限公司", "矿山开采", 2),
    ("石料厂", "矿山开采", 2),
    ("农业开发有限公司", "农业", 2),
    ("环卫服务有限公司", "环卫", 2),
    ("搬家服务部", "物流运输", 2),
)
_TRADE = _Pick([t[:2] for t in _TRADES], [t[2] for t in _TRADES])
_PERSON_INDUSTRY = _Pick(("个体运输", "个体工程", "农业", ""), (40, 25, 10, 25))

_COMPANY_TITLES = _Pick(
    (
        "总经理",
        "副总经理",
        "采购经理",
        "车队队长",
        "设备主管",
        "财务主管",
        "办公室主任",
        "项目经理",
        "老板",
        "调度",
    ),
    (12, 5, 10, 10, 8, 5, 5, 6, 6, 4),
)
_PERSON_EXTRA_TITLES = _Pick(("家属", "司机", "合伙人"), (5, 4, 1))

_MOBILE_PREFIXES = _Pick(
    (
        "130",
        "131",
        "132",
        "133",
        "134",
        "135",
        "136",
        "137",
        "138",
        "139",
        "150",
        "151",
        "152",
        "153",
        "155",
        "156",
        "157",
        "158",
        "159",
        "166",
        "173",
        "176",
        "177",
        "178",
        "180",
        "181",
        "182",
        "183",
        "185",
        "186",
        "187",
        "188",
        "189",
        "191",
        "193",
        "195",
        "198",
        "199",
    )
)
_LANDLINE_AREA = "0571"
_LANDLINE_FIRST = "88865"  # Hangzhou local numbers mostly start with 8, some with 6 or 5
_EMAIL_DOMAINS = _Pick(("163.com", "126.com", "sina.com", "139.com"), (5, 2, 1, 1))

_CATEGORY_WEIGHTS = {"经销商": 18.0, "终端客户": 37.0, "业主": 10.0, "普通": 35.0}
_PERSON_CATEGORY_WEIGHTS = {"经销商": 0.0, "终端客户": 35.0, "业主": 25.0, "普通": 40.0}
_SOURCE_WEIGHTS = {"主动寻找": 25.0, "网络": 20.0, "地图": 8.0, "转介绍": 25.0, "来访": 17.0, "其他": 5.0}
_STATUSES = ("正常", "暂停", "流失", "注销")

_NOTES = (
    "老客户，关注售后响应速度。",
    "车队规模在扩大，明年有换车计划。",
    "要求每季度上门巡检一次。",
    "付款及时，信誉好。",
    "对配件价格比较敏感。",
    "由老客户转介绍。",
    "工地在外地，联系前先电话预约。",
    "曾投诉交车延误，已妥善处理。",
    "希望增加夜间服务。",
    "多次参加厂家活动，意向强。",
)
_PIN_REASONS = {
    "A": ("集团战略客户，经理批准按 A 级服务。", "重点工程项目合作方，保持 A 级。"),
    "B": ("新签框架协议，预计年采购量 60 台以上。", "区域标杆客户，按 B 级跟进。"),
    "C": ("采购集中在下半年，暂按 C 级。", "新客户，试用期内按 C 级回访。"),
    "D": ("长期欠款，暂停优先服务。", "已转投其他品牌，仅保留记录。"),
}

# (product, 规格型号 options, unit price range in yuan, warranty in days or 0, weight for 单位, for 个人)
_PRODUCTS: tuple[tuple[str, tuple[str, ...], int, int, int, float, float], ...] = (
    ("轻型卡车", ("JX1041TG26", "HFC1043P91", "BJ1045V9JD"), 85_000, 160_000, 730, 22, 45),
    ("中型卡车", ("CA1160P62K1", "EQ1168GLJ"), 180_000, 260_000, 730, 12, 12),
    ("重型卡车", ("ZZ1257N4347", "SX1250MB434"), 330_000, 480_000, 730, 8, 4),
    ("牵引车", ("SX4250MB4", "ZZ4257V324"), 380_000, 520_000, 730, 8, 4),
    ("自卸车", ("ZZ3257N3847", "SX3255DR384"), 300_000, 450_000, 730, 10, 8),
    ("挖掘机", ("SY215C", "XE215DA", "SY75C"), 280_000, 1_200_000, 1095, 12, 6),
    ("装载机", ("LW500FN", "ZL50GN"), 260_000, 420_000, 1095, 7, 3),
    ("叉车", ("CPCD30", "CPD25"), 60_000, 150_000, 365, 6, 2),
    ("配件", ("发动机总成", "变速箱总成", "轮胎 12R22.5", "滤清器套装", "液压泵"), 500, 60_000, 180, 10, 12),
)
_PRODUCT_COMPANY = _Pick(_PRODUCTS, [p[5] for p in _PRODUCTS])
_PRODUCT_PERSON = _Pick(_PRODUCTS, [p[6] for p in _PRODUCTS])


def _weighted_from(options: Sequence[str], weights: dict[str, float]) -> _Pick[str]:
    """A pick over the office's configured list; labels the defaults do not know get an average weight."""
    known = [w for w in weights.values() if w > 0]
    default = sum(known) / len(known) if known else 1.0
    picked = [(o, weights.get(o, default)) for o in options]
    if not any(w > 0 for _, w in picked):
        picked = [(o, 1.0) for o in options]
    return _Pick([o for o, _ in picked], [w for _, w in picked])


def _char_initials(name: str) -> str:
    """Initials from each character's cached initials: good enough for an e-mail address, and cheap."""
    return "".join(pinyin_initials(ch) for ch in name)


def person_name(rng: random.Random) -> str:
    given = _GIVEN[rng.randrange(len(_GIVEN))]
    if rng.random() < 0.7:
        given += _GIVEN[rng.randrange(len(_GIVEN))]
    return _SURNAME(rng) + given


# --- generator state ------------------------------------------------------------------------------------


@dataclass(slots=True)
class CustomerGenerator:
    """Everything the per-entity builders share: the seeded RNG, the office, and what is already used."""

    rng: random.Random
    profile: DemoProfile
    settings: OfficeSettings
    today: date
    owners: tuple[Owner, ...]
    total: int
    used_names: set[str] = field(default_factory=set)  # 单位 names are unique, as registered companies are
    used_phones: set[str] = field(default_factory=set)
    # the categories the visit options name end customers, and an RNG of its own for their ledger gaps (so
    # the main stream, and every other row of a seed, stays as it was)
    end_categories: frozenset[str] = frozenset(("终端客户",))
    ledger_rng: random.Random | None = None
    categories: _Pick[str] = field(init=False)
    person_categories: _Pick[str] = field(init=False)
    sources: _Pick[str] = field(init=False)
    statuses: _Pick[str] = field(init=False)
    grades: _Pick[str] = field(init=False)
    contact_counts: _Pick[int] = field(init=False)

    def __post_init__(self) -> None:
        p, s = self.profile, self.settings
        self.categories = _weighted_from(s.categories, _CATEGORY_WEIGHTS)
        self.person_categories = _weighted_from(s.categories, _PERSON_CATEGORY_WEIGHTS)
        self.sources = _weighted_from(s.sources, _SOURCE_WEIGHTS) if s.sources else _Pick([""])
        self.statuses = _Pick(_STATUSES, p.status_shares)
        self.grades = _Pick(GRADES_ABCD, p.grade_shares)
        self.contact_counts = _Pick((1, 2, 3), p.contact_count_shares)

    def mobile(self) -> str:
        rng = self.rng
        while True:
            number = _MOBILE_PREFIXES(rng) + f"{rng.randrange(100_000_000):08d}"
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    def landline(self, *, office: bool) -> str:
        """A normalised landline: ``0571`` + 8 digits, sometimes ``x`` + extension, or a 400 number."""
        rng, p = self.rng, self.profile
        while True:
            if office and rng.random() < p.service_number_share:
                number = f"400{rng.randrange(10_000_000):07d}"
            else:
                number = (
                    f"{_LANDLINE_AREA}{_LANDLINE_FIRST[rng.randrange(len(_LANDLINE_FIRST))]}"
                    f"{rng.randrange(10_000_000):07d}"
                )
                if office and rng.random() < p.extension_share:
                    number += f"x{rng.randint(801, 899)}"
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    def company_name(self, district: str) -> tuple[str, str, str]:
        """(name, pinyin initials, 行业) of a 单位 in ``district`` not yet used."""
        rng = self.rng
        while True:
            place = _PLACES(rng)
            if place == "district":
                place = district.removesuffix("区").removesuffix("县").removesuffix("市")
            brand = "".join(_BRAND_CHARS[rng.randrange(len(_BRAND_CHARS))] for _ in range(2))
            ending, industry = _TRADE(rng)
            name = place + brand + ending
            if name not in self.used_names:
                self.used_names.add(name)
                # Built from the cached initials of the parts: pinyin_initials on 60,000 whole names is the
                # slowest step of a large demo. tests/services/test_demo.py checks it equals the whole name's.
                initials = pinyin_initials(place) + pinyin_initials(brand) + pinyin_initials(ending)
                return name, initials, industry

    def address(self, district: str, *, person: bool) -> str:
        rng = self.rng
        street = rng.choice(_DISTRICTS[district][1])
        if person:
            estate = street[:2] + _HOUSING[rng.randrange(len(_HOUSING))]
            return (
                f"杭州市{district}{street}{rng.randint(1, 600)}号{estate}{rng.randint(1, 30)}幢"
                f"{rng.randint(1, 4)}单元{rng.randint(1, 28)}{rng.randint(1, 4):02d}室"
            )
        tail = f"{rng.randint(1, 20)}楼" if rng.random() < 0.3 else ""
        return f"杭州市{district}{street}{rng.randint(1, 1200)}号{tail}"


# --- one batch ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Ids:
    """The next free primary key of each table the demo writes with explicit ids."""

    customer: int
    contact: int
    purchase: int


@dataclass(slots=True)
class _Batch:
    first_serial: int
    last_serial: int
    code_prefix: str
    customers: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    purchases: list[dict[str, Any]] = field(default_factory=list)
    next_ids: _Ids = _Ids(1, 1, 1)


def first_free_ids(conn: Connection) -> _Ids:
    def next_id(column: Any) -> int:
        return int(conn.execute(select(func.coalesce(func.max(column), 0))).scalar() or 0) + 1

    return _Ids(next_id(Customer.id), next_id(Contact.id), next_id(Purchase.id))


def _counter_value(conn: Connection) -> int:
    value = conn.execute(select(Counter.value).where(Counter.name == CUSTOMER_COUNTER)).scalar()
    return int(value or 0)


def build_batch(gen: CustomerGenerator, ids: _Ids, done: int, size: int) -> _Batch:
    """Rows for customers ``done .. done+size-1`` of the run; codes are given by ``number_batch``."""
    batch = _Batch(first_serial=0, last_serial=0, code_prefix=gen.settings.customer_code_prefix)
    contact_id, purchase_id = ids.contact, ids.purchase
    for i in range(size):
        customer_id = ids.customer + i
        row = _customer_row(gen, customer_id, done + i)
        contacts = _contact_rows(gen, row, contact_id)
        contact_id += len(contacts)
        purchases = _purchase_rows(gen, row, purchase_id)
        purchase_id += len(purchases)
        _ledger_gap(gen, row, contacts, purchases)
        _grade(gen, row)
        batch.customers.append(row)
        batch.contacts.extend(contacts)
        batch.purchases.extend(purchases)
    batch.next_ids = _Ids(ids.customer + size, contact_id, purchase_id)
    return batch


def _customer_row(gen: CustomerGenerator, customer_id: int, index: int) -> dict[str, Any]:
    """The customer file without code, contacts or grade (filled by the other builders)."""
    rng, p, today = gen.rng, gen.profile, gen.today
    span = p.years * 365
    # 建档日期 rises with the serial, as codes are handed out in order: the last file is from today.
    created_on = today - timedelta(days=span - (index * span) // max(gen.total - 1, 1))
    person = rng.random() < p.person_share
    district = _DISTRICT(rng)
    if person:
        name = person_name(rng)
        initials = pinyin_initials(name)
        industry = _PERSON_INDUSTRY(rng)
        category = gen.person_categories(rng)
        birthday = (
            date.fromordinal(rng.randint(_BIRTH_FIRST, _BIRTH_LAST))
            if rng.random() < p.birthday_share
            else None
        )
    else:
        name, initials, industry = gen.company_name(district)
        category = gen.categories(rng)
        birthday = None
    status = gen.statuses(rng)
    archived = status == "注销" or (status == "流失" and rng.random() < p.archived_lost_share)
    owner = gen.owners[rng.randrange(len(gen.owners))]
    updated_at = datetime.combine(created_on, _WORK_START) + timedelta(minutes=rng.randrange(540))
    return {
        "id": customer_id,
        "code": "",
        "name": name,
        "initials": initials,
        "kind": "个人" if person else "单位",
        "category": category,
        "grade": "D",
        "grade_pinned": False,
        "grade_reason": "",
        "annual_volume": 0,
        "address": gen.address(district, person=person),
        "region": district,
        "source": gen.sources(rng),
        "industry": industry,
        "birthday": birthday,
        "created_on": created_on,
        "status": status,
        "notes": _NOTES[rng.randrange(len(_NOTES))] if rng.random() < p.note_share else "",
        "owner_id": owner.id,
        "department_id": owner.department_id,
        "archived": archived,
        "primary_phone": "",
        "primary_contact": "",
        "version": 1,
        "updated_at": updated_at,
    }


_BIRTH_FIRST = date(1955, 1, 1).toordinal()
_BIRTH_LAST = date(2001, 12, 31).toordinal()
_WORK_START = clock_time(8, 30)


def _contact_rows(gen: CustomerGenerator, customer: dict[str, Any], first_id: int) -> list[dict[str, Any]]:
    """1–3 contacts, the first one primary; sets the customer's denormalised primary contact and phone."""
    rng, p = gen.rng, gen.profile
    person = customer["kind"] == "个人"
    rows: list[dict[str, Any]] = []
    for n in range(gen.contact_counts(rng)):
        if person:
            name = customer["name"] if n == 0 else person_name(rng)
            title = "本人" if n == 0 else _PERSON_EXTRA_TITLES(rng)
            mobile: str | None = gen.mobile()
            phone = gen.landline(office=False) if rng.random() < p.home_phone_share else None
            email = None
        else:
            name = person_name(rng)
            title = _COMPANY_TITLES(rng)
            mobile = gen.mobile() if rng.random() < p.mobile_share else None
            phone = gen.landline(office=True) if rng.random() < p.landline_share or mobile is None else None
            email = (
                f"{_char_initials(name)}{rng.randint(1, 999)}@{_EMAIL_DOMAINS(rng)}"
                if rng.random() < p.email_share
                else None
            )
        rows.append(
            {
                "id": first_id + n,
                "customer_id": customer["id"],
                "name": name,
                "phone": phone,
                "mobile": mobile,
                "email": email,
                "title": title,
                "is_primary": n == 0,
            }
        )
    primary = rows[0]
    customer["primary_contact"] = primary["name"]
    customer["primary_phone"] = primary["mobile"] or primary["phone"] or ""
    return rows


def _ledger_gap(
    gen: CustomerGenerator,
    customer: dict[str, Any],
    contacts: list[dict[str, Any]],
    purchases: list[dict[str, Any]],
) -> None:
    """A few end customers who first bought in the last year still have no phone on file: their 终端客户信息台帐
    entry was never completed (联系人 and 电话 within 5 days of the first purchase, *001 §3.4*), which the 考核
    charges in the month that window closed."""
    rng = gen.ledger_rng
    if (
        rng is None
        or customer["category"] not in gen.end_categories
        or not purchases
        or purchases[0]["day"] <= gen.today - timedelta(days=365)
        or rng.random() >= gen.profile.ledger_incomplete_share
    ):
        return
    primary = contacts[0]
    for number in (primary["mobile"], primary["phone"]):
        if number:
            gen.used_phones.discard(number)
    primary["mobile"] = primary["phone"] = None
    customer["primary_phone"] = ""


def _volume_for(grade: str, t: GradeThresholds, rng: random.Random) -> int:
    """An annual volume that lands in ``grade`` under thresholds ``t`` (grade_by_volume decides anyway)."""
    bounds = {"A": (t.a, max(t.a * 3, t.a + 1)), "B": (t.b, t.a - 1), "C": (t.c, t.b - 1), "D": (0, t.c - 1)}
    low, high = bounds[grade]
    if grade == "D" and rng.random() < 0.4:
        return 0
    if grade == "A":  # a long tail of big fleets
        return min(high, low + int(rng.expovariate(1 / max(t.a * 0.4, 1))))
    return rng.randint(low, max(low, high))


def _purchase_rows(gen: CustomerGenerator, customer: dict[str, Any], first_id: int) -> list[dict[str, Any]]:
    """购货/交货 rows: inside the grading window they add up to a volume aimed at a grade (drawn from
    ``profile.grade_shares``), older ones do not count. Sets the customer's ``annual_volume``."""
    rng, p, today = gen.rng, gen.profile, gen.today
    window = gen.settings.grading_window_days
    since = today - timedelta(days=window)  # rows on or before this day are outside the window
    created_on: date = customer["created_on"]
    active = customer["status"] in ("正常", "暂停")
    volume = _volume_for(gen.grades(rng) if active else "D", gen.settings.thresholds, rng)
    if not active:
        volume = 0
    picks = _PRODUCT_PERSON if customer["kind"] == "个人" else _PRODUCT_COMPANY
    days: list[tuple[date, int]] = []
    if volume:
        count = min(volume, rng.randint(1, min(10, 2 + volume // 25)))
        cuts = sorted(rng.sample(range(1, volume), count - 1)) if count > 1 else []
        quantities = [b - a for a, b in zip([0, *cuts], [*cuts, volume], strict=True)]
        first = max(created_on, since + timedelta(days=1)).toordinal()
        days += [(date.fromordinal(rng.randint(first, today.toordinal())), q) for q in quantities]
    if created_on <= since:
        for _ in range(rng.randint(0, p.old_purchases_max)):
            days.append(
                (date.fromordinal(rng.randint(created_on.toordinal(), since.toordinal())), rng.randint(1, 40))
            )
    days.sort()
    rows = []
    for n, (day, quantity) in enumerate(days):
        product, specs, low, high, warranty, _, _ = picks(rng)
        price = rng.randrange(low, high + 1, 100)
        rows.append(
            {
                "id": first_id + n,
                "customer_id": customer["id"],
                "day": day,
                "kind": "交货" if rng.random() < p.delivery_share else "购货",
                "product": product,
                "spec": specs[rng.randrange(len(specs))],
                "quantity": quantity,
                "amount": Decimal(price * quantity),
                "warranty_end": day + timedelta(days=warranty) if warranty else None,
                "created_at": datetime.combine(day, _WORK_START) + timedelta(minutes=rng.randrange(540)),
            }
        )
    customer["annual_volume"] = sum(r["quantity"] for r in rows if r["day"] > since)
    return rows


def _grade(gen: CustomerGenerator, customer: dict[str, Any]) -> None:
    """Grade from the window's volume (as services.customers does), or a pinned grade with a reason."""
    rng = gen.rng
    customer["grade"] = grade_by_volume(customer["annual_volume"], gen.settings.thresholds)
    if customer["status"] == "正常" and rng.random() < gen.profile.pinned_share:
        pinned = GRADES_ABCD[rng.randrange(len(GRADES_ABCD))]
        reasons = _PIN_REASONS[pinned]
        customer.update(grade=pinned, grade_pinned=True, grade_reason=reasons[rng.randrange(len(reasons))])


def number_batch(conn: Connection, batch: _Batch) -> None:
    """Give the batch its 客户编号, continuing the counter (inside the batch's transaction)."""
    start = _counter_value(conn) + 1
    for serial, row in enumerate(batch.customers, start=start):
        row["code"] = format_customer_code(serial, batch.code_prefix)
    batch.first_serial, batch.last_serial = start, start + len(batch.customers) - 1


def batch_audit_row(ctx: ServiceContext, batch: _Batch, seed: int) -> dict[str, Any]:
    """One audit row per batch instead of one per customer."""
    counts = {"客户": len(batch.customers), "联系人": len(batch.contacts), "购货记录": len(batch.purchases)}
    return {
        "at": ctx.now(),
        "user_id": ctx.user.id or None,
        "username": ctx.user.username,
        "action": DEMO_ACTION,
        "entity": "customer",
        "entity_id": None,
        "label": f"{batch.customers[0]['code']}–{batch.customers[-1]['code']}" if batch.customers else "",
        "old": None,
        "new": json.dumps(counts, ensure_ascii=False, sort_keys=True),
        "note": f"演示数据（种子 {seed}）",
    }


def write_batch(conn: Connection, batch: _Batch, audit_row: dict[str, Any]) -> None:
    """Insert a numbered batch and move the counter to its last serial, in the caller's transaction."""
    if batch.customers:
        conn.execute(insert(Customer), batch.customers)
    if batch.contacts:
        conn.execute(insert(Contact), batch.contacts)
    phone_index.insert_rows(conn, phone_index.bulk_rows(batch.customers, batch.contacts))
    if batch.purchases:
        conn.execute(insert(Purchase), batch.purchases)
    chain_rows(conn, [audit_row])
    conn.execute(insert(AuditLog), [audit_row])
    _set_counter(conn, batch.last_serial)
    _sync_sequences(conn, batch.next_ids)


def _set_counter(conn: Connection, value: int) -> None:
    result = conn.execute(update(Counter).where(Counter.name == CUSTOMER_COUNTER).values(value=value))
    if not result.rowcount:
        conn.execute(insert(Counter).values(name=CUSTOMER_COUNTER, value=value))


def _sync_sequences(conn: Connection, ids: _Ids) -> None:
    """PostgreSQL: move the id sequences past the explicit ids (SQLite needs nothing)."""
    if conn.dialect.name != "postgresql":
        return
    for table, next_id in (("customer", ids.customer), ("contact", ids.contact), ("purchase", ids.purchase)):
        conn.execute(
            text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v, false)"), {"t": table, "v": next_id}
        )


def refresh_statistics(conn: Connection) -> None:
    """Planner statistics after a bulk load, so searches pick the right index (e.g. not ``archived``)."""
    conn.execute(text("ANALYZE"))


__all__ = [
    "CUSTOMER_COUNTER",
    "DEMO_ACTION",
    "CustomerGenerator",
    "Owner",
    "batch_audit_row",
    "build_batch",
    "first_free_ids",
    "number_batch",
    "person_name",
    "refresh_statistics",
    "write_batch",
]
