"""A sync pass that SIGKILLs its own process at a chosen point (a crash, not a mock: the
pass runs for real up to there). `python -m tests.sync.crash_driver STORE POINT`.

- before-push-sent: the batch is marked `pushed` here, the request never left;
- after-push-sent: the hub stored the batch, the reply never reached the queue;
- after-stash: a pulled page is in the inbox, nothing of it imported;
- after-write: a page's memories are written, the inbox still says pending-pull.
"""

from __future__ import annotations

import os
import signal
import sys

from core.store import Store
from core.sync import client, pull, queue

POINTS = ("before-push-sent", "after-push-sent", "after-stash", "after-write")


def _then_die(owner, name: str) -> None:
    orig = getattr(owner, name)

    def wrapped(*a, **kw):
        out = orig(*a, **kw)
        os.kill(os.getpid(), signal.SIGKILL)
        return out

    setattr(owner, name, wrapped)


def _die_first(owner, name: str) -> None:
    def wrapped(*a, **kw):
        os.kill(os.getpid(), signal.SIGKILL)

    setattr(owner, name, wrapped)


def main(root: str, point: str) -> int:
    if point == "before-push-sent":
        _die_first(client.HubClient, "push")
    elif point == "after-push-sent":
        _then_die(client.HubClient, "push")
    elif point == "after-stash":
        _then_die(queue.Queue, "stash")
    elif point == "after-write":
        _then_die(pull, "write_foreign")
    else:
        raise SystemExit(f"point: one of {', '.join(POINTS)}")
    with Store.open(root, allow_temp=True) as s:
        pushing = point.endswith("push-sent")
        s.sync.run(push=pushing, pull=not pushing)
    return 3  # not reached: the process kills itself first


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
