"""The demo office (演示数据): a sample office for trying the program, for screenshots and for ``bench/``.

A layer of its own between the program's front ends (``app``, ``ui``) and the use cases (``services``): it
may call the services, the domain rules and storage; nothing below it imports it. The history it writes
is made by the office's own rules — the domain functions the services call (deadlines, routing, numbering,
escalation, the visit schedule and its follow-ups, the sign-off hashes) and, where hundreds of rows would
make service calls too slow, the same functions applied to rows written in bulk:

* :mod:`.office` — :func:`generate_demo`: users, then the customers (:mod:`.customers`), the visit history
  (:mod:`.visits`), the complaint register (:mod:`.complaints`) and the review history
  (:mod:`.review_history`, through the review services themselves) and one staff hand-over
  (:mod:`.handover`, through the hand-over service);
* :mod:`.visits` — plans, 回访记录表 and 回访报告表 simulated per customer (:mod:`.visit_world`,
  :mod:`.visit_history`, :mod:`.visit_rows`);
* :mod:`.complaints` — 投诉、咨询、建议 replayed step by step (:mod:`.complaint_specs`,
  :mod:`.complaint_case`, :mod:`.complaint_steps`, :mod:`.complaint_office`, :mod:`.complaint_words`).
"""

from huifang_desktop.demo.complaints import ComplaintDemoProfile, generate_complaints
from huifang_desktop.demo.customers import DEMO_ACTION
from huifang_desktop.demo.office import DEPARTMENTS, DemoProfile, DemoResult, generate_demo
from huifang_desktop.demo.review_history import SeedResult, seed_review_history
from huifang_desktop.demo.visit_world import VisitProfile
from huifang_desktop.demo.visits import VISIT_DEMO_ACTION, VisitDemoResult, generate_visits

__all__ = [
    "DEMO_ACTION",
    "DEPARTMENTS",
    "VISIT_DEMO_ACTION",
    "ComplaintDemoProfile",
    "DemoProfile",
    "DemoResult",
    "SeedResult",
    "VisitDemoResult",
    "VisitProfile",
    "generate_complaints",
    "generate_demo",
    "generate_visits",
    "seed_review_history",
]
