"""CRC-32C (Castagnoli), hardware-accelerated where the CPU has it."""

from __future__ import annotations

import crc32c as _crc32c


def crc32c(data: bytes | memoryview) -> int:
    return _crc32c.crc32c(data)
