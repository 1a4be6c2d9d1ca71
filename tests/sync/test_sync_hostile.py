"""What a hostile hub cannot do to a member (docs/sync.md, "Bounds and refusals"): name a
folder with an origin, keep a pass looping on one page, or crash it with deep nesting; and
what it says about the member is printed escaped. The hub here is tests/sync/hostile.py on
loopback: a real hub never sends any of it."""

from __future__ import annotations

import base64
import hashlib
import threading
from pathlib import Path

import msgspec
import pytest

from brain_tui.cli.main import main as brain
from core.errors import BrainError
from core.portable.importer import conflict_file
from core.store import Store
from core.sync import envelope, wire
from core.sync.wire import Envelope, PullItem, PurgeNotice
from tests.sync.hostile import TOKEN, HostileHub, forge, one_row_log, page
from tests.sync.stores import ANA, new_store, purge, put

P = "memories/facts/x.md"
DEEP = b"[" * 5000 + b"]" * 5000  # deeper than the interpreter's stack


@pytest.fixture(autouse=True)
def _temp_stores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRAIN_ALLOW_TEMP_STORE", "1")


def _joined(root: Path, url: str) -> Store:
    s = new_store(root)
    s.sync.join(url, TOKEN, mode="manual")
    return s


def _serving(items: list[PullItem]):
    """A pull that pages `items` as a hub would (one page, the cursor at the last)."""
    return lambda after: page([i for i in items if i.cursor > after], len(items))


def _bad_origins(tmp_path: Path) -> list[str]:
    """Origins that would take `conflicts/<origin>/<path>` onto the store's own memory and
    outside the store (to tmp_path/elsewhere); one that is simply not lowercase hex."""
    up = "../" * (len(tmp_path.parts) + 3)
    return ["..", up + str(tmp_path / "elsewhere").lstrip("/"), "A" * 32]


def test_a_store_id_is_32_lowercase_hex() -> None:
    assert wire.is_store_id("0123456789abcdef" * 2)
    for bad in ("..", "a" * 31, "a" * 33, "A" * 32, "a" * 31 + "\n", "a" * 31 + "/", ""):
        assert not wire.is_store_id(bad), bad


def test_an_envelope_whose_origin_is_not_a_store_id_is_refused(tmp_path: Path) -> None:
    other = new_store(tmp_path / "other")
    env = put(other, P, "the hub's content\n", "shareable")
    items = []
    for n, origin in enumerate(_bad_origins(tmp_path), 1):
        forged = msgspec.structs.replace(env, origin=origin, proof=forge(env.proof, origin))
        with pytest.raises(envelope.EnvelopeRefused, match="not a store id"):
            envelope.verify(forged, None)  # what the hub and every member check
        items.append(PullItem(n, "envelope", envelope=forged))
    with HostileHub(_serving(items)) as hub:
        victim = _joined(tmp_path / "victim", hub.url)
        victim.put(P, "my own private fact\n", actor=ANA, sync_class="private")
        rep = victim.sync.run()
        assert rep.ok, rep.errors
        assert (rep.imported, rep.conflicts, rep.skipped) == (0, [], len(items))
        assert victim.view(P).body == b"my own private fact\n"
        assert not (tmp_path / "elsewhere").exists()
        assert list((victim.root / "conflicts").iterdir()) == []
        assert victim.doctor().state == "READY"
        victim.close()


def test_a_purge_notice_whose_origin_is_not_a_store_id_deletes_nothing(tmp_path: Path) -> None:
    other = new_store(tmp_path / "other")
    put(other, P, "x\n", "shareable")
    notice = purge(other, P)
    items = []
    for n, origin in enumerate(_bad_origins(tmp_path), 1):
        forged = msgspec.structs.replace(notice, origin=origin, proof=forge(notice.proof, origin))
        with pytest.raises(envelope.EnvelopeRefused, match="not a store id"):
            envelope.verify_purge(forged, None)
        items.append(PullItem(n, "purge", purge=forged))
    outside = tmp_path / "elsewhere" / P  # what `conflicts/<origin>/<path>` reaches
    outside.parent.mkdir(parents=True)
    outside.write_text("a file outside any store\n")
    with HostileHub(_serving(items)) as hub:
        victim = _joined(tmp_path / "victim", hub.url)
        victim.put(P, "my own private fact\n", actor=ANA, sync_class="private")
        rep = victim.sync.run()
        assert rep.ok and rep.purged == 0 and rep.skipped == len(items), rep
        assert victim.view(P).body == b"my own private fact\n"
        assert outside.read_text() == "a file outside any store\n"
        assert victim.doctor().state == "READY"
        victim.close()


def test_a_leaf_nested_too_deep_is_skipped_not_raised(tmp_path: Path) -> None:
    other = new_store(tmp_path / "other")
    env = put(other, P, "hello\n", "shareable")
    leaf = base64.b64encode(DEEP).decode()
    leaf_hash = base64.b64encode(hashlib.sha256(b"\x00" + DEEP).digest()).decode()
    bad = msgspec.structs.replace(
        env, proof=msgspec.structs.replace(env.proof, leaf=leaf, leaf_hash=leaf_hash)
    )
    with HostileHub(_serving([PullItem(1, "envelope", envelope=bad)])) as hub:
        victim = _joined(tmp_path / "victim", hub.url)
        rep = victim.sync.run()  # RecursionError came out of the pass before
        assert rep.ok and rep.skipped == 1, rep
        assert victim.sync.status().inbox["skipped"] == 1
        victim.close()


def test_a_purge_notice_whose_path_is_not_a_memory_path_is_refused(tmp_path: Path) -> None:
    """The path comes from the origin's signed row: a member's modified software may sign
    any; the puller erases its copies (and conflict copies) by it."""
    origin = "f" * 32
    bad = "memories/../../../../elsewhere/x.md"  # conflicts/<origin>/… reaches tmp_path
    row = {
        "seq": 1,
        "ts_ns": 1,
        "op": "delete",
        "path": bad,
        "actor": "human:m@l",
        "commit": "",
        "prev_chain": "0" * 64,
        "chain": "0" * 64,
        "extra": {"mode": "purge", "reason": "other"},
    }
    notice = PurgeNotice(origin=origin, seq=1, path=bad, proof=one_row_log(row, origin))
    with pytest.raises(envelope.EnvelopeRefused, match="path"):
        envelope.verify_purge(notice, None)  # it verified, and erased by that path, before
    outside = tmp_path / "elsewhere" / "x.md"
    outside.parent.mkdir(parents=True)
    outside.write_text("a file outside any store\n")
    outside.with_name("x.meta.json").write_text("{}")
    with HostileHub(_serving([PullItem(1, "purge", purge=notice)])) as hub:
        victim = _joined(tmp_path / "victim", hub.url)
        # Where an earlier conflict copy from that origin would sit.
        (victim.root / "conflicts" / origin / "memories").mkdir(parents=True)
        rep = victim.sync.run()
        assert rep.ok and rep.purged == 0 and rep.skipped == 1, rep
        assert outside.exists() and outside.with_name("x.meta.json").exists()
        victim.close()


def test_a_conflict_copy_must_lie_inside_conflicts(tmp_path: Path) -> None:
    """Defence in depth under the origin check: whatever names it, a copy outside
    `conflicts/` is neither written nor deleted."""
    root = tmp_path / "s"
    assert conflict_file(root, f"conflicts/{'a' * 32}/{P}") == root / "conflicts" / ("a" * 32) / P
    for copy in (f"conflicts/../{P}", "conflicts/../../elsewhere.md", "conflicts/.", "conflicts"):
        with pytest.raises(BrainError, match="inside conflicts/"):
            conflict_file(root, copy)


def _stuck(env: Envelope):
    """The same page again and again, `more` set, the cursor never past `after`."""
    return lambda after: page([PullItem(1, "envelope", envelope=env)], 1, more=True)


def _going_back(env: Envelope):
    """A cursor that moves, but items at or before `after`."""
    return lambda after: page([PullItem(1, "envelope", envelope=env)], after + 1, more=True)


@pytest.mark.parametrize("reply", [_stuck, _going_back])
def test_a_hub_that_does_not_move_forward_fails_the_pass(reply, tmp_path: Path) -> None:
    other = new_store(tmp_path / "other")
    env = put(other, P, "hello\n", "shareable")
    done: list = []
    with HostileHub(reply(env)) as hub:
        victim = _joined(tmp_path / "victim", hub.url)
        t = threading.Thread(target=lambda: done.append(victim.sync.run()), daemon=True)
        t.start()
        t.join(30)
        # It looped for ever before (holding the pass lock), a request after another.
        assert not t.is_alive(), f"the pass is still pulling ({hub.pulls} pulls)"
    (rep,) = done
    assert rep.errors and "misbehaving" in rep.errors[0], rep.errors
    assert hub.pulls == 2
    victim.close()


def test_a_reply_nested_too_deep_is_a_clear_error(tmp_path: Path) -> None:
    env = b'{"origin":"a","seq":1,"path":"p","sync_class":"s","proof":{"x":%s},"body":"","sidecar":""}'
    reply = b'{"items":[{"cursor":1,"kind":"envelope","envelope":%s}],"cursor":1,"more":false}'
    with HostileHub(lambda after: reply % (env % DEEP)) as hub:
        victim = _joined(tmp_path / "victim", hub.url)
        rep = victim.sync.run()  # RecursionError came out of the pass before
        assert rep.errors and "not brain-sync/v1" in rep.errors[0], rep.errors
        assert "not brain-sync/v1" in victim.sync.status().last_error
        victim.close()


def test_join_and_status_escape_the_role_the_hub_names(tmp_path: Path, capsys) -> None:
    root = tmp_path / "s"
    Store.init(root, allow_temp=True).close()
    (tmp_path / "tok").write_text(TOKEN)
    with HostileHub(lambda after: page([], 0), role="\x1b]0;owned\x07\x1b[2Jmember") as hub:
        argv = ["--store", str(root), "--allow-temp-store", "sync"]
        assert brain([*argv, "join", hub.url, "--token-file", str(tmp_path / "tok")]) == 0
        assert brain([*argv, "status"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert out.count("(\\x1b]0;owned\\x07\\x1b[2Jmember)") == 2
