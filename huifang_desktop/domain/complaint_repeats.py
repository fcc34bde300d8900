"""Repeat complaints by wording (domain.md §7, issue #20 item 9): the same customer or phone within N days,
with similar wording by character n-grams.

Plain Jaccard of bigrams misses a short subject inside a longer one: “空调漏水” vs “空调维修后仍然漏水” share
空调 and 漏水 but score 2/9. The score here is the larger of the Jaccard and the overlap (shared n-grams over
the smaller set), on unigrams and bigrams of the cleaned text (width, case, punctuation and spaces ignored),
so a short complaint contained in a longer one scores high.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from huifang_desktop.domain.complaints import (
    ComplaintPolicy,
    ComplaintState,
    ExistingComplaint,
    RepeatCandidate,
)
from huifang_desktop.domain.complaints import _clean_subject as clean_wording
from huifang_desktop.domain.complaints import _phone_key as phone_key


def _ngrams(text: str, n: int) -> frozenset[str]:
    return frozenset(text[i : i + n] for i in range(len(text) - n + 1))


def wording_similarity(a: str, b: str) -> float:
    """0.0–1.0: the mean over n = 1 and 2 of max(Jaccard, overlap) of character n-grams."""
    ca, cb = clean_wording(a), clean_wording(b)
    if not ca or not cb:
        return 0.0
    if ca == cb:
        return 1.0
    scores = []
    for n in (1, 2):
        ga, gb = _ngrams(ca, n), _ngrams(cb, n)
        if not ga or not gb:
            continue
        shared = len(ga & gb)
        scores.append(max(shared / len(ga | gb), shared / min(len(ga), len(gb))))
    return sum(scores) / len(scores) if scores else 0.0


@dataclass(frozen=True, slots=True)
class RepeatMatch:
    existing: ExistingComplaint
    score: float  # wording similarity, 0.0–1.0
    same_customer: bool
    same_phone: bool


def repeat_match(
    candidate: RepeatCandidate, existing: ExistingComplaint, policy: ComplaintPolicy, now: datetime | date
) -> RepeatMatch | None:
    """A match when ``existing`` has the same customer or phone, was received within the repeat window (or is
    still open) and its wording scores at least ``policy.repeat_similarity``."""
    today = now.date() if isinstance(now, datetime) else now
    recent = 0 <= (today - existing.received_on).days <= policy.repeat_window_days
    if not (recent or ComplaintState(existing.state).is_open):
        return None
    same_customer = candidate.customer_id is not None and candidate.customer_id == existing.customer_id
    phone = phone_key(candidate.phone)
    same_phone = bool(phone) and phone == phone_key(existing.phone)
    if not (same_customer or same_phone):
        return None
    score = wording_similarity(candidate.subject, existing.subject)
    if score < policy.repeat_similarity:
        return None
    return RepeatMatch(existing, score, same_customer, same_phone)


def repeat_matches(
    candidate: RepeatCandidate,
    existing: Iterable[ExistingComplaint],
    policy: ComplaintPolicy,
    now: datetime | date,
) -> list[RepeatMatch]:
    """The likely repeats, best score first (then the most recent)."""
    hits = [m for e in existing if (m := repeat_match(candidate, e, policy, now)) is not None]
    return sorted(hits, key=lambda m: (-m.score, -m.existing.received_on.toordinal()))


__all__ = ["RepeatMatch", "repeat_match", "repeat_matches", "wording_similarity"]
