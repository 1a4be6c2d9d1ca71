"""SQLite's own check of the index file: its b-trees, then the full-text index against the text
it holds. A damaged page can sit unread for weeks and then fail a search (`database disk image
is malformed`); the doctor's full run reads every page to find it first. The index is derived:
`brain doctor --repair` (or `brain reindex`) rebuilds it from the files and the log."""

from __future__ import annotations

import sqlite3

# SQLite before 3.44 checks no virtual table in `PRAGMA quick_check`: FTS5 has its own
# command, an INSERT that changes nothing but takes the index's write lock while it runs.
_FTS_CHECK = "INSERT INTO memories_fts(memories_fts) VALUES ('integrity-check')"
_NOT_NOW = ("locked", "busy", "readonly")


class Unchecked(Exception):
    """The check cannot run now: another process holds the index's write lock, or the index
    is read-only here."""


def damage(conn: sqlite3.Connection) -> list[str]:
    """What SQLite finds wrong with the index, one line per problem; empty when it is sound."""
    try:
        try:
            found = [row[0] for row in conn.execute("PRAGMA quick_check") if row[0] != "ok"]
        except sqlite3.DatabaseError as e:  # a page too damaged to walk
            return [str(e)]
        if found:
            return found  # the full-text check would only meet the same damage
        try:
            conn.execute(_FTS_CHECK)
        except sqlite3.DatabaseError as e:
            if isinstance(e, sqlite3.OperationalError) and any(w in str(e) for w in _NOT_NOW):
                raise Unchecked(str(e)) from None
            return [f"full-text index: {e}"]
        return []
    finally:
        if conn.in_transaction:
            conn.rollback()
