"""The TUI benchmarks' child processes: one fresh interpreter per measurement.

`python -m tests.bench.tui_child MODE ARGS...` prints one JSON line on stdout:

- `first_frame ROOT T_SPAWN`: the real app (it opens the store itself, watcher on) until the
  frame that shows the tail's rows; also from process start (T_SPAWN) and until the header.
- `scroll ROOT PRESSES SEED`: key press to the frame that shows the new rows, anywhere in the
  tail; a bare Textual app's key-to-frame first, as the floor this machine allows.
- `live ROOT SECONDS RATE`: the app follows while `append` (another process) writes RATE
  rows/s; the first half measures commit-to-screen lag, the second input latency.
- `idle ROOT SECONDS [services]` / `idle_bare SECONDS`: CPU of the settled app (or a bare
  Textual app) over SECONDS of nothing happening.
- `append ROOT SECONDS RATE`: the writer for `live`; says "ready" once open, then appends.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import Static

from brain_tui.app import BrainApp
from screens.audit import AuditScreen
from tests.bench.tui_probe import FrameWatch, TailProbe, clock

SIZE = (120, 40)
_watch: list[FrameWatch] = []


def _head_probed_hook() -> None:
    """The empty store's tail draws before its head probe lands and needs no frame after it:
    check at the probe too, or the first frame would wait for an unrelated repaint."""
    handler = AuditScreen.on_audit_screen_head_probed

    def traced(screen: AuditScreen, message: AuditScreen.HeadProbed) -> None:
        handler(screen, message)
        for w in _watch:
            w.check_now()

    AuditScreen.on_audit_screen_head_probed = traced  # type: ignore[method-assign]


def _app(root: str, services: bool = False) -> tuple[BrainApp, FrameWatch, TailProbe]:
    """The real app on the store at root (it opens the store itself, watcher on). Services
    (model warm-up, embedding, a tier rebalance 5 s in, which writes rows) only where asked:
    the cached 1M-row store must not change under the benchmarks."""
    probe = TailProbe()
    app = BrainApp(root=Path(root), allow_temp=True, services=services)
    watch = FrameWatch(app)
    _watch[:] = [watch]
    _head_probed_hook()
    return app, watch, probe


def _ready(app: App, probe: TailProbe) -> bool:
    screen = app.screen
    return isinstance(screen, AuditScreen) and screen.probed and probe.complete()


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


# -- first frame ---------------------------------------------------------------------------


async def first_frame(root: str, t_spawn: float) -> dict:
    t0 = clock()
    app, watch, probe = _app(root)
    async with app.run_test(size=SIZE):
        t1 = await watch.wait(lambda: _ready(app, probe), 60)
        t2 = await watch.wait(lambda: app.header_info is not None, 60)
        rows = probe.lst.total if probe.lst else 0
    return {
        "ms": _ms(t1 - t0),
        "cold_ms": _ms(t1 - t_spawn),
        "header_ms": _ms(t2 - t0),
        "rows": rows,
    }


# -- key to frame --------------------------------------------------------------------------


class Bare(App):
    """A bare Textual app that redraws a line per key: the floor for key-to-frame."""

    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    def compose(self) -> ComposeResult:
        yield Static("0")

    def on_key(self) -> None:
        self.n += 1
        self.query_one(Static).update(str(self.n))


async def bare_keys(presses: int) -> list[float]:
    app = Bare()
    watch = FrameWatch(app)
    out = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for i in range(presses):
            t0 = watch.press("x")
            t1 = await watch.wait(lambda i=i: app.n > i)
            out.append(_ms(t1 - t0))
            await asyncio.sleep(0.02)
    return out


def _pick(rng: random.Random, cursor: int, total: int) -> tuple[str, int]:
    """A key that moves the cursor from here (a key that changes nothing draws no frame)."""
    while True:
        key = rng.choices(["j", "k", "pagedown", "pageup", "g", "G"], [3, 3, 3, 3, 1, 1])[0]
        forward = key in ("j", "pagedown", "G")
        if (forward and cursor < total - 1) or (not forward and cursor > 0):
            return key, rng.randint(1, 8) if key in ("j", "k") else 1


async def _key(watch: FrameWatch, probe: TailProbe, key: str) -> float:
    moves = probe.moves
    t0 = watch.press(key)
    t1 = await watch.wait(lambda: probe.moves > moves and probe.complete())
    return _ms(t1 - t0)


async def scroll(root: str, presses: int, seed: int) -> dict:
    bare = await bare_keys(max(20, presses // 6))
    app, watch, probe = _app(root)
    rng = random.Random(seed)
    by_key: dict[str, list[float]] = defaultdict(list)
    jumps: list[float] = []
    async with app.run_test(size=SIZE):
        await watch.wait(lambda: _ready(app, probe), 60)
        lst = probe.lst
        assert lst is not None
        done = 0
        while done < presses:
            # Somewhere cold in the tail (as a click on the scrollbar would), then keys from there.
            moves, t0 = probe.moves, clock()
            lst._set_cursor(rng.randrange(lst.total), follow=False)
            t1 = await watch.wait(lambda m=moves: probe.moves > m and probe.complete())
            jumps.append(_ms(t1 - t0))
            for _ in range(10):
                key, run = _pick(rng, lst.cursor, lst.total)
                for _ in range(run):
                    if (key == "j" and lst.cursor >= lst.total - 1) or (
                        key == "k" and not lst.cursor
                    ):
                        break
                    by_key[key].append(await _key(watch, probe, key))
                    done += 1
                    await asyncio.sleep(0.02)  # ~key repeat rate: the app is never idle long
        rows = lst.total
    return {"keys": dict(by_key), "jumps": jumps, "bare": bare, "rows": rows}


# -- live tail -----------------------------------------------------------------------------


async def live(root: str, seconds: float, rate: int) -> dict:
    app, watch, probe = _app(root)
    shown: list[tuple[float, int]] = []
    watch.on_frame.append(lambda t: shown.append((t, probe.max_seq_shown())))
    keys: list[float] = []
    async with app.run_test(size=SIZE):
        await watch.wait(lambda: _ready(app, probe), 60)
        lst = probe.lst
        assert lst is not None
        env = {**os.environ, "PYTHONPATH": os.getcwd()}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.bench.tui_child", "append", root, str(seconds), str(rate),
            stdout=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip
        assert proc.stdout is not None
        await proc.stdout.readline()  # "ready": open, lock taken, first row written
        t_start = clock()
        await asyncio.sleep(seconds / 2)  # phase A: follow, no keys
        t_keys = clock()
        rng, cycle = random.Random(5), ["k", "pageup", "pagedown", "j", "G"]
        i = 0
        while clock() < t_start + seconds - 0.3:  # phase B: keys while rows keep coming
            keys.append(await _key(watch, probe, cycle[i % len(cycle)]))
            i += 1
            await asyncio.sleep(rng.uniform(0.05, 0.2))
        out = json.loads((await proc.stdout.read()).decode())
        await proc.wait()
        if not lst.follow:
            await _key(watch, probe, "G")
        last = out["batches"][-1][1]
        t_end = clock()
        t_caught = await watch.wait(lambda: probe.max_seq_shown() >= last, 30, shown=True)
    lags = []
    frames = [(t, s) for t, s in shown]
    j = 0
    for _first, seq, _t_sub, t_ack in out["batches"]:
        if t_ack >= t_keys:
            break
        while j < len(frames) and frames[j][1] < seq:
            j += 1
        if j == len(frames):
            break
        lags.append(_ms(max(0.0, frames[j][0] - t_ack)))
    return {
        "lags": lags,
        "keys": keys,
        "rows": out["rows"],
        "rate": out["rows"] / out["elapsed"],
        "catch_up_ms": _ms(max(0.0, t_caught - t_end)),
        "head": last,
    }


def append(root: str, seconds: float, rate: int) -> dict:
    """Small Note and Put rows at a fixed rate, in one batch every 25 ms (catching up if late)."""
    from core.store import Store
    from core.write.intents import Note
    from tests.bench.common import ACTOR

    tick = 0.025
    per = max(1, round(rate * tick))
    batches = []
    with Store.open(root, allow_temp=True) as store:
        store.note("session.start", actor=ACTOR, extra={"session": f"live-{os.getpid()}"})
        print("ready", flush=True)
        t0 = clock()
        k = 0
        while clock() - t0 < seconds:
            intents = []
            for i in range(per):
                n = k * per + i
                if i % 10 == 0:
                    body = f"# live {n}\n\nappended by the tui bench\n"
                    path = f"memories/facts/live-{os.getpid()}/r-{n:07d}.md"
                    intents.append(Store.put_intent(path, body, parse_frontmatter=False))
                else:
                    move = [f"memories/facts/live/r-{n:07d}.md", "cold", "warm"]
                    intents.append(Note("tier.changed", "", "", {"moves": [move]}))
            t_sub = clock()
            res = store.batch(intents, ACTOR)
            batches.append((res[0].seq, res[-1].seq, t_sub, clock()))
            k += 1
            delay = t0 + k * tick - clock()
            if delay > 0:
                time.sleep(delay)
        elapsed = clock() - t0
    rows = sum(b[1] - b[0] + 1 for b in batches)
    return {"batches": batches, "rows": rows, "elapsed": elapsed}


# -- idle ----------------------------------------------------------------------------------


async def _idle(app: App, ready, seconds: float, watch: FrameWatch, settle=None) -> dict:
    """CPU of the whole process (every thread) over `seconds` of nothing happening."""
    out: dict = {}
    async with app.run_test(size=SIZE):
        await watch.wait(ready, 60)
        if settle is not None:  # startup work that runs once (the app's first rebalance)
            r0 = resource.getrusage(resource.RUSAGE_SELF)
            await watch.wait(settle, 300, shown=True)
            out["settle_cpu_s"] = _cpu(r0)
        await asyncio.sleep(1.0)  # let follow-up work (header state, prefetch) finish
        frames = watch.frames
        r0, t0 = resource.getrusage(resource.RUSAGE_SELF), clock()
        await asyncio.sleep(seconds)
        cpu, t1 = _cpu(r0), clock()
        frames = watch.frames - frames
    return {**out, "cpu_pct": 100 * cpu / (t1 - t0), "frames": frames, "seconds": t1 - t0}


def _cpu(r0) -> float:
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    return (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


async def idle(root: str, seconds: float, services: bool) -> dict:
    """Watcher on; with services, after their startup work (the model warm-up, the first
    embedding pass, the tier rebalance 5 s in) is done: a 100k-memory store without vectors
    keeps the embedder busy for an hour, which is work, not idling."""
    app, watch, probe = _app(root, services=services)
    settle = None
    if services:
        settle = lambda: (  # noqa: E731
            app.tiers_version >= 1
            and not app.background.rebalancing
            and app.semantic_state != "warming"
            and not app.background.embed_running
        )
    ready = lambda: _ready(app, probe) and app.header_info is not None  # noqa: E731
    return await _idle(app, ready, seconds, watch, settle=settle)


async def idle_bare(seconds: float) -> dict:
    app = Bare()
    watch = FrameWatch(app)
    return await _idle(app, lambda: True, seconds, watch)


def main(argv: list[str]) -> None:
    mode, args = argv[0], argv[1:]
    if mode == "first_frame":
        res = asyncio.run(first_frame(args[0], float(args[1])))
    elif mode == "scroll":
        res = asyncio.run(scroll(args[0], int(args[1]), int(args[2])))
    elif mode == "live":
        res = asyncio.run(live(args[0], float(args[1]), int(args[2])))
    elif mode == "append":
        res = append(args[0], float(args[1]), int(args[2]))
    elif mode == "idle":
        res = asyncio.run(idle(args[0], float(args[1]), args[2:] == ["services"]))
    elif mode == "idle_bare":
        res = asyncio.run(idle_bare(float(args[0])))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
