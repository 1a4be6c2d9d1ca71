"""A frame's header, and a frame's bytes: `[u32 length BE][u32 CRC-32C BE][u64 seq BE]
[u64 ts_ns BE][payload]` (PROTOCOL.md, "Frames").

Apart from core.log.frames (which reads frames back and checks rows, with msgspec) so that a
writer of access entries, a one-shot `brain view`, imports only struct and the CRC.
"""

from __future__ import annotations

import struct

from core.log.crc import crc32c

HEADER = struct.Struct(">IIQQ")
HEADER_SIZE = HEADER.size  # 24
MAX_PAYLOAD = 1 << 20


def encode(seq: int, ts_ns: int, payload: bytes, *, limit: int | None = MAX_PAYLOAD) -> bytes:
    if limit is not None and len(payload) > limit:
        raise ValueError(f"frame payload of {len(payload)} bytes exceeds {limit}")
    return HEADER.pack(len(payload), crc32c(payload), seq, ts_ns) + payload
