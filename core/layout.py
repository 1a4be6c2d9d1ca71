"""Where everything lives under a store root (PROTOCOL.md, "Store root and layout")."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_ROOT = "~/.cyberos-memory"


def resolve_root(store: str | os.PathLike[str] | None = None) -> Path:
    """--store, then CYBEROS_BRAIN_HOME, then ~/.cyberos-memory."""
    raw = store or os.environ.get("CYBEROS_BRAIN_HOME") or DEFAULT_ROOT
    return Path(os.path.expanduser(str(raw))).absolute()


class Layout:
    """The store's paths, all derived from its root. Immutable, compared by root.

    A plain class rather than a frozen dataclass: the dataclasses module imports inspect,
    ~5 ms that a one-shot `brain view` (which needs nothing else from it) would pay.
    """

    __slots__ = ("root",)
    root: Path

    def __init__(self, root: Path) -> None:
        object.__setattr__(self, "root", root)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Layout is immutable (cannot set {name!r})")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Layout) and other.root == self.root

    def __hash__(self) -> int:
        return hash(self.root)

    def __repr__(self) -> str:
        return f"Layout(root={self.root!r})"

    def __reduce__(self) -> tuple[type[Layout], tuple[Path]]:  # copy and pickle, past __setattr__
        return (Layout, (self.root,))

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def head(self) -> Path:
        return self.root / "HEAD"

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    @property
    def audit(self) -> Path:
        return self.root / "audit"

    @property
    def journal(self) -> Path:
        return self.audit / "journal.wal"

    @property
    def purge_pending(self) -> Path:
        return self.audit / "purge.pending"

    @property
    def mmr_nodes(self) -> Path:
        return self.audit / "mmr.nodes"

    @property
    def checkpoints(self) -> Path:
        return self.audit / "checkpoints"

    @property
    def access_log(self) -> Path:
        return self.audit / "access.binlog"

    @property
    def memories(self) -> Path:
        return self.root / "memories"

    @property
    def versions(self) -> Path:
        return self.root / "versions"

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    @property
    def index_db(self) -> Path:
        return self.index_dir / "brain.sqlite"

    @property
    def conflicts(self) -> Path:
        return self.root / "conflicts"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def local(self) -> Path:
        return self.root / "local"

    def abs(self, rel: str) -> Path:
        return self.root / rel

    def skeleton(self) -> list[Path]:
        return [
            self.audit,
            self.checkpoints,
            self.memories,
            self.versions,
            self.index_dir,
            self.conflicts,
            self.exports,
            self.keys,
            self.local,
        ]


def sidecar_path(rel: str) -> str:
    """`x.md` -> `x.meta.json` for memories and versions alike (no validation)."""
    return rel[:-3] + ".meta.json"
