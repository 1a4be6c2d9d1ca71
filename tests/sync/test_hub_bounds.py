"""What one member can send through a real hub, and what the hub relays (docs/sync.md,
"Bounds and refusals"): nothing a member cannot write, no proof padded with what the verifier
ignores, nothing nested deeper than a decoder can follow; pull pages bounded in bytes as well
as items, and a client that asks for fewer items when a page is larger than it reads."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from core.store import Store
from core.sync import client
from core.write.intents import Put
from tests.sync import hubclient as hc
from tests.sync.conftest import REPO, HubHandle
from tests.sync.fleet import ANA, ORG
from tests.sync.stores import new_store, put

P = "memories/facts/x.md"
DEEP = b"[" * 5000 + b"]" * 5000  # deeper than the interpreter's stack


class _NotUtf8(bytes):
    """A member's modified software: its own put believes the body is text."""

    def decode(self, *args: object, **kwargs: object) -> str:  # type: ignore[override]
        return bytes(self).decode("latin-1")


def _joined(hub: HubHandle, root: Path, user: str) -> Store:
    s = new_store(root)
    s.sync.join(hub.url, hub.token(ORG, user, device=f"{user}-dev"), mode="manual")
    return s


def test_the_hub_refuses_a_body_that_is_not_utf8(hub: HubHandle, tmp_path: Path) -> None:
    mallory = _joined(hub, tmp_path / "mallory", "mallory")
    body = _NotUtf8(b"\xff\xfe not utf-8\n")
    mallory.put(P, body, actor=ANA, sync_class="shareable", parse_frontmatter=False)
    rep = mallory.sync.run(pull=False)
    assert rep.pushed == 0 and len(rep.refused) == 1, rep
    assert "not valid UTF-8" in rep.refused[0][1]
    assert hc.pull(hub.url, ORG, hub.token(ORG, "bob")).body["items"] == []
    mallory.close()


# A member whose software skips its own tag limit: its signed log holds a memory with 11 tags,
# which every other member's put refuses. Run apart: the limit is a module global.
_ROGUE = """
import sys
from core import tags
from core.store import Store
tags.MAX_TAGS = 11
s = Store.init(sys.argv[1], allow_temp=True)
s.sync.join(sys.argv[2], sys.argv[3], mode="manual")
eleven = [f"t{i}" for i in range(11)]
s.put("memories/facts/poison.md", "x\\n", actor="human:m@l", sync_class="shareable", tags=eleven)
assert s.sync.run(pull=False).pushed == 1
"""


def test_a_memory_this_store_cannot_write_does_not_stop_its_pull(
    hub: HubHandle, tmp_path: Path
) -> None:
    token = hub.token(ORG, "mallory", device="mallory-dev")
    env = dict(os.environ, PYTHONPATH=str(REPO), BRAIN_ALLOW_TEMP_STORE="1")
    cmd = [sys.executable, "-c", _ROGUE, str(tmp_path / "mallory"), hub.url, token]
    subprocess.run(cmd, env=env, check=True, timeout=120)
    carol = _joined(hub, tmp_path / "carol", "carol")
    put(carol, "memories/facts/good.md", "a shared fact\n", "shareable")
    assert carol.sync.run(pull=False).pushed == 1
    bob = _joined(hub, tmp_path / "bob", "bob")
    for _ in range(2):  # every pass failed on it first, for ever, before
        rep = bob.sync.run()
        assert rep.ok, rep.errors
    assert bob.view("memories/facts/good.md").body == b"a shared fact\n"
    st = bob.sync.status()
    assert st.inbox["skipped"] == 1 and st.inbox["imported"] == 1 and st.inbox["pending-pull"] == 0
    for s in (carol, bob):
        s.close()


def _fill(s: Store, n: int, size: int) -> None:
    s.batch(
        [
            Put(f"memories/facts/big{i}.md", b"x" * size + b"\n", sync_class="shareable")
            for i in range(n)
        ],
        ANA,
    )


def test_the_hub_pages_pulls_by_bytes(hub: HubHandle, tmp_path: Path) -> None:
    hub.stop()
    hub.max_request_mb = 1  # pull pages of about half a MiB
    hub.start()
    ana = _joined(hub, tmp_path / "ana", "ana")
    _fill(ana, 6, 200_000)  # 267 kB each in base64
    assert ana.sync.run(pull=False).pushed == 6
    bob = hub.token(ORG, "bob")
    seen, after, more, pages = 0, 0, True, 0
    while more:
        r = hc.pull(hub.url, ORG, bob, after=after)
        assert len(json.dumps(r.body)) < 1 << 20  # under the hub's own request cap
        assert len(r.body["items"]) <= 2 or not r.body["more"], len(r.body["items"])
        seen += len(r.body["items"])
        after, more, pages = r.body["cursor"], r.body["more"], pages + 1
    assert seen == 6 and pages >= 3
    b = _joined(hub, tmp_path / "b", "bob")
    rep = b.sync.run()
    assert rep.ok and rep.imported == 6, rep
    for s in (ana, b):
        s.close()


def test_the_puller_asks_for_fewer_items_when_a_page_is_too_large(
    hub: HubHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = _joined(hub, tmp_path / "ana", "ana")
    _fill(ana, 6, 200_000)
    assert ana.sync.run(pull=False).pushed == 6
    bob = _joined(hub, tmp_path / "bob", "bob")
    # A client that reads less than the hub's page (a hub with a larger request cap).
    monkeypatch.setattr(client, "MAX_REPLY_BYTES", 700_000)
    rep = bob.sync.run()  # the same page was refused, for ever, before
    assert rep.ok and rep.imported == 6, rep
    for s in (ana, bob):
        s.close()


def test_a_proof_with_fields_the_verifier_ignores_is_refused(
    hub: HubHandle, tmp_path: Path
) -> None:
    ana = hub.token(ORG, "ana")
    store = new_store(tmp_path / "ana")
    env = put(store, P, "hello\n", "shareable")
    raw = msgspec.to_builtins(env)
    padded = dict(raw, proof=dict(raw["proof"], pad=[{}] * 100_000))
    long_path = dict(raw, proof=dict(raw["proof"], proof=["A" * 43 + "="] * 65))
    for bad, why in ((padded, "unknown field `pad`"), (long_path, "length <= 64")):
        body = json.dumps({"version": "brain-sync/v1", "origin": env.origin, "envelopes": [bad]})
        r = hc.call(hub.url, "POST", f"/v1/orgs/{ORG}/push", ana, body.encode())
        assert r.status == 400 and why in r.body["error"], r.body
    assert hc.outcomes(hc.push(hub.url, ORG, ana, env.origin, [env])) == [(env.seq, "accepted")]
    store.close()


def test_a_push_nested_too_deep_is_refused_not_a_failure(hub: HubHandle, tmp_path: Path) -> None:
    ana = hub.token(ORG, "ana")
    store = new_store(tmp_path / "ana")
    env = put(store, P, "hello\n", "shareable")
    # The whole request: a 400, as any request that is not brain-sync/v1.
    raw = msgspec.json.encode(env)
    deep = raw.replace(b'"proof":{', b'"proof":{"x":' + DEEP + b",", 1)
    assert deep != raw
    body = b'{"version":"brain-sync/v1","origin":"%s","envelopes":[%s]}' % (
        env.origin.encode(),
        deep,
    )
    r = hc.call(hub.url, "POST", f"/v1/orgs/{ORG}/push", ana, body)
    assert r.status == 400, r.body
    # Inside what the envelope carries as text: its proved leaf, its sidecar's open map.
    leaf = base64.b64encode(DEEP).decode()
    leaf_hash = base64.b64encode(hashlib.sha256(b"\x00" + DEEP).digest()).decode()
    deep_leaf = msgspec.structs.replace(
        env, proof=msgspec.structs.replace(env.proof, leaf=leaf, leaf_hash=leaf_hash)
    )
    side = env.sidecar.replace('"extra":{', '"extra":{"x":' + DEEP.decode() + ",", 1)
    assert side != env.sidecar
    deep_side = msgspec.structs.replace(env, sidecar=side)
    for bad, why in ((deep_leaf, "not a row"), (deep_side, "malformed")):
        r = hc.push(hub.url, ORG, ana, env.origin, [bad])
        assert r.status == 200, r.body  # a 500 before
        (res,) = r.body["results"]
        assert res["outcome"] == "refused" and why in res["reason"], res
    assert "Traceback" not in (hub.folder / "hub.log").read_text()
    store.close()
