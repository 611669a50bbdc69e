"""The int8 engine: the float32 model exported and quantised for ONNX Runtime reads as it does,
at any batch and window size, compiled once into its cache, printing nothing."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from services.extraction.model.engines import OnnxEngine, TorchEngine, compiled


@pytest.fixture(scope="module")
def tiny():  # type: ignore[no-untyped-def]
    """A small LayoutLM with random weights (the export does not care what it learned)."""
    import torch
    from transformers import LayoutLMConfig, LayoutLMForTokenClassification

    torch.manual_seed(3)
    config = LayoutLMConfig(vocab_size=500, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                            intermediate_size=128, max_position_embeddings=128, num_labels=7)
    return LayoutLMForTokenClassification(config).eval()


def _inputs(batch: int, tokens: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, 500, (batch, tokens)).astype(np.int64)
    corner = rng.integers(0, 900, (batch, tokens, 2))
    boxes = np.concatenate([corner, corner + rng.integers(1, 100, (batch, tokens, 2))], axis=-1).astype(np.int64)
    mask = np.ones((batch, tokens), dtype=np.int64)
    mask[-1, tokens // 2:] = 0  # a shorter window padded in the batch
    return ids, boxes, mask


def test_int8_reads_as_float32_at_every_shape_compiled_once(tiny, tmp_path: Path, capsys,  # type: ignore[no-untyped-def]
                                                             monkeypatch) -> None:
    from services.extraction.model import engines

    path = compiled(tiny, "tiny-1", tmp_path)
    assert path.parent == tmp_path and path.stat().st_size > 0
    assert capsys.readouterr().out == ""  # the exporter's progress never reaches stdout
    monkeypatch.setattr(engines, "export", lambda *a: pytest.fail("compiled again"))
    assert compiled(tiny, "tiny-1", tmp_path) == path  # the cache serves it
    int8, fp32 = OnnxEngine(path), TorchEngine(tiny)
    for batch, tokens in ((1, 7), (3, 40), (16, 120)):
        ids, boxes, mask = _inputs(batch, tokens, seed=tokens)
        got, want = int8.logits(ids, boxes, mask), fp32.logits(ids, boxes, mask)
        assert got.shape == want.shape == (batch, tokens, 7)
        kept = mask.astype(bool)
        assert (got.argmax(-1) == want.argmax(-1))[kept].mean() >= 0.9
        assert np.abs(got - want)[kept].max() < 0.25 * np.abs(want).max()


def test_another_version_is_another_file_and_the_oldest_go(tiny, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from services.extraction.model import engines

    monkeypatch.setattr(engines, "KEEP", 2)
    first, second = compiled(tiny, "tiny-1", tmp_path), compiled(tiny, "tiny-2", tmp_path)
    assert first != second and first.exists()
    os.utime(first, (1, 1))  # the least recently used
    third = compiled(tiny, "tiny-3", tmp_path)
    assert not first.exists() and second.exists() and third.exists()
    assert not list(tmp_path.glob(".compile-*"))  # no half-written compile left behind
