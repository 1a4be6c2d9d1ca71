"""Signing keys on disk: `<store>/keys/<safe-name>.<keyidhex>.key` and `.vkey`.

Key names are `brain/<store-id>` and hold a '/', so file names use a safe form and the real
name lives inside the files. The key id is part of the file name because a rotation keeps the
name and changes the key (C2SP allows that): old and new keys sit side by side during the
overlap. A retired private key moves to `keys/retired/`; its `.vkey` stays so old checkpoints
keep verifying.

The private key file is canonical JSON. With a passphrase the 32-byte seed is sealed with
AES-256-GCM under a scrypt key, the key name as associated data (a sealed seed copied under
another name does not open). Without a passphrase the seed is stored plainly: the threat model
says such a key lets whoever reads it rewrite history, so the passphrase is the user's choice.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from core import fsio
from core.errors import KeyError_
from core.verify.signed_note import Signer, Verifier

FORMAT = "brain-key/v1"
PASSPHRASE_ENV = "BRAIN_PASSPHRASE"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1  # ~32 MiB, ~0.1 s: slows guessing, not the writer
RETIRED = "retired"
_SAFE_RE = re.compile(r"[^A-Za-z0-9._-]")
_KEY_ID_HEX_RE = re.compile(r"[0-9a-f]{8}", re.ASCII)


def safe_name(name: str) -> str:
    """A file-name form of a key name: '/' and anything unusual become '_'."""
    return _SAFE_RE.sub("_", name)


def _stem(name: str, key_id_hex: str) -> str:
    return f"{safe_name(name)}.{key_id_hex}"


def passphrase_from_env() -> str | None:
    """BRAIN_PASSPHRASE, or None when unset or empty (an empty passphrase protects nothing)."""
    return os.environ.get(PASSPHRASE_ENV) or None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _kdf(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def _ensure_dir(path: Path) -> None:
    """The folder holding private keys is 0700 before a key is written into it, whoever made
    it (`Store.init` creates `keys/` with the other folders, under the umask)."""
    if not path.is_dir():
        fsio.mkdirs(path.parent)
        try:
            os.mkdir(path, 0o700)  # never wider than 0700, even for an instant
        except FileExistsError:
            pass
    if path.stat().st_mode & 0o777 != 0o700:
        os.chmod(path, 0o700)


def generate(
    keys_dir: Path,
    name: str,
    *,
    passphrase: str | None,
    clock_ns: int,
    rng: Callable[[int], bytes] = os.urandom,
) -> Signer:
    """Create a key, write `.key` (0600) then `.vkey`, and return its signer."""
    seed = rng(32)
    signer = Signer.from_seed(name, seed)
    kid = signer.verifier.key_id.hex()
    keys_dir = Path(keys_dir)
    _ensure_dir(keys_dir)
    stem = _stem(name, kid)
    key_path = keys_dir / f"{stem}.key"
    if key_path.exists() or (keys_dir / RETIRED / f"{stem}.key").exists():
        raise KeyError_(f"signing key {name}+{kid} already exists in {keys_dir}")
    doc: dict[str, Any] = {
        "format": FORMAT,
        "name": name,
        "key_id": kid,
        "created_ns": clock_ns,
        "wrapped": passphrase is not None and passphrase != "",
    }
    if doc["wrapped"]:
        assert passphrase is not None
        salt, nonce = rng(16), rng(12)
        kek = _kdf(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        sealed = AESGCM(kek).encrypt(nonce, seed, name.encode("utf-8"))
        doc.update(
            kdf="scrypt", n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
            salt=_b64(salt), nonce=_b64(nonce), ciphertext=_b64(sealed),
        )  # fmt: skip
    else:
        doc["seed"] = _b64(seed)
    data = msgspec.json.encode(doc, order="sorted") + b"\n"
    fsio.write_file(key_path, data, durable=True, mode=0o600)  # 0600 from its creation
    vkey = signer.verifier.vkey() + "\n"
    fsio.write_file(keys_dir / f"{stem}.vkey", vkey.encode("utf-8"), durable=True)
    return signer


def _read_doc(path: Path) -> dict[str, Any]:
    """The key file as a dict with the fields every later step relies on, or KeyError_."""
    try:
        doc = msgspec.json.decode(path.read_bytes())
    except (OSError, msgspec.DecodeError) as exc:
        raise KeyError_(f"cannot read signing key file {path}: {exc}") from exc
    ok = (
        isinstance(doc, dict)
        and doc.get("format") == FORMAT
        and isinstance(doc.get("name"), str)
        and isinstance(doc.get("key_id"), str)
        and _KEY_ID_HEX_RE.fullmatch(doc["key_id"]) is not None
        and isinstance(doc.get("created_ns"), int)
        and isinstance(doc.get("wrapped"), bool)
    )
    if not ok:
        raise KeyError_(f"signing key file {path} is not a {FORMAT} file")
    return doc


def _field_b64(doc: dict[str, Any], key: str, path: Path) -> bytes:
    value = doc.get(key)
    try:
        if not isinstance(value, str):
            raise ValueError(key)
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyError_(f"signing key file {path}: field {key!r} is missing or bad") from exc


def _unwrap(doc: dict[str, Any], path: Path, passphrase: str | None) -> bytes:
    name = doc["name"]
    if not doc["wrapped"]:
        return _field_b64(doc, "seed", path)
    if not passphrase:
        raise KeyError_(
            f"signing key {name} is passphrase-protected: set {PASSPHRASE_ENV} or answer the prompt"
        )
    n, r, p = doc.get("n"), doc.get("r"), doc.get("p")
    # Bounds keep a tampered file from asking for gigabytes of scrypt memory.
    params_ok = (
        doc.get("kdf") == "scrypt"
        and isinstance(n, int) and 2 <= n <= 2**20 and n & (n - 1) == 0
        and isinstance(r, int) and 1 <= r <= 32
        and isinstance(p, int) and 1 <= p <= 16
    )  # fmt: skip
    if not params_ok:
        raise KeyError_(f"signing key file {path}: unsupported key derivation parameters")
    assert isinstance(n, int) and isinstance(r, int) and isinstance(p, int)
    salt = _field_b64(doc, "salt", path)
    nonce = _field_b64(doc, "nonce", path)
    sealed = _field_b64(doc, "ciphertext", path)
    if len(nonce) != 12:
        raise KeyError_(f"signing key file {path}: nonce must be 12 bytes")
    kek = _kdf(passphrase, salt, n, r, p)
    try:
        return AESGCM(kek).decrypt(nonce, sealed, name.encode("utf-8"))
    except InvalidTag as exc:
        # Wrong passphrase and a damaged file look the same to GCM; the passphrase is likelier.
        raise KeyError_(
            f"wrong passphrase for signing key {name} (set {PASSPHRASE_ENV} or answer the prompt)"
        ) from exc


def _open(path: Path, passphrase: str | None) -> tuple[int, Signer]:
    """(created_ns, signer) for one key file; the seed must give the key id on record."""
    doc = _read_doc(path)
    seed = _unwrap(doc, path, passphrase)
    signer = Signer.from_seed(doc["name"], seed)
    kid = signer.verifier.key_id.hex()
    if kid != doc["key_id"] or not path.name.endswith(f".{kid}.key"):
        raise KeyError_(f"signing key file {path} does not hold key {doc['key_id']} (damaged?)")
    return doc["created_ns"], signer


def _private_files(keys_dir: Path) -> list[Path]:
    keys_dir = Path(keys_dir)
    if not keys_dir.is_dir():
        return []
    return sorted(p for p in keys_dir.glob("*.key") if p.is_file())


def _entries(keys_dir: Path) -> list[tuple[int, str, str, Path]]:
    """(created_ns, key id hex, name, file) of active private keys, oldest first."""
    out = []
    for path in _private_files(keys_dir):
        doc = _read_doc(path)
        out.append((doc["created_ns"], doc["key_id"], doc["name"], path))
    out.sort(key=lambda e: (e[0], e[1]))
    return out


def list_private_entries(keys_dir: Path) -> list[tuple[str, str, int]]:
    """(name, key id hex, created_ns) of active private keys, oldest first; no passphrase needed."""
    return [(name, kid, ns) for ns, kid, name, _path in _entries(keys_dir)]


def list_private(keys_dir: Path) -> list[str]:
    """Names that have an active (not retired) private key, sorted, each once."""
    return sorted({name for name, _kid, _ns in list_private_entries(keys_dir)})


def missing_verifiers(keys_dir: Path) -> list[tuple[str, str]]:
    """(name, key id hex) of active private keys whose `.vkey` is gone (no passphrase needed:
    the key file names its id). Such a key's checkpoints fail as "no trusted signature" until
    `restore_verifier` writes the public half again."""
    keys_dir = Path(keys_dir)
    return [
        (name, kid)
        for _ns, kid, name, _path in _entries(keys_dir)
        if not (keys_dir / f"{_stem(name, kid)}.vkey").exists()
    ]


def restore_verifier(keys_dir: Path, name: str, key_id: str, passphrase: str | None) -> Path:
    """Write the `.vkey` of an active private key again, from the key itself (a sealed key
    needs its passphrase). The public half is derived, so nothing new becomes trusted: the
    same key verified the store's checkpoints before its `.vkey` was lost."""
    signer = load_signer(keys_dir, name, passphrase=passphrase, key_id=key_id)
    path = Path(keys_dir) / f"{_stem(name, key_id)}.vkey"
    fsio.write_file(path, (signer.verifier.vkey() + "\n").encode("utf-8"), durable=True)
    return path


def load_signer(
    keys_dir: Path, name: str, *, passphrase: str | None, key_id: str | None = None
) -> Signer:
    """The active key `name` (the newest one unless `key_id` picks one of a rotation pair)."""
    matches = [e for e in _entries(keys_dir) if e[2] == name and (key_id is None or e[1] == key_id)]
    if not matches:
        which = f"{name}+{key_id}" if key_id else name
        raise KeyError_(f"no signing key {which} in {keys_dir} (run `brain init` or restore it)")
    return _open(matches[-1][3], passphrase)[1]


def load_signers(keys_dir: Path, passphrase: str | None) -> list[Signer]:
    """Every active private key, oldest first: the writer signs with all of them while a
    rotation overlaps. Empty when there is none; one that cannot be opened raises."""
    opened = [_open(path, passphrase) for path in _private_files(keys_dir)]
    opened.sort(key=lambda e: (e[0], e[1].verifier.key_id))
    return [signer for _ns, signer in opened]


def load_verifiers(keys_dir: Path) -> list[Verifier]:
    """Every `*.vkey` in keys_dir (retired keys included: their vkeys stay here)."""
    keys_dir = Path(keys_dir)
    if not keys_dir.is_dir():
        return []
    out = []
    for path in sorted(keys_dir.glob("*.vkey")):
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyError_(f"cannot read verifier key file {path}: {exc}") from exc
        try:
            out.append(Verifier.parse(text.rstrip("\n")))
        except KeyError_ as exc:
            raise KeyError_(f"verifier key file {path}: {exc}") from exc
    return out


def retire(keys_dir: Path, key_id_hex: str) -> Path:
    """Move the private key with this id to keys/retired/ (its vkey stays); returns the new path."""
    if not _KEY_ID_HEX_RE.fullmatch(key_id_hex):
        raise KeyError_(f"key id {key_id_hex!r} must be 8 lowercase hex digits")
    keys_dir = Path(keys_dir)
    found = [p for p in _private_files(keys_dir) if p.name.endswith(f".{key_id_hex}.key")]
    if not found:
        raise KeyError_(f"no active signing key with id {key_id_hex} in {keys_dir}")
    if len(found) > 1:
        raise KeyError_(f"several signing keys share id {key_id_hex}: name the key file")
    retired_dir = keys_dir / RETIRED
    _ensure_dir(retired_dir)
    dest = retired_dir / found[0].name
    fsio.rename(found[0], dest)
    # Both folders changed: sync each so neither a lost nor a doubled key survives a crash.
    fsio.fsync_dir(retired_dir)
    fsio.fsync_dir(keys_dir)
    return dest


def needs_passphrase(keys_dir: Path) -> bool:
    """True when some active private key is sealed (so the CLI should ask for a passphrase)."""
    return any(_read_doc(p)["wrapped"] for p in _private_files(keys_dir))
