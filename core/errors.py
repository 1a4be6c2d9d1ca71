"""Every engine error is a BrainError whose message a person can act on."""

from __future__ import annotations


class BrainError(Exception):
    """Base of every error the engine raises on purpose."""


class StoreNotFound(BrainError):
    pass


class StoreExists(BrainError):
    pass


class TempStoreRefused(BrainError):
    pass


class InvalidPath(BrainError):
    pass


class InvalidMeta(BrainError):
    """Frontmatter, tags, kind, category or classification break a protocol rule."""


class NotFound(BrainError):
    pass


class PreconditionFailed(BrainError):
    """A put_if whose expected commitment is not the current one."""

    intent: object = None  # the rejected intent (the writer logs put_if.rejected for it)


class LeaseHeld(BrainError):
    """Another process holds the writer lock."""


class CorruptLog(BrainError):
    """The synced part of the log is damaged: refused, never truncated."""


class Frozen(BrainError):
    """The store refuses writes until a doctor repair."""


class CanonicalError(BrainError):
    """A value cannot be written as canonical JSON (floats, huge integers, non-NFC text)."""


class ProofError(BrainError):
    pass


class KeyError_(BrainError):
    """Signing key missing, unreadable, or the passphrase is wrong."""


class ReadOnly(BrainError):
    pass
