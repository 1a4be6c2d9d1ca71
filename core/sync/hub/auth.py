"""The hub's identity and its tokens (docs/sync.md, "Wire").

The hub holds one Ed25519 key (`hub.key` in the hub folder, mode 0600); its id is a fingerprint
of the public key, so a token names the hub that issued it (`iss`) and a token of another hub
never checks here. Tokens are EdDSA JWTs (PyJWT) with `sub` (user), `org`, `role`, `dev`
(device), `jti`, `iat`, `iss`, and `exp` only when the operator asked for an expiry.

A signature alone is not enough: the user and device must still exist and not be revoked, and
the token's `jti` must be the one last issued for the device, so issuing a new token for a
device (or revoking it) retires the old one without a deny list.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core.errors import BrainError
from core.sync.hub.storage import Storage

KEY_FILE = "hub.key"
REQUIRED = ("sub", "org", "role", "dev", "jti", "iat", "iss")
LEEWAY_S = 30  # clock skew tolerated on iat/exp between the admin's machine and the hub


class HubKeyError(BrainError):
    """The hub key is missing, unreadable or not an Ed25519 key."""


class Unauthenticated(BrainError):
    """401: no token, or one that does not check (signature, issuer, claims, expiry, jti)."""


class Revoked(BrainError):
    """403: the token checks but its user or device has been revoked."""

    def __init__(self, message: str, claims: Claims) -> None:
        super().__init__(message)
        self.org, self.user, self.device = claims.org, claims.user, claims.device


@dataclass(frozen=True)
class Claims:
    user: str
    org: str
    role: str
    device: str
    jti: str
    iat: int


class HubKey:
    """The hub's signing key; `id` is what tokens carry as `iss`."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public: Ed25519PublicKey = private.public_key()
        raw = self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.id = "hub-" + hashlib.sha256(raw).hexdigest()[:24]

    @classmethod
    def create(cls, folder: Path) -> HubKey:
        """A new key in folder/hub.key (0600); refuses to overwrite one: replacing the key
        would invalidate every token already issued."""
        path = folder / KEY_FILE
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        folder.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise HubKeyError(f"{path} already exists: this folder already holds a hub") from None
        try:
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        return cls(private)

    @classmethod
    def load(cls, folder: Path) -> HubKey:
        path = folder / KEY_FILE
        try:
            pem = path.read_bytes()
        except FileNotFoundError:
            raise HubKeyError(
                f"no hub key at {path}: run `brain hub init --hub {folder}`"
            ) from None
        except OSError as e:
            raise HubKeyError(f"cannot read the hub key {path}: {e.strerror}") from None
        try:
            private = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as e:
            raise HubKeyError(f"{path} is not a readable private key ({e})") from None
        if not isinstance(private, Ed25519PrivateKey):
            raise HubKeyError(f"{path} is not an Ed25519 key")
        return cls(private)

    def issue(
        self,
        *,
        org: str,
        user: str,
        role: str,
        device: str,
        now_s: int | None = None,
        ttl_s: int | None = None,
        jti: str | None = None,
    ) -> tuple[str, str]:
        """(token, jti). The caller records the jti on the device: only that one checks."""
        iat = int(time.time()) if now_s is None else now_s
        jti = jti or secrets.token_hex(16)
        claims: dict[str, object] = {
            "sub": user,
            "org": org,
            "role": role,
            "dev": device,
            "jti": jti,
            "iat": iat,
            "iss": self.id,
        }
        if ttl_s is not None:
            claims["exp"] = iat + ttl_s
        return jwt.encode(claims, self._private, algorithm="EdDSA"), jti

    def decode(self, token: str) -> Claims:
        """Signature, issuer, required claims and expiry; raises Unauthenticated."""
        try:
            raw = jwt.decode(
                token,
                self.public,
                algorithms=["EdDSA"],  # never what the token's header asks for
                issuer=self.id,
                leeway=LEEWAY_S,
                options={"require": list(REQUIRED)},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated(
                "the token has expired: ask the hub operator for a new one"
            ) from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("the token was issued by another hub") from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated(self._why_bad_signature(token)) from None
        except jwt.MissingRequiredClaimError as e:
            raise Unauthenticated(f"the token lacks the {e.claim!r} claim") from None
        except jwt.InvalidTokenError as e:
            raise Unauthenticated(f"the token does not check ({type(e).__name__})") from None
        fields = {k: raw[k] for k in ("sub", "org", "role", "dev", "jti")}
        if not all(isinstance(v, str) and v for v in fields.values()):
            raise Unauthenticated("the token's claims are not all non-empty strings")
        return Claims(
            user=fields["sub"],
            org=fields["org"],
            role=fields["role"],
            device=fields["dev"],
            jti=fields["jti"],
            iat=int(raw["iat"]),
        )

    def _why_bad_signature(self, token: str) -> str:
        """A message for a signature that fails; the unverified issuer only picks the words."""
        try:
            iss = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.InvalidTokenError:
            iss = None
        if isinstance(iss, str) and iss != self.id:
            return f"the token was issued by another hub ({iss[:40]}), not {self.id}"
        return "the token's signature does not check: it was altered or is not this hub's"


def authenticate(key: HubKey, storage: Storage, header: str | None) -> Claims:
    """The caller behind an `Authorization` header, checked against storage. The returned
    claims carry the role storage holds now (an operator may have changed it since)."""
    if not header:
        raise Unauthenticated("no Authorization header: send `Authorization: Bearer <token>`")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header is not `Bearer <token>`")
    claims = key.decode(token.strip())
    user = storage.get_user(claims.org, claims.user)
    device = storage.get_device(claims.org, claims.device)
    if user is None or device is None or device.user != claims.user:
        raise Unauthenticated(
            f"{claims.user} with device {claims.device} is not a member of {claims.org} here"
        )
    if user.revoked:
        raise Revoked(f"user {claims.user} of {claims.org} has been revoked", claims)
    if device.revoked:
        raise Revoked(f"device {claims.device} of {claims.org} has been revoked", claims)
    if device.jti != claims.jti:
        raise Unauthenticated(
            f"this token for device {claims.device} was replaced by a newer one; use that one"
        )
    return Claims(claims.user, claims.org, user.role, claims.device, claims.jti, claims.iat)


__all__ = [
    "KEY_FILE",
    "Claims",
    "HubKey",
    "HubKeyError",
    "Revoked",
    "Unauthenticated",
    "authenticate",
]
