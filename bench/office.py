"""The generated office ``bench/run`` measures: built once per size, seed, schema and profile, then reused.

Sizes (customers / visit plans / complaints / service records):

* ``full``  100,000 / 1,000,000 / 50,000 / 200,000 — the office of architecture.md "Performance targets";
* ``10k``    10,000 /   100,000 /  5,000 /  20,000 — the other end of the scaling table;
* ``tiny``       60 /       600 /     30 /     120 — for the test suite (proves every benchmark still runs),
  with ``micro`` (30 / 300 / 15 / 60) as its scaling partner.

The office is made by :func:`huifang_desktop.demo.generate_demo` (what ``huifang-desktop demo
--customers N --visits M --complaints K`` runs) with :data:`BENCH_PROFILE`, then the 售后服务台账 is filled by
:func:`fill_service_records` (bench-side bulk inserts; the demo has no service records). Today is fixed at
2026-11-24 09:00 so the cached office and every measure agree on what is overdue.

Why a profile of its own: the demo's defaults give every one of the 100,000 customers a class with
automatic visits (6 % A, 12 % B, 30 % C) and nearly all of them active, so 1,000,000 plans fit in the last
months and one month holds about 158,000 plans — no office has that. A real office that has kept its files
for ten years has most of them inactive (流失, 注销, 暂停) and most active ones D class (no routine visit);
with :data:`BENCH_PROFILE` the 1,000,000 visits span mid-2020 to today (older ones back to 2018) and 2026-11
holds about 19,000 plans (the README's "Benchmarks" section gives the numbers and the calendar before/after).

Cache: ``bench/.cache/office-<size>-seed<seed>-rev<alembic head>-p<profile digest>.db``, built under a
``.part`` name and renamed when complete. A schema change (new Alembic head) or a profile change builds a new
file and removes the stale ones of the same size and seed. The cached file is never written by a measure:
:func:`work_copy` hands out a fresh copy per run.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import sqlite3
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import CACHE_DIR, _checkpoint
from huifang_desktop.demo import DemoProfile, VisitProfile

TODAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 9, 0)
OFFICE_VERSION = 2  # bump when the bench-side fill changes (the file name changes, the office is rebuilt)
# 2: the generator marks the office as an example office (gui_probe starts it without a log-in)


@dataclass(frozen=True, slots=True)
class OfficeSize:
    name: str
    customers: int
    visits: int
    complaints: int
    services: int


SIZES: dict[str, OfficeSize] = {
    "full": OfficeSize("full", 100_000, 1_000_000, 50_000, 200_000),
    "10k": OfficeSize("10k", 10_000, 100_000, 5_000, 20_000),
    "tiny": OfficeSize("tiny", 60, 600, 30, 120),
    "micro": OfficeSize("micro", 30, 300, 15, 60),  # the tiny run's scaling partner in the test suite
}

# A real office after ten years of files: a quarter still active (正常), most of those D class (no routine
# visit), lost and closed customers stopped over the years (so their visits are history, not this month's).
BENCH_PROFILE = DemoProfile(
    years=10,
    status_shares=(0.25, 0.05, 0.45, 0.25),  # 正常, 暂停, 流失, 注销
    grade_shares=(0.01, 0.03, 0.08, 0.88),  # A, B, C, D of the active files
    old_purchases_max=1,
    visits=VisitProfile(
        history_years=10,
        manual_per_year=(("D", 0.5), ("", 0.3)),
        stop_days=(("暂停", 240, 7), ("流失", 2400, 30), ("注销", 2400, 30)),
    ),
)


def profile_digest() -> str:
    text = f"{OFFICE_VERSION}:{BENCH_PROFILE!r}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


@dataclass(frozen=True, slots=True)
class Office:
    path: Path
    size: OfficeSize
    seed: int
    revision: str
    built: dict[str, Any] | None  # what the build reported; None when reused from the cache

    @property
    def build_seconds(self) -> float | None:
        return None if self.built is None else self.built["seconds"]


def _say(text: str, *, end: str = "\n") -> None:
    print(text, end=end, file=sys.stderr, flush=True)


def office_db(size: OfficeSize, seed: int = 1, *, rebuild: bool = False) -> Office:
    """The cached office of ``size`` (built now when missing, stale or ``rebuild``)."""
    from huifang_desktop.demo import generate_demo
    from huifang_desktop.services.context import ServiceContext
    from huifang_desktop.storage.db import (
        head_revision,
        make_engine,
        make_session_factory,
        sqlite_url,
        upgrade,
    )

    revision = head_revision()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    stem = f"office-{size.name}-seed{seed}"
    target = CACHE_DIR / f"{stem}-rev{revision}-p{profile_digest()}.db"
    if target.exists() and not rebuild:
        return Office(target, size, seed, revision, None)
    keep = {target.name, f"{target.name}-wal", f"{target.name}-shm"}
    for stale in CACHE_DIR.glob(f"{stem}-*"):  # older schema or profile: 1.3 GB each at full size
        if stale.name not in keep:
            stale.unlink()
    part = Path(f"{target}.part")
    for leftover in (part, Path(f"{part}-wal"), Path(f"{part}-shm")):
        leftover.unlink(missing_ok=True)
    started = time.perf_counter()
    engine = make_engine(sqlite_url(part))
    try:
        upgrade(engine)
        ctx = ServiceContext(engine, make_session_factory(engine), clock=lambda: NOW)

        def show(done: int, total: int) -> bool:
            _say(f"\r  {size.name} office: {done:,}/{total:,} customers", end="")
            return True

        _say(
            f"building the {size.name} office ({size.customers:,} customers, {size.visits:,} visits, "
            f"{size.complaints:,} complaints, {size.services:,} service records) — cached for later runs"
        )
        result = generate_demo(
            ctx,
            customers=size.customers,
            visits=size.visits,
            complaints=size.complaints,
            seed=seed,
            progress=show,
            profile=BENCH_PROFILE,
        )
        history = result.visits
        _say(
            f" — {result.seconds:.0f} s"
            + (
                f" (visit history {history.seconds:.0f} s: {history.plans:,} plans since {history.since})"
                if history
                else ""
            )
        )
        t = time.perf_counter()
        services = fill_service_records(engine, size.services, seed)
        services_s = time.perf_counter() - t
        if services is None:
            _say("  售后服务台账: no service_record table in this schema — not generated")
        else:
            _say(f"  售后服务台账: {services:,} service records in {services_s:.0f} s")
    finally:
        engine.dispose()
    _checkpoint(part)
    part.replace(target)
    seconds = time.perf_counter() - started
    built = {
        "seconds": seconds,
        "demo_seconds": result.seconds,
        "services_seconds": services_s,
        "visit_plans": history.plans if history else 0,
        "history_since": str(history.since) if history else None,
        "complaints": result.complaints,
        "service_records": services,
    }
    _say(f"  office built in {seconds:.0f} s → {target.name}")
    return Office(target, size, seed, revision, built)


def work_copy(office: Office, folder: Path | None = None) -> Path:
    """A data folder holding a fresh copy of the cached office as its ``huifang.db``, for one run (measures
    write: audit rows, imports, log files). Returns the folder."""
    from huifang_desktop.config import DB_FILE

    folder = folder or CACHE_DIR / "work" / office.size.name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    wal = Path(f"{office.path}-wal")
    if wal.exists() and wal.stat().st_size:  # a reader left committed pages in the WAL: fold them in first
        _checkpoint(office.path)
    shutil.copyfile(office.path, folder / DB_FILE)
    return folder


def counts(path: Path) -> dict[str, Any]:
    """What the office holds (for the results' meta)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:

        def one(sql: str, *params: Any) -> Any:
            return conn.execute(sql, params).fetchone()[0]

        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        month = (TODAY.replace(day=1).isoformat(), date(2026, 11, 30).isoformat())
        return {
            "customers": one("SELECT count(*) FROM customer"),
            "active_customers": one("SELECT count(*) FROM customer WHERE status = '正常' AND archived = 0"),
            "visit_plans": one("SELECT count(*) FROM visit_plan"),
            "visit_records": one("SELECT count(*) FROM visit_record"),
            "plans_in_2026_11": one(
                "SELECT count(*) FROM visit_plan WHERE due BETWEEN ? AND ? AND state != '已取消'", *month
            ),
            "first_due": one("SELECT min(due) FROM visit_plan"),
            "complaints": one("SELECT count(*) FROM complaint"),
            "service_records": one("SELECT count(*) FROM service_record")
            if "service_record" in tables
            else None,
            "file_mb": round(path.stat().st_size / 1e6, 1),
        }
    finally:
        conn.close()


# --- 售后服务台账 (bench-side bulk fill) ------------------------------------------------------------------

_PRODUCTS = (
    ("重型牵引车", "J6P-500"),
    ("自卸车", "H7-440"),
    ("挖掘机", "SY215C"),
    ("装载机", "LW500KV"),
    ("搅拌车", "ZZ5257"),
    ("轻卡", "KX-130"),
    ("随车吊", "SQ8SK3Q"),
    ("压路机", "XS263J"),
)
_PROBLEMS = {
    "维修": (
        "发动机异响",
        "液压系统漏油",
        "刹车跑偏",
        "空调不制冷",
        "仪表报警",
        "电瓶亏电无法启动",
        "变速箱换挡困难",
    ),
    "保养": ("首次保养", "5000 公里保养", "年度保养", "更换机油机滤"),
    "安装": ("GPS 终端安装", "上装安装调试", "倒车影像安装"),
    "巡检": ("季度巡检", "车队上门巡检"),
    "调试": ("液压参数调试", "发动机标定"),
    "培训": ("驾驶员操作培训", "保养知识培训"),
    "其他": ("客户咨询配件", "上门取送车"),
}
_PARTS = ("", "", "机油滤芯", "刹车片", "液压油管", "空调压缩机", "蓄电池", "离合器片")
_TECHNICIANS = ("王师傅", "李师傅", "张工", "陈工", "刘师傅", "赵工", "周师傅", "吴工")
_KIND_WEIGHTS = (40, 30, 8, 10, 5, 3, 4)  # 维修 保养 安装 巡检 调试 培训 其他
_SATISFACTION = ("非常满意", "满意", "满意", "满意", "一般", "不满意")
_FOLLOW_UP_SHARE = 0.35
_OPEN_DAYS = 20  # records served in the last N days may still be 处理中


def fill_service_records(engine: Any, total: int, seed: int) -> int | None:
    """``total`` service records (with follow-ups for about a third) over the office's customers, served over
    the customers' years with the office, written with Core ``insert()`` executemany in one transaction;
    the day counters continue after them. Returns None when the schema has no service records yet."""
    try:
        from huifang_desktop.services.service_records import ServiceOptions, format_service_number
        from huifang_desktop.storage.models import Counter, ServiceFollowUp, ServiceRecord
    except ImportError:
        return None
    from sqlalchemy import func, insert, select, text

    from huifang_desktop.storage.models import Customer

    if total <= 0:
        return 0
    options = ServiceOptions()
    kinds = options.kinds
    weights = list(_KIND_WEIGHTS[: len(kinds)]) + [1] * max(0, len(kinds) - len(_KIND_WEIGHTS))
    rng = random.Random(f"bench-services:{seed}")
    with engine.connect() as conn:
        customers = conn.execute(
            select(Customer.id, Customer.created_on, Customer.owner_id, Customer.address).order_by(
                Customer.id
            )
        ).all()
        first_id = int(conn.execute(select(func.coalesce(func.max(ServiceRecord.id), 0))).scalar() or 0) + 1
    if not customers:
        return 0
    today = TODAY.toordinal()
    served: list[tuple[int, Any]] = []
    for _ in range(total):
        c = customers[rng.randrange(len(customers))]
        start = c.created_on.toordinal()
        # more service the longer a customer is with the office; newest days a little busier
        day = today - int((today - start) * rng.random() ** 1.3)
        served.append((day, c))
    served.sort(key=lambda x: x[0])
    serial: dict[int, int] = {}
    records: list[dict[str, Any]] = []
    follow_ups: list[dict[str, Any]] = []
    for n, (day, c) in enumerate(served):
        rid = first_id + n
        on = date.fromordinal(day)
        serial[day] = serial.get(day, 0) + 1
        kind = rng.choices(kinds, weights)[0]
        product, model = _PRODUCTS[rng.randrange(len(_PRODUCTS))]
        problems = _PROBLEMS.get(kind, _PROBLEMS["其他"])
        open_ = today - day <= _OPEN_DAYS and rng.random() < 0.5
        cancelled = not open_ and rng.random() < 0.02
        status = "处理中" if open_ else ("已取消" if cancelled else "已完成")
        completed = None if status != "已完成" else date.fromordinal(min(today, day + rng.randint(0, 5)))
        part = _PARTS[rng.randrange(len(_PARTS))] if kind in ("维修", "保养") else ""
        qty = rng.randint(1, 4) if part else 0
        at = datetime.combine(on, datetime.min.time()) + timedelta(minutes=8 * 60 + 30 + rng.randrange(540))
        row = {
            "id": rid,
            "number": format_service_number(on, serial[day], options.number_prefix),
            "customer_id": c.id,
            "served_on": on,
            "kind": kind,
            "place": (c.address or "")[:200],
            "product": product,
            "serial_no": f"{model}-{rng.randrange(10**7):07d}",
            "problem": problems[rng.randrange(len(problems))],
            "content": f"{kind}：检查并处理，{'更换' + part if part else '无需更换配件'}。",
            "parts": part,
            "parts_quantity": qty,
            "parts_amount": Decimal(qty * rng.randrange(80, 2400, 10)) if part else None,
            "cost": Decimal(rng.randrange(0, 3000, 50)) if kind in ("维修", "安装", "调试") else None,
            "result": "已处理，设备恢复正常" if status == "已完成" else ("客户取消" if cancelled else ""),
            "feedback": ""
            if status != "已完成"
            else rng.choice(("", "", "服务及时", "师傅专业", "希望提前预约")),
            "satisfaction": _SATISFACTION[rng.randrange(len(_SATISFACTION))] if status == "已完成" else "",
            "technician": _TECHNICIANS[rng.randrange(len(_TECHNICIANS))],
            "handler_id": c.owner_id,
            "status": status,
            "completed_on": completed,
            "follow_up_at": None,
            "follow_up_by": "",
            "follow_up_result": "",
            "visit_plan_id": None,
            "notes": "",
            "created_by_id": c.owner_id,
            "created_at": at,
            "updated_at": at,
            "version": 1,
        }
        if status == "已完成" and rng.random() < _FOLLOW_UP_SHARE and completed is not None:
            f_at = datetime.combine(completed, datetime.min.time()) + timedelta(
                days=rng.randint(1, 7), hours=9 + rng.randrange(8)
            )
            if f_at.date().toordinal() <= today:
                result = options.follow_up_results[0 if rng.random() < 0.1 else 1]
                who = _TECHNICIANS[rng.randrange(len(_TECHNICIANS))]
                follow_ups.append(
                    {
                        "record_id": rid,
                        "at": f_at,
                        "person": who,
                        "result": result,
                        "note": "",
                        "created_by_id": c.owner_id,
                        "created_at": f_at,
                    }
                )
                row.update(follow_up_at=f_at, follow_up_by=who, follow_up_result=result)
        records.append(row)
    batch = 20_000
    with engine.begin() as conn:
        for i in range(0, len(records), batch):
            conn.execute(insert(ServiceRecord), records[i : i + batch])
        for i in range(0, len(follow_ups), batch):
            conn.execute(insert(ServiceFollowUp), follow_ups[i : i + batch])
        conn.execute(
            insert(Counter),
            [{"name": f"service:{date.fromordinal(d):%Y%m%d}", "value": v} for d, v in serial.items()],
        )
        conn.execute(text("ANALYZE"))
    return len(records)


def office_ctx(path: Path, username: str = "supervisor") -> Any:
    """A ServiceContext on the office at ``path`` acting as ``username`` (the demo's 客服主管 by default), with
    today fixed at :data:`TODAY` like the office's history. Dispose of ``ctx.engine`` when done."""
    from huifang_desktop.services import users
    from huifang_desktop.services.context import ServiceContext
    from huifang_desktop.storage.db import make_engine, make_session_factory, sqlite_url

    engine = make_engine(sqlite_url(path))
    ctx = ServiceContext(engine, make_session_factory(engine), clock=lambda: NOW)
    return ctx.as_user(users.find_user(ctx, username))
