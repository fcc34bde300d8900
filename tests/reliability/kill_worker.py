"""Worker for the kill test: writes through the services forever and reports each commit on stdout.

Usage: python kill_worker.py DATA_DIR SEED. Each line printed is ``<kind> <id>`` *after* the service call
returned (its transaction committed), flushed at once, so the parent knows what must survive a SIGKILL.
"""

from __future__ import annotations

import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

from huifang_desktop.app import open_context
from huifang_desktop.config import AppPaths
from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import complaints, customers, users, visits, workflow
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import NotFound
from huifang_desktop.services.settings import set_value


def main() -> None:
    data, seed = Path(sys.argv[1]), int(sys.argv[2])
    base = open_context(AppPaths(data))
    rng = random.Random(seed)
    start = datetime(2026, 11, 24, 9, 0)
    tick = [0]

    def clock() -> datetime:
        tick[0] += 1
        return start + timedelta(seconds=tick[0])

    ctx = ServiceContext(base.engine, base.sessions, clock=clock)
    try:
        clerk = users.find_user(ctx, "killclerk")
    except NotFound:
        clerk = users.create_user(ctx, "killclerk", "小王", Role.CLERK, "secret-123", "客服部")
    cctx = ctx.as_user(clerk)
    # one clerk records every visit here (the test is about commits surviving a kill, not independence)
    set_value(ctx, "independent_visitor", False, what="回访人独立性检查")
    out = sys.stdout
    n = 0
    while True:
        n += 1
        c = customers.register_customer(
            cctx,
            CustomerDraft(
                name=f"客户{seed}-{n}",
                contacts=(ContactDraft(name="张", mobile=f"139{rng.randrange(10**8):08d}"),),
            ),
        )
        print("customer", c.id, flush=True)
        p = workflow.add_purchase(cctx, c.id, day="2026-11-23", product="货车", quantity=rng.randint(1, 9))
        print("purchase", p.id, flush=True)
        plans = visits.list_plans(
            cctx,
            start=start.date() - timedelta(days=30),
            end=start.date() + timedelta(days=400),
            owner_id=None,
            states={"待回访"},
            limit=5,
        )
        mine = [pl for pl in plans if pl.customer_id == c.id] or plans
        if mine:
            rec = visits.record_visit(
                cctx,
                visits.prefill_record(cctx, mine[0].id).to_draft(
                    result="成功", satisfaction="满意", content="了解使用情况"
                ),
            )
            print("record", rec.id, flush=True)
        d = complaints.register(
            cctx,
            complaints.IntakeDraft(
                subject=f"投诉{n}",
                complainant="张",
                phone="13812345678",
                category="交付物流",
                customer_id=c.id,
            ),
        )
        print("complaint", d.id, flush=True)
        complaints.accept(cctx, d.id)
        complaints.save_handling(cctx, d.id, complaints.HandlingDraft(result="已处理"))
        complaints.finish_handling(cctx, d.id)
        print("awaiting", d.id, flush=True)
        if n % 5 == 0:
            r = visits.plan_catch_up(cctx)
            print("catchup", len(r.planned), flush=True)
        out.flush()


if __name__ == "__main__":
    main()
