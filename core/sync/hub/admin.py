"""The operator's side of the hub (`brain hub init|add-org|add-user|revoke|list`).

A hub folder holds the hub's key (`hub.key`), its settings (`hub.json`: which database, when
not the embedded one) and, for the embedded backend, its SQLite files. Every command opens
storage the same way `serve` does, so what an operator adds is what the server reads.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from core.errors import BrainError
from core.sync.classes import DEFAULT_ORG_ONLY_ROLES, ROLES
from core.sync.hub.auth import KEY_FILE, HubKey
from core.sync.hub.storage import HubStorageError, Storage, check_name

CONFIG_FILE = "hub.json"
LOG_FILE = "hub.log"


class HubConfigError(BrainError):
    """The hub folder is missing, not initialised, or its settings are unreadable."""


def _write_private(path: Path, data: bytes) -> None:
    """A file only the hub's user may read (the db URL may carry a password; a token is one)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT: set it
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def init(folder: Path, db: str | None = None) -> HubKey:
    """A new hub: its key, its settings, its (empty) storage."""
    folder = Path(folder)
    if (folder / KEY_FILE).exists():
        raise HubConfigError(f"{folder} already holds a hub (its {KEY_FILE} exists)")
    if folder.exists() and not folder.is_dir():
        raise HubConfigError(f"{folder} is a file, not a folder; --hub names a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
    except OSError as e:
        why = (e.strerror or str(e)).lower()
        above = next((p for p in folder.parents if p.exists() and not p.is_dir()), None)
        if above is not None:
            why = f"{above} is a file, not a folder"
        raise HubConfigError(f"cannot create the hub folder {folder}: {why}") from None
    key = HubKey.create(folder)
    _write_private(folder / CONFIG_FILE, json.dumps({"db": db}).encode() + b"\n")
    open_storage(folder, db).close()
    return key


def configured_db(folder: Path) -> str | None:
    path = Path(folder) / CONFIG_FILE
    if not (Path(folder) / KEY_FILE).exists():
        raise HubConfigError(f"{folder} is not a hub folder: run `brain hub init --hub {folder}`")
    try:
        db = json.loads(path.read_text()).get("db")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, AttributeError) as e:
        raise HubConfigError(f"cannot read {path}: {e}") from None
    return db if isinstance(db, str) and db else None


def open_storage(folder: Path, db: str | None = None) -> Storage:
    """The hub's storage: PostgreSQL when a URL is given (or was at init), else embedded."""
    db = db or configured_db(folder)
    if db:
        if not db.startswith(("postgresql://", "postgres://")):
            raise HubConfigError(f"--db takes a postgresql:// URL, not {db.split(':')[0]}:…")
        from core.sync.hub.storage_pg import PgStorage  # psycopg only when asked for

        storage: Storage = PgStorage(db)
        return storage
    from core.sync.hub.storage_sqlite import SqliteStorage

    return SqliteStorage(folder)


def add_org(storage: Storage, org: str, org_only_roles: tuple[str, ...] = DEFAULT_ORG_ONLY_ROLES):
    bad = [r for r in org_only_roles if r not in ROLES]
    if bad:
        raise HubStorageError(f"unknown role {bad[0]!r}: roles are {', '.join(ROLES)}")
    return storage.add_org(check_name("org", org), tuple(org_only_roles), time.time_ns())


def add_user(
    storage: Storage,
    key: HubKey,
    org: str,
    user: str,
    *,
    role: str,
    device: str,
    ttl_s: int | None = None,
) -> str:
    """Add (or re-role) a user and enrol one device; the device's token. A device already
    enrolled gets a new token and its old one stops checking."""
    if role not in ROLES:
        raise HubStorageError(f"unknown role {role!r}: roles are {', '.join(ROLES)}")
    if storage.get_org(org) is None:
        raise HubStorageError(f"no org {org!r} on this hub: `brain hub add-org {org}` first")
    storage.add_user(org, check_name("user", user), role)
    token, jti = key.issue(
        org=org, user=user, role=role, device=check_name("device", device), ttl_s=ttl_s
    )
    storage.add_device(org, user, device, jti)
    storage.log_event(org, user, device, "admin.enrolled", f"role {role}")
    return token


def write_token(path: Path, token: str) -> None:
    _write_private(Path(path), token.encode() + b"\n")


def revoke(
    storage: Storage, org: str, *, user: str | None = None, device: str | None = None
) -> int:
    n = storage.revoke(org, user=user, device=device)
    what = f"user {user}" if user is not None else f"device {device}"
    storage.log_event(org, user or "", device or "", "admin.revoked", what)
    return n


@dataclass(frozen=True)
class Listing:
    org: str
    org_only_roles: list[str]
    users: list[dict]
    head: int


def listing(storage: Storage) -> list[Listing]:
    out = []
    for org in storage.list_orgs():
        devices = storage.list_devices(org.name)
        users = []
        for u in storage.list_users(org.name):
            users.append(
                {
                    "user": u.name,
                    "role": u.role,
                    "revoked": u.revoked,
                    "devices": [
                        {
                            "device": d.name,
                            "revoked": d.revoked,
                            "store": (
                                b.origin
                                if (b := storage.binding_for_device(org.name, d.name))
                                else ""
                            ),
                        }
                        for d in devices
                        if d.user == u.name
                    ],
                }
            )
        out.append(Listing(org.name, list(org.org_only_roles), users, storage.head(org.name)))
    return out


__all__ = [
    "CONFIG_FILE",
    "LOG_FILE",
    "HubConfigError",
    "Listing",
    "add_org",
    "add_user",
    "configured_db",
    "init",
    "listing",
    "open_storage",
    "revoke",
    "write_token",
]
