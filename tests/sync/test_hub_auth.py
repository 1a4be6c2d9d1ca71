"""The hub's gate (docs/sync.md, "Wire"): tokens, orgs, revocation, rate limit, size cap and
malformed requests, each refused with its status and logged."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

from core.sync.hub.auth import HubKey
from tests.sync import hubclient as hc
from tests.sync.conftest import HubHandle
from tests.sync.stores import new_store, put


def _events(hub: HubHandle, org: str, event: str) -> list[str]:
    return [e.detail for e in hub.events(org) if e.event == event]


def test_whoami_names_the_member_and_the_store_bound_by_the_first_push(
    hub: HubHandle, tmp_path: Path
) -> None:
    token = hub.token("acme", "ana", role="admin", device="laptop")
    r = hc.whoami(hub.url, "acme", token)
    assert r.status == 200
    assert r.body["hub"] == HubKey.load(hub.folder).id
    assert (r.body["org"], r.body["user"], r.body["role"], r.body["device"]) == (
        "acme",
        "ana",
        "admin",
        "laptop",
    )
    assert r.body["store"] == "" and r.body["org_only_roles"] == ["admin", "member"]
    store = new_store(tmp_path / "a")
    env = put(store, "memories/facts/f.md", "a fact\n", "shareable")
    assert hc.outcomes(hc.push(hub.url, "acme", token, env.origin, [env])) == [
        (env.seq, "accepted")
    ]
    assert hc.whoami(hub.url, "acme", token).body["store"] == store.manifest.store_id


def test_missing_bad_foreign_expired_and_replaced_tokens_are_401(
    hub: HubHandle, tmp_path: Path
) -> None:
    good = hub.token("acme", "ana", device="laptop")
    other_hub = HubKey.create(tmp_path / "elsewhere")
    foreign, _ = other_hub.issue(org="acme", user="ana", role="member", device="laptop")
    expired = hub.token("acme", "bob", device="desk", ttl_s=-3600)
    cases = {
        "no header": None,
        "garbage": "not.a.token",
        "another hub": foreign,
        "tampered": good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
        "expired": expired,
    }
    for what, token in cases.items():
        r = hc.whoami(hub.url, "acme", token)
        assert r.status == 401, what
        assert r.body["code"] == "unauthenticated", what
    assert "expired" in hc.whoami(hub.url, "acme", expired).body["error"]
    # A new token for the same device retires the old one.
    newer = hub.token("acme", "ana", device="laptop")
    r = hc.whoami(hub.url, "acme", good)
    assert r.status == 401 and "replaced by a newer one" in r.body["error"]
    assert hc.whoami(hub.url, "acme", newer).status == 200
    assert len(_events(hub, "acme", "unauthenticated")) >= len(cases) + 1


def test_a_token_of_another_org_is_403_and_logged(hub: HubHandle) -> None:
    token = hub.token("acme", "ana", device="laptop")
    hub.token("globex", "gil", device="pc")
    for path in ("whoami", "pull"):
        r = hc.call(hub.url, "GET", f"/v1/orgs/globex/{path}", token)
        assert r.status == 403 and r.body["code"] == "forbidden"
    r = hc.push(hub.url, "globex", token, "0" * 32)
    assert r.status == 403
    assert len(_events(hub, "acme", "forbidden")) == 3


def test_a_revoked_device_or_user_is_403(hub: HubHandle) -> None:
    laptop = hub.token("acme", "ana", device="laptop")
    phone = hub.token("acme", "ana", device="phone")
    bob = hub.token("acme", "bob", device="desk")
    assert hub.revoke("acme", device="phone") == 1
    r = hc.whoami(hub.url, "acme", phone)
    assert r.status == 403 and r.body["code"] == "revoked"
    assert hc.whoami(hub.url, "acme", laptop).status == 200
    assert hub.revoke("acme", user="ana") == 2  # the user and the device still active
    for token in (laptop, phone):
        r = hc.pull(hub.url, "acme", token)
        assert r.status == 403 and "revoked" in r.body["error"]
    assert hc.whoami(hub.url, "acme", bob).status == 200
    assert len(_events(hub, "acme", "revoked")) == 3


def _slow_rate(hub: HubHandle) -> None:
    """Two requests a minute: a token comes back only after 30 s, so however slowly this
    machine runs the test, the third request in a row is over the limit."""
    hub.stop()
    hub.rate = 2
    hub.start()


def test_over_the_rate_limit_is_429_with_retry_after(hub: HubHandle) -> None:
    _slow_rate(hub)
    ana = hub.token("acme", "ana")
    bob = hub.token("acme", "bob")
    statuses = [hc.whoami(hub.url, "acme", ana).status for _ in range(hub.rate)]
    assert statuses == [200] * hub.rate
    r = hc.pull(hub.url, "acme", ana)
    assert r.status == 429 and r.body["code"] == "rate-limited"
    assert int(r.headers["retry-after"]) >= 1
    assert hc.whoami(hub.url, "acme", bob).status == 200  # per user
    assert _events(hub, "acme", "rate-limited")


def _send(hub: HubHandle, token: str, headers: dict[str, str], chunks) -> tuple[int, dict]:
    """POST a body in pieces, as a client that does not stop when told to would."""
    conn = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=60)
    try:
        conn.putrequest("POST", "/v1/orgs/acme/push")
        conn.putheader("Authorization", f"Bearer {token}")
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        try:
            for c in chunks:
                conn.send(c)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the hub stopped reading: its answer is waiting
        r = conn.getresponse()
        return r.status, json.loads(r.read())
    finally:
        conn.close()


def test_a_body_over_the_cap_is_413_without_being_read(hub: HubHandle) -> None:
    hub.stop()
    hub.max_request_mb = 1
    hub.start()
    token = hub.token("acme", "ana")
    # Declared too large: refused before a byte of the body is read.
    status, body = _send(hub, token, {"Content-Length": str(64 << 20)}, [])
    assert status == 413 and body["code"] == "too-large"
    # Streamed (chunked, no length): refused once the cap is passed.
    piece = b"x" * (64 << 10)
    chunk = b"%x\r\n%s\r\n" % (len(piece), piece)
    status, body = _send(hub, token, {"Transfer-Encoding": "chunked"}, [chunk] * 64)
    assert status == 413 and "split it" in body["error"]
    assert len(_events(hub, "acme", "too-large")) == 2
    assert hc.whoami(hub.url, "acme", token).status == 200


def test_malformed_requests_are_400_naming_what_is_wrong(hub: HubHandle) -> None:
    token = hub.token("acme", "ana")
    path = "/v1/orgs/acme/push"
    r = hc.call(hub.url, "POST", path, token, b"{not json")
    assert r.status == 400 and r.body["code"] == "bad-request" and "JSON" in r.body["error"]
    bad = {"version": "brain-sync/v1", "origin": "0" * 32, "envelopes": [{"seq": "one"}]}
    r = hc.call(hub.url, "POST", path, token, json.dumps(bad).encode())
    assert r.status == 400 and "$.envelopes[0]" in r.body["error"]
    r = hc.call(hub.url, "POST", path, token, json.dumps({**bad, "envelopes": [], "x": 1}).encode())
    assert r.status == 400 and "x" in r.body["error"]
    r = hc.call(
        hub.url, "POST", path, token, json.dumps({**bad, "envelopes": [], "version": "v0"}).encode()
    )
    assert r.status == 400 and "brain-sync/v1" in r.body["error"]
    r = hc.call(
        hub.url, "POST", path, token, json.dumps({**bad, "envelopes": [], "origin": "me"}).encode()
    )
    assert r.status == 400 and "store id" in r.body["error"]
    assert len(_events(hub, "acme", "bad-request")) == 5
    for q in ("after=-1", "after=x", "limit=0"):
        r = hc.call(hub.url, "GET", f"/v1/orgs/acme/pull?{q}", token)
        assert r.status == 400, q


def test_refused_tokens_are_limited_per_address_and_logged(hub: HubHandle) -> None:
    _slow_rate(hub)
    hub.token("acme", "ana")
    statuses = [hc.whoami(hub.url, "acme", f"bad{i}").status for i in range(hub.rate)]
    assert statuses == [401] * hub.rate
    r = hc.whoami(hub.url, "acme", "bad")
    assert r.status == 429 and int(r.headers["retry-after"]) >= 1
    # The flood stops at the limit: hub_events keeps one row per refused request before it.
    assert len(_events(hub, "acme", "unauthenticated")) == hub.rate
    assert "refused unauthenticated org=acme" in (hub.folder / "hub.log").read_text()
