"""`local/sync.json`: which hub this store syncs with, as whom, and how often (docs/sync.md).

Per machine, like everything under `local/`: never exported, never synced (the token is a
device's credential). Written durably (temp + rename + fsync) so a crash leaves the old or the
new file, never half of one.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from core import fsio
from core.errors import BrainError

FILE = "sync.json"  # under local/
# Seconds between passes per mode; manual: only `brain sync` or "sync now" runs one.
MODES: dict[str, int | None] = {
    "realtime": 10,
    "frequent": 60,
    "normal": 300,
    "infrequent": 3600,
    "manual": None,
}
DEFAULT_MODE = "normal"


class SyncConfig(msgspec.Struct, forbid_unknown_fields=False):
    hub: str  # base URL, e.g. http://127.0.0.1:8765
    org: str
    token: str  # the device's EdDSA JWT (brain hub add-user)
    mode: str = DEFAULT_MODE
    # What whoami said at join (shown by `brain sync status` without a round trip).
    user: str = ""
    role: str = ""
    device: str = ""
    hub_id: str = ""
    ca_file: str = ""  # a PEM file of the CA that signed the hub's certificate ("": the system's)


def path(root: Path) -> Path:
    return Path(root) / "local" / FILE


def load(root: Path) -> SyncConfig | None:
    """The config, or None when this store has not joined a hub."""
    try:
        raw = path(root).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise BrainError(f"{path(root)}: cannot read the sync config ({e})") from None
    try:
        cfg = msgspec.json.decode(raw, type=SyncConfig)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise BrainError(
            f"{path(root)}: not a sync config ({e}); run `brain sync leave` then join again"
        ) from None
    check_mode(cfg.mode)
    return cfg


def save(root: Path, cfg: SyncConfig) -> None:
    check_mode(cfg.mode)
    fsio.mkdirs(Path(root) / "local")
    data = msgspec.json.encode(cfg, order="sorted") + b"\n"
    fsio.write_file(path(root), data, durable=True, mode=0o600)  # the token is a credential


def remove(root: Path) -> bool:
    return fsio.remove_durable(path(root))


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise BrainError(f"unknown sync mode {mode!r}; use one of {', '.join(MODES)}")


def interval_s(mode: str) -> int | None:
    check_mode(mode)
    return MODES[mode]


__all__ = ["DEFAULT_MODE", "FILE", "MODES", "SyncConfig", "check_mode", "interval_s", "load"]
