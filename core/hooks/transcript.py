"""What a Claude Code session touched, read from its JSONL transcript (bounded).

Only the tail of a large transcript is read (MAX_BYTES), and only lines that can matter
(tool uses that edit files, compaction summaries) are decoded: a Stop hook runs after every
turn and the agent waits on it.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field

MAX_BYTES = 4 << 20
MAX_FILES = 200
MAX_SUMMARIES = 5
EDIT_TOOLS = {"Edit": "file_path", "Write": "file_path", "MultiEdit": "file_path"}
EDIT_TOOLS["NotebookEdit"] = "notebook_path"


@dataclass
class Digest:
    touched: list[str] = field(default_factory=list)
    summaries: list[str] = field(default_factory=list)


def relative(path: str, cwd: str) -> str:
    if cwd and os.path.isabs(path):
        try:
            rel = os.path.relpath(path, cwd)
        except ValueError:
            return path
        if not rel.startswith(".."):
            return rel
    return path


def edited_file(tool_name: object, tool_input: object) -> str | None:
    key = EDIT_TOOLS.get(tool_name) if isinstance(tool_name, str) else None
    if key is None or not isinstance(tool_input, dict):
        return None
    value = tool_input.get(key)
    return value if isinstance(value, str) and value and "\n" not in value else None


def read(path: str, cwd: str) -> Digest:
    """Touched files (in order, once each) and compaction summaries; empty when unreadable."""
    out = Digest()
    try:
        # The path comes from the hook's input: a FIFO or a device there must not hang the
        # hook (a non-blocking open, then only a regular file is read).
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with open(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return out
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - MAX_BYTES))
            data = f.read(MAX_BYTES)
    except (OSError, TypeError, ValueError):
        return out
    seen: set[str] = set()
    for raw in data.split(b"\n"):
        if b'"tool_use"' not in raw and b'"summary"' not in raw:
            continue
        try:
            entry = json.loads(raw)
        except ValueError:
            continue  # the first line of a cut tail, or a torn last line
        if not isinstance(entry, dict):
            continue
        if entry.get("type") == "summary" and isinstance(entry.get("summary"), str):
            out.summaries.append(" ".join(entry["summary"].split())[:500])
            continue
        message = entry.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_use":
                name = edited_file(block.get("name"), block.get("input"))
                if name is not None:
                    rel = relative(name, cwd)
                    if rel not in seen and len(out.touched) < MAX_FILES:
                        seen.add(rel)
                        out.touched.append(rel)
    out.summaries = out.summaries[-MAX_SUMMARIES:]
    return out
