"""Memory paths: validation, derived names (sidecar, versions) and the store-root sandbox rule.

A path is permanent chain data (purge cannot erase it), so the rules here are strict and every
refusal names the rule broken and how to fix it. See PROTOCOL.md, "Paths".
"""

from __future__ import annotations

import functools
import os
import re
import stat
import unicodedata

from core.errors import InvalidPath, TempStoreRefused
from core.vocab import KINDS

MAX_SEGMENT_BYTES = 200  # leaves room for ".meta.json" (+10) under NAME_MAX (255)
MAX_PATH_BYTES = 1024
MAX_SEQ = 10**20 - 1  # widest number that fits the fixed 20-digit version file names
ALLOW_TEMP_ENV = "BRAIN_ALLOW_TEMP_STORE"

_PREFIX = "memories/"
_KINDS = frozenset(KINDS)
# C0, DEL and C1: invisible, and C1 bytes can drive a terminal as well as C0 ESC can.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _show(path: str) -> str:
    """The path as it may appear in a message: escaped when unprintable, cut when huge."""
    shown = path if path.isprintable() else ascii(path)
    return shown if len(shown) <= 160 else shown[:157] + "..."


def _refuse(path: str, rule: str) -> InvalidPath:
    return InvalidPath(f"{_show(path)}: {rule}")


def validate(path: str) -> str:
    """Return `path` unchanged if it is a valid memory path, else raise InvalidPath."""
    if not isinstance(path, str):
        raise InvalidPath(f"{path!r}: a memory path must be a str, not {type(path).__name__}")
    return _validate_cached(path)


# view() validates on the hot path; results are pure functions of the string, so caching is
# safe. lru_cache does not cache exceptions, so only valid paths occupy the cache.
@functools.lru_cache(maxsize=65536)
def _validate_cached(path: str) -> str:
    if not path:
        raise InvalidPath("empty path: expected memories/<kind>/<slug>.md")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates come from bytes decoded with errors="surrogateescape".
        raise _refuse(path, "is not valid UTF-8 (it holds a lone surrogate)") from None
    bad = _CONTROL.search(path)
    if bad:
        code = f"U+{ord(bad.group()):04X}"
        raise _refuse(path, f"control character {code} at position {bad.start()} is not allowed")
    if "\\" in path:
        raise _refuse(path, "'\\' is not allowed; use '/' as the separator")
    if path.startswith("/"):
        raise _refuse(path, "absolute paths are not allowed; give it relative to the store root")
    if ":" in path:
        raise _refuse(path, "':' is not allowed in a path")
    if not unicodedata.is_normalized("NFC", path):
        raise _refuse(path, "is not NFC-normalised; pass unicodedata.normalize('NFC', path)")
    size = len(path.encode("utf-8"))
    if size > MAX_PATH_BYTES:
        raise _refuse(path, f"is {size} bytes; a path may be at most {MAX_PATH_BYTES} bytes")
    segments = path.split("/")
    for seg in segments:
        if seg == "":
            raise _refuse(path, "empty segments ('//', leading or trailing '/') are not allowed")
        if seg == "..":
            raise _refuse(path, "'..' segments are not allowed")
        if seg == ".":
            raise _refuse(path, "'.' segments are not allowed")
        if seg != seg.strip():
            raise _refuse(path, f"segment {seg!r} has leading or trailing whitespace")
        n = len(seg.encode("utf-8"))
        if n > MAX_SEGMENT_BYTES:
            raise _refuse(
                path, f"a segment is {n} bytes; each segment may be at most {MAX_SEGMENT_BYTES}"
            )
    if segments[0] != "memories":
        raise _refuse(path, "must start with 'memories/' (memories/<kind>/<slug>.md)")
    if len(segments) < 3:
        raise _refuse(path, "expected memories/<kind>/<slug>.md")
    if segments[1] not in _KINDS:
        raise _refuse(path, f"unknown kind {segments[1]!r}; kinds are: {', '.join(KINDS)}")
    for seg in segments[2:-1]:
        # Folders named like files would collide with a sibling's body, sidecar or versions.
        folded = seg.casefold()
        if folded.endswith(".md") or folded.endswith(".meta.json"):
            raise _refuse(path, f"folder {seg!r} may not end in '.md' or '.meta.json'")
    name = segments[-1]
    if not name.endswith(".md"):
        raise _refuse(path, "the file name must end in '.md' (lowercase)")
    slug = name[:-3]
    if not slug:
        raise _refuse(path, "the file name needs a slug before '.md'")
    if slug.casefold().endswith(".meta"):
        raise _refuse(path, "a slug may not end in '.meta' (it would clash with a sidecar)")
    for seg in segments[2:]:
        # PROTOCOL's "no dot segments": a leading '.' marks the store's temp files, which
        # export, backup, import and the index skip, so such a memory could not travel.
        if seg.startswith("."):
            raise _refuse(
                path,
                f"segment {seg!r} starts with '.': such names are reserved for temporary files"
                " (export, backup and import skip them); drop the leading '.'",
            )
    return path


_STORE_ID = re.compile(r"[0-9a-f]{32}")
_PRIVATE_KEY = re.compile(r"\.[0-9a-f]{8}\.key$")  # <name>.<key id>.key


def secret_entry(name: str) -> str:
    """Why a file at this store-relative name (or zip entry) must never leave the machine in an
    export, or '': a path escaping the archive, a private signing key, or per-machine state
    from a `local/` folder (a backup copied into the store brings both). A memory (`.md`) or
    its sidecar under a folder named `local` is a memory like any other."""
    parts = name.split("/")
    if name.startswith("/") or ".." in parts or "\\" in name:
        return "a path that escapes the archive"
    if name.endswith(".key") and ("keys" in parts[:-1] or _PRIVATE_KEY.search(name)):
        return "a private signing key"
    if "local" in parts[:-1] and not (parts[0] in ("memories", "versions") and _memory_file(name)):
        return "per-machine state from local/"
    return ""


def _memory_file(name: str) -> bool:
    return name.endswith((".md", ".meta.json"))


def is_store_id(value: object) -> bool:
    """A store id (PROTOCOL "Store root and layout": 128 random bits as 32 lowercase hex).
    Ids name folders (`conflicts/<origin>/…`): another store's is checked before any use."""
    return isinstance(value, str) and _STORE_ID.fullmatch(value) is not None


def casefold_key(path: str) -> str:
    """Uniqueness key: two paths with equal keys are the same memory (PROTOCOL "Paths")."""
    # Unicode's canonical caseless match (D145) folds the NFD form: folding NFC text can split
    # canonically equal strings (e.g. around U+0345). The key is returned in NFC, to stay short.
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", path).casefold())


def kind_of(path: str) -> str:
    return validate(path).split("/", 2)[1]


def sidecar_of(path: str) -> str:
    """`memories/k/x.md` -> `memories/k/x.meta.json`."""
    return validate(path)[:-3] + ".meta.json"


def versions_dir_of(path: str) -> str:
    """`memories/k/a/slug.md` -> `versions/k/a/slug`."""
    return "versions/" + validate(path)[len(_PREFIX) : -3]


def version_paths(path: str, seq: int) -> tuple[str, str]:
    """Body and sidecar of the version written by row `seq`."""
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_SEQ:
        raise InvalidPath(f"version seq {seq!r} must be an integer in 0..{MAX_SEQ}")
    base = f"{versions_dir_of(path)}/{seq:020d}"
    return base + ".md", base + ".meta.json"


def check_no_symlink(
    root: str | os.PathLike[str],
    rel: str,
    safe_dirs: set[str] | None = None,
    *,
    last_absent: bool = False,
) -> None:
    """Raise InvalidPath if any existing component of root/rel below root is a symlink.

    The root itself may be a link (a user may keep the store elsewhere); below it a link could
    point a write outside the store, so none is followed. Components that do not exist yet are
    fine: the writer creates them as real folders. `safe_dirs` (a caller's cache of folders
    already seen to be real) saves the writer an lstat per folder on every put, and
    `last_absent` (the caller's cached listing of the folder names no such file) the lstat of
    the last component.
    """
    if rel.startswith("/") or "\\" in rel:
        raise _refuse(rel, "must be a relative path with '/' separators")
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise _refuse(rel, "empty, '.' and '..' segments are not allowed")
    current = os.fspath(root)  # plain strings: this runs on every write (pathlib costs ~3x)
    walked: list[str] = []
    last = len(parts) - 1
    for i, part in enumerate(parts):
        current = f"{current}/{part}"
        walked.append(part)
        if safe_dirs is not None and i < last and current in safe_dirs:
            continue
        if i == last and last_absent:
            return
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            return  # nothing deeper can exist either
        except NotADirectoryError:
            parent = "/".join(walked[:-1])
            raise _refuse(rel, f"{parent!r} is a file, not a folder") from None
        if stat.S_ISLNK(st.st_mode):
            raise _refuse(
                rel,
                f"{'/'.join(walked)!r} is a symbolic link; links below the store root are "
                "refused (replace it with a real folder or file)",
            )
        if safe_dirs is not None and i < last:
            safe_dirs.add(current)


# -- slugs ------------------------------------------------------------------------------------

_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str, *, max_len: int = 60) -> str:
    """Lowercase ASCII slug with hyphens: 'Café au Lait!' -> 'cafe-au-lait'.

    Accents are stripped by decomposition; other scripts drop out. Never empty ('untitled').
    """
    if max_len < 1:
        raise ValueError("max_len must be at least 1")
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFC", text))
    ascii_only = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    slug = _NON_SLUG.sub("-", ascii_only).strip("-")
    slug = slug[:max_len].rstrip("-")
    return slug or "untitled"[:max_len]


def slug_with_hash(text: str, *, max_len: int = 60) -> str:
    """Slug plus '-' and the first 8 hex of sha256(NFC text), within max_len.

    The hash keeps two names with the same slug apart. Note it is unsalted and short: it
    distinguishes, it does not hide; callers must not feed it personal data they need hidden.
    """
    if max_len < 10:
        raise ValueError("max_len must be at least 10 (slug, '-', 8 hex digits)")
    from core.digest import sha256  # here: a one-shot `brain view` never needs it

    digest = sha256(unicodedata.normalize("NFC", text).encode("utf-8")).hexdigest()[:8]
    return f"{slugify(text, max_len=max_len - 9)}-{digest}"


# -- store-root sandbox -----------------------------------------------------------------------


# Resolved with os.path, not pathlib (whose Path.resolve is os.path.realpath): every one-shot
# command asks, and `brain view` loads no pathlib (with urllib.parse and ipaddress, ~3 ms).


def _temp_dirs() -> list[str]:
    """Resolved temporary folders. A candidate that is '/' or holds $HOME is ignored: a
    mis-set $TMPDIR must not make every store count as temporary."""
    # The folders tempfile.gettempdir() chooses from ($TMPDIR, $TEMP, $TMP, then /tmp,
    # /var/tmp, /usr/tmp), every one of them rather than its pick: importing tempfile loads
    # shutil, bz2, lzma and random, ~10 ms of every one-shot command on a store outside /tmp.
    names = ["/tmp", "/var/tmp", "/usr/tmp", "/dev/shm"]
    names += [os.environ[v] for v in ("TMPDIR", "TEMP", "TMP") if os.environ.get(v)]
    home = os.path.realpath(os.path.expanduser("~"))
    out: list[str] = []
    for name in names:
        try:
            resolved = os.path.realpath(name)
        except (OSError, ValueError):
            continue
        if os.path.dirname(resolved) == resolved or _inside(home, resolved):
            continue  # the file system's root, or a folder holding $HOME
        if resolved not in out:
            out.append(resolved)
    return out


def _inside(path: str, folder: str) -> bool:
    """Path.is_relative_to for resolved path strings: path is folder or below it."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def is_temp_root(path: str | os.PathLike[str]) -> bool:
    """True if the resolved path is inside (or is) a temporary folder."""
    resolved = os.path.realpath(os.path.expanduser(os.fspath(path)))
    return any(_inside(resolved, tmp) for tmp in _temp_dirs())


def check_root_allowed(path: str | os.PathLike[str], allow_temp: bool) -> None:
    """Refuse a store root in a temporary folder unless the caller or env opts in."""
    if allow_temp or os.environ.get(ALLOW_TEMP_ENV) == "1":
        return
    if is_temp_root(path):
        raise TempStoreRefused(
            f"store root {path} is inside a temporary folder; pass --allow-temp-store or set "
            f"{ALLOW_TEMP_ENV}=1 to use it anyway"
        )
