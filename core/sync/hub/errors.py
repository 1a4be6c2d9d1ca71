"""The hub's refusals, as raised inside it and turned into an `ErrorReply` by the app."""

from __future__ import annotations

from core.errors import BrainError


class HubError(BrainError):
    """A refused request: the HTTP status, the wire code, and a sentence for the person."""

    def __init__(self, status: int, code: str, message: str, retry_after: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retry_after = retry_after


__all__ = ["HubError"]
