"""Where everything lives under a store root (PROTOCOL.md, "Store root and layout")."""

from __future__ import annotations

import os

# pathlib is imported where a Path is made, not here: a one-shot `brain view` reads through
# plain strings (root_path, ACCESS_LOG) and never loads it (with urllib.parse and ipaddress,
# ~3 ms of its start-up).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

DEFAULT_ROOT = "~/.cyberos-memory"
ACCESS_LOG = "audit/access.binlog"  # the read journal, relative to the root


def root_path(store: str | os.PathLike[str] | None = None) -> str:
    """The store root as an absolute path string: --store, then CYBEROS_BRAIN_HOME, then
    ~/.cyberos-memory. An empty --store (`--store "$UNSET"` in a script) is refused: falling
    back would write to another store."""
    if store is not None and not str(store).strip():
        from core.errors import InvalidPath

        raise InvalidPath("--store is empty: name the store's folder")
    raw = os.path.expanduser(str(store or os.environ.get("CYBEROS_BRAIN_HOME") or DEFAULT_ROOT))
    return raw if os.path.isabs(raw) else os.path.join(os.getcwd(), raw)


def resolve_root(store: str | os.PathLike[str] | None = None) -> Path:
    """root_path as a Path (Path.absolute() of the same string: the same Path)."""
    from pathlib import Path

    return Path(root_path(store))


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
        return self.root / ACCESS_LOG

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
