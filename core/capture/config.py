"""Watched folders: machine-local configuration in `local/capture/` (PROTOCOL: `local/` holds
per-machine state, never exported or synced).

`watched.json` lists the folders (absolute paths: they name this machine's folders and never
leave it); `key` is a 32-byte secret the capture paths are keyed with (see naming.py). Both are
read-modify-written under an flock on `config.lock`, so two `brain watch` calls never lose one
another's folder.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec

from core import fsio
from core.errors import BrainError
from core.layout import Layout
from core.models import CLASSIFICATIONS, SYNC_CLASSES

DEFAULT_RATE_PER_S = 100  # captures a second per folder, sustained
DEFAULT_BURST = 100  # captures a folder may make at once before the rate applies
KEY_BYTES = 32


class Watched(msgspec.Struct, forbid_unknown_fields=False):
    """One watched folder and the defaults its captures get."""

    path: str  # absolute, resolved (symlinks followed once, at `brain watch`)
    id: str  # the `<folder>` segment of its memories' paths: `w-` + keyed hash of the path
    sync_class: str = "private"
    classification: str = ""  # "" = the store's default
    ignore: list[str] = []
    rate_per_s: int = DEFAULT_RATE_PER_S
    burst: int = DEFAULT_BURST
    added_ns: int = 0


class WatchConfig(msgspec.Struct, forbid_unknown_fields=False):
    version: int = 1
    folders: list[Watched] = []

    def find(self, path: str) -> Watched | None:
        return next((w for w in self.folders if w.path == path), None)


def folder(layout: Layout) -> Path:
    return layout.local / "capture"


def config_path(layout: Layout) -> Path:
    return folder(layout) / "watched.json"


def load(layout: Layout) -> WatchConfig:
    try:
        raw = config_path(layout).read_bytes()
    except FileNotFoundError:
        return WatchConfig()
    try:
        return msgspec.json.decode(raw, type=WatchConfig)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise BrainError(f"{config_path(layout)}: unreadable watched-folder list ({e})") from None


def _save(layout: Layout, cfg: WatchConfig) -> None:
    data = msgspec.json.encode(cfg, order="sorted")
    try:
        fsio.write_file(config_path(layout), data, durable=True)
    except OSError as e:
        raise _cannot_write(layout, e) from None


def _cannot_write(layout: Layout, e: OSError) -> BrainError:
    return BrainError(
        f"cannot write the watched-folder list in {folder(layout)} ({e.strerror or e});"
        " nothing was changed"
    )


@contextmanager
def locked(layout: Layout) -> Iterator[None]:
    """Exclusive, short: a read-modify-write of the config or the key's creation."""
    d = folder(layout)
    try:
        fsio.mkdirs(d)
        fd = os.open(d / "config.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as e:
        raise _cannot_write(layout, e) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def key(layout: Layout, rng: Callable[[int], bytes] = secrets.token_bytes) -> bytes:
    """The per-machine secret capture paths are keyed with; made on first use."""
    path = folder(layout) / "key"
    try:
        raw = path.read_bytes()
        if len(raw) == KEY_BYTES:
            return raw
    except FileNotFoundError:
        pass
    with locked(layout):
        try:
            raw = path.read_bytes()
            if len(raw) == KEY_BYTES:
                return raw
        except FileNotFoundError:
            pass
        raw = rng(KEY_BYTES)
        fsio.write_file(path, raw, durable=True, mode=0o600)
        return raw


def resolve_folder(path: str | os.PathLike[str]) -> str:
    p = Path(os.path.expanduser(os.fspath(path)))
    try:
        real = p.resolve(strict=True)
    except FileNotFoundError:
        raise BrainError(f"{p}: no such folder") from None
    except (OSError, RuntimeError) as e:
        raise BrainError(f"{p}: cannot resolve the folder ({e})") from None
    if not real.is_dir():
        raise BrainError(f"{p}: not a folder (watch a folder, or use `brain capture FILE`)")
    return str(real)


def _inside(child: str, parent: str) -> bool:
    return child == parent or child.startswith(parent.rstrip("/") + "/")


def watch(
    layout: Layout,
    path: str | os.PathLike[str],
    *,
    sync_class: str | None = None,
    classification: str | None = None,
    ignore: list[str] | None = None,
    rate_per_s: int | None = None,
    burst: int | None = None,
    rng: Callable[[int], bytes] = secrets.token_bytes,
    clock: Callable[[], int] = time.time_ns,
) -> tuple[Watched, bool]:
    """Add a folder (or change an existing one's defaults). Returns (entry, added)."""
    from core.capture import naming

    real = resolve_folder(path)
    root = str(layout.root.resolve())
    if _inside(real, root):
        raise BrainError(f"{real} is inside the store; watch a folder outside {root}")
    if sync_class is not None and sync_class not in SYNC_CLASSES:
        raise BrainError(f"sync class {sync_class!r}: use one of {', '.join(SYNC_CLASSES)}")
    if classification is not None and classification not in CLASSIFICATIONS:
        raise BrainError(
            f"classification {classification!r}: use one of {', '.join(CLASSIFICATIONS)}"
        )
    for n, v in (("rate", rate_per_s), ("burst", burst)):
        if v is not None and not 1 <= v <= 100_000:
            raise BrainError(f"--{n} must be between 1 and 100000")
    k = key(layout, rng)
    with locked(layout):
        cfg = load(layout)
        cur = cfg.find(real)
        if cur is None:
            for w in cfg.folders:
                if _inside(real, w.path) or _inside(w.path, real):
                    raise BrainError(
                        f"{real} overlaps the watched folder {w.path}; a file would be captured"
                        " twice. Unwatch one first."
                    )
            cur = Watched(path=real, id=naming.folder_id(k, real), added_ns=clock())
            cfg.folders.append(cur)
            added = True
        else:
            added = False
        if sync_class is not None:
            cur.sync_class = sync_class
        if classification is not None:
            cur.classification = classification
        if ignore:
            cur.ignore = list(dict.fromkeys([*cur.ignore, *ignore]))
        if rate_per_s is not None:
            cur.rate_per_s = rate_per_s
        if burst is not None:
            cur.burst = burst
        cfg.folders.sort(key=lambda w: w.path)
        _save(layout, cfg)
    return cur, added


def unwatch(layout: Layout, path: str | os.PathLike[str]) -> Watched:
    """Stop watching a folder (its memories stay: the ledger is append-only)."""
    raw = os.path.abspath(os.path.expanduser(os.fspath(path)))
    try:
        real = str(Path(raw).resolve(strict=True))
    except (OSError, RuntimeError):
        real = raw  # a folder that is gone can still be unwatched by its recorded path
    with locked(layout):
        cfg = load(layout)
        cur = cfg.find(real) or cfg.find(raw)
        if cur is None:
            watched = ", ".join(w.path for w in cfg.folders) or "none"
            raise BrainError(f"{raw} is not watched (watched: {watched})")
        cfg.folders = [w for w in cfg.folders if w is not cur]
        _save(layout, cfg)
    return cur
