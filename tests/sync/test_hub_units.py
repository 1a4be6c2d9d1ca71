"""The hub's small parts on their own: the rate limiter (an injected clock), tokens, names."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.sync.hub.auth import HubKey, HubKeyError, Unauthenticated
from core.sync.hub.ratelimit import RateLimiter
from core.sync.hub.storage import HubStorageError, check_name, widest_class


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_allows_a_minutes_worth_then_refills_continuously() -> None:
    clock = Clock()
    rl = RateLimiter(60, clock=clock)
    assert [rl.take("acme", "ana") for _ in range(60)] == [0] * 60
    assert rl.take("acme", "ana") == 1  # one a second: a token in 1 s
    assert rl.take("acme", "bob") == 0  # per user
    assert rl.take("globex", "ana") == 0  # and per org
    clock.now += 0.5
    assert rl.take("acme", "ana") == 1
    clock.now += 0.5
    assert rl.take("acme", "ana") == 0
    clock.now += 3600
    assert [rl.take("acme", "ana") for _ in range(61)][-2:] == [0, 1]  # never above the cap


def test_retry_after_counts_whole_seconds_at_a_slow_rate() -> None:
    clock = Clock()
    rl = RateLimiter(2, clock=clock)
    assert rl.take("o", "u") == 0 and rl.take("o", "u") == 0
    assert rl.take("o", "u") == 30
    clock.now += 29.5
    assert rl.take("o", "u") == 1
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_tokens_carry_the_claims_and_check_only_here(tmp_path: Path) -> None:
    key = HubKey.create(tmp_path / "h")
    assert (tmp_path / "h" / "hub.key").stat().st_mode & 0o777 == 0o600
    with pytest.raises(HubKeyError, match="already holds a hub"):
        HubKey.create(tmp_path / "h")
    again = HubKey.load(tmp_path / "h")
    assert again.id == key.id and key.id.startswith("hub-")
    token, jti = key.issue(org="acme", user="ana", role="guest", device="pc")
    c = again.decode(token)
    assert (c.org, c.user, c.role, c.device, c.jti) == ("acme", "ana", "guest", "pc", jti)
    other = HubKey.create(tmp_path / "other")
    with pytest.raises(Unauthenticated, match="another hub"):
        other.decode(token)
    with pytest.raises(HubKeyError, match="brain hub init"):
        HubKey.load(tmp_path / "none")


def test_names_and_the_widest_class() -> None:
    assert check_name("org", "acme-1.eu") == "acme-1.eu"
    for bad in ("", "Acme", "../x", "a/b", "-a", "a" * 65, "a..b"):
        with pytest.raises(HubStorageError):
            check_name("org", bad)
    assert widest_class([]) == "personal"
    assert widest_class(["personal", "org-only"]) == "org-only"
    assert widest_class(["org-only", "shareable", "personal"]) == "shareable"
