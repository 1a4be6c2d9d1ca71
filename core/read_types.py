"""The typed values the Store's read API hands to its callers (the CLI, the TUI, MCP).

Callers name these types from here, never from the index modules that build them: the UI
packages may not import `core.queries` or `core.index` (an import-linter contract).
"""

from __future__ import annotations

from core.models import Row
from core.queries import MemoryRow, SearchHit

FolderCount = tuple[str, str, int]
"""(kind, folder, active memories) for the browser's tree."""

__all__ = ["FolderCount", "MemoryRow", "Row", "SearchHit"]
