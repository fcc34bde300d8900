"""The example office explains itself: its sample accounts and passwords are kept in its marker for its log-in
dialog (and nowhere else), and the generator reports its progress stage by stage."""

from __future__ import annotations

import json

from argon2 import PasswordHasher, extract_parameters

from huifang_desktop.demo import DemoProfile, generate_demo
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import passwords, signing, users
from huifang_desktop.storage.models import User


def test_a_demo_office_lists_its_accounts_and_each_password_logs_in(ctx):
    result = generate_demo(ctx, customers=12, seed=2)
    accounts = users.demo_accounts(ctx)
    assert [(a.username, str(a.role), a.password) for a in accounts] == result.users
    assert {a.username for a in accounts} == {
        "admin",
        "supervisor",
        "manager",
        *(f"clerk{i}" for i in range(1, 6)),
    }
    assert {a.role for a in accounts} == set(Role)
    for account in accounts:
        assert users.authenticate(ctx, account.username, account.password).username == account.username


def test_demo_passwords_are_hashed_cheaply_since_the_log_in_dialog_shows_them(ctx, monkeypatch):
    default = PasswordHasher()  # the office's own (slow) hasher, not the test suite's cheap one
    monkeypatch.setattr(passwords, "password_hasher", lambda: default)
    generate_demo(ctx, customers=5, seed=2)
    with ctx.sessions() as s:
        hashes = [h for (h,) in s.query(User.password_hash)]
    assert hashes and all(extract_parameters(h).memory_cost <= 8 * 1024 for h in hashes)


def test_demo_signing_keys_are_sealed_like_their_passwords_and_a_changed_password_reseals_strongly(
    ctx, monkeypatch
):
    # the key box's Argon2id parameters follow the password's hasher: the demo's cheap one for its shown
    # passwords (the office's own took ~1.4 s of the first demo start for 8 users), the office's own again
    # once the user sets a password of their own
    default = PasswordHasher()
    monkeypatch.setattr(passwords, "password_hasher", lambda: default)
    result = generate_demo(ctx, customers=5, seed=2)
    with ctx.sessions() as s:
        boxes = {u.username: json.loads(u.key_box) for u in s.query(User)}
    assert boxes and all(b["m"] <= 8 * 1024 and b["t"] == 1 for b in boxes.values())
    password = {name: pw for name, _role, pw in result.users}["clerk1"]
    clerk = users.authenticate(ctx, "clerk1", password)
    assert signing.open_box(_box(ctx, "clerk1"), password) is not None
    users.change_password(ctx.as_user(clerk), password, "neues-geheim-1")
    box = json.loads(_box(ctx, "clerk1"))
    assert (box["t"], box["m"]) == (default.time_cost, default.memory_cost)
    assert signing.open_box(_box(ctx, "clerk1"), "neues-geheim-1") is not None


def _box(ctx, username: str) -> str:
    with ctx.sessions() as s:
        return s.query(User.key_box).filter(User.username == username).scalar()


def test_a_changed_or_reset_password_is_no_longer_listed(ctx):
    generate_demo(ctx, customers=5, seed=2)
    accounts = {a.username: a for a in users.demo_accounts(ctx)}
    clerk = users.authenticate(ctx, "clerk1", accounts["clerk1"].password)
    users.change_password(ctx.as_user(clerk), accounts["clerk1"].password, "neues-geheim-1")
    users.reset_password(ctx, "clerk2", "another-secret")
    listed = {a.username for a in users.demo_accounts(ctx)}
    assert "clerk1" not in listed and "clerk2" not in listed
    assert {"admin", "supervisor", "clerk3"} <= listed


def test_a_real_office_lists_no_accounts(ctx, admin, clerk):
    assert users.demo_accounts(ctx) == []


def test_the_generator_reports_each_stage_with_its_progress(ctx):
    seen: list[tuple[str, int, int]] = []
    generate_demo(
        ctx,
        customers=50,
        visits=120,
        complaints=6,
        seed=2,
        profile=DemoProfile(batch_size=20),
        stages=lambda stage, done, total: seen.append((stage, done, total)),
    )
    stages = list(dict.fromkeys(stage for stage, _, _ in seen))
    assert stages == ["users", "customers", "visits", "complaints", "review", "statistics"]
    assert [(d, t) for s, d, t in seen if s == "customers"] == [(0, 50), (20, 50), (40, 50), (50, 50)]
    visits = [d for s, d, _ in seen if s == "visits"]
    assert visits[0] == 0 and visits == sorted(visits) and len(visits) > 2
