"""A small store with a fixed clock and RNG, so every screen of it renders the same way."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from pathlib import Path

from core.store import Store

T0 = 1_764_000_000_000_000_000  # 2025-11-24 16:00:00 UTC
NS = 1_000_000_000
ACTORS = ("human:ana@laptop", "agent:claude-code@laptop", "agent:cursor@desktop")
KINDS = ("decisions", "facts", "people", "projects", "preferences")


def fixed_clock(start: int = T0, step: int = NS) -> Callable[[], int]:
    counter = itertools.count(start, step)
    return lambda: next(counter)


def fixed_rng(seed: int = 7) -> Callable[[int], bytes]:
    return random.Random(seed).randbytes


def open_fixed(root: Path, **kw) -> Store:
    return Store.open(root, allow_temp=True, clock=fixed_clock(T0 + 10_000 * NS), **kw)


def build_small(root: Path, puts: int = 24) -> Store:
    """~30 rows: puts across kinds and actors, a move, a tombstone, a session, a checkpoint."""
    store = Store.init(root, allow_temp=True, clock=fixed_clock(), rng=fixed_rng())
    store.note("session.start", actor=ACTORS[1])
    for i in range(puts):
        kind = KINDS[i % len(KINDS)]
        body = f"---\ntitle: Note {i} about {kind}\n---\nThe {kind} note number {i}.\n"
        store.put(f"memories/{kind}/note-{i:02d}.md", body, actor=ACTORS[i % len(ACTORS)])
    store.move("memories/facts/note-01.md", "memories/facts/renamed-01.md", actor=ACTORS[0])
    store.delete("memories/people/note-02.md", actor=ACTORS[0])
    store.note("session.end", actor=ACTORS[1])
    store.checkpoint()
    store.wait_index()
    return store


def build_rows(root: Path, rows: int) -> Store:
    """Many small puts (several pages of the tail), written in batches."""
    store = Store.init(root, allow_temp=True, clock=fixed_clock(), rng=fixed_rng())
    batch = []
    for i in range(rows):
        batch.append(store.put_intent(f"memories/facts/f{i:05d}.md", f"fact {i}"))
        if len(batch) == 200:
            store.batch(batch, ACTORS[(i // 200) % 3])
            batch = []
    if batch:
        store.batch(batch, ACTORS[0])
    store.wait_index()
    return store
