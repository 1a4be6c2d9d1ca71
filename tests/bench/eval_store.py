"""The labelled evaluation set (tests/data/eval/) as a store, and the quality metrics."""

from __future__ import annotations

import hashlib
import json
import shutil
import statistics
from collections.abc import Callable
from pathlib import Path

from core.store import Store
from tests.bench.common import ACTOR, bench_dir, log, now

EVAL_DIR = Path(__file__).resolve().parents[1] / "data" / "eval"
TYPES = ("keyword", "paraphrase", "question")
K = 10


def load() -> tuple[list[dict], list[dict]]:
    corpus = json.loads((EVAL_DIR / "corpus.json").read_text(encoding="utf-8"))
    queries = json.loads((EVAL_DIR / "queries.json").read_text(encoding="utf-8"))
    return corpus, queries


def build(root: Path, corpus: list[dict], *, embed: bool = True) -> Store:
    """A fresh store holding the corpus, every memory embedded."""
    t0 = now()
    store = Store.init(root, allow_temp=True)
    for start in range(0, len(corpus), 200):
        store.batch(
            [
                Store.put_intent(
                    m["path"],
                    m["body"],
                    parse_frontmatter=False,
                    title=m["title"],
                    category=m["category"],
                    tags=m["tags"],
                )
                for m in corpus[start : start + 200]
            ],
            ACTOR,
        )
    store.wait_index()
    t1 = now()
    n = store.embed_pending() if embed else 0
    log(
        f"eval store: {len(corpus)} memories written in {t1 - t0:.1f} s, {n} embedded in"
        f" {now() - t1:.1f} s"
    )
    return store


def cached(ctx, corpus: list[dict]) -> Store:
    """The evaluation store, built once per corpus version and kept in the bench dir (like the
    search corpora): embedding it takes a minute or two on a laptop CPU. --rebuild rebuilds."""
    digest = hashlib.sha256((EVAL_DIR / "corpus.json").read_bytes()).hexdigest()[:12]
    root = bench_dir() / f"eval-{digest}"
    stamp = bench_dir() / f"eval-{digest}.ok"
    if ctx.rebuild or not stamp.exists():
        stamp.unlink(missing_ok=True)
        shutil.rmtree(root, ignore_errors=True)
        build(root, corpus).close()
        stamp.write_text("ok")
    store = Store.open(root, allow_temp=True)
    store.embed_pending()  # a no-op unless the model changed
    return store


def score(ranked: list[str], relevant: list[str]) -> tuple[float, float]:
    """(recall@10, reciprocal rank of the first relevant memory within the top 10)."""
    top = ranked[:K]
    recall = len(set(top) & set(relevant)) / len(relevant)
    rr = next((1.0 / (i + 1) for i, p in enumerate(top) if p in relevant), 0.0)
    return recall, rr


def evaluate(queries: list[dict], rank: Callable[[str], list[str]]) -> dict[str, float]:
    """recall@10 and MRR per query type and overall: {"recall.keyword": ..., "mrr.all": ...}."""
    per: dict[str, list[tuple[float, float]]] = {t: [] for t in (*TYPES, "all")}
    for q in queries:
        s = score(rank(q["query"]), q["relevant"])
        per[q["type"]].append(s)
        per["all"].append(s)
    out = {}
    for t, vals in per.items():
        out[f"recall.{t}"] = statistics.fmean(v[0] for v in vals) if vals else float("nan")
        out[f"mrr.{t}"] = statistics.fmean(v[1] for v in vals) if vals else float("nan")
    return out


def table(rows: dict[str, dict[str, float]]) -> str:
    """Markdown: one row per mode, recall@10 and MRR per query type and overall."""
    cols = [
        (f"{m}.{t}", f"{'R@10' if m == 'recall' else 'MRR'} {t}")
        for t in (*TYPES, "all")
        for m in ("recall", "mrr")
    ]
    head = "| mode | " + " | ".join(c[1] for c in cols) + " |"
    sep = "|---|" + "---:|" * len(cols)
    lines = [head, sep]
    for name, res in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{res[c[0]]:.3f}" for c in cols) + " |")
    return "\n".join(lines)
