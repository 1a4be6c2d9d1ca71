"""Key files: plain and passphrase-wrapped, vkeys, rotation pairs, retirement."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import msgspec
import pytest

from core.errors import KeyError_
from core.verify import keys
from core.verify.signed_note import Checkpoint, Verifier, sign_note, verify_note

NAME = "brain/7d4c1f0e9a2b4c6d8e0f1a2b3c4d5e6f"
CP = Checkpoint(NAME, 5, bytes(range(32)))


def _rng(fill: int):
    """Deterministic randomness so file contents are reproducible."""
    return lambda n: bytes([fill]) * n


@pytest.fixture
def kd(tmp_path: Path) -> Path:
    return tmp_path / "store" / "keys"


def _only(kd: Path, pattern: str) -> Path:
    found = list(kd.glob(pattern))
    assert len(found) == 1, found
    return found[0]


def test_generate_and_load_unwrapped(kd: Path) -> None:
    s = keys.generate(kd, NAME, passphrase=None, clock_ns=123, rng=_rng(1))
    kid = s.verifier.key_id.hex()
    key_file = kd / f"brain_7d4c1f0e9a2b4c6d8e0f1a2b3c4d5e6f.{kid}.key"
    assert key_file.is_file()
    doc = json.loads(key_file.read_bytes())
    assert doc["format"] == "brain-key/v1" and doc["name"] == NAME and doc["wrapped"] is False
    assert doc["created_ns"] == 123 and doc["key_id"] == kid and "seed" in doc
    # canonical: sorted keys, no whitespace
    assert key_file.read_bytes() == msgspec.json.encode(doc, order="sorted") + b"\n"
    loaded = keys.load_signer(kd, NAME, passphrase=None)
    assert loaded.verifier == s.verifier
    # A passphrase given for a plain key is harmless.
    assert keys.load_signer(kd, NAME, passphrase="x").verifier == s.verifier
    assert verify_note(sign_note(CP, [loaded]), [s.verifier])[0] == CP


def test_generate_and_load_wrapped(kd: Path) -> None:
    s = keys.generate(kd, NAME, passphrase="correct horse", clock_ns=1)
    doc = json.loads(_only(kd, "*.key").read_bytes())
    assert doc["wrapped"] is True and "seed" not in doc
    assert (doc["kdf"], doc["n"], doc["r"], doc["p"]) == ("scrypt", 2**15, 8, 1)
    assert {"salt", "nonce", "ciphertext"} <= doc.keys()
    loaded = keys.load_signer(kd, NAME, passphrase="correct horse")
    assert loaded.verifier == s.verifier


def test_wrong_passphrase(kd: Path) -> None:
    keys.generate(kd, NAME, passphrase="right", clock_ns=1)
    with pytest.raises(KeyError_) as info:
        keys.load_signer(kd, NAME, passphrase="wrong")
    assert str(info.value) == (
        f"wrong passphrase for signing key {NAME} (set BRAIN_PASSPHRASE or answer the prompt)"
    )


def test_missing_passphrase(kd: Path) -> None:
    keys.generate(kd, NAME, passphrase="right", clock_ns=1)
    for missing in (None, ""):
        with pytest.raises(KeyError_, match="passphrase-protected: set BRAIN_PASSPHRASE"):
            keys.load_signer(kd, NAME, passphrase=missing)


def test_wrapped_seed_bound_to_name(kd: Path) -> None:
    # Copying a sealed seed under another name must not open (name is the AEAD's extra data).
    keys.generate(kd, NAME, passphrase="pw", clock_ns=1)
    path = _only(kd, "*.key")
    doc = json.loads(path.read_bytes())
    doc["name"] = "brain/other"
    path.write_bytes(msgspec.json.encode(doc, order="sorted"))
    with pytest.raises(KeyError_, match="wrong passphrase"):
        keys.load_signers(kd, "pw")


def test_passphrase_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRAIN_PASSPHRASE", raising=False)
    assert keys.passphrase_from_env() is None
    monkeypatch.setenv("BRAIN_PASSPHRASE", "")
    assert keys.passphrase_from_env() is None
    monkeypatch.setenv("BRAIN_PASSPHRASE", "s3cret")
    assert keys.passphrase_from_env() == "s3cret"


def test_vkey_file_round_trip(kd: Path) -> None:
    s = keys.generate(kd, NAME, passphrase=None, clock_ns=1, rng=_rng(2))
    vkey_file = _only(kd, "*.vkey")
    assert vkey_file.read_text("utf-8") == s.verifier.vkey() + "\n"
    assert Verifier.parse(vkey_file.read_text("utf-8")) == s.verifier
    assert keys.load_verifiers(kd) == [s.verifier]


def test_private_key_mode_0600(kd: Path) -> None:
    keys.generate(kd, NAME, passphrase=None, clock_ns=1)
    assert stat.S_IMODE(_only(kd, "*.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(kd.stat().st_mode) == 0o700


def test_generate_refuses_to_overwrite(kd: Path) -> None:
    keys.generate(kd, NAME, passphrase=None, clock_ns=1, rng=_rng(3))
    with pytest.raises(KeyError_, match="already exists"):
        keys.generate(kd, NAME, passphrase=None, clock_ns=2, rng=_rng(3))


def test_missing_key_and_empty_dir(kd: Path) -> None:
    assert keys.load_verifiers(kd) == [] and keys.load_signers(kd, None) == []
    assert keys.list_private(kd) == []
    with pytest.raises(KeyError_, match="no signing key"):
        keys.load_signer(kd, NAME, passphrase=None)


def test_load_signers_rotation_pair(kd: Path) -> None:
    old = keys.generate(kd, NAME, passphrase="pw", clock_ns=10, rng=_rng(4))
    new = keys.generate(kd, NAME, passphrase="pw", clock_ns=20, rng=_rng(5))
    assert old.verifier.key_id != new.verifier.key_id
    signers = keys.load_signers(kd, "pw")
    assert [s.verifier for s in signers] == [old.verifier, new.verifier]  # oldest first
    assert keys.list_private(kd) == [NAME]
    assert [kid for _n, kid, _ns in keys.list_private_entries(kd)] == [
        old.verifier.key_id.hex(),
        new.verifier.key_id.hex(),
    ]
    # Without a key id the newest wins; a key id picks either.
    assert keys.load_signer(kd, NAME, passphrase="pw").verifier == new.verifier
    picked = keys.load_signer(kd, NAME, passphrase="pw", key_id=old.verifier.key_id.hex())
    assert picked.verifier == old.verifier
    # The overlap note carries both signatures and each verifier sees its own.
    note = sign_note(CP, signers)
    _, labels = verify_note(note, keys.load_verifiers(kd))
    assert sorted(labels) == sorted([old.verifier.label, new.verifier.label])


def test_retire_keeps_vkey(kd: Path) -> None:
    old = keys.generate(kd, NAME, passphrase=None, clock_ns=10, rng=_rng(6))
    new = keys.generate(kd, NAME, passphrase=None, clock_ns=20, rng=_rng(7))
    old_note = sign_note(CP, [old])
    dest = keys.retire(kd, old.verifier.key_id.hex())
    assert dest.parent == kd / "retired" and dest.is_file()
    assert [s.verifier for s in keys.load_signers(kd, None)] == [new.verifier]
    with pytest.raises(KeyError_, match="no signing key"):
        keys.load_signer(kd, NAME, passphrase=None, key_id=old.verifier.key_id.hex())
    # Old checkpoints still verify: the retired key's vkey stays in keys/.
    assert old.verifier in keys.load_verifiers(kd)
    assert verify_note(old_note, keys.load_verifiers(kd))[1] == [old.verifier.label]
    with pytest.raises(KeyError_, match="no active signing key"):
        keys.retire(kd, old.verifier.key_id.hex())
    with pytest.raises(KeyError_, match="8 lowercase hex"):
        keys.retire(kd, "XYZ")
    # Regenerating a retired key is refused rather than silently reviving it.
    with pytest.raises(KeyError_, match="already exists"):
        keys.generate(kd, NAME, passphrase=None, clock_ns=30, rng=_rng(6))


def test_corrupt_files_give_key_errors(kd: Path) -> None:
    keys.generate(kd, NAME, passphrase=None, clock_ns=1)
    key_file, vkey_file = _only(kd, "*.key"), _only(kd, "*.vkey")
    vkey_file.write_text("not a vkey\n")
    with pytest.raises(KeyError_, match="verifier key file"):
        keys.load_verifiers(kd)
    key_file.write_bytes(b"{")
    with pytest.raises(KeyError_, match="cannot read"):
        keys.load_signers(kd, None)
    key_file.write_bytes(b'{"format":"other"}')
    with pytest.raises(KeyError_, match="not a brain-key/v1"):
        keys.load_signers(kd, None)


def test_renamed_key_file_detected(kd: Path) -> None:
    keys.generate(kd, NAME, passphrase=None, clock_ns=1, rng=_rng(8))
    other = keys.generate(kd, NAME, passphrase=None, clock_ns=2, rng=_rng(9))
    a, b = sorted(kd.glob("*.key"))
    a_bytes = a.read_bytes()
    a.write_bytes(b.read_bytes())  # b's content under a's file name
    b.write_bytes(a_bytes)
    with pytest.raises(KeyError_, match="does not hold key"):
        keys.load_signer(kd, NAME, passphrase=None, key_id=other.verifier.key_id.hex())


def test_key_temp_file_is_0600_before_a_byte_is_written(kd: Path, monkeypatch) -> None:
    """The private key never sits in a wider file, even for an instant: the temp file is
    created 0600 (a stale 0644 temp a crash left is not reused), keys/ is 0700 before it."""
    import os

    from core import fsio

    seen: list[tuple[str, int, int]] = []
    fds: dict[int, str] = {}

    class Spy(fsio.RealIO):
        def open(self, path, flags, mode=0o644):
            fd = super().open(path, flags, mode)
            fds[fd] = path
            return fd

        def write(self, fd, data):
            path = fds.get(fd, "")
            if path.endswith(f".tmp{os.getpid()}"):
                folder = os.path.dirname(path)
                seen.append((path, os.fstat(fd).st_mode & 0o777, os.stat(folder).st_mode & 0o777))
            super().write(fd, data)

    kd.mkdir(parents=True, mode=0o755)
    os.chmod(kd, 0o755)  # as Store.init's skeleton leaves it under a 022 umask
    signer = keys.Signer.from_seed(NAME, bytes([4]) * 32)
    stale = kd / f".{keys._stem(NAME, signer.verifier.key_id.hex())}.key.tmp{os.getpid()}"
    stale.write_bytes(b"")
    os.chmod(stale, 0o644)
    monkeypatch.setattr(fsio, "backend", Spy())
    keys.generate(kd, NAME, passphrase=None, clock_ns=1, rng=_rng(4))
    key_writes = [s for s in seen if ".key.tmp" in s[0]]
    assert key_writes and all(m == 0o600 and d == 0o700 for _p, m, d in key_writes), seen
    assert stat.S_IMODE(_only(kd, "*.key").stat().st_mode) == 0o600


def test_init_makes_keys_folder_0700(tmp_path: Path) -> None:
    from core.store import Store

    with Store.init(tmp_path / "s", allow_temp=True) as st:
        assert stat.S_IMODE(st.layout.keys.stat().st_mode) == 0o700
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in st.layout.keys.glob("*.key"))
