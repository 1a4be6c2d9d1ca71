"""Invariant of exports kept in the store: no private key and nothing from `local/`.

An export is meant to leave the machine; a private key inside it would let whoever receives
it rewrite history. `--repair` deletes such an export (make a new one with `brain export`).
"""

from __future__ import annotations

import os
import zipfile

from core.doctor.model import Finding, Invariant, fail, ok, some, warn
from core.paths import secret_entry

__all__ = ["secret_entry"]  # core.paths holds the rule export applies too


def export_zips(root: str) -> list[str]:
    out = []
    for dirpath, _dirs, files in os.walk(os.path.join(root, "exports")):
        for f in files:
            if f.endswith(".zip"):
                out.append(os.path.relpath(os.path.join(dirpath, f), root).replace(os.sep, "/"))
    return sorted(out)


def leaking(root: str) -> list[tuple[str, str]]:
    """(export, why) for every export that holds something it must not."""
    bad = []
    for rel in export_zips(root):
        try:
            with zipfile.ZipFile(os.path.join(root, rel)) as z:
                names = z.namelist()
        except (OSError, zipfile.BadZipFile):
            continue
        for n in names:
            why = secret_entry(n)
            if why:
                bad.append((rel, f"holds {n} ({why})"))
                break
    return bad


def no_secrets(ctx) -> Finding:
    root = str(ctx.root)
    zips = export_zips(root)
    bad = leaking(root)
    if bad:
        return fail(
            f"{bad[0][0]} {bad[0][1]}; `--repair` deletes it"
            + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""),
            [p for p, _ in bad],
        )
    unreadable = []
    for rel in zips:
        try:
            with zipfile.ZipFile(os.path.join(root, rel)):
                pass
        except (OSError, zipfile.BadZipFile):
            unreadable.append(rel)
    if unreadable:
        return warn(f"cannot read {some(unreadable)} to check it", unreadable)
    return ok(f"{len(zips)} export(s) hold no private key and nothing from local/")


INVARIANTS = [
    Invariant("exports.no_secrets", "error", "exports/", no_secrets, True, "no keys in exports"),
]
