"""stdin and stdout for the stdio transport without a thread hop per line.

The SDK's `stdio_server` reads each line and writes (then flushes) each response on a worker
thread: three thread round trips per request, most of the server's own latency on a busy
machine. When both ends are pipes or sockets (how every MCP client starts a server), these
read and write the descriptors directly, non-blocking, on the event loop. The standard
descriptors are moved aside as the SDK does: fd 0 reads /dev/null and fd 1 goes to stderr while
serving, so a stray print can never corrupt the wire. `claim()` returns None for anything else
(a terminal, a file): the caller then uses the SDK's own transport.
"""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator
from typing import Any

import anyio

CHUNK = 1 << 16


def _is_pipe(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class LineReader:
    """`async for line in reader`: UTF-8 lines (invalid bytes replaced), until EOF."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        # A bytearray that grows in place, searched only past what was searched before: a
        # line of tens of MiB (a big body) costs one pass, not a copy and a scan per chunk.
        self._buf = bytearray()
        self._searched = 0

    def __aiter__(self) -> AsyncIterator[str]:
        return self._lines()

    async def _lines(self) -> AsyncIterator[str]:
        while True:
            nl = self._buf.find(b"\n", self._searched)
            if nl >= 0:
                line = bytes(self._buf[: nl + 1])
                del self._buf[: nl + 1]
                self._searched = 0
                yield line.decode("utf-8", errors="replace")
                continue
            self._searched = len(self._buf)
            try:
                chunk = os.read(self.fd, CHUNK)
            except BlockingIOError:
                await anyio.wait_readable(self.fd)
                continue
            if not chunk:
                if self._buf:
                    tail = bytes(self._buf)
                    self._buf.clear()
                    yield tail.decode("utf-8", errors="replace")
                return
            self._buf += chunk


class Writer:
    """`await write(text)` then `await flush()`: whole messages, non-blocking."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._pending = bytearray()

    async def write(self, text: str) -> None:
        self._pending += text.encode("utf-8")

    async def flush(self) -> None:
        view = memoryview(bytes(self._pending))
        self._pending.clear()
        while view:
            try:
                n = os.write(self.fd, view)
            except BlockingIOError:
                await anyio.wait_writable(self.fd)
                continue
            except (BrokenPipeError, ConnectionResetError):
                return  # the client went away mid-call: nobody to answer; its EOF ends the session
            view = view[n:]


class Claim:
    """The wire's descriptors, moved off 0 and 1 while serving; `release()` puts them back."""

    def __init__(self) -> None:
        self.wire_in = os.dup(0)
        self.wire_out = os.dup(1)
        for fd in (self.wire_in, self.wire_out):
            os.set_inheritable(fd, False)
            os.set_blocking(fd, False)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(2, 1)

    def streams(self) -> tuple[Any, Any]:
        return LineReader(self.wire_in), Writer(self.wire_out)

    def release(self) -> None:
        for wire, std in ((self.wire_in, 0), (self.wire_out, 1)):
            try:
                os.set_blocking(wire, True)
                os.dup2(wire, std)
                os.close(wire)
            except OSError:
                pass


def claim() -> Claim | None:
    """Take the standard descriptors for the wire when both are pipes or sockets."""
    if not (_is_pipe(0) and _is_pipe(1)):
        return None
    try:
        return Claim()
    except OSError:
        return None
