"""A deterministic generator of realistic agent memories (decisions, facts, lessons about code).

Words are drawn with Zipf-like weights from sizable lists of real technical terms, project
names, roles, files and identifiers, so term frequencies look like a real store's: a few very
common words, a long tail of rare ones. Queries mix both ends of that distribution.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from core.models import CATEGORIES

TECH = """
postgres sqlite redis kafka rabbitmq nginx envoy kubernetes docker terraform ansible helm
grafana prometheus loki jaeger opentelemetry elasticsearch opensearch clickhouse duckdb
snowflake bigquery spark flink airflow dagster dbt pandas polars numpy pytorch tensorflow
onnx triton cuda tokenizer embedding transformer attention quantization distillation
finetuning inference batching caching sharding replication partitioning compaction
vacuum checkpoint snapshot rollback migration schema index btree lsm bloom hyperloglog
fsync fdatasync mmap epoll io_uring inotify futex mutex semaphore spinlock deadlock
livelock backpressure ratelimit throttling retry idempotency timeout heartbeat lease
consensus raft paxos gossip quorum leader follower election failover sentinel
websocket grpc protobuf msgpack json yaml toml avro parquet arrow csv
oauth oidc jwt saml mtls tls certificate keyring secret vault kms hsm signature ed25519
sha256 blake3 crc32c merkle chain ledger journal binlog wal segment frame payload
asyncio threading multiprocessing coroutine eventloop greenlet trio anyio uvloop
fastapi django flask starlette pydantic msgspec sqlalchemy alembic celery dramatiq
react vue svelte nextjs vite webpack esbuild typescript eslint prettier tailwind
rust cargo tokio serde axum actix golang goroutine channel python pytest hypothesis
ruff mypy pyright poetry pip uv venv wheel setuptools hatch tox nox coverage
github gitlab jenkins buildkite circleci actions runner artifact cache registry
linux ext4 xfs btrfs zfs nvme ssd raid lvm cgroup namespace seccomp apparmor selinux
ebpf strace perf flamegraph profiler heap allocator jemalloc mimalloc gc refcount
textual rich curses terminal widget screen layout keybinding palette theme
fts5 bm25 snippet tokenizer porter stemming trigram ngram ranking recall precision
vector hnsw faiss annoy pgvector qdrant weaviate milvus chroma lancedb
latency throughput p50 p95 p99 jitter tail percentile histogram benchmark baseline
cpu memory disk network bandwidth iops queue buffer pagecache writeback dirty
""".split()

PROJECTS = """
atlas borealis cobalt delta ember falcon granite harbor iris juniper kestrel lumen
meridian nimbus onyx pioneer quasar raven sierra tundra umbra vertex willow xenon
yarrow zephyr aurora basalt cinder dune eclipse fjord glacier helix indigo jasper
keystone lagoon monsoon nebula orchid prism quill ridge summit talon unity vortex
brain-tui cyberos ledgerd memvault indexer ingestor gatekeeper dispatcher scheduler
""".split()

ROLES = """
maintainer reviewer oncall sre dba architect tech-lead product-owner designer
security-lead release-manager qa-engineer data-engineer ml-engineer frontend-dev
backend-dev platform-team infra-team support-engineer intern contractor auditor
""".split()

VERBS = """
switched migrated replaced removed added pinned upgraded downgraded rewrote refactored
split merged batched cached sharded indexed deduplicated compressed encrypted signed
validated sanitized normalized vendored forked deprecated reverted bisected profiled
benchmarked instrumented throttled retried fenced locked unlocked flushed truncated
""".split()

ADJ = """
slow flaky stale corrupt torn partial duplicate missing racy unbounded leaky brittle
hot cold warm durable volatile atomic idempotent lossy noisy silent verbose strict
lenient sticky orphaned dangling nested recursive concurrent sequential blocking
""".split()

PROBLEMS = """
regression outage incident crash hang timeout leak spike drift skew contention
starvation corruption truncation overflow underflow panic segfault oom eviction
""".split()

FILES = """
core/writer.py core/store.py core/index.py core/queries.py core/journal.py core/binlog.py
core/frames.py core/planner.py core/applier.py core/fsio.py core/paths.py core/mmr.py
src/main.rs src/lib.rs cmd/server/main.go internal/raft/log.go api/handlers.py
app/models.py app/views.py web/src/App.tsx web/src/hooks/useSearch.ts Makefile Dockerfile
docker-compose.yml .github/workflows/ci.yml pyproject.toml Cargo.toml go.mod package.json
""".split()

LESSON_OPENERS = [
    "Decided to {verb} {tech} in {project} because the {adj} {tech2} caused a {problem}.",
    "The {role} confirmed that {tech} {verb} the {adj} path in {file}.",
    "Lesson: never trust {tech} to be {adj} under {tech2}; we saw a {problem} in {project}.",
    "Fact: {project} uses {tech} for {tech2} and {tech3}, owned by the {role}.",
    "We {verb} {tech} after the {problem} on {project} traced to {file}.",
    "Root cause of the {problem}: {adj} {tech} interacting with {tech2} during {tech3}.",
    "Preference: the {role} wants {tech} over {tech2} for anything {adj}.",
    "Open question for the {role}: should {project} keep {tech} or move to {tech2}?",
]
FOLLOWUPS = [
    "Measured {n} {unit} before and {m} {unit} after the change.",
    "See {ident} in {file} for the {adj} branch.",
    "The fix {verb} {tech} and added a test around {ident}.",
    "Ticket {ticket} tracks the follow-up; the {role} signed off.",
    "{tech} now runs with {ident}={n} which keeps {tech2} {adj}.",
    "This only shows up with {tech} under {tech2} when {tech3} is {adj}.",
    "Rolled out to {project} first, then to {project2} after a week without a {problem}.",
    "Whoever touches {tech} again must check {file} first; it broke {project} twice.",
    "The {adj} {tech} retry loop hid a {problem} for months.",
    "Benchmark: {tech} p95 went from {n} ms to {m} ms on {project}.",
    "Postmortem {ticket} lists {tech}, {tech2} and {tech3} as contributing factors.",
    "Keep {ident} small: above {n} the {tech} {problem} returns.",
]
UNITS = ["ms", "us", "MB", "ops/s", "rows/s", "GB", "connections", "files"]
SYLL = "ka lo mi nu pe ri so ta ve xi zu bar cor dex fin gal hor jin kel lum mor".split()


def _zipf(n: int, s: float = 1.1) -> list[float]:
    """Cumulative Zipf weights (random.choices with cum_weights skips re-summing each call)."""
    return list(itertools.accumulate(1.0 / (i + 1) ** s for i in range(n)))


@dataclass
class Memory:
    path: str
    body: str
    tags: list[str]
    category: str


class Corpus:
    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        shuffled = {}
        for name, words in (("tech", TECH), ("project", PROJECTS), ("role", ROLES)):
            w = list(words)
            random.Random(seed + len(name)).shuffle(w)  # which words are common is arbitrary
            shuffled[name] = w
        self.tech, self.projects, self.roles = (
            shuffled["tech"],
            shuffled["project"],
            shuffled["role"],
        )
        self.tw, self.pw, self.rw = (
            _zipf(len(self.tech)),
            _zipf(len(self.projects)),
            _zipf(len(self.roles)),
        )
        # Each project has its own stack: memories about it mostly name its technologies, so a
        # common term is common within a project, not in every memory of the store.
        self.stacks: dict[str, tuple[list[str], list[float]]] = {}
        for p in self.projects:
            pr = random.Random(f"{seed}-{p}")
            stack = pr.sample(self.tech, 30)
            self.stacks[p] = (stack, _zipf(len(stack), 0.8))
        self._stack = self.stacks[self.projects[0]]
        self._project = self.projects[0]
        # Identifiers: a long tail of rare tokens (function and config names).
        r = random.Random(seed + 1)
        self.idents = [
            "_".join(r.choice(SYLL) + r.choice(SYLL) for _ in range(r.randint(1, 3)))
            for _ in range(4000)
        ]

    def _pick(self, words: list[str], weights: list[float]) -> str:
        return self.rng.choices(words, cum_weights=weights)[0]

    def _tech(self) -> str:
        if self.rng.random() < 0.85:
            return self._pick(*self._stack)
        return self._pick(self.tech, self.tw)

    def _proj(self) -> str:
        return self._project if self.rng.random() < 0.7 else self._pick(self.projects, self.pw)

    def _fill(self, template: str) -> str:
        r = self.rng
        return template.format(
            verb=r.choice(VERBS),
            tech=self._tech(),
            tech2=self._tech(),
            tech3=self._tech(),
            project=self._proj(),
            project2=self._pick(self.projects, self.pw),
            role=self._pick(self.roles, self.rw),
            adj=r.choice(ADJ),
            problem=r.choice(PROBLEMS),
            file=r.choice(FILES),
            ident=r.choice(self.idents),
            ticket=f"{r.choice(['OPS', 'ENG', 'INC', 'SEC'])}-{r.randint(100, 9999)}",
            n=r.randint(2, 5000),
            m=r.randint(2, 5000),
            unit=r.choice(UNITS),
        )

    def memory(self, i: int, length: tuple[int, int] = (60, 150)) -> Memory:
        """Memory number i: 60–150 words of Markdown under memories/<kind>/<project>/."""
        r = self.rng
        kind = r.choice(("decisions", "facts", "facts", "decisions", "projects", "preferences"))
        project = self._pick(self.projects, self.pw)
        self._project, self._stack = project, self.stacks[project]
        first = self._fill(r.choice(LESSON_OPENERS))
        head = first.split(":", 1)[1] if ":" in first[:20] else first
        title = " ".join(head.split()[:8])
        sentences, words = [first], len(first.split())
        target = r.randint(*length)
        while words < target:
            s = self._fill(r.choice(FOLLOWUPS))
            sentences.append(s)
            words += len(s.split())
        paras, cur = [], []
        for s in sentences:
            cur.append(s)
            if len(cur) >= r.randint(2, 4):
                paras.append(" ".join(cur))
                cur = []
        if cur:
            paras.append(" ".join(cur))
        if r.random() < 0.3:
            paras.append("\n".join(f"- {self._fill('{verb} {tech} in {file}')}" for _ in range(3)))
        body = f"# {title.rstrip('.')}\n\n" + "\n\n".join(paras) + "\n"
        tags = sorted({self._tech() for _ in range(r.randint(1, 3))})
        return Memory(
            path=f"memories/{kind}/{project}/note-{i:07d}.md",
            body=body,
            tags=tags,
            category=r.choice(CATEGORIES),
        )

    def memories(self, n: int, start: int = 0, length: tuple[int, int] = (60, 150)) -> list[Memory]:
        return [self.memory(i, length) for i in range(start, start + n)]

    def queries(self, n: int) -> list[str]:
        """1–3 word queries: a third common words, a third rare, a third mixed."""
        r = random.Random(99)
        common = self.tech[:25] + self.projects[:6] + self.roles[:4]
        rare = self.tech[120:] + self.projects[30:] + self.roles[12:] + self.idents[:400]
        out = []
        for i in range(n):
            k = r.randint(1, 3)
            pool = (common, rare, common + rare)[i % 3]
            out.append(" ".join(r.choice(pool) for _ in range(k)))
        return out
