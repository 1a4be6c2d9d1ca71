"""The client's errors (core/sync/client.py) from a real hub: each status becomes a SyncError
subclass whose message says what to do, with `retry_after` where waiting helps."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.sync import client
from core.sync.hub import admin
from tests.sync.conftest import HubHandle, free_port
from tests.sync.fleet import ORG


def test_401_403_and_unreachable(hub) -> None:
    bad = client.HubClient(hub.url, ORG, "not.a.token")
    with pytest.raises(client.Unauthenticated, match="new token"):
        bad.whoami()
    other = hub.token("other-org", "eve", device="eve1")
    with pytest.raises(client.Forbidden):
        client.HubClient(hub.url, ORG, other).whoami()  # another org's token on acme's paths
    tok = hub.token(ORG, "ana", device="a1")
    c = client.HubClient(hub.url, ORG, tok)
    assert c.whoami().user == "ana"
    assert c.whoami().device == "a1"  # the kept-alive connection serves a second request
    hub.revoke(ORG, device="a1")
    with pytest.raises((client.Forbidden, client.Unauthenticated)):
        c.whoami()
    c.close()
    hub.stop()
    with pytest.raises(client.HubUnreachable) as e:
        client.HubClient(hub.url, ORG, tok).whoami()
    assert e.value.retry_after and "is it running" in str(e.value)
    hub.start()


def test_429_carries_retry_after(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRAIN_ALLOW_TEMP_STORE", "1")
    folder = tmp_path / "hub"
    admin.init(folder, None)
    h = HubHandle(folder, None, free_port(), rate=2)
    h.start()
    try:
        c = client.HubClient(h.url, ORG, h.token(ORG, "ana", device="a1"))
        with pytest.raises(client.RateLimited) as e:
            for _ in range(5):
                c.whoami()
        assert e.value.retry_after is not None and e.value.retry_after > 0
        assert "rate limiting" in str(e.value)
    finally:
        h.stop()


def test_urls_and_tokens_are_checked_before_any_request() -> None:
    with pytest.raises(client.BrainError, match="http://HOST:PORT"):
        client.HubClient("ftp://hub", ORG, "t")
    with pytest.raises(client.Unauthenticated, match="not a hub token"):
        client.org_of_token("abc")


def test_tls_with_a_private_ca(hub, tmp_path: Path) -> None:
    from core.store import Store
    from tests.sync.fleet import ANA
    from tests.sync.test_hub_serve import _self_signed

    hub.stop()
    hub.tls = _self_signed(tmp_path)
    hub.start()
    assert hub.url.startswith("https://")
    tok = hub.token(ORG, "ana", device="a1")
    with pytest.raises(client.TlsFailed, match="--ca-file"):
        client.HubClient(hub.url, ORG, tok).whoami()
    with Store.init(tmp_path / "a", allow_temp=True) as s:
        s.sync.join(hub.url, tok, mode="manual", ca_file=str(hub.tls[0]))
        s.put("memories/facts/x.md", "over tls\n", actor=ANA, sync_class="shareable")
        assert s.sync.run().pushed == 1
        assert s.sync.config().ca_file == str(hub.tls[0].resolve())


def test_a_short_rate_limit_is_waited_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At 120 requests a minute a token comes back every half second: the client waits for it
    (Retry-After 1 s) instead of failing the pass."""
    monkeypatch.setenv("BRAIN_ALLOW_TEMP_STORE", "1")
    folder = tmp_path / "hub"
    admin.init(folder, None)
    h = HubHandle(folder, None, free_port(), rate=120)
    h.start()
    try:
        c = client.HubClient(h.url, ORG, h.token(ORG, "ana", device="a1"))
        for _ in range(125):  # the bucket holds 120
            assert c.whoami().user == "ana"
        assert any(e.event == "rate-limited" for e in h.events(ORG))
    finally:
        h.stop()
