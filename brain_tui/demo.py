"""`build_demo`: a realistic demo store (several actors, weeks of history, one purge).

The demo lives at `$XDG_DATA_HOME/brain-tui/demo`, never in the user's resolved store. It is
built in a sibling folder and renamed into place, so a half-built demo never looks finished.
Text comes from `assets/demo/` (templates and word lists); with a fixed clock and RNG the build
is deterministic, which the snapshot tests rely on. `brain demo` uses both too: its eight weeks
always end on DEMO_END (the text quotes dates from its own timeline), so its words, and with
them their embeddings, are the same on every machine and every day. The build stores those
embeddings from `assets/demo/vectors.npz` (brain_tui.demo_vectors) and computes any the asset
lacks, so semantic search is ready when the workstation opens.
"""

from __future__ import annotations

import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from brain_tui import demo_plan
from brain_tui.demo_corpus import Corpus, Draft
from brain_tui.demo_plan import NS, Session
from brain_tui.demo_review import add_review_queue
from core import fsio
from core.errors import BrainError, PreconditionFailed
from core.paths import casefold_key
from core.store import Store
from core.verify import checkpoints
from core.write.intents import Delete, Intent, Move, Note

DEFAULT_SEED = 20_260_214
DEMO_END_NS = 1_780_272_000 * 10**9  # 2026-06-01T00:00:00Z: the demo's weeks end here
PURGE_TICKET = "dsr-2291"
Progress = Callable[[int, int], None]
WEEK_NS = 7 * 86_400 * NS
BULK_HOLD_S = 0.5  # how long the index gathers rows while the demo is built (Follower.hold)
HEAT = {"hot": 60, "warm": 8, "cold": 1}  # how much more often a memory is read and edited


def demo_root() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return Path(base) / "brain-tui" / "demo"


# The corpus's proposal flow (open, needs-info, accepted, rejected, superseded) in seed 004's
# closed statuses. Only the tag is mapped: the bodies' narrative ("status is now needs-info")
# is the corpus's, and the shipped vectors are computed from it.
_PROPOSAL_STATUS = {"open": "pending", "needs-info": "pending", "superseded": "deprecated"}


def _ledger_tags(tags: list[str]) -> list[str]:
    if "type:proposal" not in tags:
        return tags
    out = []
    for t in tags:
        prefix, _, value = t.partition(":")
        out.append(f"status:{_PROPOSAL_STATUS.get(value, value)}" if prefix == "status" else t)
    return out


class SimClock:
    """The store's clock during the build: set to a session's start, it ticks on every call
    (every row and every access asks it once), so a session spans a few realistic minutes."""

    def __init__(self, start_ns: int, rng: random.Random) -> None:
        self.now = start_ns
        self._rng = rng

    def set(self, ns: int) -> None:
        self.now = max(self.now, ns)

    def __call__(self) -> int:
        t = self.now
        self.now += self._rng.randint(15, 140) * NS
        return t


@dataclass(slots=True)
class Mem:
    path: str
    draft: Draft
    heat: str
    commit: str = ""
    prev_commit: str = ""


def build_demo(
    root: Path,
    *,
    size: str = "full",
    clock: Callable[[], int] | None = None,
    rng: random.Random | None = None,
    progress: Progress | None = None,
    allow_temp: bool = False,
    vectors: bool = False,
    embed_progress: Progress | None = None,
    review: bool | None = None,
) -> None:
    """Build the demo store at `root`, which must not exist yet (or be empty).

    `clock()` is read once (default: DEMO_END): the simulated weeks end there. `rng` drives
    text, timeline and (when given) the store's salts and id, so a fixed clock and RNG give the
    same store. With `vectors` (`brain demo` and the first-run screen ask for them; tests
    mostly do not) every memory gets its embedding: the shipped one where the text and model
    match, else the model's (embed_progress(done, total) after each batch). Without the
    semantic extra there are none, and search stays lexical. `review`: end with the proposals
    and PII holds that wait for a person in panes 5 and 4 (brain_tui.demo_review); by default
    the full size only, as the small one is the tests' fixture, whose listings and tiers the
    pane tests know.
    """
    if size not in demo_plan.SIZES:
        raise BrainError(f"demo size {size!r} is unknown; use one of: {', '.join(demo_plan.SIZES)}")
    root = Path(root)
    if root.exists() and any(root.iterdir()):
        raise BrainError(f"{root} already exists; remove it first (`brain demo --rebuild`)")
    review = size == "full" if review is None else review
    end_ns = clock() if clock is not None else DEMO_END_NS
    rnd = rng if rng is not None else random.Random(DEFAULT_SEED)
    store_rng = random.Random(rnd.getrandbits(64)).randbytes if rng is not None else None
    partial = root.with_name(f".{root.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    sessions = demo_plan.plan(demo_plan.SIZES[size], end_ns, rnd)
    sim = SimClock(sessions[0].start_ns - 600 * NS, random.Random(rnd.getrandbits(32)))
    kw: dict = {"rng": store_rng} if store_rng is not None else {}
    # Nobody opens the partial store, and a failed build is thrown away: one sync of the whole
    # store at the end instead of one per group (~1,400 of them) while it is written.
    with fsio.deferred_syncs(partial):
        store = _init_fresh(partial, allow_temp, sim, kw)
        # Nobody reads the index until a rebalance or the end: fewer, larger transactions.
        store.follower.hold(BULK_HOLD_S)
        store.follower.defer_text()  # the memories' text once, at the end (fill_text below)
        try:
            spec = demo_plan.SIZES[size]
            builder = _Builder(store, sim, rnd, Corpus(), spec.views_per_session)
            builder.strict = rng is not None
            total = demo_plan.estimated_rows(spec)
            for s in sessions:
                builder.run(s)
                if progress is not None:
                    progress(builder.head, total)
            if review:
                add_review_queue(store)  # panes 4 and 5 have work waiting
            builder.rebalance_tiers()
            builder.final_checkpoint()
            if progress is not None:
                progress(builder.head, builder.head)  # the estimate was close; this is exact
            store.follower.fill_text()
            store.wait_index()  # fold the access journal into the index before handing it over
            if vectors:
                embed(store, embed_progress)
        finally:
            store.close()
    if root.exists():
        root.rmdir()  # empty (checked above)
    os.replace(partial, root)
    fsio.fsync_dir(root.parent)


def embed(store: Store, progress: Progress | None = None) -> int:
    """Store every memory's embedding: the shipped vector where the asset holds one for that
    exact text and this store's model, else the model's. Without the semantic extra: none."""
    from brain_tui import demo_vectors
    from core.search.embeddings import SemanticUnavailable

    try:
        shipped = demo_vectors.load(store.semantic.model)
        known = shipped.lookup if shipped is not None else None
        return store.embed_pending(batch=128, progress=progress, known=known)
    except SemanticUnavailable:
        return 0  # lexical search only; the workstation says how to add the extra


def _init_fresh(partial: Path, allow_temp: bool, sim: SimClock, kw: dict) -> Store:
    """A new store. A seeded build repeats its store id, so a witness this machine kept for
    an earlier build of the same seed would read as a rollback: the new store replaces it."""
    store = Store.init(partial, allow_temp=allow_temp, clock=sim, program="brain demo", **kw)
    if store.problem is None:
        return store
    store_id = store.manifest.store_id
    store.close()
    checkpoints.reset_witness(store_id)
    store = Store.open(partial, allow_temp=allow_temp, clock=sim, program="brain demo", **kw)
    if store.problem is not None:
        store.close()
        raise BrainError(f"the new demo store will not open for writing: {store.problem}")
    return store


class _Builder:
    def __init__(
        self, store: Store, sim: SimClock, rng: random.Random, corpus: Corpus, views: int
    ) -> None:
        self.store = store
        self.views = views
        self.sim = sim
        self.rng = rng
        self.corpus = corpus
        self.pool: dict[str, list[Mem]] = {h: [] for h in HEAT}
        self.taken: set[str] = set()
        self.titles: set[str] = set()
        self.head = 0
        self.last_checkpoint = 0
        self.purge_target: Mem | None = None
        self.week = 0
        self.strict = False

    # -- one work session ---------------------------------------------------------------

    def run(self, s: Session) -> None:
        self.sim.set(s.start_ns)
        if s.start_ns // WEEK_NS != self.week:
            if self.week:
                self.rebalance_tiers()
            self.week = s.start_ns // WEEK_NS
        if s.purge:
            self._purge(s.actor)
            return
        self._read(s.actor, self.rng.randint(1, 2 * self.views))
        if "reject" in s.ops:
            self._reject(s.actor)
        touched: set[str] = set()
        intents: list[Intent] = [Note("session.start", extra={"program": _program(s.actor)})]
        after: list[Callable[[object], None]] = []
        for op in s.ops:
            step = self._step(op, s.actor, touched)
            if step is not None:
                intents.append(step[0])
                after.append(step[1])
        intents.append(Note("session.end", extra={"writes": len(after)}))
        results = self.store.batch(intents, s.actor)
        if self.strict:
            # Let the index catch up before the next batch touches the same files: an applier
            # reading a sidecar while the writer renames it away for a newer version drops the
            # memory's index row (and its tier) for a moment, so tier.changed rows would vary.
            # It halves the build's speed, so only seeded (reproducible) builds pay for it.
            self.store.wait_index()
        for done, res in zip(after, results[1:-1], strict=True):
            done(res)
        self.head = results[-1].seq
        self._maybe_checkpoint()

    def _step(self, op: str, actor: str, touched: set[str]):
        if op == "create-purge-target":
            return self._create(actor, touched, self.corpus.purge_draft(), heat="warm")
        if op == "create":
            return self._create(actor, touched)
        mem = self._pick(touched, tidy=op in ("move", "tombstone"))
        if mem is None:
            return None
        touched.add(mem.path)
        if op == "move":
            return self._move(mem, touched)
        if op == "tombstone":
            return self._tombstone(mem)
        return self._edit(mem)

    # -- operations -----------------------------------------------------------------------

    def _create(self, actor: str, touched: set[str], draft: Draft | None = None, heat: str = ""):
        if draft is None:
            weights = demo_plan.kind_weights(actor)
            kind = self.rng.choices(list(weights), weights=list(weights.values()))[0]
            for _ in range(6):  # prefer a fresh title over twins and "-2" paths
                draft = self.corpus.draft(kind, self.rng, self.sim.now)
                path = f"memories/{kind}/{draft.folder}/{draft.slug}.md"
                if draft.title not in self.titles and casefold_key(path) not in self.taken:
                    break
            assert draft is not None  # the loop ran at least once
            self.titles.add(draft.title)
        path = self._free_path(draft.kind, draft.folder, draft.slug)
        heat = heat or self.rng.choices(list(HEAT), weights=[6, 24, 70])[0]
        mem = Mem(path, draft, heat)
        touched.add(path)
        if draft.slug.startswith("contractor-contact"):
            self.purge_target = mem

        def done(res) -> None:
            mem.commit = res.commit
            self.pool[heat].append(mem)

        return self._put(mem), done

    def _edit(self, mem: Mem):
        d, roll = mem.draft, self.rng.random()
        moved = self.corpus.next_status(d.tags, self.rng) if roll < 0.14 else None
        if moved is not None:
            new = next(t for t in moved if t not in d.tags)
            d.tags = moved
            d.updates.append(f"{self._date()}: status is now {new.partition(':')[2]}.")
        elif roll < 0.22:
            d.sync_class = self.rng.choice(["shareable", "team-public", "org-only", "personal"])
        else:
            d.updates.append(self.corpus.update_line(self.rng, self.sim.now))
        del d.updates[:-6]

        def done(res) -> None:
            if res.changed:
                mem.prev_commit, mem.commit = mem.commit, res.commit

        return self._put(mem), done

    def _move(self, mem: Mem, touched: set[str]):
        folder = self.corpus.move_folder(mem.draft.kind, self.rng)
        if mem.draft.folder == folder:
            folder = f"{folder}/{self.rng.choice(['2025', 'old', 'misc'])}"
        src = mem.path
        dst = self._free_path(mem.draft.kind, folder, mem.draft.slug)
        touched.add(dst)
        mem.draft.folder = folder

        def done(res) -> None:
            mem.path = res.path

        return Move(src, dst), done

    def _tombstone(self, mem: Mem):
        _drop(self.pool[mem.heat], mem)
        return Delete(mem.path, "tombstone"), lambda res: None

    def _reject(self, actor: str) -> None:
        """An agent writes with a stale read: the engine refuses it with a put_if.rejected row."""
        mem = self._pick(set())
        if mem is None or not mem.prev_commit:
            return
        d = mem.draft
        body = d.body() + f"- {self._date()}: (stale edit from an old read)\n"
        try:
            self.store.put_if(mem.path, body, mem.prev_commit, actor=actor)
        except PreconditionFailed:
            pass

    def _purge(self, actor: str) -> None:
        mem = self.purge_target
        if mem is None:
            raise BrainError("the demo plan lost its purge target")
        self.store.view(mem.path, actor=actor)
        mem.draft.updates.append(self.corpus.purge_target["update"].format(ticket=PURGE_TICKET))
        self.store.batch([self._put(mem)], actor)
        self.store.delete(
            mem.path, actor=actor, mode="purge", reason="legal-erasure", ticket=PURGE_TICKET
        )
        _drop(self.pool[mem.heat], mem)
        self.head = self.store.tip.seq

    # -- helpers --------------------------------------------------------------------------

    def _put(self, mem: Mem):
        d = mem.draft
        return Store.put_intent(
            mem.path,
            d.body(),
            title=d.title,
            category=d.category,
            tags=_ledger_tags(d.tags),
            sync_class=d.sync_class,
            classification=d.classification,
        )

    def _read(self, actor: str, n: int) -> None:
        """Accesses before writing, skewed by heat so some memories end up hot."""
        seen = []
        for _ in range(n):
            mem = self._pick(set())
            if mem is None:
                break
            seen.append(mem.path)
        # The builder holds every body it wrote: the accesses are journaled as views would
        # journal them (same entries, same clock), without reading ~20,000 files back.
        self.store.record_views(seen, actor=actor)

    def _pick(self, avoid: set[str], tidy: bool = False) -> Mem | None:
        # Tidying (moves, tombstones) mostly touches the long tail, not the memories in use.
        weights = {"hot": 1, "warm": 4, "cold": 30} if tidy else HEAT
        classes = [h for h in HEAT if self.pool[h]]
        if not classes:
            return None
        for _ in range(6):
            heat = self.rng.choices(
                classes, weights=[weights[h] * len(self.pool[h]) for h in classes]
            )[0]
            mem = self.rng.choice(self.pool[heat])
            if mem.path not in avoid and mem is not self.purge_target:
                return mem
        return None

    def _free_path(self, kind: str, folder: str, slug: str) -> str:
        n = 1
        while True:
            name = slug if n == 1 else f"{slug}-{n}"
            path = f"memories/{kind}/{folder}/{name}.md"
            key = casefold_key(path)
            if key not in self.taken:
                self.taken.add(key)
                return path
            n += 1

    def _date(self) -> str:
        return time.strftime("%Y-%m-%d", time.gmtime(self.sim.now // NS))

    def _maybe_checkpoint(self) -> None:
        """About every 1,000 rows. The engine checkpoints on its own cadence too (counting
        only activity rows): sign one here only where it has not."""
        if self.head - self.last_checkpoint < 1500:
            return
        made = self.store.tail(self.last_checkpoint + 1, limit=1_000_000, op="checkpoint")
        if made:
            self.last_checkpoint = made[-1].seq
            return
        self.final_checkpoint()

    def rebalance_tiers(self) -> None:
        """Weekly, as a long-running host would: hot, warm and cold from the accesses so far."""
        self.store.tiers.rebalance()
        self.head = self.store.tip.seq

    def final_checkpoint(self) -> None:
        try:
            self.store.checkpoint()
        except BrainError:
            return  # no signing key, say: the demo is still a demo without checkpoints
        self.head = self.store.tip.seq
        self.last_checkpoint = self.head


def _drop(pool: list[Mem], mem: Mem) -> None:
    """pool.remove(mem) by identity: list.remove compares dataclasses field by field."""
    del pool[next(i for i, m in enumerate(pool) if m is mem)]


def _program(actor: str) -> str:
    return {
        "agent:claude-code@laptop": "claude-code",
        "agent:cursor@desktop": "cursor",
        "agent:assistant@phone": "assistant",
    }.get(actor, "brain-tui")
