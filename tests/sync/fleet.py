"""Two users × two devices (and a guest) joined to a real hub on loopback: what the sync tests
share. Every store is real (Store.init), every pass goes through the hub server process."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from core.store import Store

ANA = "human:ana@laptop"
BOB = "human:bob@desk"
ORG = "acme"
DEVICES = {  # store name -> (user, role)
    "ana1": ("ana", "member"),
    "ana2": ("ana", "member"),
    "bob1": ("bob", "member"),
    "bob2": ("bob", "member"),
    "gus": ("gus", "guest"),
}


class Fleet:
    def __init__(self, hub, tmp_path: Path, names=tuple(DEVICES)) -> None:
        self.hub = hub
        self.stores: dict[str, Store] = {}
        for name in names:
            user, role = DEVICES[name]
            s = Store.init(tmp_path / name, allow_temp=True)
            # manual: the tests run the passes; no orchestrator is expected (doctor passes)
            s.sync.join(hub.url, hub.token(ORG, user, role=role, device=name), mode="manual")
            self.stores[name] = s

    def __getitem__(self, name: str) -> Store:
        return self.stores[name]

    def sync(self, *names: str):
        """One full pass per store, in order; each must succeed."""
        reports = {}
        for n in names or tuple(self.stores):
            rep = self.stores[n].sync.run()
            assert rep.ok, (n, rep.errors)
            reports[n] = rep
        return reports

    def paths(self, name: str) -> set[str]:
        return {m.path for m in self.stores[name].memories(limit=10_000)}

    def check_all(self) -> None:
        """Every store's doctor passes, every invariant (a store that never wrote a row has
        no HEAD yet: that hint is the only warning allowed)."""
        for name, s in self.stores.items():
            report = s.doctor()
            empty = s.indexed_seq() == 0
            bad = [
                (r.id, r.detail)
                for r in report.failing()
                if not (empty and r.id == "chain.head" and r.status == "WARN")
            ]
            assert not bad, (name, bad)
            assert report.state == "READY", name

    def close(self) -> None:
        for s in self.stores.values():
            s.close()


def put(store: Store, path: str, body: str, cls: str, actor: str = ANA) -> int:
    return store.put(path, body, actor=actor, sync_class=cls).seq


# -- the hub's stored items, read and edited behind its back (tampering, erasure checks) --------


def hub_items(hub) -> list[tuple[int, str, bytes]]:
    """(cursor, path, payload) of every item the hub stores for ORG, on either backend."""
    if hub.db_url is None:
        db = sqlite3.connect(hub.folder / "orgs" / ORG / "hub.sqlite")
        try:
            return [
                (c, p, bytes(b))
                for c, p, b in db.execute("SELECT cursor, path, payload FROM items")
            ]
        finally:
            db.close()
    import psycopg

    with psycopg.connect(hub.db_url) as conn:
        conn.execute("SELECT set_config('brain.org', %s, false)", (ORG,))
        rows = conn.execute("SELECT cur, path, payload FROM hub_items WHERE org = %s", (ORG,))
        return [(c, p, bytes(b)) for c, p, b in rows.fetchall()]


def hub_set_payload(hub, cursor: int, payload: bytes) -> None:
    if hub.db_url is None:
        db = sqlite3.connect(hub.folder / "orgs" / ORG / "hub.sqlite")
        with db:
            db.execute("UPDATE items SET payload = ? WHERE cursor = ?", (payload, cursor))
        db.close()
        return
    import psycopg

    with psycopg.connect(hub.db_url) as conn:
        conn.execute("SELECT set_config('brain.org', %s, false)", (ORG,))
        conn.execute(
            "UPDATE hub_items SET payload = %s WHERE org = %s AND cur = %s", (payload, ORG, cursor)
        )
