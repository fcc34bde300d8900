"""The class recompute as ``plan`` runs it (a helper of the ``plan`` group, not a group itself) (issue 19 item 2): once a month, before planning.

``plan [--today DAY]`` first recomputes every customer's class for DAY's month if that month was not
recomputed yet (the same step as the start-up's, idempotent), and prints how many classes changed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

PREVIEW_ROWS = 10


def recompute_and_report(ctx: Any, day: date) -> None:
    from huifang_desktop.services import classes

    changes = classes.monthly_recompute(ctx, day)
    if changes is None:
        return
    print(f"{day:%Y-%m} 客户等级已按最近采购量重新计算：{len(changes)} 户等级变化。")
    for ch in changes[:PREVIEW_ROWS]:
        print(f"  客户 {ch.customer_id}：{ch.old} → {ch.new}（年采购量 {ch.volume}）")
