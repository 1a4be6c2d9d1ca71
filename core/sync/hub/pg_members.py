"""Orgs, users, devices and the event log of the PostgreSQL hub storage (a part of
`core.sync.hub.storage_pg.PgStorage`, kept apart to keep each module small).

Every method runs in one transaction scoped to its org (`_run`, from PgStorage): the row-level
security policy hides every other org's rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg

from core.sync.hub.storage import Device, Event, HubStorageError, Org, User, check_name

T = TypeVar("T")
Cur = psycopg.Cursor[Any]

_ORG = "SELECT org, org_only_roles, created_ns FROM hub_orgs WHERE org = %s"
_USER = "SELECT org, name, role, revoked FROM hub_users WHERE org = %s AND name = %s"
_DEVICE = "SELECT org, user_name, name, jti, revoked FROM hub_devices WHERE org = %s"


def _org(r: Any) -> Org:
    return Org(r[0], tuple(r[1]), int(r[2]))


def _user(r: Any) -> User:
    return User(r[0], r[1], r[2], bool(r[3]))


def _device(r: Any) -> Device:
    return Device(r[0], r[1], r[2], r[3], bool(r[4]))


def one(cur: Cur, conv: Callable[[Any], T], sql: str, args: tuple[Any, ...]) -> T | None:
    row = cur.execute(sql, args).fetchone()
    return None if row is None else conv(row)


class PgMembers:
    """The admin's side of the hub storage; PgStorage supplies the transactions."""

    def _run(self, org: str, fn: Callable[[Cur], T], snapshot: bool = False) -> T:
        raise NotImplementedError

    @staticmethod
    def _need_org(cur: Cur, org: str, *, lock: bool = False) -> int:
        """The org's head cursor; with `lock`, held until commit (serializes appends)."""
        # NO KEY UPDATE: pushes take turns on it, but the foreign-key checks of other writes
        # (a user added, an origin bound) need only KEY SHARE and do not wait for a push.
        sql = "SELECT head FROM hub_orgs WHERE org = %s" + (" FOR NO KEY UPDATE" if lock else "")
        row = cur.execute(sql, (org,)).fetchone()
        if row is None:
            raise HubStorageError(f"no org {org!r} on this hub: `brain hub add-org {org}` first")
        return int(row[0])

    # -- orgs ---------------------------------------------------------------------------------
    def add_org(self, org: str, org_only_roles: tuple[str, ...], now_ns: int) -> Org:
        check_name("org", org)

        def fn(cur: Cur) -> Org:
            cur.execute(
                "INSERT INTO hub_orgs (org, org_only_roles, created_ns) VALUES (%s, %s, %s) "
                "ON CONFLICT (org) DO NOTHING",
                (org, list(org_only_roles), now_ns),
            )
            cur.execute("INSERT INTO hub_directory VALUES (%s) ON CONFLICT DO NOTHING", (org,))
            got = one(cur, _org, _ORG, (org,))
            assert got is not None
            return got

        return self._run(org, fn)

    def get_org(self, org: str) -> Org | None:
        return self._run(org, lambda cur: one(cur, _org, _ORG, (org,)))

    def list_orgs(self) -> list[Org]:
        names = self._run("", lambda cur: cur.execute("SELECT org FROM hub_directory").fetchall())
        # Each org is read under its own scope: the policy allows nothing wider.
        orgs = [self.get_org(n) for (n,) in names]
        return sorted((o for o in orgs if o is not None), key=lambda o: o.name)

    # -- users --------------------------------------------------------------------------------
    def add_user(self, org: str, user: str, role: str) -> User:
        check_name("user", user)

        def fn(cur: Cur) -> User:
            self._need_org(cur, org)
            held = one(cur, _user, _USER + " FOR UPDATE", (org, user))
            if held is not None and held.revoked:
                raise HubStorageError(
                    f"user {user} of {org} was revoked; revocation is final, add them under a"
                    " new name"
                )
            cur.execute(
                "INSERT INTO hub_users (org, name, role) VALUES (%s, %s, %s) "
                "ON CONFLICT (org, name) DO UPDATE SET role = excluded.role",
                (org, user, role),
            )
            got = one(cur, _user, _USER, (org, user))
            assert got is not None
            return got

        return self._run(org, fn)

    def get_user(self, org: str, user: str) -> User | None:
        return self._run(org, lambda cur: one(cur, _user, _USER, (org, user)))

    def list_users(self, org: str) -> list[User]:
        sql = "SELECT org, name, role, revoked FROM hub_users WHERE org = %s ORDER BY name"
        return self._run(org, lambda cur: [_user(r) for r in cur.execute(sql, (org,))])

    # -- devices ------------------------------------------------------------------------------
    def add_device(self, org: str, user: str, device: str, jti: str) -> Device:
        check_name("device", device)

        def fn(cur: Cur) -> Device:
            u = one(cur, _user, _USER + " FOR SHARE", (org, user))
            if u is None:
                raise HubStorageError(f"no user {user} in {org}: add the user first")
            if u.revoked:
                raise HubStorageError(f"user {user} of {org} is revoked")
            held = one(cur, _device, _DEVICE + " AND name = %s FOR UPDATE", (org, device))
            if held is not None and held.user != user:
                raise HubStorageError(
                    f"device {device} of {org} belongs to {held.user}; name this one differently"
                )
            if held is not None and held.revoked:
                raise HubStorageError(
                    f"device {device} of {org} was revoked; enrol it under a new device name"
                )
            # A new token for a known device replaces the old one's id: the old token stops.
            cur.execute(
                "INSERT INTO hub_devices (org, name, user_name, jti) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (org, name) DO UPDATE SET jti = excluded.jti",
                (org, device, user, jti),
            )
            got = one(cur, _device, _DEVICE + " AND name = %s", (org, device))
            assert got is not None
            return got

        return self._run(org, fn)

    def get_device(self, org: str, device: str) -> Device | None:
        return self._run(
            org, lambda cur: one(cur, _device, _DEVICE + " AND name = %s", (org, device))
        )

    def list_devices(self, org: str) -> list[Device]:
        sql = _DEVICE + " ORDER BY user_name, name"
        return self._run(org, lambda cur: [_device(r) for r in cur.execute(sql, (org,))])

    def revoke(self, org: str, *, user: str | None = None, device: str | None = None) -> int:
        if (user is None) == (device is None):
            raise HubStorageError("revoke a user or a device (exactly one of them)")

        def fn(cur: Cur) -> int:
            if user is not None:
                if one(cur, _user, _USER, (org, user)) is None:
                    raise HubStorageError(f"no user {user} in {org}")
                cur.execute(
                    "UPDATE hub_users SET revoked = true "
                    "WHERE org = %s AND name = %s AND NOT revoked",
                    (org, user),
                )
                n = cur.rowcount
                cur.execute(
                    "UPDATE hub_devices SET revoked = true "
                    "WHERE org = %s AND user_name = %s AND NOT revoked",
                    (org, user),
                )
                return n + cur.rowcount
            if one(cur, _device, _DEVICE + " AND name = %s", (org, device)) is None:
                raise HubStorageError(f"no device {device} in {org}")
            cur.execute(
                "UPDATE hub_devices SET revoked = true "
                "WHERE org = %s AND name = %s AND NOT revoked",
                (org, device),
            )
            return cur.rowcount

        return self._run(org, fn)

    # -- events -------------------------------------------------------------------------------
    def log_event(self, org: str, user: str, device: str, event: str, detail: str) -> None:
        self._run(
            org,
            lambda cur: cur.execute(
                "INSERT INTO hub_events (org, at_ns, user_name, device, event, detail) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (org, time.time_ns(), user, device, event, detail[:2000]),
            ),
        )

    def events(self, org: str, after: int = 0, limit: int = 1000) -> list[Event]:
        sql = (
            "SELECT id, at_ns, org, user_name, device, event, detail FROM hub_events "
            "WHERE org = %s AND id > %s ORDER BY id LIMIT %s"
        )
        return self._run(
            org, lambda cur: [Event(*r) for r in cur.execute(sql, (org, after, limit))]
        )


__all__ = ["Cur", "PgMembers", "one"]
