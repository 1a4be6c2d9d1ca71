"""`brain export OUT.zip`: a deterministic, verifiable zip of the store.

What goes in (a whitelist, so a new secret never leaks by default): `manifest.json` (its
`exports` list emptied: it names files that are never exported, and a second export would
otherwise differ from the first), `keys/*.vkey`, the audit log (sealed segments,
`current.binlog`, `sealed.tip`, `mmr.nodes`, `checkpoints/*.note`), and the files of
`memories/` and `versions/` the layout names (other files there are left out with a note; a
private key or `local/` state there refuses the export). Left out: `.lock`, `HEAD`, private keys (`keys/*.key`, `keys/retired/`), `index/`,
`exports/`, `local/`, `conflicts/` (foreign copies this chain does not vouch for),
`audit/journal.wal`, `audit/purge.pending`, `audit/access.binlog` (per-machine read telemetry)
and temp files.

Determinism: entries sorted by path, each stamped 1980-01-01 00:00:00 with mode 0644, DEFLATE
at level 6, no extra fields, no directory entries, no comment. The same store state gives the
same bytes on every run (for a given zlib build).

Consistency: the bytes are read on the commit loop with the writer lock held, so no write lands
halfway through; compression and the file write happen after the lock is released. Before the
read, the head is checkpointed if any row beyond the newest checkpoint is not itself a
`checkpoint` row, so the export verifies offline (and exporting twice adds nothing).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from core import fsio, paths
from core.errors import BrainError
from core.index import queries
from core.log.binlog import SEALED_TIP
from core.verify import checkpoints

if TYPE_CHECKING:
    from core.store import Store
    from core.write.writer import Writer

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
ZIP_LEVEL = 6
FILE_MODE = 0o100644  # a regular file, rw-r--r--
LOCAL_EXPORTS = "exports.json"  # under local/: exports written outside the store


@dataclass
class ExportResult:
    path: str
    files: int
    bytes: int
    sha256: str  # of the zip file
    head_seq: int
    checkpoint: int | None  # size of the newest signed checkpoint inside
    recorded: str  # "manifest" (inside exports/) or "local/exports.json" (outside the store)
    notes: list[str] = field(default_factory=list)  # e.g. sidecars written before extra.meta


def export(store: Store, out: Path) -> ExportResult:
    out = Path(os.path.abspath(out))
    rel = _inside(store.root, out)
    if rel is not None and not rel.startswith("exports/"):
        raise BrainError(
            f"{out} is inside the store but not under exports/: write exports to"
            f" {store.layout.exports} or outside the store"
        )
    if out.suffix.lower() != ".zip":
        raise BrainError(f"{out}: an export is a .zip file; name it OUT.zip")
    if out.is_dir() or (out.exists() and not out.is_file()):
        # Checked before the store is read: the write would fail only after the whole zip
        # was built (and a FIFO or device is no place for it).
        raise BrainError(f"{out} exists and is not a file; name a new .zip file")
    session = store.session
    head, files, notes = session.run(lambda w: _snapshot_locked(store, w))
    held = store.pii_pending_count()
    if held:
        notes.append(
            f"{held} memories are held for PII review (`brain pending`): the export carries"
            " them for verification, and an importer skips them until they are resolved"
        )
    data = build_zip(files)
    try:
        fsio.mkdirs(out.parent)
        fsio.write_file(out, data, durable=True)  # leaves no temp copy when it fails
    except OSError as e:
        raise BrainError(f"{out}: cannot write the export ({e.strerror or e})") from None
    recorded = session.run(lambda w: _record_locked(store, w, out, rel, head))
    return ExportResult(
        path=str(out),
        files=len(files),
        bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        head_seq=head,
        checkpoint=_newest(store),
        recorded=recorded,
        notes=notes,
    )


def build_zip(files: list[tuple[str, bytes]]) -> bytes:
    """The deterministic zip of (path, bytes) pairs."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", allowZip64=True) as zf:
        for name, data in sorted(files):
            zi = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            zi.create_system = 3  # Unix, so external_attr carries the mode
            zi.external_attr = FILE_MODE << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL)
    return buf.getvalue()


# -- under the lock -------------------------------------------------------------------------


def _snapshot_locked(store: Store, w: Writer) -> tuple[int, list[tuple[str, bytes]], list[str]]:
    if w.tip.seq and uncovered(store, w):
        store.session.checkpointer.sign(w)
    files, notes = collect(store.root)
    return w.tip.seq, files, notes + check_sidecars(store, files)


def check_sidecars(store: Store, files: list[tuple[str, bytes]]) -> list[str]:
    """An importer selects memories by the sidecar's sync_class: a sidecar whose governing
    fields differ from what its row committed (`extra.meta`) would carry a private memory out
    as shareable, so the export is refused. Sidecars written before the rule cannot be
    checked: they go out, and the result says how many."""
    from core.models import Sidecar
    from core.verify.sidecar_trust import TAMPERED, UNPROTECTED, judge, log_rows

    rows = log_rows(store.binlog)
    bad: list[str] = []
    loose = 0
    for rel, data in files:
        if not rel.endswith(".meta.json") or not rel.startswith(("memories/", "versions/")):
            continue
        try:
            side = msgspec.json.decode(data, type=Sidecar)
        except (msgspec.DecodeError, msgspec.ValidationError):
            bad.append(f"{rel}: not a valid sidecar")
            continue
        verdict = judge(side, rows.get(side.seq))
        if verdict.status == TAMPERED:
            bad.append(f"{rel}: {verdict.why}")
        elif verdict.status == UNPROTECTED:
            loose += 1
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise BrainError(
            f"export refused: {bad[0]}{more}; its sync_class cannot be trusted. Run `brain"
            " doctor` (an edited sidecar is tampering: restore it from a backup)"
        )
    if not loose:
        return []
    return [
        f"{loose} sidecars were written before committed sidecars (no extra.meta on their"
        " rows): their sync_class and other fields were exported unchecked"
    ]


def uncovered(store: Store, w: Writer) -> bool:
    """Rows beyond the newest checkpoint other than `checkpoint` rows themselves (asked of
    the index once it holds every row: on the commit loop, nobody adds any)."""
    sizes = checkpoints.sizes(store.layout)
    store.follower.wait_for(w.tip.seq)
    return queries.rows_beyond(store.reader.conn, sizes[-1] if sizes else 0, "checkpoint")


def collect(root: Path) -> tuple[list[tuple[str, bytes]], list[str]]:
    """(relative path, bytes) of every file an export holds, and notes on what was left out."""
    out: list[tuple[str, bytes]] = [("manifest.json", _manifest_bytes(root))]
    for sub, keep in (
        ("keys", lambda n: n.endswith(".vkey")),
        ("audit", _audit_file),
        ("audit/checkpoints", lambda n: n.endswith(".note")),
    ):
        for name in _files(root / sub):
            if keep(name):
                out.append((f"{sub}/{name}", (root / sub / name).read_bytes()))
    strays: list[str] = []
    for top in ("memories", "versions"):
        kept, left = _walk(root, top)
        out += [(rel, (root / rel).read_bytes()) for rel in kept]
        strays += left
    return out, _stray_notes(strays)


def _audit_file(name: str) -> bool:
    from core.log.binlog import SEGMENT_NAME

    return name in ("current.binlog", "mmr.nodes", SEALED_TIP) or bool(SEGMENT_NAME.match(name))


def _manifest_bytes(root: Path) -> bytes:
    doc = msgspec.json.decode((root / "manifest.json").read_bytes())
    if not isinstance(doc, dict):
        raise BrainError(f"{root / 'manifest.json'}: not a JSON object")
    doc["exports"] = []
    return msgspec.json.encode(doc, order="sorted")


def _files(d: Path) -> list[str]:
    try:
        entries = list(os.scandir(d))
    except FileNotFoundError:
        return []
    return sorted(
        e.name for e in entries if not e.name.startswith(".") and e.is_file(follow_symlinks=False)
    )


def _walk(root: Path, top: str) -> tuple[list[str], list[str]]:
    """Files below root/top (relative, POSIX): those the layout names, and the strays left
    out. Temp files are skipped; a symlink is refused. Only the layout's names go out (a
    whitelist): any other file there (an editor's or sync tool's leftover, a copy of a
    folder) is not vouched for by the chain, and a stray `.md` without its sidecar would make
    the export one no importer accepts."""
    out: list[str] = []
    strays: list[str] = []
    stack = [top]
    while stack:
        rel_dir = stack.pop()
        try:
            entries = list(os.scandir(root / rel_dir))
        except FileNotFoundError:
            continue
        names = {e.name for e in entries}
        for e in entries:
            if e.name.startswith("."):
                continue  # temp files of an interrupted write
            rel = f"{rel_dir}/{e.name}"
            if e.is_symlink():
                raise BrainError(f"{rel} is a symlink; the store allows none. Run `brain doctor`.")
            if e.is_dir():
                stack.append(rel)
            elif e.is_file() and _layout_file(rel, names):
                out.append(rel)
            else:
                strays.append(rel)
    return out, strays


_VERSION_NAME = re.compile(r"\d{20}\.(?:md|meta\.json)")
_SIDE = ".meta.json"


def _layout_file(rel: str, siblings: set[str]) -> bool:
    """A memory body with its sidecar beside it, a sidecar of a valid memory path (a purged
    memory keeps only its sidecar), or a version `versions/<memory path less .md>/<seq:020d>
    .md|.meta.json`."""
    folder, name = rel.rsplit("/", 1)
    if rel.startswith("versions/"):
        if not _VERSION_NAME.fullmatch(name):
            return False
        body = "memories/" + folder[len("versions/") :] + ".md"
    elif name.endswith(_SIDE):
        body = rel[: -len(_SIDE)] + ".md"
    elif name.endswith(".md") and name[:-3] + _SIDE in siblings:
        body = rel
    else:
        return False
    try:
        paths.validate(body)
    except BrainError:
        return False
    return True


def _stray_notes(strays: list[str]) -> list[str]:
    """A private key or per-machine state under memories/ or versions/ (a backup or a copy
    made into the store) refuses the export: it is left out either way, but it should not be
    there, and the person must move it. Other strays are left out with a note."""
    for rel in sorted(strays):
        why = paths.secret_entry(rel)
        if why:
            raise BrainError(
                f"export refused: {rel} is {why} inside the store's {rel.split('/')[0]}/;"
                " move it out of the store (it is never exported) and run the export again"
            )
    if not strays:
        return []
    first = sorted(strays)[0]
    return [
        f"left out {len(strays)} file(s) under memories/ or versions/ that are not memories"
        f" of this store (first: {first}); `brain doctor` lists them"
    ]


def _record_locked(store: Store, w: Writer, out: Path, rel: str | None, head: int) -> str:
    """Remember where the export went, so a purge can delete or name it."""
    store.follower.wait_for(w.tip.seq)
    purged = queries.purges_after(store.reader.conn, head)
    if purged:
        fsio.unlink(out)
        raise BrainError(
            f"a purge (seq {purged[0]}) ran while the export was being written; the export"
            " was deleted because it may hold the purged content. Run the export again."
        )
    if rel is not None:
        _add_to_manifest(store, rel)
        return "manifest"
    _add_local(store, str(out), head)
    return f"local/{LOCAL_EXPORTS}"


def _add_to_manifest(store: Store, rel: str) -> None:
    path = store.layout.manifest
    doc = msgspec.json.decode(path.read_bytes())
    names = sorted(set(doc.get("exports") or []) | {rel})
    if names != doc.get("exports"):
        doc["exports"] = names
        fsio.write_file(path, msgspec.json.encode(doc, order="sorted"), durable=True)
    store.manifest.exports = names


def read_local(root: Path) -> list[dict]:
    """Exports written outside the store from this machine: [{path, head_seq}]."""
    try:
        doc = msgspec.json.decode((root / "local" / LOCAL_EXPORTS).read_bytes())
    except (FileNotFoundError, msgspec.DecodeError):
        return []
    items = doc.get("exports") if isinstance(doc, dict) else None
    return [i for i in items or [] if isinstance(i, dict) and isinstance(i.get("path"), str)]


def _add_local(store: Store, path: str, head: int) -> None:
    items = [i for i in read_local(store.root) if i["path"] != path]
    items.append({"path": path, "head_seq": head})
    items.sort(key=lambda i: i["path"])
    fsio.mkdirs(store.layout.local)
    fsio.write_file(
        store.layout.local / LOCAL_EXPORTS,
        msgspec.json.encode({"exports": items}, order="sorted") + b"\n",
        durable=True,
    )


def _inside(root: Path, out: Path) -> str | None:
    try:
        return out.relative_to(Path(os.path.abspath(root))).as_posix()
    except ValueError:
        pass
    try:  # the same folder reached through a symlink
        return out.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return None


def _newest(store: Store) -> int | None:
    sizes = checkpoints.sizes(store.layout)
    return sizes[-1] if sizes else None


def forget_exports(layout) -> list[str]:
    """Under the lock (purge): empty the manifest's export list; returns what it named."""
    doc = msgspec.json.decode(layout.manifest.read_bytes())
    names = [n for n in doc.get("exports") or [] if isinstance(n, str)]
    if names:
        doc["exports"] = []
        fsio.write_file(layout.manifest, msgspec.json.encode(doc, order="sorted"), durable=True)
    # A name is only ever a path under exports/; anything else in the list is ignored.
    return [n for n in names if n.startswith("exports/") and ".." not in n.split("/")]
