"""The search evaluation set (tests/data/eval/) keeps its promises: size, balance, labels that
point at real memories, paraphrases that share no content word with their targets, and a
generator that reproduces the stored JSON byte for byte."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from core import paths
from tests.data.eval import generate
from tests.data.eval.words import content_stems, shared, stem

CORPUS = json.loads((generate.HERE / "corpus.json").read_text(encoding="utf-8"))
QUERIES = json.loads((generate.HERE / "queries.json").read_text(encoding="utf-8"))
BY_PATH = {m["path"]: m for m in CORPUS}


def _text(m: dict) -> str:
    return " ".join([m["title"], m["body"], *m["tags"]])


def test_size_and_balance() -> None:
    assert len(CORPUS) >= 1000 and len(BY_PATH) == len(CORPUS)
    assert len(QUERIES) >= 60
    counts = Counter(q["type"] for q in QUERIES)
    assert set(counts) == {"keyword", "paraphrase", "question"}
    assert len(set(counts.values())) == 1  # a third each
    kinds = Counter(m["kind"] for m in CORPUS)
    assert {"decisions", "facts", "people", "projects", "preferences"} <= set(kinds)


def test_paths_are_valid_and_unique_under_casefold() -> None:
    keys = {paths.casefold_key(paths.validate(m["path"])) for m in CORPUS}
    assert len(keys) == len(CORPUS)


def test_every_label_points_at_a_memory() -> None:
    for q in QUERIES:
        assert q["relevant"], q
        assert all(p in BY_PATH for p in q["relevant"]), q


@pytest.mark.parametrize(
    "q", [q for q in QUERIES if q["type"] == "paraphrase"], ids=lambda q: q["id"]
)
def test_paraphrases_share_no_content_word_with_their_targets(q: dict) -> None:
    for p in q["relevant"]:
        assert not shared(q["query"], _text(BY_PATH[p])), (q["query"], p)


def test_keyword_queries_use_their_targets_words() -> None:
    for q in (q for q in QUERIES if q["type"] == "keyword"):
        words = content_stems(q["query"])
        target = set().union(*(content_stems(_text(BY_PATH[p])) for p in q["relevant"]))
        assert words <= target, (q["query"], words - target)


def test_the_word_check_itself() -> None:
    assert stem("stopped") == stem("stop") and stem("deploys") == stem("deploy")
    assert shared("the releases", "we released it") == {("releas", "releas")}
    assert shared("monthly report", "per month") == {("month", "month")}
    assert not shared("how do I get it", "what is the thing")  # stopwords do not count


def test_generator_reproduces_the_stored_files() -> None:
    corpus, queries = generate.build()
    assert corpus == CORPUS and queries == QUERIES
