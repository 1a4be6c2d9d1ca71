"""Where foreign data comes from (an export zip or a store folder), read with bounds.

Every read names a limit (`core.limits`). A zip entry whose header declares more than its
limit is refused before a byte is inflated, and the stream is counted as it is read (zipfile
itself never yields more than the declared size). A folder entry is opened with
O_NONBLOCK|O_NOFOLLOW and checked with fstat before any read: only regular files are read (a
FIFO or a device would block or never end), and one bigger than its limit is refused. Large
entries (log segments) are streamed, never read whole.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO

from core.errors import BrainError

_CHUNK = 1 << 16
# What zipfile and its decompressors raise on bytes they cannot read. RuntimeError covers
# NotImplementedError (an unknown compression method) and "password required" (encryption):
# both are refused by name when the zip is opened, and caught here too should a local header
# disagree with the central directory.
_DAMAGED = (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, zlib.error)
# Methods zipfile reads with the standard library alone; an export itself uses DEFLATE only.
_METHODS = {
    zipfile.ZIP_STORED: "stored",
    zipfile.ZIP_DEFLATED: "deflate",
    zipfile.ZIP_BZIP2: "bzip2",
    zipfile.ZIP_LZMA: "lzma",
}


class ImportRefused(BrainError):
    """The source failed verification; nothing was written."""


def _size_refusal(label: str, name: str, size: int, limit: int) -> ImportRefused:
    return ImportRefused(
        f"{label}: {name} is {size} bytes, over the {limit}-byte limit for such a file"
        " (refused before reading it: a damaged or hostile source)"
    )


class Source:
    label: str

    def names(self) -> list[str]:
        raise NotImplementedError

    @contextmanager
    def stream(self, name: str, limit: int) -> Iterator[BinaryIO | None]:
        """A reader of at most `limit` bytes of entry `name` (None when it is absent)."""
        raise NotImplementedError
        yield None

    def read(self, name: str, limit: int) -> bytes | None:
        """The whole entry, refused when over `limit` bytes; None when absent."""
        with self.stream(name, limit) as f:
            if f is None:
                return None
            data = f.read()
        return data

    def close(self) -> None:
        pass


class _Bounded(io.RawIOBase):
    """A reader that refuses (ImportRefused) once more than `limit` bytes came out of `inner`."""

    def __init__(self, inner: IO[bytes], limit: int, label: str, name: str) -> None:
        self.inner, self.limit, self.label, self.name = inner, limit, label, name
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        want = min(len(buf), self.limit + 1 - self.count)
        try:
            data = self.inner.read(max(want, 1))
        except _DAMAGED as e:
            raise ImportRefused(f"{self.label}: entry {self.name} is damaged ({e})") from None
        self.count += len(data)
        if self.count > self.limit:
            raise _size_refusal(self.label, self.name, self.count, self.limit)
        buf[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            parts = []
            while chunk := super().read(_CHUNK):
                parts.append(chunk)
            return b"".join(parts)
        return super().read(size) or b""


class ZipSource(Source):
    def __init__(self, path: Path) -> None:
        self.label = str(path)
        fh = open_regular(path, self.label, str(path), follow=True)
        try:
            self.zf = zipfile.ZipFile(fh)
        except _DAMAGED as e:
            fh.close()
            raise ImportRefused(f"{path}: not a readable zip file ({e})") from None
        self._infos: dict[str, zipfile.ZipInfo] = {}
        for zi in self.zf.infolist():
            if zi.is_dir():
                continue
            _check_entry(path, zi.filename)
            _check_method(path, zi)
            if zi.filename in self._infos:
                raise ImportRefused(f"{path}: entry {zi.filename!r} appears twice")
            self._infos[zi.filename] = zi

    def names(self) -> list[str]:
        return sorted(self._infos)

    @contextmanager
    def stream(self, name: str, limit: int) -> Iterator[BinaryIO | None]:
        zi = self._infos.get(name)
        if zi is None:
            yield None
            return
        if zi.file_size > limit:  # zipfile never inflates past the declared size
            raise _size_refusal(self.label, name, zi.file_size, limit)
        try:
            raw = self.zf.open(zi)
        except _DAMAGED as e:
            raise ImportRefused(f"{self.label}: entry {name} is damaged ({e})") from None
        with raw:
            yield io.BufferedReader(_Bounded(raw, limit, self.label, name), _CHUNK)

    def close(self) -> None:
        fp = self.zf.fp
        self.zf.close()
        if fp is not None:
            fp.close()


class DirSource(Source):
    """A store folder; only what an export would hold is read (never index/, local/, keys)."""

    def __init__(self, root: Path) -> None:
        self.label = str(root)
        self.root = root
        found = ["manifest.json"] if (root / "manifest.json").is_file() else []
        for sub in ("keys", "audit", "audit/checkpoints"):
            try:
                found += [f"{sub}/{e.name}" for e in os.scandir(root / sub) if _plain(e)]
            except FileNotFoundError:
                pass
        stack = ["memories"]
        while stack:
            rel = stack.pop()
            try:
                entries = list(os.scandir(root / rel))
            except FileNotFoundError:
                continue
            for e in entries:
                if e.name.startswith("."):
                    continue
                if e.is_symlink():
                    raise ImportRefused(f"{root}: {rel}/{e.name} is a symlink")
                # Anything else that is not a folder is listed, and read() refuses it unless
                # it is a regular file: a FIFO among the memories must not go unnoticed.
                (stack if e.is_dir(follow_symlinks=False) else found).append(f"{rel}/{e.name}")
        self._names = sorted(found)

    def names(self) -> list[str]:
        return self._names

    @contextmanager
    def stream(self, name: str, limit: int) -> Iterator[BinaryIO | None]:
        try:
            fh = open_regular(self.root / name, self.label, name, limit)
        except FileNotFoundError:
            yield None
            return
        with fh:
            yield io.BufferedReader(_Bounded(fh, limit, self.label, name), _CHUNK)


def open_regular(
    path: Path, label: str, name: str, limit: int | None = None, *, follow: bool = False
) -> BinaryIO:
    """Open a regular file for reading without blocking on a FIFO (and, inside a source,
    without following a link); anything else is refused (FileNotFoundError passes through).
    `follow`: the zip the user named may be reached through a link."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as e:
        raise ImportRefused(f"{label}: {name} cannot be read ({e.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ImportRefused(
                f"{label}: {name} is not a regular file (a FIFO, device or link?); refused"
            )
        if limit is not None and st.st_size > limit:
            raise _size_refusal(label, name, st.st_size, limit)
        return os.fdopen(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise


def _plain(e: os.DirEntry) -> bool:
    return not e.name.startswith(".") and e.is_file(follow_symlinks=False)


def _check_entry(zpath: Path, name: str) -> None:
    parts = name.split("/")
    if (
        name.startswith("/")
        or "\\" in name
        or any(p in ("", ".", "..") for p in parts)
        or any(ord(c) < 0x20 for c in name)
    ):
        raise ImportRefused(f"{zpath}: unsafe entry name {name!r}")


def _check_method(zpath: Path, zi: zipfile.ZipInfo) -> None:
    if zi.flag_bits & 0x1:
        raise ImportRefused(
            f"{zpath}: entry {zi.filename} is encrypted; an export never is (unzip it, or"
            " export again)"
        )
    if zi.compress_type not in _METHODS:
        raise ImportRefused(
            f"{zpath}: entry {zi.filename} uses compression method {zi.compress_type}; only"
            f" {', '.join(_METHODS.values())} can be read (an export uses deflate)"
        )


def open_source(src: Path) -> Source:
    if src.is_dir():
        if not (src / "manifest.json").is_file():
            raise ImportRefused(f"{src}: no manifest.json; not a store folder or unpacked export")
        return DirSource(src)
    if src.exists() or src.is_symlink():
        return ZipSource(src)  # refused there unless it is a regular file
    raise ImportRefused(f"{src}: no such file or folder")


__all__ = ["DirSource", "ImportRefused", "Source", "ZipSource", "open_regular", "open_source"]
