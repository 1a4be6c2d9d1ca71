"""Where a capture lands: `memories/facts/captured/<folder>/<slug>-<short hash>.md`.

Paths are permanent chain data that purge cannot erase (PROTOCOL, Paths), and file and folder
names often hold people's names ("Call with Dana Reyes.md"). So no part of a path comes from a
name: `<folder>` is `w-` plus a hash of the watched folder's path, `<slug>` is a word for the
file's type (`md`, `txt`, `py`, ...), and `<short hash>` stands for the file's place inside its
folder. The hashes are HMAC-SHA-256 under a per-machine key in `local/capture/key`, so a path
on the chain cannot be tested against a guessed name (an unsalted hash could be), and the same
file always maps to the same memory (a change is a new version, not a new memory).

One-off captures: text goes to `captured/text/note-<hmac(body)>.md` (capturing the same text
again is a no-op), a file outside every watched folder to `captured/files/<type>-<hmac(path)>.md`.
"""

from __future__ import annotations

import hashlib
import hmac
import re

PREFIX = "memories/facts/captured"
FOLDER_HASH = 8  # hex digits: folders per machine are few
FILE_HASH = 12  # hex digits (48 bits): no collision among a folder's files in practice
TEXT_FOLDER = "text"
FILES_FOLDER = "files"
_TYPE = re.compile(r"[a-z0-9]{1,12}")


def _mac(key: bytes, *parts: str) -> str:
    msg = "\x00".join(parts).encode("utf-8", "surrogateescape")
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def folder_id(key: bytes, abs_path: str) -> str:
    return "w-" + _mac(key, "folder", abs_path)[:FOLDER_HASH]


def type_slug(name: str) -> str:
    """`notes/Dana.md` -> `md`; a name without a plain extension -> `note`."""
    base = name.rsplit("/", 1)[-1]
    ext = base.rsplit(".", 1)[-1].lower() if "." in base.lstrip(".") else ""
    return ext if _TYPE.fullmatch(ext) else "note"


def file_path(key: bytes, folder: str, rel: str) -> str:
    """The memory of the file at `rel` (POSIX, relative) inside watched folder `folder`."""
    return f"{PREFIX}/{folder}/{type_slug(rel)}-{_mac(key, 'file', folder, rel)[:FILE_HASH]}.md"


def loose_file_path(key: bytes, abs_path: str) -> str:
    h = _mac(key, "loose", abs_path)[:FILE_HASH]
    return f"{PREFIX}/{FILES_FOLDER}/{type_slug(abs_path)}-{h}.md"


def text_path(key: bytes, body: bytes) -> str:
    h = hmac.new(key, b"text\x00" + body, hashlib.sha256).hexdigest()[:FILE_HASH]
    return f"{PREFIX}/{TEXT_FOLDER}/note-{h}.md"


def content_digest(key: bytes, body: bytes) -> str:
    """What the state file remembers of a body: keyed, so it is no body hash (PROTOCOL)."""
    return hmac.new(key, b"body\x00" + body, hashlib.sha256).hexdigest()[:32]
