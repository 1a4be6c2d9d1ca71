"""Which memories may leave this machine, and who may read them at the hub (docs/sync.md)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

PUSHED = ("personal", "shareable", "team-public", "org-only")  # `private` never leaves
ROLES = ("admin", "member", "guest")
DEFAULT_ORG_ONLY_ROLES = ("admin", "member")


def why_not_pushed(sync_class: str, pii_status: str, extra: dict[str, Any]) -> str | None:
    """None when a memory version may be pushed; else the reason it stays here."""
    if sync_class not in PUSHED:
        return f"sync_class {sync_class} never leaves this machine"
    if pii_status == "held":
        return "held for PII review (brain pending)"
    if "imported_from" in extra:
        return "imported from another store: only its origin pushes it"
    return None


def may_read(
    sync_class: str,
    *,
    owner_user: str,
    reader_user: str,
    reader_role: str,
    org_only_roles: Iterable[str] = DEFAULT_ORG_ONLY_ROLES,
) -> bool:
    """May `reader_user` (with `reader_role` in the owner's org) pull this class?"""
    if sync_class == "personal":
        return owner_user == reader_user
    if sync_class in ("shareable", "team-public"):
        return True
    if sync_class == "org-only":
        return reader_role in tuple(org_only_roles)
    return False


__all__ = ["DEFAULT_ORG_ONLY_ROLES", "PUSHED", "ROLES", "may_read", "why_not_pushed"]
