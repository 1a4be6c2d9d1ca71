"""Applying a committed journal record to the files. Idempotent, so replay can reuse it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import msgspec

from core import fsio, paths
from core.layout import sidecar_path
from core.write.journal import Record, Write

_DirCache = set[str]
# Per write of a record: the temp names its body (None: no body) and sidecar were staged at,
# or None when the write was not staged (written at apply time).
Staged = list[tuple[str | None, str] | None]


def stage_files(root: Path, record: Record, dirs: _DirCache, made: list[str]) -> Staged:
    """Before the commit point (while the journal syncs): write each new body and sidecar to
    the temp name `fsio.write_file` uses, beside its target, so that applying the record only
    renames. Nothing is visible until the renames; a crash leaves temps that replay (for a
    committed record) or the doctor (dead writer's temps) removes. Every temp created is
    appended to `made` as it is created, so the caller can remove them if the group fails.
    A path written twice in one record is left to apply time (one temp name per path)."""
    stager = Stager(root, dirs, made)
    stager.stage(record.writes)
    return stager.staged


class Stager:
    """Stages a group's writes in slices, in record order (`stage_files` in parts): the
    writer hands it each request's writes as soon as the request is planned, so creating the
    files overlaps planning the rest of the group and the journal's sync. `staged` lines up
    with the record's writes once every slice was staged. A path met again (in this slice or
    an earlier one) is left to apply time, as are the later writes of a path in stage_files."""

    def __init__(self, root: Path, dirs: _DirCache, made: list[str] | None = None) -> None:
        self.root = root
        self.dirs = dirs
        self.made: list[str] = made if made is not None else []
        self.staged: Staged = []
        self._base = os.fspath(root)
        self._pid = os.getpid()
        self._seen: set[str] = set()
        self._dup: set[str] = set()

    def stage(self, writes: Sequence[Write]) -> None:
        seen, dup = self._seen, self._dup
        for w in writes:
            (dup if w.path in seen else seen).add(w.path)
        out, root, dirs, made = self.staged, self.root, self.dirs, self.made
        for w in writes:
            if w.path in dup:
                out.append(None)
                continue
            if w.path.startswith("versions/"):
                dirs.discard(os.path.dirname(w.path))  # see apply_files
            _ensure_dir(root, os.path.dirname(w.path), dirs)
            body_tmp = None
            if w.body is not None:
                body_tmp = _temp_of(self._base, w.path, self._pid)
                _write_new(body_tmp, w.body, made)
            side_tmp = _temp_of(self._base, sidecar_path(w.path), self._pid)
            _write_new(side_tmp, w.sidecar_json(), made)
            out.append((body_tmp, side_tmp))


def _temp_of(base: str, rel: str, pid: int) -> str:
    folder, name = os.path.split(rel)
    return f"{base}/{folder}/.{name}.tmp{pid}"


def _write_new(tmp: str, data: bytes, made: list[str]) -> None:
    fd = fsio.open_fd(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    made.append(tmp)
    try:
        fsio.write(fd, data)
    finally:
        fsio.close(fd)


def drop_staged(made: list[str]) -> None:
    """The group failed before its commit point: remove what stage_files created."""
    for tmp in made:
        try:
            fsio.unlink(tmp)
        except OSError:
            pass


def apply_files(
    root: Path,
    record: Record,
    dirs: _DirCache,
    *,
    replay: bool = False,
    staged: Staged | None = None,
) -> None:
    for v in record.versions:
        _move_version(root, v.src, v.dst, v.seq, dirs, replay)
    base = os.fspath(root)
    for i, w in enumerate(record.writes):
        done = staged[i] if staged is not None else None
        if done is not None:
            body_tmp, side_tmp = done
            if body_tmp is None:
                fsio.unlink(f"{base}/{w.path}")
            else:
                fsio.rename(body_tmp, f"{base}/{w.path}")
            fsio.rename(side_tmp, f"{base}/{sidecar_path(w.path)}")
            continue
        # Versions folders can be pruned behind the cache's back (moves, purges, other
        # processes); memory folders never are, so only those are trusted to the cache.
        if w.path.startswith("versions/"):
            dirs.discard(os.path.dirname(w.path))
        _ensure_dir(root, os.path.dirname(w.path), dirs)
        side = w.sidecar_json()
        if replay:
            _drop_stale_temps(root, w.path)
        if w.body is None:
            fsio.unlink(root / w.path)
        else:
            fsio.write_file(root / w.path, w.body)
        fsio.write_file(root / sidecar_path(w.path), side)
    for rel in record.removes:
        fsio.unlink(root / rel)
        fsio.unlink(root / sidecar_path(rel))
        vdir = paths.versions_dir_of(rel)
        _prune_empty(root, vdir)
        dirs.discard(vdir)  # it may be gone now: never trust the cache for it again


def _drop_stale_temps(root: Path, rel: str) -> None:
    """Temp files a writer that died mid-write left beside the files it was writing (we hold
    the lock, so no live writer owns them)."""
    folder, name = os.path.split(rel)
    for n in (name, os.path.basename(sidecar_path(rel))):
        prefix = f".{n}.tmp"
        try:
            names = [x for x in os.listdir(root / folder) if x.startswith(prefix)]
        except FileNotFoundError:
            return
        for x in names:
            fsio.unlink(root / folder / x)


def _move_version(root: Path, src: str, dst: str, seq: int, dirs: _DirCache, replay: bool) -> None:
    src_side, dst_side = root / sidecar_path(src), root / sidecar_path(dst)
    if replay:
        # Never move whatever sits at a path now: only the version the record names (its
        # sidecar still carries that seq). Body and sidecar move by two renames, so a crash
        # between them leaves the body moved and the sidecar not: finish the missing half.
        # While the source carries the seq it is the right copy (the original, or rewritten
        # from an earlier record of this replay): it replaces whatever a crash left at the
        # target, which may be a name whose never-synced contents were lost (empty, torn).
        if not _carries_seq(src_side, seq):
            return
        if (root / src).exists():
            _rename_into(root, src, dst, dirs)
        _rename_into(root, sidecar_path(src), sidecar_path(dst), dirs)
        return
    _rename_into(root, src, dst, dirs)
    fsio.rename(src_side, dst_side)


def _rename_into(root: Path, src: str, dst: str, dirs: _DirCache) -> None:
    parent = os.path.dirname(dst)
    _ensure_dir(root, parent, dirs)
    try:
        fsio.rename(root / src, root / dst)
    except FileNotFoundError:
        if not (root / src).exists():
            raise
        # The folder cache said the target folder exists, but it was pruned since (a move,
        # a purge, another process): create it again.
        dirs.discard(parent)
        _ensure_dir(root, parent, dirs)
        fsio.rename(root / src, root / dst)


def _carries_seq(sidecar: Path, seq: int) -> bool:
    try:
        return msgspec.json.decode(sidecar.read_bytes()).get("seq") == seq
    except (OSError, msgspec.DecodeError, AttributeError):
        return False


def _ensure_dir(root: Path, rel: str, dirs: _DirCache) -> None:
    if rel in dirs:
        return
    fsio.mkdirs(root / rel)
    dirs.add(rel)


def _prune_empty(root: Path, rel: str) -> None:
    try:
        fsio.rmdir(root / rel)
    except OSError:
        pass
