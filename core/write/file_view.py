"""The writer's view of current memory state: files on disk plus this group's pending changes."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from core import paths
from core.errors import BrainError
from core.layout import sidecar_path
from core.models import Sidecar

_ABSENT = object()
_sidecar_decoder = msgspec.json.Decoder(Sidecar)


class UnreadableSidecar(BrainError, msgspec.ValidationError):
    """A sidecar that is not valid JSON or not a sidecar: one clear line for people, and still
    a msgspec decode error for the walkers (doctor, export) that catch those."""


def read_sidecar(root: Path, path: str) -> Sidecar | None:
    try:
        # A plain string and an unbuffered read: this runs for every write and index update.
        with open(f"{root}/{sidecar_path(path)}", "rb", buffering=0) as f:
            raw = f.readall()
    except FileNotFoundError:
        return None
    return decode_sidecar(path, raw)


def decode_sidecar(path: str, raw: bytes) -> Sidecar:
    """The sidecar of the memory at path from its bytes; UnreadableSidecar when they are not."""
    try:
        return _sidecar_decoder.decode(raw)
    except msgspec.DecodeError as e:  # ValidationError included
        raise UnreadableSidecar(
            f"{sidecar_path(path)}: unreadable sidecar ({e}); run `brain doctor`"
        ) from None


class StateView:
    """Reads fall through to disk; writes stay in an overlay until the group is applied.

    `begin`/`rollback` make one request atomic: a failed request leaves no trace in the group.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._side: dict[str, Sidecar | None] = {}
        self._body: dict[str, bytes | None] = {}
        self._vers: dict[str, list[int]] = {}
        self._added: dict[str, tuple[int, ...]] = {}  # versions kept by this group, unlisted
        self._names: dict[str, dict[str, str]] = {}
        self.safe_dirs: set[str] = set()  # folders seen to be real (not symlinks)
        self._undo: list[tuple[dict, str, object]] | None = None

    def reset(self) -> None:
        self._side.clear()
        self._body.clear()
        self._vers.clear()
        self._added.clear()

    def forget_names(self) -> None:
        self._names.clear()
        self.safe_dirs.clear()

    # -- transactions -------------------------------------------------------------------

    def begin(self) -> None:
        self._undo = []

    def commit(self) -> None:
        self._undo = None

    def rollback(self) -> None:
        for table, key, old in reversed(self._undo or []):
            if old is _ABSENT:
                table.pop(key, None)
            else:
                table[key] = old
        self._undo = None

    def _set(self, table: dict, key: str, value: object) -> None:
        if self._undo is not None:
            self._undo.append((table, key, table.get(key, _ABSENT)))
        table[key] = value

    # -- reads --------------------------------------------------------------------------

    def sidecar(self, path: str) -> Sidecar | None:
        if path in self._side:
            return self._side[path]
        return read_sidecar(self.root, path)

    def known_absent(self, path: str) -> bool:
        """True when the folder's listing is cached (see live_sidecar) and names no file at
        path, nor did this group write one there."""
        if path in self._side:
            return False
        parent, _, name = path.rpartition("/")
        names = self._names.get(parent)
        return names is not None and paths.casefold_key(name) not in names

    def live_sidecar(self, path: str) -> Sidecar | None:
        """As `sidecar`, except that a purged stub may read as None: when the folder's listing
        is cached (it is kept current for this process's own writes and dropped at every
        fence and after tasks) and names no such file, there is nothing to read. A new path,
        the common put, then costs no failed open."""
        if path not in self._side:
            parent, _, name = path.rpartition("/")
            names = self._names.get(parent)
            if names is not None and paths.casefold_key(name) not in names:
                return None
        return self.sidecar(path)

    def pending(self, path: str) -> bool:
        """True when this group already wrote (or removed) path: its files are not on disk yet."""
        return path in self._side

    def body(self, path: str) -> bytes | None:
        if path in self._body:
            return self._body[path]
        try:
            with open(self.root / path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def version_seqs(self, path: str) -> list[int]:
        vdir = paths.versions_dir_of(path)
        if vdir in self._vers:
            return list(self._vers[vdir])
        try:
            names = os.listdir(self.root / vdir)
        except FileNotFoundError:
            names = []
        seqs = [int(n[:-3]) for n in names if n.endswith(".md") and n[:-3].isdigit()]
        return sorted([*seqs, *self._added.get(vdir, ())])

    def case_conflict(self, path: str) -> str | None:
        """An existing path equal to `path` under casefold but spelled differently, if any."""
        parts = path.split("/")
        for depth in range(2, len(parts)):
            parent = "/".join(parts[:depth])
            names = self._dir_names(parent)
            name = parts[depth]
            other = names.get(paths.casefold_key(name))
            if other is not None and other != name:
                return "/".join(parts[:depth] + [other])
            if other is None:
                return None
        return None

    def _dir_names(self, parent: str) -> dict[str, str]:
        names = self._names.get(parent)
        if names is None:
            try:
                entries = os.listdir(self.root / parent)
            except FileNotFoundError:
                entries = []
            names = {paths.casefold_key(n): n for n in entries if not n.endswith(".meta.json")}
            self._names[parent] = names
        return names

    # -- writes -------------------------------------------------------------------------

    def put(self, path: str, sidecar: Sidecar | None, body: bytes | None) -> None:
        self._set(self._side, path, sidecar)
        self._set(self._body, path, body)
        if sidecar is None:
            # A move took the file away: its name must stop blocking other spellings, as it
            # would for a fresh process listing the folder (the cache outlives the group).
            parent, _, name = path.rpartition("/")
            names = self._names.get(parent)
            key = paths.casefold_key(name)
            if names is not None and names.get(key) == name:
                if self._undo is not None:
                    self._undo.append((names, key, name))
                del names[key]
        if sidecar is not None:
            parts = path.split("/")
            for depth in range(2, len(parts)):
                names = self._dir_names("/".join(parts[:depth]))
                key = paths.casefold_key(parts[depth])
                if key not in names:
                    self._set(names, key, parts[depth])

    def set_versions(self, path: str, seqs: list[int]) -> None:
        self._set(self._vers, paths.versions_dir_of(path), sorted(seqs))

    def add_version(self, path: str, seq: int) -> None:
        """set_versions(path, [*version_seqs(path), seq]) without listing the folder now: a
        put that keeps a version (most puts) need not know the others, and the listing is
        taken, with this group's additions, only if something asks (a later put_if, a move)."""
        vdir = paths.versions_dir_of(path)
        if vdir in self._vers:
            self._set(self._vers, vdir, sorted([*self._vers[vdir], seq]))
        else:
            self._set(self._added, vdir, (*self._added.get(vdir, ()), seq))
