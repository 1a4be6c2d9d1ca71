"""Size limits on what the engine accepts, in one place (README "Limits", PROTOCOL "Import and
sync identity": foreign data is bounded before it is trusted).

`MAX_BODY_BYTES` is the put limit: the largest memory body. Import refuses a bigger body
before reading it; the validation layer applies the same figure to puts.
"""

from __future__ import annotations

MAX_BODY_BYTES = 64 << 20  # a memory body (the put limit)
MAX_SIDECAR_BYTES = 1 << 20  # a memory's .meta.json
MAX_MANIFEST_BYTES = 1 << 20  # manifest.json
MAX_VKEY_BYTES = 4 << 10  # keys/*.vkey: one line of ~100 bytes
MAX_NOTE_BYTES = 64 << 10  # audit/checkpoints/*.note: a body and a few signature lines
MAX_FRAME_PAYLOAD = 1 << 20  # a row (PROTOCOL: ≤ 1 MiB), so a segment is read one frame at a time
# A segment (current.binlog or a sealed one, compressed or not) is streamed, never held whole;
# this cap only keeps a hostile header from promising an endless stream. 16 GiB is ~50 million
# rows.
MAX_SEGMENT_BYTES = 16 << 30
ZSTD_MAX_WINDOW = 1 << 27  # zstd's own default decoder limit: what consolidate's level 3 needs

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_FRAME_PAYLOAD",
    "MAX_MANIFEST_BYTES",
    "MAX_NOTE_BYTES",
    "MAX_SEGMENT_BYTES",
    "MAX_SIDECAR_BYTES",
    "MAX_VKEY_BYTES",
    "ZSTD_MAX_WINDOW",
]
