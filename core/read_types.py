"""The typed values the Store's read API hands to its callers (the CLI, the TUI, MCP).

Callers name these types from here, never from the index modules that build them: the UI
packages may not import `core.index.queries` or `core.index.db` (an import-linter contract).
"""

from __future__ import annotations

from core.index.queries import MemoryRow, SearchHit
from core.models import Row

FolderCount = tuple[str, str, int]
"""(kind, folder, active memories) for the browser's tree."""

__all__ = ["FolderCount", "MemoryRow", "Row", "SearchHit"]
