"""CRC-32C (Castagnoli), hardware-accelerated where the CPU has it."""

from __future__ import annotations

import sys
from importlib.machinery import EXTENSION_SUFFIXES, ExtensionFileLoader, ModuleSpec, PathFinder


def _load():
    """The `crc32c` package's compiled module, without the package's __init__: that imports
    importlib.metadata to learn its own version (~12 ms of every CLI call's start-up). Found
    and loaded with importlib.machinery alone (importlib.util is more to import)."""
    spec = PathFinder.find_spec("crc32c")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for suffix in EXTENSION_SUFFIXES:
            path = f"{folder}/_crc32c{suffix}"
            loader = ExtensionFileLoader("crc32c._crc32c", path)
            try:
                mod = loader.create_module(ModuleSpec("crc32c._crc32c", loader, origin=path))
                loader.exec_module(mod)
                return mod
            except (ImportError, OSError):
                continue
    import crc32c  # a layout we do not know: the package as published

    return crc32c


_impl = sys.modules.get("crc32c") or _load()
crc32c = _impl.crc32c
