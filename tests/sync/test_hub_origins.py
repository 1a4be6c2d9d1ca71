"""Origins at the hub (docs/sync.md): one store per device, its key pinned on first use; purges
erase what the hub holds and reach the pullers; a killed hub keeps everything."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

from core.store import Store
from core.sync.hub.storage_sqlite import MAIN_FILE
from tests.sync import hubclient as hc
from tests.sync.conftest import HubHandle
from tests.sync.stores import new_store, purge, put


def test_a_store_bound_to_one_device_cannot_be_pushed_by_another(
    hub: HubHandle, tmp_path: Path
) -> None:
    laptop = hub.token("acme", "ana", device="laptop")
    phone = hub.token("acme", "ana", device="phone")
    bob = hub.token("acme", "bob", device="desk")
    store = new_store(tmp_path / "laptop")
    env = put(store, "memories/facts/f.md", "a fact\n", "shareable")
    assert hc.outcomes(hc.push(hub.url, "acme", laptop, env.origin, [env])) == [
        (env.seq, "accepted")
    ]
    for token in (phone, bob):
        r = hc.push(hub.url, "acme", token, env.origin, [env])
        assert r.status == 403 and "bound to device laptop" in r.body["error"]
    # One store per device: the laptop cannot start pushing a second store either.
    other = new_store(tmp_path / "other")
    env2 = put(other, "memories/facts/g.md", "another\n", "shareable")
    r = hc.push(hub.url, "acme", laptop, env2.origin, [env2])
    assert r.status == 403 and "already pushes store" in r.body["error"]
    assert len([e for e in hub.events("acme") if e.event == "forbidden"]) == 3


def test_an_item_naming_another_origin_is_refused(hub: HubHandle, tmp_path: Path) -> None:
    ana = hub.token("acme", "ana")
    mine, theirs = new_store(tmp_path / "mine"), new_store(tmp_path / "theirs")
    env = put(theirs, "memories/facts/f.md", "theirs\n", "shareable")
    r = hc.push(hub.url, "acme", ana, mine.manifest.store_id, [env])
    assert hc.outcomes(r) == [(env.seq, "refused")]
    assert "names origin" in r.body["results"][0]["reason"]
    assert hc.whoami(hub.url, "acme", ana).body["store"] == ""  # nothing verified: no binding


def test_another_key_claiming_the_same_store_id_is_refused(hub: HubHandle, tmp_path: Path) -> None:
    ana = hub.token("acme", "ana")
    real = new_store(tmp_path / "real")
    env = put(real, "memories/facts/f.md", "the real one\n", "shareable")
    assert hc.outcomes(hc.push(hub.url, "acme", ana, env.origin, [env])) == [(env.seq, "accepted")]
    real.close()
    # A copy of the store (same id) that signs with a key of its own.
    shutil.copytree(tmp_path / "real", tmp_path / "copy")
    copy = Store.open(tmp_path / "copy", allow_temp=True)
    copy.rotate_key()
    copy.rotate_key(finish=True)
    forged = put(copy, "memories/facts/g.md", "an impostor\n", "shareable")
    assert forged.origin == env.origin and forged.proof.public_key != env.proof.public_key
    r = hc.push(hub.url, "acme", ana, forged.origin, [forged])
    assert hc.outcomes(r) == [(forged.seq, "refused")]
    assert "not one of the trusted keys" in r.body["results"][0]["reason"]


def _hub_bytes(hub: HubHandle) -> bytes:
    """Every byte the embedded backend keeps for org acme (the file and its WAL)."""
    org = hub.folder / "orgs" / "acme"
    return b"".join(p.read_bytes() for p in org.iterdir() if p.name.startswith(MAIN_FILE))


def test_a_purge_erases_the_payloads_and_reaches_the_pullers(
    hub: HubHandle, tmp_path: Path
) -> None:
    ana, bob = hub.token("acme", "ana"), hub.token("acme", "bob")
    store = new_store(tmp_path / "ana")
    path = "memories/people/eve.md"
    secret = "Eve's home address is 12 Quiet Lane\n"
    v1 = put(store, path, secret, "shareable")
    keep = put(store, "memories/facts/keep.md", "kept\n", "shareable")
    hc.push(hub.url, "acme", ana, v1.origin, [v1, keep])
    v2 = put(store, path, secret + "and her phone\n", "personal")  # reclassed narrower
    hc.push(hub.url, "acme", ana, v1.origin, [v2])
    assert [p for _k, p in hc.pulled_paths(hc.pull(hub.url, "acme", bob))] == [path, keep.path]
    if hub.db_url is None:
        assert base64.b64encode(secret.encode()) in _hub_bytes(hub)
    v3 = put(store, path, secret + "and her car\n", "shareable")  # not pushed before the purge
    notice = purge(store, path)
    r = hc.push(hub.url, "acme", ana, v1.origin, purges=[notice])
    assert hc.outcomes(r) == [(notice.seq, "accepted")]
    assert hc.outcomes(hc.push(hub.url, "acme", ana, v1.origin, purges=[notice])) == [
        (notice.seq, "duplicate")
    ]
    # Bob pulled v1 (shareable): the notice reaches him, and a newcomer gets only the notice.
    r = hc.pull(hub.url, "acme", bob, after=3)
    assert hc.pulled_paths(r) == [("purge", path)]
    assert r.body["items"][0]["purge"]["seq"] == notice.seq
    carl = hub.token("acme", "carl", role="guest")
    assert hc.pulled_paths(hc.pull(hub.url, "acme", carl)) == [
        ("envelope", keep.path),
        ("purge", path),
    ]
    # A late retry of a purged version is answered, never brought back.
    r = hc.push(hub.url, "acme", ana, v1.origin, [v1, v2, v3])
    assert hc.outcomes(r) == [(v1.seq, "duplicate"), (v2.seq, "duplicate"), (v3.seq, "accepted")]
    assert hc.pulled_paths(hc.pull(hub.url, "acme", bob, after=4)) == []
    assert hc.pulled_paths(hc.pull(hub.url, "acme", carl, after=4)) == []
    if hub.db_url is None:
        assert base64.b64encode(secret.encode()) not in _hub_bytes(hub)


def test_a_purge_of_an_unknown_path_or_a_forged_purge(hub: HubHandle, tmp_path: Path) -> None:
    ana = hub.token("acme", "ana")
    store = new_store(tmp_path / "ana")
    env = put(store, "memories/facts/f.md", "fact\n", "shareable")
    hc.push(hub.url, "acme", ana, env.origin, [env])
    notice = purge(store, "memories/facts/f.md")
    wrong = type(notice)(notice.origin, env.seq, notice.path, store.prove(env.seq))
    r = hc.push(hub.url, "acme", ana, env.origin, purges=[wrong])
    assert hc.outcomes(r) == [(env.seq, "refused")]
    assert "not a purge" in r.body["results"][0]["reason"]


def test_a_killed_hub_restarts_with_its_data(hub: HubHandle, tmp_path: Path) -> None:
    ana, bob = hub.token("acme", "ana"), hub.token("acme", "bob")
    store = new_store(tmp_path / "ana")
    envs = [put(store, f"memories/facts/f{i}.md", f"fact {i}\n", "team-public") for i in range(3)]
    hc.push(hub.url, "acme", ana, store.manifest.store_id, envs[:2])
    hub.stop()
    hub.start()
    r = hc.push(hub.url, "acme", ana, store.manifest.store_id, envs)
    assert hc.outcomes(r) == [
        (envs[0].seq, "duplicate"),
        (envs[1].seq, "duplicate"),
        (envs[2].seq, "accepted"),
    ]
    r = hc.pull(hub.url, "acme", bob)
    assert [i["envelope"]["seq"] for i in r.body["items"]] == [e.seq for e in envs]
    assert hc.whoami(hub.url, "acme", ana).body["store"] == store.manifest.store_id
