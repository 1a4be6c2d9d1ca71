import gc

# The process started with stdin closed (`brain put PATH <&-`): a body read from it would be
# empty, so commands that read stdin refuse instead (set by main, read by cmd_put.read_body;
# here because main may run as __main__, a second copy of its module).
stdin_closed = False

# A command's start-up allocates tens of thousands of objects (its imports) and frees almost
# none, so the default first threshold (700) runs ~25 collections that find nothing: ~3 ms of a
# one-shot `brain put`. The console script raises it until the command's store is open (or the
# workstation, `brain mcp`, the capture daemon or the hub starts), then puts it back, the
# start-up's objects frozen out of every later collection: what the command itself does
# collects as usual.
_GC_DEFAULT = gc.get_threshold()
START_GC_THRESHOLD = 100_000


_lean = False


def lean_gc() -> None:
    global _lean
    _lean = True
    gc.set_threshold(START_GC_THRESHOLD, *_GC_DEFAULT[1:])


def settle_gc() -> None:
    """For a long-lived process (the workstation): a no-op unless lean_gc ran."""
    global _lean
    if _lean:
        _lean = False
        gc.freeze()
        gc.set_threshold(*_GC_DEFAULT)
