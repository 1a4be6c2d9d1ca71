"""CRC-32C (Castagnoli), hardware-accelerated where the CPU has it."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys


def _load():
    """The `crc32c` package's compiled module, without the package's __init__: that imports
    importlib.metadata to learn its own version (~12 ms of every CLI call's start-up)."""
    spec = importlib.util.find_spec("crc32c")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = f"{folder}/_crc32c{suffix}"
            try:
                loader = importlib.machinery.ExtensionFileLoader("crc32c._crc32c", path)
                ext = importlib.util.spec_from_file_location("crc32c._crc32c", path, loader=loader)
                if ext is None:
                    continue
                mod = importlib.util.module_from_spec(ext)
                ext.loader.exec_module(mod)  # type: ignore[union-attr]
                return mod
            except (ImportError, OSError):
                continue
    import crc32c  # a layout we do not know: the package as published

    return crc32c


_impl = sys.modules.get("crc32c") or _load()
crc32c = _impl.crc32c
