"""The shared chain vector reproduced byte for byte through the real Store, plus property tests
for the pieces it is made of: frames (CRC-32C) and canonical JSON."""

from __future__ import annotations

import base64
import json
import os
import struct
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core.errors import CanonicalError
from core.log import canonical, frames
from core.log.crc import crc32c
from core.log.hashing import GENESIS_CHAIN, META_FIELDS, chain_hash, commitment, meta_commitment
from core.log.tip import Tip, scan_current
from core.store import Store
from core.verify.mmr import MMR, leaf_hash
from tests.vectors import vector_file


@pytest.fixture(autouse=True)
def _own_witness_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Checkpoint witnesses live outside the store: keep them out of the real home.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


@pytest.fixture(scope="module")
def vec() -> dict:
    return json.loads(vector_file("brain/chain.json").read_text("utf-8"))


class ScriptedClock:
    """Returns `now` however often it is called; the test sets it before each write.

    Robust against extra clock reads (init, keys): a row's ts_ns is max(clock(), previous),
    so only the value current at each write matters.
    """

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def _rng_for(salt: bytes):
    # 32 bytes is a body salt (and the signing-key seed at init); the store id stays random.
    def rng(n: int) -> bytes:
        return salt if n == 32 else os.urandom(n)

    return rng


# -- the vector through the real store ---------------------------------------------------------


def test_store_reproduces_chain_vector(tmp_path: Path, vec: dict) -> None:
    rows = vec["rows"]
    salt = bytes.fromhex(vec["commitment"]["salt_hex"])
    body = base64.b64decode(vec["commitment"]["body_b64"])
    clock = ScriptedClock(rows[0]["row"]["ts_ns"] - 10**9)
    store = Store.init(tmp_path / "s", allow_temp=True, clock=clock, rng=_rng_for(salt))
    try:
        r1, r2, r3 = (r["row"] for r in rows)
        clock.now = r1["ts_ns"]
        fields = vec["commitment"]["meta_fields"]
        res = store.put(
            r1["path"],
            body,
            actor=r1["actor"],
            title=fields["title"],
            category=fields["category"],
            classification=fields["classification"],
            sync_class=fields["sync_class"],
            tags=fields["tags"],
        )
        assert res.commit == vec["commitment"]["commit"]
        assert store.history(r1["path"])[0].extra["meta"] == vec["commitment"]["meta"]
        clock.now = r2["ts_ns"]
        store.move(r2["extra"]["from"], r2["path"], actor=r2["actor"])
        clock.now = r3["ts_ns"]
        store.delete(r3["path"], actor=r3["actor"])
        mmr = store.mmr
        roots = {str(n): base64.b64encode(mmr.root(n)).decode() for n in (1, 2, 3)}
    finally:
        store.close()

    binlog = (tmp_path / "s" / "audit" / "current.binlog").read_bytes()
    assert binlog == b"".join(bytes.fromhex(r["frame_hex"]) for r in rows)
    assert roots == vec["roots_b64"]
    with MMR.open(tmp_path / "s" / "audit" / "mmr.nodes", readonly=True) as mmr:
        assert mmr.size == 3
        for n in (1, 2, 3):
            assert base64.b64encode(mmr.root(n)).decode() == vec["roots_b64"][str(n)]
    # The sidecar keeps the salt, so the body's commitment stays checkable after the move.
    version = next((tmp_path / "s" / "versions").rglob("*.meta.json"))
    side = json.loads(version.read_bytes())
    assert side["salt"] == vec["commitment"]["salt_hex"]
    assert side["commit"] == vec["commitment"]["commit"]


def test_vector_rows_chain_and_leaves(vec: dict) -> None:
    prev = GENESIS_CHAIN
    for r in vec["rows"]:
        row = r["row"]
        assert row["prev_chain"] == prev
        without = canonical.encode({**row, "chain": ""})
        assert without.decode("utf-8") == r["canonical_without_chain"]
        assert chain_hash(without, prev) == r["chain"] == row["chain"]
        payload = canonical.encode(row)
        assert payload == base64.b64decode(r["payload_b64"])
        assert base64.b64encode(leaf_hash(payload)).decode() == r["leaf_hash_b64"]
        assert frames.encode(row["seq"], row["ts_ns"], payload) == bytes.fromhex(r["frame_hex"])
        prev = r["chain"]
    blob = b"".join(bytes.fromhex(r["frame_hex"]) for r in vec["rows"])
    got, bad = frames.scan(blob)
    assert bad is None and [f.seq for f in got] == [1, 2, 3]
    leaves = [base64.b64decode(r["leaf_hash_b64"]) for r in vec["rows"]]
    for n in (1, 2, 3):
        assert base64.b64encode(MMR.root_of(leaves[:n])).decode() == vec["roots_b64"][str(n)]


def test_vector_commitment_and_crc(vec: dict) -> None:
    c = vec["commitment"]
    got = commitment(bytes.fromhex(c["salt_hex"]), base64.b64decode(c["body_b64"]))
    assert got == c["commit"]
    fields = c["meta_fields"]
    assert sorted(fields) == list(META_FIELDS)
    assert canonical.encode(fields).decode("utf-8") == c["meta_canonical"]
    assert meta_commitment(bytes.fromhex(c["salt_hex"]), fields) == c["meta"]
    # put and move rows carry it; the tombstone does not.
    metas = [r["row"]["extra"].get("meta") for r in vec["rows"]]
    assert metas == [c["meta"], c["meta"], None]
    check = vec["crc32c_check"]
    assert crc32c(check["input"].encode()) == int(check["value"], 16) == 0xE3069283


def test_scan_current_verifies_vector(tmp_path: Path, vec: dict) -> None:
    from core.log.binlog import Binlog

    audit = tmp_path / "audit"
    audit.mkdir()
    (audit / "current.binlog").write_bytes(
        b"".join(bytes.fromhex(r["frame_hex"]) for r in vec["rows"])
    )
    scan = scan_current(Binlog(audit), Tip())
    assert scan.bad is None and scan.broken is None
    assert scan.tip.seq == 3 and scan.tip.chain == vec["rows"][-1]["chain"]


# -- canonical JSON ----------------------------------------------------------------------------

nfc_text = st.text(max_size=20).map(lambda s: unicodedata.normalize("NFC", s))
u64 = st.integers(min_value=-(2**64 - 1), max_value=2**64 - 1)
json_values = st.recursive(
    st.none() | st.booleans() | u64 | nfc_text,
    lambda kids: st.lists(kids, max_size=5) | st.dictionaries(nfc_text, kids, max_size=5),
    max_leaves=25,
)


@given(json_values)
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_canonical_matches_json_dumps(value) -> None:
    expected = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    got = canonical.encode(value)
    assert got == expected.encode("utf-8")
    assert canonical.is_canonical(got)
    assert canonical.decode(got) == value


@given(st.dictionaries(nfc_text, st.integers(0, 2**64 - 1), min_size=2, max_size=6))
def test_canonical_sorts_keys_by_code_point(d: dict) -> None:
    out = canonical.decode(canonical.encode(d))
    assert list(out) == sorted(d)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_canonical_rejects_floats(x: float) -> None:
    with pytest.raises(CanonicalError):
        canonical.encode({"x": [x]})


@given(st.integers(min_value=2**64) | st.integers(max_value=-(2**64)))
def test_canonical_rejects_huge_ints(n: int) -> None:
    with pytest.raises(CanonicalError, match="u64"):
        canonical.encode({"n": n})


# Decomposed sequences and singletons that NFC rewrites, wrapped in random NFC text.
non_nfc = st.tuples(
    nfc_text, st.sampled_from(["e\u0301", "A\u030a", "\u1100\u1161", "\u212b", "\u0958"]), nfc_text
).map("".join)


@given(non_nfc)
def test_canonical_rejects_non_nfc(s: str) -> None:
    assume(not unicodedata.is_normalized("NFC", s))
    with pytest.raises(CanonicalError, match="NFC"):
        canonical.encode({"k": s})
    with pytest.raises(CanonicalError, match="NFC"):
        canonical.encode({s: 1})


def test_canonical_rejects_known_non_nfc_and_escapes_controls() -> None:
    with pytest.raises(CanonicalError):
        canonical.encode("Cafe\u0301")  # decomposed é
    assert canonical.encode('a"\\\n\x01é') == b'"a\\"\\\\\\n\\u0001\xc3\xa9"'
    assert not canonical.is_canonical(b'{"b":1, "a":2}')
    assert not canonical.is_canonical(b'{"b":1,"a":2}')
    assert canonical.is_canonical(b'{"a":2,"b":1}')


# -- frames ------------------------------------------------------------------------------------

row_like = st.fixed_dictionaries(
    {
        "seq": st.integers(0, 2**64 - 1),
        "ts_ns": st.integers(0, 2**64 - 1),
        "note": nfc_text,
    }
)


def _frame_of(obj: dict) -> bytes:
    return frames.encode(obj["seq"], obj["ts_ns"], canonical.encode(obj))


@given(st.lists(row_like, max_size=6))
def test_frames_round_trip(objs: list[dict]) -> None:
    blob = b"".join(_frame_of(o) for o in objs)
    got, bad = frames.scan(blob)
    assert bad is None
    assert [(f.seq, f.ts_ns, canonical.decode(f.payload)) for f in got] == [
        (o["seq"], o["ts_ns"], o) for o in objs
    ]
    assert got == [] or got[-1].end == len(blob)


def test_frame_header_layout() -> None:
    payload = canonical.encode({"seq": 7, "ts_ns": 9})
    fr = frames.encode(7, 9, payload)
    assert fr[: frames.HEADER_SIZE] == struct.pack(">IIQQ", len(payload), crc32c(payload), 7, 9)
    assert frames.HEADER_SIZE == 24


@given(st.lists(row_like, min_size=1, max_size=4), st.data())
@settings(max_examples=300)
def test_every_single_byte_corruption_is_detected(objs: list[dict], data) -> None:
    blob = bytearray(b"".join(_frame_of(o) for o in objs))
    pos = data.draw(st.integers(0, len(blob) - 1), label="pos")
    flip = data.draw(st.integers(1, 255), label="xor")
    blob[pos] ^= flip
    got, bad = frames.scan(bytes(blob))
    # Either the scan stops at a bad frame, or (a length field changed so the rest parses as
    # one torn/over-long frame) it stops early; it never returns the original frames intact.
    assert bad is not None
    good = b"".join(_frame_of(o) for o in objs)
    assert all(good[f.offset : f.end] == bytes(blob[f.offset : f.end]) for f in got)
    assert all(f.end <= pos for f in got)


@given(st.lists(row_like, min_size=1, max_size=4), st.data())
def test_every_truncation_is_torn(objs: list[dict], data) -> None:
    blob = b"".join(_frame_of(o) for o in objs)
    cut = data.draw(st.integers(0, len(blob) - 1))
    got, bad = frames.scan(blob[:cut])
    if cut == 0:
        assert got == [] and bad is None
        return
    ends = [f.end for f in frames.scan(blob)[0]]
    if cut in ends:
        assert bad is None
    else:
        assert bad is not None and bad.torn
    assert all(f.end <= cut for f in got)


def test_frame_checks_beyond_crc() -> None:
    payload = canonical.encode({"seq": 1, "ts_ns": 2})
    wrong_header = frames.encode(5, 2, payload)
    assert "header seq/ts_ns" in frames.scan(wrong_header)[1].reason
    loose = b'{"seq":1, "ts_ns":2}'
    assert "canonical" in frames.scan(frames.encode(1, 2, loose))[1].reason
    not_json = b"\xff\xfe"
    assert frames.scan(frames.encode(1, 2, not_json))[1].reason == "payload is not JSON"
    too_long = struct.pack(">IIQQ", frames.MAX_PAYLOAD + 1, 0, 1, 2)
    bad = frames.scan(too_long)[1]
    assert bad is not None and not bad.torn and "1 MiB" in bad.reason
    with pytest.raises(ValueError):
        frames.encode(1, 2, b"x" * (frames.MAX_PAYLOAD + 1))
