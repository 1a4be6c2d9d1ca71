"""What a watched folder never captures, and reading what it does.

Ignored by default: version-control, build, dependency and cache folders, editor swap and
backup files, and (when read) files over 1 MiB and files that are not UTF-8 text. A folder's
own `--ignore` globs match its files' relative paths (`*.log`, `drafts/*`) or any one path
segment (`secret`).
"""

from __future__ import annotations

import fnmatch
import os
import stat
from dataclasses import dataclass

MAX_BYTES = 1 << 20  # 1 MiB
SNIFF = 8192

IGNORED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        "_darcs",
        "CVS",
        "node_modules",
        "bower_components",
        "vendor",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        ".cache",
        ".gradle",
        ".idea",
        ".next",
        ".nuxt",
        ".terraform",
        "build",
        "dist",
        "target",
        "out",
        ".eggs",
        ".direnv",
        ".Trash",
        ".Trashes",
    }
)
IGNORED_FILES = (
    "*~",
    ".#*",
    "#*#",
    "*.swp",
    "*.swo",
    "*.swx",
    "*.tmp",
    "*.part",
    "*.crdownload",
    ".DS_Store",
    "Thumbs.db",
    "*.pyc",
    "*.o",
    "*.so",
    "*.egg-info",
)
BINARY_EXT = frozenset(
    "png jpg jpeg gif webp bmp ico tif tiff heic pdf zip gz tgz bz2 xz zst 7z rar tar jar war"
    " exe dll dylib bin iso dmg img mp3 mp4 m4a mov avi mkv wav flac ogg woff woff2 ttf otf"
    " sqlite db parquet pkl npy npz pt onnx class".split()
)


def ignored_rel(rel: str, globs: list[str] | tuple[str, ...] = ()) -> bool:
    """Is this relative path ignored by name alone (before any read)? A name that is not
    UTF-8 (bytes a file system allows) is ignored: no state, title or log could carry it."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return True
    parts = rel.split("/")
    if any(p in IGNORED_DIRS or p.endswith(".egg-info") for p in parts[:-1]):
        return True
    name = parts[-1]
    if any(fnmatch.fnmatchcase(name, g) for g in IGNORED_FILES):
        return True
    if name.rsplit(".", 1)[-1].lower() in BINARY_EXT and "." in name:
        return True
    for g in globs:
        if fnmatch.fnmatchcase(rel, g) or any(fnmatch.fnmatchcase(p, g) for p in parts):
            return True
    return False


def ignored_dir(name: str, rel: str, globs: list[str] | tuple[str, ...] = ()) -> bool:
    """Should a walk skip this folder?"""
    if name in IGNORED_DIRS or name.endswith(".egg-info"):
        return True
    return any(fnmatch.fnmatchcase(rel, g) or fnmatch.fnmatchcase(name, g) for g in globs)


@dataclass(frozen=True)
class Read:
    """A file read for capture: `body` when it is capturable text, else `skip` says why."""

    body: bytes | None
    mtime_ns: int
    size: int
    skip: str = ""


def outside(folder: str, rel: str, store: str) -> str | None:
    """Why the file at folder/rel must not be read, or None. Only a file that is really
    there is: a link anywhere on the way (the folder itself, a folder below it) could lead out
    of the watched folder, into the store (its keys) or anywhere else the user can read, and
    the notifier and the walk both follow some links. O_NOFOLLOW guards only the last part."""
    if os.path.islink(folder.rstrip("/")):
        return "the watched folder is now a link"  # a link above it is the user's layout
    base = os.path.realpath(folder)
    real = os.path.realpath(os.path.join(folder, rel))
    if real != os.path.join(base, rel):
        return "reached through a link"
    home = os.path.realpath(store)
    if real == home or real.startswith(home.rstrip("/") + "/"):
        return "a file of the store"
    return None


def read_text(path: str) -> Read:
    """Read a regular file if it is UTF-8 text of at most 1 MiB (no NUL bytes)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return Read(None, 0, 0, "gone")
    except OSError as e:
        return Read(None, 0, 0, f"unreadable ({e.strerror or e})")
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return Read(None, st.st_mtime_ns, st.st_size, "not a regular file")
        if st.st_size > MAX_BYTES:
            return Read(None, st.st_mtime_ns, st.st_size, "over 1 MiB")
        chunks = []
        left = MAX_BYTES + 1
        while left > 0:
            b = os.read(fd, min(left, 1 << 16))
            if not b:
                break
            chunks.append(b)
            left -= len(b)
        body = b"".join(chunks)
    except OSError as e:
        return Read(None, 0, 0, f"unreadable ({e.strerror or e})")
    finally:
        os.close(fd)
    if len(body) > MAX_BYTES:
        return Read(None, st.st_mtime_ns, len(body), "over 1 MiB")
    if b"\x00" in body[:SNIFF] or b"\x00" in body:
        return Read(None, st.st_mtime_ns, st.st_size, "binary")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return Read(None, st.st_mtime_ns, st.st_size, "not UTF-8 text")
    if not body.strip():
        return Read(None, st.st_mtime_ns, st.st_size, "empty")
    return Read(body, st.st_mtime_ns, st.st_size)
