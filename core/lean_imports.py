"""msgspec and pathlib imported without the modules they load for features brain never uses.

A one-shot `brain put` is mostly imports, and these are a tenth of it (~5 ms):
- msgspec's `_utils` takes `get_type_hints`, `Required` and `NotRequired` from
  typing_extensions when it is importable, and importing that (with `inspect`, which it pulls
  in) costs more than msgspec itself. On Python >= 3.11 msgspec falls back to `typing`, which
  has all three, and no brain type is built from typing_extensions.
- msgspec's package imports `msgspec.inspect` and, through `msgspec.json`, `_json_schema`
  (with textwrap): only type inspection and JSON Schema generation use them.
- msgspec's `_core` imports uuid, which imports `platform` (and compiles its regexes) to ask
  `platform.system()` once.
- pathlib imports urllib.parse (with ipaddress) for `Path.as_uri` alone, fnmatch for glob
  patterns, and ntpath for Windows paths.

While msgspec's (or pathlib's) own import runs, typing_extensions reads as absent and the others
as stand-ins: modules that import the real one the first time anything is read from them
(`msgspec.json.schema`, `Path.as_uri`, `msgspec.inspect.type_info` all work, a first call
later). When that import ends the stand-ins leave sys.modules, so `import X` gives whoever asks
the real module (textual, torch, the hub's HTTP code). A module already loaded is never hidden,
and once msgspec or pathlib is loaded there is nothing left to do.
"""

from __future__ import annotations

import _thread
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from importlib.abc import Loader
    from importlib.machinery import ModuleSpec
    from types import ModuleType


_dropping = _thread.allocate_lock()


class StandIn(type(sys)):  # type: ignore[misc]  # types.ModuleType, without importing types
    """Stands in for the module of the same name: any attribute read from it comes from the
    real module, imported at that first read."""

    def __getattr__(self, attr: str) -> object:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(real(str(self.__name__)), attr)


def real(name: str) -> ModuleType:
    """The module `name` itself, imported now if only a stand-in was. Safe from any thread: the
    stand-in is dropped under a lock (two threads could otherwise drop the real module as it
    loads), and importlib makes a second importer wait for the first."""
    with _dropping:
        if isinstance(sys.modules.get(name), StandIn):
            del sys.modules[name]
    import importlib

    return importlib.import_module(name)


def _forward(module: str, attr: str) -> Callable[..., object]:
    """A function that calls the real `module.attr`: for a stand-in's name that the importing
    code binds with `from module import attr` (reading it would import the real module)."""

    def call(*args: object, **kwargs: object) -> object:
        return getattr(real(module), attr)(*args, **kwargs)

    call.__name__ = call.__qualname__ = attr
    return call


def _stand_in(name: str, **attrs: object) -> StandIn:
    mod = StandIn(name)
    mod.__dict__.update(attrs)
    return mod


def _uname_system() -> str:
    return os.uname().sysname  # what platform.system() answers on a POSIX system


# The importing module -> {module to hide: what stands in for it (None: reads as absent)}.
_PLAN: dict[str, dict[str, Callable[[], StandIn | None]]] = {
    "msgspec": {
        "typing_extensions": lambda: None,
        "msgspec.inspect": lambda: _stand_in("msgspec.inspect"),
        "msgspec._json_schema": lambda: _stand_in(
            "msgspec._json_schema",
            schema=_forward("msgspec._json_schema", "schema"),
            schema_components=_forward("msgspec._json_schema", "schema_components"),
        ),
        "platform": lambda: _stand_in("platform", system=_uname_system),
    },
    "pathlib": {
        "urllib.parse": lambda: _stand_in(
            "urllib.parse", quote_from_bytes=_forward("urllib.parse", "quote_from_bytes")
        ),
        "fnmatch": lambda: _stand_in("fnmatch"),
        "ntpath": lambda: _stand_in("ntpath"),
    },
}


class _Loader:
    """The real loader of an importing module, run with the modules it should not load hidden."""

    def __init__(self, real_loader: Loader, hide: dict[str, Callable[[], StandIn | None]]) -> None:
        self.real = real_loader
        self.hide = hide

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.real.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        placed = {}
        for name, make in self.hide.items():
            if name not in sys.modules:
                placed[name] = sys.modules[name] = make()  # type: ignore[assignment]
        try:
            self.real.exec_module(module)
        finally:
            for name, standin in placed.items():
                if name in sys.modules and sys.modules[name] is standin:
                    del sys.modules[name]


class _Finder:
    """Finds the importing modules with the other finders and wraps their loaders; finds
    nothing else, and leaves sys.meta_path once each has been found."""

    def __init__(self, plan: dict[str, dict[str, Callable[[], StandIn | None]]]) -> None:
        self.plan = plan

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        hide = self.plan.pop(name, None)
        if hide is None:
            return None
        if not self.plan:
            try:
                sys.meta_path.remove(self)  # the others must not see us, and we are done
            except ValueError:
                pass  # another thread's import, finding the other module, was first
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Loader(spec.loader, hide)
                return spec
        return None


def install() -> None:
    """Import msgspec and pathlib lean from now on in this process: a no-op for one already
    loaded, and for a hidden module already loaded."""
    if any(isinstance(f, _Finder) for f in sys.meta_path):
        return
    plan = {
        target: {m: make for m, make in hide.items() if m not in sys.modules}
        for target, hide in _PLAN.items()
        if target not in sys.modules
    }
    plan = {target: hide for target, hide in plan.items() if hide}
    if plan:
        sys.meta_path.insert(0, _Finder(plan))
