"""Invariants of the store's layout: known entries only, no links or traversal, no machine
paths recorded, no sync-tool conflict copies, and a valid manifest."""

from __future__ import annotations

import os
import re

import msgspec

from core import paths
from core.doctor.filewalk import TEMP_NAME, strings_in
from core.doctor.logwalk import looks_absolute, pid_alive
from core.doctor.model import Finding, Invariant, fail, ok, some, warn
from core.log import canonical
from core.models import PROTOCOL_VERSION, Manifest

ROOT = "store root"
_TOP = {
    "manifest.json": "file",
    "HEAD": "file",
    ".lock": "file",
    "audit": "dir",
    "memories": "dir",
    "versions": "dir",
    "index": "dir",
    "conflicts": "dir",
    "exports": "dir",
    "keys": "dir",
    "local": "dir",
}
_AUDIT = re.compile(
    r"^(current\.binlog|journal\.wal|purge\.pending|mmr\.nodes|access\.binlog|sealed\.tip"
    r"|\d{20}\.binlog(\.zst)?)$"
)
_NOTE = re.compile(r"^\d{20}\.note$")
_KEY = re.compile(r"^[A-Za-z0-9._-]+\.[0-9a-f]{8}\.(key|vkey)$")
_INDEX = re.compile(r"^brain\.sqlite(-wal|-shm|-journal)?$")


def _scan(root: str, rel: str, allowed, odd: list[str], temps: list[str]) -> None:
    """Entries of root/rel that `allowed(name, is_dir)` does not accept."""
    try:
        entries = sorted(os.scandir(os.path.join(root, rel)), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return
    for e in entries:
        child = f"{rel}/{e.name}" if rel else e.name
        m = TEMP_NAME.match(e.name)
        if m and not e.is_dir(follow_symlinks=False):
            if not pid_alive(int(m.group(1))):
                temps.append(child)
            continue
        if not allowed(e.name, e.is_dir(follow_symlinks=False)):
            odd.append(child)


def _top_ok(name: str, is_dir: bool) -> bool:
    want = _TOP.get(name)
    return want is not None and (want == "dir") == is_dir


def canonical_layout(ctx) -> Finding:
    root = str(ctx.root)
    odd: list[str] = []
    temps: list[str] = []
    _scan(root, "", _top_ok, odd, temps)
    _scan(
        root,
        "audit",
        lambda n, d: (n == "checkpoints" and d) or (not d and _AUDIT.match(n)),
        odd,
        temps,
    )
    _scan(root, "audit/checkpoints", lambda n, d: not d and _NOTE.match(n), odd, temps)
    _scan(
        root, "keys", lambda n, d: (n == "retired" and d) or (not d and _KEY.match(n)), odd, temps
    )
    _scan(root, "keys/retired", lambda n, d: not d and _KEY.match(n), odd, temps)
    _scan(root, "index", lambda n, d: not d and _INDEX.match(n), odd, temps)
    ff = ctx.files
    odd += ff.unknown
    temps += ff.temps
    if odd or temps:
        parts = []
        if odd:
            parts.append(
                f"{len(odd)} unexpected entr{'y' if len(odd) == 1 else 'ies'}: {some(odd)}"
            )
        if temps:
            parts.append(f"{len(temps)} temp file(s) a dead writer left: {some(temps)}")
        return warn("; ".join(parts), odd + temps)
    scope = "" if ff.scope is None else " (top level and the memories the tail touched)"
    return ok(f"only known entries and kinds{scope}")


def no_traversal(ctx) -> Finding:
    links = list(ctx.files.symlinks)
    root = str(ctx.root)
    for rel in ("", "audit", "audit/checkpoints", "keys", "index", "exports", "conflicts", "local"):
        _links_below(root, rel, links, deep=rel in ("exports", "conflicts", "local"))
    bad_rows = ctx.log.bad_paths
    if links:
        return fail(f"symbolic link below the store root: {some(links)}", links)
    if bad_rows:
        seq, path = bad_rows[0]
        shown = path if path.isprintable() else ascii(path)
        return fail(
            f"row seq {seq} names an invalid path {shown[:120]!r}"
            + (f" (and {len(bad_rows) - 1} more)" if len(bad_rows) > 1 else ""),
            ["audit/current.binlog"],
        )
    return ok("no links below the root; every path in the log is a valid memory path")


def _links_below(root: str, rel: str, out: list[str], deep: bool) -> None:
    try:
        entries = list(os.scandir(os.path.join(root, rel)))
    except (FileNotFoundError, NotADirectoryError):
        return
    for e in entries:
        child = f"{rel}/{e.name}" if rel else e.name
        if e.is_symlink():
            out.append(child)
        elif deep and e.is_dir():
            _links_below(root, child, out, deep)


def no_sandbox_path(ctx) -> Finding:
    found: list[tuple[str, str]] = []
    for seq, s in ctx.log.abs_strings:
        found.append((f"row seq {seq}", s))
    for body, s in ctx.files.abs_extra:
        found.append((body[:-3] + ".meta.json", s))
    try:
        man = msgspec.json.decode(ctx.layout.manifest.read_bytes())
    except (OSError, msgspec.DecodeError):
        man = None
    for s in strings_in(man):
        if looks_absolute(s):
            found.append(("manifest.json", s))
    if found:
        where, s = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        paths_ = [w for w, _ in found if not w.startswith("row seq")] or ["audit/current.binlog"]
        return warn(f"{where} records a machine path {s[:80]!r}{more}", list(dict.fromkeys(paths_)))
    return ok("no absolute or temporary paths recorded in rows, sidecars or the manifest")


def conflict_siblings(ctx) -> Finding:
    found = ctx.files.conflicts
    if found:
        return warn(
            f"{len(found)} copy(ies) a sync tool left beside a memory: {some(found)}; merge by"
            " hand and delete them",
            found,
        )
    return ok("no sync-tool conflict copies")


def manifest_valid(ctx) -> Finding:
    path = ["manifest.json"]
    try:
        raw = ctx.layout.manifest.read_bytes()
        man = msgspec.json.decode(raw, type=Manifest)
    except FileNotFoundError:
        return fail("manifest.json is missing", path)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as e:
        return fail(f"manifest.json is unreadable: {e}", path)
    problems = []
    if not paths.is_store_id(man.store_id):
        problems.append("store_id is not 32 lowercase hex digits")
    elif man.store_id != ctx.store.manifest.store_id:
        problems.append("store_id changed since the store was opened")
    if man.protocol != PROTOCOL_VERSION:
        problems.append(f"protocol {man.protocol}, this build speaks {PROTOCOL_VERSION}")
    if man.created_ns < 0:
        problems.append("created_ns is negative")
    st = man.settings
    if st.checkpoint_every_rows < 1 or st.checkpoint_every_ms < 1:
        problems.append("checkpoint cadence must be positive")
    if not canonical.is_canonical(raw):
        problems.append("not canonical JSON")
    if problems:
        return fail("manifest.json: " + "; ".join(problems), path)
    return ok(f"store {man.store_id}, protocol {man.protocol}")


INVARIANTS = [
    Invariant("layout.canonical", "warning", ROOT, canonical_layout, False, "layout canonical"),
    Invariant("layout.no_traversal", "error", ROOT, no_traversal, False, "no traversal"),
    Invariant("layout.no_sandbox_path", "warning", ROOT, no_sandbox_path, False, "no machine path"),
    Invariant(
        "layout.conflict_siblings", "warning", "memories/", conflict_siblings, False, "sync copies"
    ),
    Invariant("layout.manifest", "error", "manifest.json", manifest_valid, False, "manifest"),
]
