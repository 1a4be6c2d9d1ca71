"""Checkpoints, proof bundles, rotation, rollback refusal and the witness, on real stores."""

from __future__ import annotations

import base64
import copy
import shutil

import msgspec
import pytest

from core.errors import Frozen, KeyError_
from core.models import Manifest
from core.store import Store
from core.verify import checkpoints, proofbundle, signed_note

ACTOR = "agent:test@host"


@pytest.fixture(autouse=True)
def _isolated_witness(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("BRAIN_PASSPHRASE", raising=False)


def _store(tmp_path, n=10, **kw) -> Store:
    s = Store.init(tmp_path / "s", allow_temp=True, **kw)
    for i in range(n):
        s.put(f"memories/facts/f{i}.md", f"fact {i}\n", actor=ACTOR)
    return s


def test_checkpoint_note_is_signed_and_logged(tmp_path):
    with _store(tmp_path) as s:
        text = s.checkpoint()
        vkeys = [
            v for v in __import__("core.verify.keys", fromlist=["x"]).load_verifiers(s.layout.keys)
        ]
        cp, signers = signed_note.verify_note(text, vkeys)
        assert cp.size == 10 and cp.root == s.mmr.root(10)
        assert len(signers) == 1
        row = s.tail(11, 1)[0]
        assert row.op == "checkpoint" and row.extra == {"root": cp.root.hex(), "size": 10}
        assert row.commit == ""
        assert s.state().last_checkpoint_size == 10


def test_proof_bundle_verifies_and_every_field_is_checked(tmp_path):
    with _store(tmp_path) as s:
        bundle = s.prove(4)
    assert bundle["format"] == "brain-proof/v1" and bundle["leaf_index"] == 3
    assert set(bundle) == {
        "format", "seq", "leaf_index", "tree_size", "leaf", "leaf_hash", "proof", "root",
        "checkpoint", "public_key",
    }  # fmt: skip
    assert proofbundle.verify(bundle).valid
    assert msgspec.json.decode(base64.b64decode(bundle["leaf"]))["seq"] == 4

    def flipped(b64: str) -> str:
        raw = bytearray(base64.b64decode(b64))
        raw[len(raw) // 2] ^= 1
        return base64.b64encode(bytes(raw)).decode()

    for field in ("leaf", "leaf_hash", "root"):
        bad = dict(bundle, **{field: flipped(bundle[field])})
        assert not proofbundle.verify(bad).valid, field
    bad = copy.deepcopy(bundle)
    bad["proof"][0] = flipped(bad["proof"][0])
    assert not proofbundle.verify(bad).valid
    for field, value in (("seq", 5), ("tree_size", 9), ("leaf_index", 4)):
        assert not proofbundle.verify(dict(bundle, **{field: value})).valid, field
    bad_note = bundle["checkpoint"].replace("\n10\n", "\n11\n")
    assert not proofbundle.verify(dict(bundle, checkpoint=bad_note)).valid
    other = Store.init(tmp_path / "other", allow_temp=True)
    other.put("memories/facts/x.md", "x\n", actor=ACTOR)
    foreign_key = other.prove(1)["public_key"]
    other.close()
    verdict = proofbundle.verify(dict(bundle, public_key=foreign_key))
    assert not verdict.valid and "trusted key" in verdict.reason
    assert not proofbundle.verify(bundle, trusted=[foreign_key]).valid
    assert proofbundle.verify(bundle, trusted=[bundle["public_key"]]).valid


def test_wrong_field_types_are_named_not_raised(tmp_path):
    """Agent input (MCP) reaches verify() as any JSON: each field's type is checked first."""
    with _store(tmp_path) as s:
        bundle = s.prove(4)
    for field, value, want in (
        ("checkpoint", None, "checkpoint must be a string"),
        ("public_key", 1, "public_key must be a string"),
        ("proof", 1, "proof must be a list of base64 strings"),
        ("root", [], "root must be a base64 string"),
    ):
        verdict = proofbundle.verify(dict(bundle, **{field: value}))
        assert not verdict.valid and verdict.reason == want, (field, verdict)
    for field in ("root", "checkpoint", "public_key", "proof", "leaf"):
        short = {k: v for k, v in bundle.items() if k != field}
        assert proofbundle.verify(short).reason == f"missing field {field}"
    # A key string where a list of keys belongs must not pass as a substring match.
    verdict = proofbundle.verify(bundle, trusted=bundle["public_key"] + "x")  # type: ignore[arg-type]
    assert not verdict.valid and "list of verifier key strings" in verdict.reason


def test_prove_past_latest_checkpoint_makes_one(tmp_path):
    with _store(tmp_path, n=3) as s:
        s.checkpoint()
        s.put("memories/facts/late.md", "late\n", actor=ACTOR)
        bundle = s.prove(5)
        assert bundle["tree_size"] >= 5
        assert proofbundle.verify(bundle).valid


def test_consistency_between_checkpoints(tmp_path):
    with _store(tmp_path, n=3) as s:
        s.checkpoint()
        for i in range(7):
            s.put(f"memories/facts/more{i}.md", f"more {i}\n", actor=ACTOR)
        s.checkpoint()
        sizes = checkpoints.sizes(s.layout)
        bundle = s.consistency(sizes[0], sizes[-1])
    assert bundle["format"] == "brain-consistency/v1"
    assert proofbundle.verify(bundle).valid
    swapped = dict(bundle, root1=bundle["root2"], root2=bundle["root1"])
    assert not proofbundle.verify(swapped).valid


def test_automatic_checkpoint_every_n_rows(tmp_path):
    s = Store.init(tmp_path / "s", allow_temp=True)
    s.close()
    m = msgspec.json.decode(s.layout.manifest.read_bytes(), type=Manifest)
    m.settings.checkpoint_every_rows = 5
    s.layout.manifest.write_bytes(msgspec.json.encode(m))
    with Store.open(tmp_path / "s", allow_temp=True) as s:
        for i in range(12):
            s.put(f"memories/facts/f{i}.md", f"fact {i}\n", actor=ACTOR)
        assert checkpoints.sizes(s.layout) == [5, 11]
        ops = [r.op for r in s.tail()]
        assert ops.count("checkpoint") == 2


def test_time_based_checkpoint_in_service_mode(tmp_path):
    s = Store.init(tmp_path / "s", allow_temp=True)
    s.close()
    m = msgspec.json.decode(s.layout.manifest.read_bytes(), type=Manifest)
    m.settings.checkpoint_every_ms = 50
    s.layout.manifest.write_bytes(msgspec.json.encode(m))
    import time

    with Store.open(tmp_path / "s", allow_temp=True, service=True) as s:
        s.put("memories/facts/a.md", "a\n", actor=ACTOR)
        deadline = time.monotonic() + 5
        while not checkpoints.sizes(s.layout) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert checkpoints.sizes(s.layout) == [1]
        time.sleep(0.3)  # idle: a checkpoint row is not activity, so no second checkpoint
        assert checkpoints.sizes(s.layout) == [1]


def test_rotation_signs_with_both_keys_then_the_new_one(tmp_path):
    with _store(tmp_path, n=2) as s:
        started = s.rotate_key()
        note = checkpoints.read_note(s.layout, checkpoints.sizes(s.layout)[-1])
        assert len(signed_note.parse_note(note)[1]) == 2
        finished = s.rotate_key(finish=True)
        assert finished["active"] == started["new"]
        note = checkpoints.read_note(s.layout, checkpoints.sizes(s.layout)[-1])
        sigs = signed_note.parse_note(note)[1]
        assert len(sigs) == 1 and started["new"].split("+")[1] == sigs[0][1].hex()
        ops = [r.op for r in s.tail()]
        assert ops.count("key.rotated") == 2
        old_bundle = s.prove(1)
    assert proofbundle.verify(old_bundle).valid
    with Store.open(tmp_path / "s", allow_temp=True) as s:
        assert s.problem is None


def test_rollback_below_latest_checkpoint_refuses_writes(tmp_path):
    with _store(tmp_path, n=6) as s:
        s.checkpoint()
        size = checkpoints.sizes(s.layout)[-1]
        binlog = s.layout.audit / "current.binlog"
    data = binlog.read_bytes()
    # Keep the first 3 frames only: a log shorter than its signed checkpoint.
    from core.log import frames

    good, _ = frames.scan(data)
    binlog.write_bytes(data[: good[2].end])
    # A careful attacker rewrites HEAD too; only the signed checkpoint gives them away.
    (tmp_path / "s" / "HEAD").write_bytes((3).to_bytes(8, "little"))
    with Store.open(tmp_path / "s", allow_temp=True) as s:
        assert s.state().state == "FROZEN_HUMAN"
        assert str(size) in (s.problem or "")
        with pytest.raises(Frozen):
            s.put("memories/facts/new.md", "new\n", actor=ACTOR)


def test_witness_catches_restore_of_an_older_copy(tmp_path):
    with _store(tmp_path, n=3) as s:
        s.checkpoint()
    shutil.copytree(tmp_path / "s", tmp_path / "old")
    with Store.open(tmp_path / "s", allow_temp=True) as s:
        for i in range(3):
            s.put(f"memories/facts/n{i}.md", f"n {i}\n", actor=ACTOR)
        s.checkpoint()
    shutil.rmtree(tmp_path / "s")
    shutil.move(tmp_path / "old", tmp_path / "s")
    with Store.open(tmp_path / "s", allow_temp=True) as s:
        assert s.state().state == "FROZEN_HUMAN"
        assert "rollback" in (s.problem or "")


def test_sealed_key_needs_the_right_passphrase(tmp_path):
    s = Store.init(tmp_path / "s", allow_temp=True, passphrase="correct horse")
    s.put("memories/facts/a.md", "a\n", actor=ACTOR)
    s.close()
    with Store.open(tmp_path / "s", allow_temp=True, passphrase="wrong") as s:
        with pytest.raises(KeyError_, match="wrong passphrase"):
            s.checkpoint()
    with Store.open(tmp_path / "s", allow_temp=True) as s:
        with pytest.raises(KeyError_, match="BRAIN_PASSPHRASE"):
            s.checkpoint()
    with Store.open(tmp_path / "s", allow_temp=True, passphrase="correct horse") as s:
        assert signed_note.parse_note(s.checkpoint())[0].size == 1
