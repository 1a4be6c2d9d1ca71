"""The demo's shipped embeddings (assets/demo/vectors.npz): they are what the packaged model
computes for the demo's texts, they cover the demo `brain demo` builds, and with them the
demo's semantic search works the moment the build ends, without embedding anything.

Needs the optional extra (the model recomputes a sample); skipped without it, like
test_semantic.py.
"""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import numpy as np
import pytest

from brain_tui import demo_vectors
from brain_tui.demo import DEMO_END_NS, build_demo
from core.search import embeddings, semantic
from core.store import Store

if importlib.util.find_spec("sentence_transformers") is None:
    pytest.skip("the optional extra brain-tui[semantic] is not installed", allow_module_level=True)

MODEL = embeddings.DEFAULT_MODEL


@pytest.fixture(autouse=True)
def _own_witness_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.delenv(embeddings.MODEL_ENV, raising=False)


@pytest.fixture(scope="module")
def shipped() -> demo_vectors.DemoVectors:
    got = demo_vectors.load(MODEL)
    assert got is not None, f"{demo_vectors.PATH} is missing or names another model"
    return got


@pytest.fixture(scope="module")
def small_plain(tmp_path_factory) -> Path:
    """The small demo as `brain demo --size small` builds it (default seed and calendar),
    without vectors."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
        root = tmp_path_factory.mktemp("small") / "demo"
        build_demo(root, size="small", allow_temp=True)
    return root


def _texts(root: Path) -> list[str]:
    with Store.open(root, allow_temp=True, read_only=True) as store:
        return semantic.active_texts(store)


def test_shipped_vectors_are_what_the_model_computes(shipped, small_plain: Path) -> None:
    """A sample of 24 shipped vectors, recomputed by the installed model: the same vectors
    (to float32 rounding across machines and batch shapes)."""
    assert shipped.dim == 384 and len(shipped.rows) >= 2_800
    assert shipped.model == demo_vectors.model_id(MODEL)
    norms = np.linalg.norm(shipped.vecs, axis=1)
    assert np.allclose(norms, 1.0, atol=1e-4)
    enc = embeddings.encoder(MODEL)
    texts = sorted(_texts(small_plain))
    sample = random.Random(3).sample(texts, 24)
    got = enc.encode(sample)
    want = np.stack([np.frombuffer(shipped.lookup(t) or b"", dtype="<f4") for t in sample])
    assert np.abs(got - want).max() < 2e-5
    assert (got * want).sum(axis=1).min() > 0.99999


def test_the_small_demo_is_covered_and_searchable_without_the_model(
    tmp_path: Path, shipped, small_plain: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`brain demo` stores every vector from the asset (the model is never asked), and a
    semantic query finds memories by meaning straight after the build."""
    for text in _texts(small_plain):
        assert shipped.lookup(text) is not None, text[:80]

    def no_model(self):
        raise AssertionError("the demo build loaded the model")

    root = tmp_path / "demo"
    with monkeypatch.context() as mp:
        mp.setattr(semantic.SemanticIndex, "encoder", no_model)
        build_demo(root, size="small", allow_temp=True, vectors=True)
    with Store.open(root, allow_temp=True) as store:
        assert store.semantic_pending() == 0
        assert len(semantic.embedded_texts(store)) == len(semantic.active_texts(store))
        hits = store.search("who to ask before changing authentication", mode="semantic", limit=5)
        assert len(hits) == 5 and hits[0].score > 0.3
        assert store.search("deploy", mode="hybrid", limit=5)


@pytest.mark.slow
def test_the_full_demo_is_covered(tmp_path: Path, shipped) -> None:
    """Every text of the full demo (2,880 memories; ~20 s or more to build) has its vector."""
    root = tmp_path / "demo"
    build_demo(root, size="full", allow_temp=True)
    texts = _texts(root)
    assert len(texts) >= 2_800
    missing = [t for t in texts if shipped.lookup(t) is None]
    assert not missing, f"{len(missing)} texts have no shipped vector: {missing[0][:80]!r}"


def test_the_demo_calendar_is_fixed() -> None:
    """The text quotes dates from the timeline: a fixed end keeps the words (and vectors) fixed."""
    assert DEMO_END_NS == 1_780_272_000 * 10**9


def test_another_model_gets_no_shipped_vectors(shipped) -> None:
    assert demo_vectors.load("/some/other/model") is None
    assert shipped.lookup("a text the demo never wrote") is None
