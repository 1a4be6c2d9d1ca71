"""C2SP signed notes: the shared vector byte for byte, verification rules, strict parsing."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import KeyError_, ProofError
from core.verify.signed_note import (
    Checkpoint,
    Signer,
    Verifier,
    body,
    key_id,
    parse_note,
    sign_note,
    verify_note,
)
from tests.vectors import vector_file

CHECKPOINT = "brain/checkpoint.json"


@pytest.fixture(scope="module")
def vec() -> dict:
    return json.loads(vector_file(CHECKPOINT).read_text("utf-8"))


@pytest.fixture(scope="module")
def signer(vec: dict) -> Signer:
    return Signer.from_seed(vec["origin"], bytes.fromhex(vec["test_private_key_seed_hex"]))


@pytest.fixture(scope="module")
def cp(vec: dict) -> Checkpoint:
    root_b64 = vec["note"].split("\n")[2]
    return Checkpoint(vec["origin"], 3, base64.b64decode(root_b64))


def _other(name: str, fill: int) -> Signer:
    return Signer.from_seed(name, bytes([fill]) * 32)


# --- the shared vector ---------------------------------------------------------------------


def test_vector_vkey_and_key_id(vec: dict, signer: Signer) -> None:
    assert signer.verifier.vkey() == vec["vkey"]
    assert signer.verifier.key_id.hex() == vec["key_id_hex"]
    assert key_id(vec["origin"], signer.verifier.public_key).hex() == vec["key_id_hex"]


def test_vector_note_byte_exact(vec: dict, signer: Signer, cp: Checkpoint) -> None:
    note = sign_note(cp, [signer])
    assert note == vec["note"]
    assert note.encode("utf-8") == vec["note"].encode("utf-8")
    assert body(cp) == vec["note"].split("\n\n")[0].encode() + b"\n"


def test_vector_vkey_round_trip(vec: dict) -> None:
    v = Verifier.parse(vec["vkey"])
    assert v.vkey() == vec["vkey"]
    assert v.name == vec["origin"]
    assert Verifier.parse(vec["vkey"] + "\n") == v


def test_vector_verifies(vec: dict, cp: Checkpoint) -> None:
    got, keys = verify_note(vec["note"], [Verifier.parse(vec["vkey"])])
    assert got == cp
    assert keys == [f"{vec['origin']}+{vec['key_id_hex']}"]
    # bytes in, same answer; origin pinning
    assert verify_note(vec["note"].encode(), [Verifier.parse(vec["vkey"])])[0] == cp
    verify_note(vec["note"], [Verifier.parse(vec["vkey"])], origin=vec["origin"])
    with pytest.raises(ProofError, match="origin"):
        verify_note(vec["note"], [Verifier.parse(vec["vkey"])], origin="brain/other")


def test_parse_note_fields(vec: dict, cp: Checkpoint) -> None:
    got, sigs = parse_note(vec["note"])
    assert got == cp
    assert len(sigs) == 1
    name, kid, sig = sigs[0]
    assert (name, kid.hex(), len(sig)) == (vec["origin"], vec["key_id_hex"], 64)


# --- verification rules --------------------------------------------------------------------


def _resign_line(note: str, index: int, mutate) -> str:
    """Apply mutate to the raw (key id ‖ sig) bytes of signature line `index`."""
    head, block = note.split("\n\n")
    lines = block.rstrip("\n").split("\n")
    prefix, b64 = lines[index].rsplit(" ", 1)
    raw = bytearray(base64.b64decode(b64))
    mutate(raw)
    lines[index] = f"{prefix} {base64.b64encode(bytes(raw)).decode()}"
    return head + "\n\n" + "\n".join(lines) + "\n"


def test_flipped_signature_byte_rejected(vec: dict) -> None:
    def flip(raw: bytearray) -> None:
        raw[10] ^= 0x01

    bad = _resign_line(vec["note"], 0, flip)
    with pytest.raises(ProofError, match=f"invalid signature by trusted key {vec['origin']}"):
        verify_note(bad, [Verifier.parse(vec["vkey"])])


def test_changed_size_rejected(vec: dict) -> None:
    bad = vec["note"].replace("\n3\n", "\n4\n", 1)
    with pytest.raises(ProofError, match="invalid signature"):
        verify_note(bad, [Verifier.parse(vec["vkey"])])


def test_changed_root_rejected(vec: dict, signer: Signer, cp: Checkpoint) -> None:
    other_root = bytes([cp.root[0] ^ 1]) + cp.root[1:]
    good_sig_block = vec["note"].split("\n\n")[1]
    bad = body(Checkpoint(cp.origin, cp.size, other_root)).decode() + "\n" + good_sig_block
    with pytest.raises(ProofError, match="invalid signature"):
        verify_note(bad, [Verifier.parse(vec["vkey"])])


def test_unknown_key_ignored(vec: dict, signer: Signer, cp: Checkpoint) -> None:
    stranger = _other("witness.example/w1", 7)
    note = sign_note(cp, [stranger, signer])
    got, keys = verify_note(note, [Verifier.parse(vec["vkey"])])
    assert got == cp and keys == [signer.verifier.label]
    # Only the stranger trusted -> its label; nobody we trust -> refused.
    assert verify_note(note, [stranger.verifier])[1] == [stranger.verifier.label]
    with pytest.raises(ProofError, match="no signature by a trusted key"):
        verify_note(sign_note(cp, [stranger]), [signer.verifier])


def test_unknown_key_bad_signature_still_ignored(vec: dict, signer: Signer, cp: Checkpoint) -> None:
    note = sign_note(cp, [signer, _other("witness.example/w1", 7)])

    def flip(raw: bytearray) -> None:
        raw[-1] ^= 0x80

    bad_stranger = _resign_line(note, 1, flip)
    assert verify_note(bad_stranger, [signer.verifier])[1] == [signer.verifier.label]


def test_rotation_both_keys_reported(vec: dict, signer: Signer, cp: Checkpoint) -> None:
    # Same name, different key: C2SP tells them apart by key id.
    new = _other(vec["origin"], 9)
    assert new.verifier.key_id != signer.verifier.key_id
    note = sign_note(cp, [signer, new])
    assert note.count("\n\u2014 ") == 2
    _, keys = verify_note(note, [signer.verifier, new.verifier])
    assert keys == [signer.verifier.label, new.verifier.label]
    # An importer that pinned only the new key still verifies.
    assert verify_note(note, [new.verifier])[1] == [new.verifier.label]


def test_duplicate_signers_written_once(signer: Signer, cp: Checkpoint) -> None:
    assert sign_note(cp, [signer, signer]) == sign_note(cp, [signer])


def test_no_trusted_keys_pinned(vec: dict) -> None:
    with pytest.raises(ProofError, match="no signature by a trusted key"):
        verify_note(vec["note"], [])


def test_sign_refuses_bad_checkpoints(signer: Signer) -> None:
    with pytest.raises(ProofError, match="root"):
        sign_note(Checkpoint("brain/x", 1, b"\0" * 31), [signer])
    with pytest.raises(ProofError, match="size"):
        sign_note(Checkpoint("brain/x", -1, b"\0" * 32), [signer])
    with pytest.raises(ProofError, match="origin"):
        sign_note(Checkpoint("brain/x\nevil", 1, b"\0" * 32), [signer])
    with pytest.raises(KeyError_):
        sign_note(Checkpoint("brain/x", 1, b"\0" * 32), [])


def test_zero_size_round_trips(signer: Signer) -> None:
    cp0 = Checkpoint(signer.name, 0, bytes(32))
    assert verify_note(sign_note(cp0, [signer]), [signer.verifier])[0] == cp0


# --- malformed notes -----------------------------------------------------------------------

_SIG = "\u2014 brain/x AAAAAAAA\n"  # 6 bytes: parses (key id + 2-byte "signature")
_ROOT = base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (f"brain/x\n1\n{_ROOT}\n{_SIG}", "blank line"),
        (f"brain/x\n01\n{_ROOT}\n\n{_SIG}", "canonical decimal"),
        (f"brain/x\n+1\n{_ROOT}\n\n{_SIG}", "canonical decimal"),
        (f"brain/x\n\u0661\n{_ROOT}\n\n{_SIG}", "canonical decimal"),
        (f"brain/x\n{2**64}\n{_ROOT}\n\n{_SIG}", "exceeds u64"),
        (f"brain/x\nabc\n{_ROOT}\n\n{_SIG}", "canonical decimal"),
        (f"brain/x\n1\n{_ROOT[:-1]}\n\n{_SIG}", "base64"),
        (f"brain/x\n1\n{_ROOT[:-2]}B=\n\n{_SIG}", "canonical base64"),
        (f"brain/x\n1\nAAAA\n\n{_SIG}", "root hash is 3 bytes"),
        (f"brain/x\n1\n{_ROOT}\n\n", "no signatures"),
        (f"brain/x\n1\n{_ROOT}\n\n- brain/x AAAAAAAA\n", "does not start with"),
        (f"brain/x\n1\n{_ROOT}\n\n\u2014 brain/x\n", "bad key name"),
        (f"brain/x\n1\n{_ROOT}\n\n\u2014 a+b AAAAAAAA\n", "bad key name"),
        (f"brain/x\n1\n{_ROOT}\n\n\u2014 brain/x AAAA\n", "too short"),
        (f"brain/x\n1\n{_ROOT}\n\n\u2014 brain/x AA$A\n", "base64"),
        (f"brain/x\n1\n{_ROOT}\n\n{_SIG}\n{_SIG}", "does not start with"),
        (f"brain/x\n1\n{_ROOT}\next\n\n{_SIG}", "4 lines, want 3"),
        (f"\n1\n{_ROOT}\n\n{_SIG}", "empty origin"),
        (f"brain/x\n1\n{_ROOT}\n\n{_SIG}"[:-1], "newline"),
        (f"brain/x\r\n1\n{_ROOT}\n\n{_SIG}", "control characters"),
        (f"brain/x\n1\n{_ROOT}\n\n" + _SIG * 101, "more than 100"),
    ],
)
def test_malformed_notes(text: str, reason: str) -> None:
    with pytest.raises(ProofError, match=reason):
        parse_note(text)


def test_invalid_utf8_bytes() -> None:
    with pytest.raises(ProofError, match="UTF-8"):
        parse_note(b"brain/x\n1\n\xff\n\n")


@pytest.mark.parametrize(
    "vkey",
    [
        "brain/x",
        "brain/x+e64fbce5",
        "brain/x+E64FBCE5+AXjeE9TuTNDq4wC1AA9wK/YqQCfpFgCHG9kD+fs6/otf",
        "brain/x+e64fbce5+AXjeE9TuTNDq4wC1AA9wK/YqQCfpFgCHG9kD+fs6/otf",  # id mismatch
        "brain/7d4c1f0e9a2b4c6d8e0f1a2b3c4d5e6f+e64fbce5+AnjeE9TuTNDq4wC1AA9wK/YqQCfpFgCHG9kD+fs6/otf",
        "brain/7d4c1f0e9a2b4c6d8e0f1a2b3c4d5e6f+e64fbce5+AXjeE9TuTNDq4wC1AA9wK/YqQCfpFgCHG9kD",
        "brain/7d4c1f0e9a2b4c6d8e0f1a2b3c4d5e6f+e64fbce5+!!!",
        "bad name+e64fbce5+AXjeE9TuTNDq4wC1AA9wK/YqQCfpFgCHG9kD+fs6/otf",
    ],
)
def test_malformed_vkeys(vkey: str) -> None:
    with pytest.raises(KeyError_):
        Verifier.parse(vkey)


# Mutations of a valid note: replace, insert or delete one character from a pool that mixes
# the note's own alphabet with the characters that matter to the grammar.
_POOL = st.sampled_from(list("\n \u2014+/=0123456789AZaz-\r\x00\u0661é"))


@st.composite
def _mutated(draw: st.DrawFn, note: str) -> str:
    text = note
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, max(len(text) - 1, 0)))
        op = draw(st.sampled_from(["replace", "insert", "delete"]))
        c = draw(_POOL)
        if op == "replace":
            text = text[:i] + c + text[i + 1 :]
        elif op == "insert":
            text = text[:i] + c + text[i:]
        else:
            text = text[:i] + text[i + 1 :]
    return text


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_mutations_only_raise_proof_error(vec: dict, data: st.DataObject) -> None:
    note, verifier = vec["note"], Verifier.parse(vec["vkey"])
    text = data.draw(_mutated(note))
    original, _ = parse_note(note)
    try:
        parse_note(text)
    except ProofError:
        pass
    try:
        cp, keys = verify_note(text, [verifier])
    except ProofError:
        return
    # Anything that still verifies must carry exactly the signed checkpoint.
    assert cp == original and keys == [verifier.label]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300))
def test_arbitrary_input_only_raises_proof_error(blob: bytes | str) -> None:
    try:
        parse_note(blob)
    except ProofError:
        pass
