"""C2SP signed notes carrying tlog checkpoints, byte-exact (c2sp.org/signed-note, tlog-checkpoint).

A note is `<origin>\\n<size>\\n<base64 root>\\n` (the signed body), a blank line, then one line
`— <key name> <base64(key id ‖ Ed25519 signature)>\\n` per signature. Parsing is strict: any
text this module would not have written itself is refused with a ProofError that says why, so
two byte strings can never carry the same checkpoint and a verifier never guesses.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from core.errors import KeyError_, ProofError

ALG_ED25519 = 0x01  # C2SP signature type byte for Ed25519
EM_DASH_PREFIX = "\u2014 "  # "— ": every signature line starts with it
MAX_SIGNATURES = 100  # the Go reference refuses more; so do we (bounds verification work)
U64_MAX = 2**64 - 1
ROOT_LEN = 32

# Decimal without leading zeros ("0" alone is fine); re.ASCII keeps out other scripts' digits.
_SIZE_RE = re.compile(r"0|[1-9][0-9]*", re.ASCII)
_KEY_ID_HEX_RE = re.compile(r"[0-9a-f]{8}", re.ASCII)


def _valid_name(name: str) -> bool:
    """C2SP key names: non-empty, no whitespace, no '+' (it separates vkey fields)."""
    return (
        bool(name) and "+" not in name and not any(c.isspace() for c in name) and _printable(name)
    )


def _printable(text: str) -> bool:
    # Control characters could hide text from a person reading the note (e.g. "\r").
    return not any(ord(c) < 0x20 or ord(c) == 0x7F for c in text)


def _b64decode_canonical(text: str, what: str) -> bytes:
    """Strict standard base64: padded, no stray characters, no non-zero padding bits."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
        raise ProofError(f"malformed note: {what} is not valid base64") from exc
    # Re-encoding catches a second spelling of the same bytes (unused low bits set).
    if base64.b64encode(raw).decode("ascii") != text:
        raise ProofError(f"malformed note: {what} is not canonical base64")
    return raw


def key_id(name: str, public_key: bytes) -> bytes:
    """First 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes


@dataclass(frozen=True)
class Verifier:
    name: str
    key_id: bytes
    public_key: bytes
    # Loading the key once: verification is on the hot path of every proof check.
    _key: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not _valid_name(self.name):
            raise KeyError_(f"invalid key name {self.name!r} (no spaces, '+' or control chars)")
        if len(self.public_key) != 32:
            raise KeyError_(f"key {self.name}: an Ed25519 public key is 32 bytes")
        if self.key_id != key_id(self.name, self.public_key):
            raise KeyError_(f"key {self.name}: key id does not match the name and public key")
        try:
            loaded = Ed25519PublicKey.from_public_bytes(self.public_key)
        except ValueError as exc:
            raise KeyError_(f"key {self.name}: not a valid Ed25519 public key") from exc
        object.__setattr__(self, "_key", loaded)

    @property
    def label(self) -> str:
        """`name+keyidhex`: how verification reports which key signed."""
        return f"{self.name}+{self.key_id.hex()}"

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        """Parse `<name>+<key id hex>+<base64(0x01 ‖ public key)>`; KeyError_ if malformed."""
        vkey = vkey.strip("\n")
        parts = vkey.split("+", 2)  # base64 may itself contain "+"
        if len(parts) != 3:
            raise KeyError_(f"malformed verifier key {vkey!r}: want name+keyid+key")
        name, id_hex, b64 = parts
        if not _KEY_ID_HEX_RE.fullmatch(id_hex):
            raise KeyError_(f"malformed verifier key {vkey!r}: key id must be 8 lowercase hex")
        try:
            raw = _b64decode_canonical(b64, "verifier key")
        except ProofError as exc:
            raise KeyError_(f"malformed verifier key {vkey!r}: {exc}") from exc
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise KeyError_(f"malformed verifier key {vkey!r}: not an Ed25519 (0x01) key")
        return cls(name, bytes.fromhex(id_hex), raw[1:])

    def vkey(self) -> str:
        b64 = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{b64}"

    def verify(self, body: bytes, sig: bytes) -> bool:
        try:
            self._key.verify(sig, body)
        except (InvalidSignature, ValueError):
            return False
        return True


# eq=False: two Signer objects are the same only if they are the same object (keys are secrets).
@dataclass(frozen=True, eq=False)
class Signer:
    name: str
    private_key: Ed25519PrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        if not _valid_name(self.name):
            raise KeyError_(f"invalid key name {self.name!r} (no spaces, '+' or control chars)")

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Signer:
        if len(seed) != 32:
            raise KeyError_(f"key {name}: an Ed25519 seed is 32 bytes, got {len(seed)}")
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    @cached_property
    def verifier(self) -> Verifier:
        pub = self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return Verifier(self.name, key_id(self.name, pub), pub)

    def sign(self, body: bytes) -> bytes:
        return self.private_key.sign(body)


def body(cp: Checkpoint) -> bytes:
    """The signed text `<origin>\\n<size>\\n<base64 root>\\n`; refuses what parse would refuse."""
    if not cp.origin or "\n" in cp.origin or not _printable(cp.origin):
        raise ProofError(f"checkpoint origin {cp.origin!r} must be one printable line")
    if isinstance(cp.size, bool) or not isinstance(cp.size, int) or not 0 <= cp.size <= U64_MAX:
        raise ProofError(f"checkpoint size {cp.size!r} is not a u64")
    if len(cp.root) != ROOT_LEN:
        raise ProofError(f"checkpoint root is {len(cp.root)} bytes, want {ROOT_LEN}")
    root = base64.b64encode(cp.root).decode("ascii")
    return f"{cp.origin}\n{cp.size}\n{root}\n".encode()


def sign_note(cp: Checkpoint, signers: Sequence[Signer]) -> str:
    """The full note, one signature line per signer in the given order (duplicates dropped)."""
    if not signers:
        raise KeyError_("cannot sign a checkpoint without a signing key")
    text = body(cp)
    lines: list[str] = []
    seen: set[tuple[str, bytes]] = set()
    for signer in signers:
        ident = (signer.name, signer.verifier.key_id)
        if ident in seen:
            continue
        seen.add(ident)
        blob = base64.b64encode(ident[1] + signer.sign(text)).decode("ascii")
        lines.append(f"{EM_DASH_PREFIX}{signer.name} {blob}\n")
    return text.decode() + "\n" + "".join(lines)


def _parse_body(text: str) -> Checkpoint:
    lines = text.split("\n")  # text ends with "\n", so the last item is ""
    if len(lines) != 4:
        raise ProofError(
            f"malformed note: checkpoint body has {len(lines) - 1} lines, want 3 "
            "(origin, size, root; extension lines are not used by brain)"
        )
    origin, size_s, root_s, _ = lines
    if not origin:
        raise ProofError("malformed note: empty origin")
    if not _SIZE_RE.fullmatch(size_s):
        raise ProofError(f"malformed note: size {size_s!r} is not a canonical decimal")
    size = int(size_s)
    if size > U64_MAX:
        raise ProofError(f"malformed note: size {size_s} exceeds u64")
    root = _b64decode_canonical(root_s, "root hash")
    if len(root) != ROOT_LEN:
        raise ProofError(f"malformed note: root hash is {len(root)} bytes, want {ROOT_LEN}")
    return Checkpoint(origin, size, root)


def _split(text: str | bytes) -> tuple[str, str]:
    """Split a note into (body, signature block); shared by parse and verify."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProofError("malformed note: not valid UTF-8") from exc
    if not text.endswith("\n"):
        raise ProofError("malformed note: does not end with a newline")
    if any((ord(c) < 0x20 and c != "\n") or ord(c) == 0x7F for c in text):
        raise ProofError("malformed note: contains control characters")
    # The body never holds a blank line, so the first one is the separator; the signature
    # block must then hold no blank line either (checked line by line below).
    cut = text.find("\n\n")
    if cut < 0:
        raise ProofError("malformed note: missing the blank line before the signatures")
    return text[: cut + 1], text[cut + 2 :]


def _parse_sigs(block: str) -> list[tuple[str, bytes, bytes]]:
    if not block:
        raise ProofError("malformed note: no signatures")
    sigs: list[tuple[str, bytes, bytes]] = []
    for line in block[:-1].split("\n"):  # block ends with "\n" because the note does
        if len(sigs) >= MAX_SIGNATURES:
            raise ProofError(f"malformed note: more than {MAX_SIGNATURES} signatures")
        if not line.startswith(EM_DASH_PREFIX):
            raise ProofError(f"malformed note: signature line {line!r} does not start with '— '")
        name, sep, b64 = line[len(EM_DASH_PREFIX) :].partition(" ")
        if not sep or not _valid_name(name):
            raise ProofError(f"malformed note: bad key name in signature line {line!r}")
        raw = _b64decode_canonical(b64, f"signature by {name}")
        if len(raw) < 5:
            raise ProofError(f"malformed note: signature by {name} is too short")
        sigs.append((name, raw[:4], raw[4:]))
    return sigs


def parse_note(text: str | bytes) -> tuple[Checkpoint, list[tuple[str, bytes, bytes]]]:
    """(checkpoint, [(key name, key id, signature)]) without checking any signature."""
    body_text, block = _split(text)
    return _parse_body(body_text), _parse_sigs(block)


def verify_note(
    text: str | bytes, trusted: Sequence[Verifier], *, origin: str | None = None
) -> tuple[Checkpoint, list[str]]:
    """Check a note against pinned keys; returns the checkpoint and `name+keyidhex` per signer.

    Signatures by keys not in `trusted` are ignored (a witness may cosign); a present but
    invalid signature by a trusted key is a forgery or corruption and fails the whole note,
    as in the Go reference. `origin`, when given, must match (a note for another store
    verifies under the same key only if the key is shared, which it should not be).
    """
    body_text, block = _split(text)
    cp = _parse_body(body_text)
    sigs = _parse_sigs(block)
    if origin is not None and cp.origin != origin:
        raise ProofError(f"checkpoint origin {cp.origin!r} is not the expected {origin!r}")
    by_id = {(v.name, v.key_id): v for v in trusted}
    signed = body_text.encode()
    verified: list[str] = []
    for name, kid, sig in sigs:
        v = by_id.get((name, kid))
        if v is None or v.label in verified:
            continue
        if not v.verify(signed, sig):
            raise ProofError(f"invalid signature by trusted key {v.label} on checkpoint")
        verified.append(v.label)
    if not verified:
        names = ", ".join(v.label for v in trusted) or "none pinned"
        raise ProofError(f"no signature by a trusted key on checkpoint (trusted: {names})")
    return cp, verified
