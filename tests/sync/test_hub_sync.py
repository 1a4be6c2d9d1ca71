"""Push and pull through a real hub (docs/sync.md): routing by class, no echoes, duplicates,
and what the hub refuses to relay."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import msgspec

from core.sync import envelope
from core.sync.wire import Envelope
from tests.sync import hubclient as hc
from tests.sync.conftest import HubHandle
from tests.sync.stores import CLASSES, PII_BODY, new_store, one_of_each, put


def _classes(reply: hc.Reply) -> list[str]:
    assert reply.status == 200, reply.body
    return sorted(it["envelope"]["sync_class"] for it in reply.body["items"] if it["envelope"])


def test_push_then_pull_between_two_members(hub: HubHandle, tmp_path: Path) -> None:
    ana, bob = hub.token("acme", "ana"), hub.token("acme", "bob")
    store = new_store(tmp_path / "ana")
    env = put(store, "memories/decisions/db.md", "# Use postgres\n\nWe chose it.\n", "shareable")
    r = hc.push(hub.url, "acme", ana, env.origin, [env])
    assert hc.outcomes(r) == [(env.seq, "accepted")] and r.body["cursor"] == 1
    r = hc.pull(hub.url, "acme", bob)
    assert r.body["cursor"] == 1 and r.body["more"] is False
    (item,) = r.body["items"]
    got = msgspec.convert(item["envelope"], Envelope)
    assert got == env
    v = envelope.verify(got, None)  # the puller checks again: the hub is only a relay
    assert v.memory.body == b"# Use postgres\n\nWe chose it.\n"
    assert hc.pull(hub.url, "acme", bob, after=1).body["items"] == []


def test_the_class_matrix_at_the_hub(hub: HubHandle, tmp_path: Path) -> None:
    laptop = hub.token("acme", "ana", device="laptop")
    phone = hub.token("acme", "ana", device="phone")
    bob = hub.token("acme", "bob", role="member")
    gus = hub.token("acme", "gus", role="guest")
    boss = hub.token("acme", "ola", role="admin")
    store = new_store(tmp_path / "laptop")
    envs = one_of_each(store)
    r = hc.push(hub.url, "acme", laptop, store.manifest.store_id, [envs[c] for c in CLASSES])
    results = dict(hc.outcomes(r))
    assert results.pop(envs["private"].seq) == "refused"
    assert set(results.values()) == {"accepted"}
    (private,) = [x for x in r.body["results"] if x["outcome"] == "refused"]
    assert "never leaves this machine" in private["reason"]
    everyone = ["shareable", "team-public"]
    assert _classes(hc.pull(hub.url, "acme", phone)) == sorted(["personal", "org-only", *everyone])
    assert _classes(hc.pull(hub.url, "acme", bob)) == sorted(["org-only", *everyone])
    assert _classes(hc.pull(hub.url, "acme", boss)) == sorted(["org-only", *everyone])
    assert _classes(hc.pull(hub.url, "acme", gus)) == sorted(everyone)


def test_org_only_follows_the_orgs_roles(hub: HubHandle, tmp_path: Path) -> None:
    ana = hub.token("beta", "ana", role="admin", org_only_roles=("admin",))
    bob = hub.token("beta", "bob", role="member")
    boss = hub.token("beta", "ola", role="admin")
    store = new_store(tmp_path / "ana")
    env = put(store, "memories/facts/plan.md", "the plan\n", "org-only")
    assert hc.outcomes(hc.push(hub.url, "beta", ana, env.origin, [env])) == [(env.seq, "accepted")]
    assert _classes(hc.pull(hub.url, "beta", bob)) == []
    assert _classes(hc.pull(hub.url, "beta", boss)) == ["org-only"]
    assert hc.whoami(hub.url, "beta", bob).body["org_only_roles"] == ["admin"]


def test_a_memory_held_for_pii_is_refused(hub: HubHandle, tmp_path: Path) -> None:
    ana = hub.token("acme", "ana")
    store = new_store(tmp_path / "ana")
    env = put(store, "memories/people/contractor.md", PII_BODY, "shareable")
    assert json.loads(env.sidecar)["pii_status"] == "held"
    r = hc.push(hub.url, "acme", ana, env.origin, [env])
    assert hc.outcomes(r) == [(env.seq, "refused")]
    assert "PII" in r.body["results"][0]["reason"]
    assert hc.pull(hub.url, "acme", hub.token("acme", "bob")).body["items"] == []
    assert any("PII" in e.detail for e in hub.events("acme") if e.event == "push.refused")


def test_no_echoes_and_a_duplicate_is_stored_once(hub: HubHandle, tmp_path: Path) -> None:
    ana, bob = hub.token("acme", "ana"), hub.token("acme", "bob")
    store = new_store(tmp_path / "ana")
    one = put(store, "memories/facts/one.md", "one\n", "team-public")
    two = put(store, "memories/facts/two.md", "two\n", "personal")
    assert hc.outcomes(hc.push(hub.url, "acme", ana, one.origin, [one, two])) == [
        (one.seq, "accepted"),
        (two.seq, "accepted"),
    ]
    # The same batch again (a retry after a lost reply), then with a new version.
    three = put(store, "memories/facts/one.md", "one, edited\n", "team-public")
    r = hc.push(hub.url, "acme", ana, one.origin, [one, two, three])
    assert hc.outcomes(r) == [
        (one.seq, "duplicate"),
        (two.seq, "duplicate"),
        (three.seq, "accepted"),
    ]
    assert r.body["cursor"] == 3
    pulled = hc.pull(hub.url, "acme", bob).body["items"]
    assert [(i["cursor"], i["envelope"]["seq"]) for i in pulled] == [(1, one.seq), (3, three.seq)]
    mine = hc.pull(hub.url, "acme", ana)  # ana's own store: nothing comes back
    assert mine.body["items"] == [] and mine.body["cursor"] == 3


def test_pull_pages_resume_from_the_cursor(hub: HubHandle, tmp_path: Path) -> None:
    ana, bob = hub.token("acme", "ana"), hub.token("acme", "bob")
    store = new_store(tmp_path / "ana")
    envs = [put(store, f"memories/facts/f{i}.md", f"fact {i}\n", "shareable") for i in range(5)]
    hc.push(hub.url, "acme", ana, store.manifest.store_id, envs)
    seen, after, more = [], 0, True
    while more:
        r = hc.pull(hub.url, "acme", bob, after=after, limit=2)
        seen += [i["envelope"]["seq"] for i in r.body["items"]]
        after, more = r.body["cursor"], r.body["more"]
    assert seen == [e.seq for e in envs] and after == 5


def _tampered(env: Envelope) -> dict[str, Envelope]:
    side = json.loads(env.sidecar)
    side["title"] = "Something else"
    leaf = base64.b64encode(base64.b64decode(env.proof.leaf) + b" ").decode()
    proof = msgspec.structs.replace(env.proof, leaf=leaf)
    return {
        "body": msgspec.structs.replace(env, body=base64.b64encode(b"forged\n").decode()),
        "sidecar": msgspec.structs.replace(env, sidecar=json.dumps(side, sort_keys=True)),
        "proof": msgspec.structs.replace(env, proof=proof),
        "class": msgspec.structs.replace(env, sync_class="team-public"),
    }


def test_tampered_envelopes_are_refused_with_the_reason(hub: HubHandle, tmp_path: Path) -> None:
    ana = hub.token("acme", "ana")
    store = new_store(tmp_path / "ana")
    first = put(store, "memories/facts/ok.md", "fine\n", "shareable")
    assert hc.outcomes(hc.push(hub.url, "acme", ana, first.origin, [first])) == [
        (first.seq, "accepted")
    ]
    env = put(store, "memories/facts/t.md", "the truth\n", "shareable")
    reasons = {
        "body": "altered",
        "sidecar": "not committed",
        "proof": "does not verify",
        "class": "the committed sidecar says shareable",
    }
    for what, bad in _tampered(env).items():
        r = hc.push(hub.url, "acme", ana, env.origin, [bad])
        (res,) = r.body["results"]
        assert res["outcome"] == "refused", what
        assert reasons[what] in res["reason"], (what, res["reason"])
    assert hc.pull(hub.url, "acme", hub.token("acme", "bob")).body["cursor"] == 1
    assert len([e for e in hub.events("acme") if e.event == "push.refused"]) == 4
    # The genuine one still goes through after all that.
    assert hc.outcomes(hc.push(hub.url, "acme", ana, env.origin, [env])) == [(env.seq, "accepted")]


def test_a_role_change_applies_to_tokens_already_issued(hub: HubHandle, tmp_path: Path) -> None:
    ana = hub.token("acme", "ana")
    gus = hub.token("acme", "gus", role="guest", device="desk")
    store = new_store(tmp_path / "ana")
    env = put(store, "memories/facts/plan.md", "the plan\n", "org-only")
    hc.push(hub.url, "acme", ana, env.origin, [env])
    assert _classes(hc.pull(hub.url, "acme", gus)) == []
    hub.token("acme", "gus", role="member", device="laptop")  # the operator promotes gus
    assert hc.whoami(hub.url, "acme", gus).body["role"] == "member"
    assert _classes(hc.pull(hub.url, "acme", gus)) == ["org-only"]
