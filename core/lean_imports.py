"""msgspec without typing_extensions: ~14 ms off every command that decodes a frame.

When typing_extensions is importable, msgspec's `_utils` takes its `get_type_hints`,
`Required` and `NotRequired` from it, and importing it (with `inspect`, which it pulls in)
costs more than msgspec itself. On Python >= 3.11 msgspec falls back to `typing`, which has all
three, and no brain type is built from typing_extensions. So while `msgspec._utils` runs,
typing_extensions reads as absent; afterwards it imports as usual for whoever needs it (textual,
torch). A process that loaded typing_extensions first keeps msgspec's usual behaviour.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.abc import Loader
    from importlib.machinery import ModuleSpec
    from types import ModuleType

_TARGET = "msgspec._utils"
_HIDDEN = "typing_extensions"


class _Loader:
    """The real loader of msgspec._utils, run with typing_extensions hidden."""

    def __init__(self, real: Loader) -> None:
        self.real = real

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.real.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        hid = _HIDDEN not in sys.modules
        if hid:
            sys.modules[_HIDDEN] = None  # type: ignore[assignment]  # import raises ImportError
        try:
            self.real.exec_module(module)
        finally:
            if hid and sys.modules.get(_HIDDEN, False) is None:
                del sys.modules[_HIDDEN]


class _Finder:
    """Finds msgspec._utils with the other finders and wraps its loader; finds nothing else."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name != _TARGET or _HIDDEN in sys.modules:
            return None
        sys.meta_path.remove(self)  # once is enough, and the others must not see us
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if find is not None else None
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Loader(spec.loader)
                return spec
        return None


def install() -> None:
    """Hide typing_extensions from msgspec's first import in this process (a no-op when msgspec
    or typing_extensions is already loaded)."""
    if "msgspec" in sys.modules or _HIDDEN in sys.modules:
        return
    if any(isinstance(f, _Finder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _Finder())
