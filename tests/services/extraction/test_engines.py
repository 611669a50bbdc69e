"""The int8 engine: the float32 model exported and quantised for ONNX Runtime reads as it does,
at any batch and window size, compiled once into its cache, printing nothing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from services.extraction.model.engines import OnnxEngine, TorchEngine, compiled


@pytest.fixture(scope="module")
def tiny():  # type: ignore[no-untyped-def]
    """A small LayoutLM with random weights (the export does not care what it learned)."""
    import torch
    from transformers import LayoutLMConfig

    from services.extraction.model.tagger import tagger_class

    torch.manual_seed(3)
    config = LayoutLMConfig(vocab_size=500, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                            intermediate_size=128, max_position_embeddings=128, num_labels=7)
    return tagger_class()(config).eval()


def _keep(batch: int, tokens: int, seed: int) -> np.ndarray:
    """Kept positions a row (a third of its tokens, in order; the last row's from its unpadded half), -1 padding."""
    rng = np.random.default_rng(seed)
    kept = [np.sort(rng.choice(tokens if row < batch - 1 else max(1, tokens // 2), size=max(1, tokens // 3),
                               replace=False)) for row in range(batch)]
    keep = np.full((batch, max(len(k) for k in kept) + 1), -1, dtype=np.int64)
    for row, k in enumerate(kept):
        keep[row, :len(k)] = k
    return keep


def _inputs(batch: int, tokens: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, 500, (batch, tokens)).astype(np.int64)
    corner = rng.integers(0, 900, (batch, tokens, 2))
    boxes = np.concatenate([corner, corner + rng.integers(1, 100, (batch, tokens, 2))], axis=-1).astype(np.int64)
    mask = np.ones((batch, tokens), dtype=np.int64)
    mask[-1, tokens // 2:] = 0  # a shorter window padded in the batch
    return ids, boxes, mask


def _int8_against_float32(int8: OnnxEngine, fp32: TorchEngine) -> Iterator[tuple[dict, np.ndarray]]:
    """At three batch and window sizes: int8's logits are float32's at every kept position (one row
    a kept position); yields each shape's inputs and float32's logits."""
    for batch, tokens in ((1, 7), (3, 40), (16, 120)):
        ids, boxes, mask = _inputs(batch, tokens, seed=tokens)
        keep = _keep(batch, tokens, seed=tokens)
        named = {"input_ids": ids, "bbox": boxes, "attention_mask": mask, "keep": keep}
        got, want = int8.logits(named), fp32.logits(named)
        assert got.shape == want.shape == (*keep.shape, 7)
        kept = keep >= 0
        assert (got.argmax(-1) == want.argmax(-1))[kept].mean() >= 0.9
        assert np.abs(got - want)[kept].max() < 0.25 * np.abs(want).max()
        yield named, want


def test_int8_reads_as_float32_at_every_shape_compiled_once(tiny, tmp_path: Path, capsys,  # type: ignore[no-untyped-def]
                                                             monkeypatch) -> None:
    import torch

    from services.extraction.model import engines

    path = compiled(tiny, "tiny-1", tmp_path)
    assert path.parent == tmp_path and path.stat().st_size > 0
    assert capsys.readouterr().out == ""  # the exporter's progress never reaches stdout
    monkeypatch.setattr(engines, "export", lambda *a: pytest.fail("compiled again"))
    assert compiled(tiny, "tiny-1", tmp_path) == path  # the cache serves it
    for named, want in _int8_against_float32(OnnxEngine(path), TorchEngine(tiny)):
        plain = tiny(**{name: torch.from_numpy(v) for name, v in named.items() if name != "keep"}).logits.detach()
        for row, kept in enumerate(named["keep"]):  # the kept positions' logits are the whole model's there
            k = kept[kept >= 0]
            assert np.allclose(want[row, :len(k)], plain[row, k].numpy(), atol=1e-4)


def test_another_version_is_another_file_and_the_oldest_go(tiny, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from services.extraction.model import engines

    monkeypatch.setattr(engines, "KEEP", 2)
    first, second = compiled(tiny, "tiny-1", tmp_path), compiled(tiny, "tiny-2", tmp_path)
    assert first != second and first.exists()
    os.utime(first, (1, 1))  # the least recently used
    third = compiled(tiny, "tiny-3", tmp_path)
    assert not first.exists() and second.exists() and third.exists()
    assert not list(tmp_path.glob(".compile-*"))  # no half-written compile left behind


def test_a_funnel_compiles_and_reads_as_float32(tmp_path: Path) -> None:
    """A funnel (only the kept positions after its first layer) reads in int8 as in float32, one
    logit row a kept position."""
    import torch
    from transformers import LayoutLMConfig

    from services.extraction.model.tagger import tagger_class

    torch.manual_seed(5)
    config = LayoutLMConfig(vocab_size=500, hidden_size=64, num_hidden_layers=3, num_attention_heads=4,
                            intermediate_size=128, max_position_embeddings=128, num_labels=7, pool_at=1)
    model = tagger_class()(config).eval()
    assert len(list(_int8_against_float32(OnnxEngine(compiled(model, "tiny-funnel", tmp_path)),
                                          TorchEngine(model)))) == 3


def test_weights_take_seven_bits_where_the_cpu_has_no_vnni(tmp_path: Path) -> None:
    """Without VNNI, int8 products are summed in 16 bits and 8-bit weights saturate them."""
    from services.extraction.model.engines import seven_bit_weights

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n")
    assert seven_bit_weights(cpuinfo)
    for vnni in ("avx512_vnni", "avx_vnni"):
        cpuinfo.write_text(f"processor\t: 0\nflags\t\t: fpu avx2 avx512f {vnni} avx512_bf16\n")
        assert not seven_bit_weights(cpuinfo)
    assert seven_bit_weights(tmp_path / "none")  # unreadable: the safe side


def test_the_engine_keeps_layer_norms_apart_from_their_residual_adds(tiny, tmp_path: Path) -> None:
    """ONNX Runtime runs the graph without SkipLayerNormalization, whose CPU kernel costs ten times
    the LayerNormalization and Add it would replace, and still reads as float32."""
    import onnx
    import onnxruntime as ort

    runs = tmp_path / "as-run.onnx"
    engine = OnnxEngine(compiled(tiny, "tiny-1", tmp_path), optimized=runs)
    ops = {node.op_type for node in onnx.load(str(runs)).graph.node}
    assert "SkipLayerNormalization" not in ops and "LayerNormalization" in ops
    assert len(list(_int8_against_float32(engine, TorchEngine(tiny)))) == 3
    # The fusion is one ONNX Runtime would make: without the setting the same graph has the node.
    fused = tmp_path / "fused.onnx"
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(fused)
    ort.InferenceSession(str(compiled(tiny, "tiny-1", tmp_path)), options, providers=["CPUExecutionProvider"])
    assert "SkipLayerNormalization" in {node.op_type for node in onnx.load(str(fused)).graph.node}


def test_batches_without_padding_read_the_unpadded_form_to_the_same_logits(tiny, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The form compiled without attention masks serves batches no window of which is padded, with the
    masked form's very logits; a padded batch goes to the masked form."""
    masked = OnnxEngine(compiled(tiny, "tiny-1", tmp_path))
    both = OnnxEngine(compiled(tiny, "tiny-1", tmp_path), unpadded=compiled(tiny, "tiny-1", tmp_path, unpadded=True))
    assert both.unpadded is not None
    asked: list[str] = []
    for name in ("session", "unpadded"):
        session = getattr(both, name)
        setattr(both, name, type("Spy", (), {"run": lambda self, out, feed, s=session, n=name: (
            asked.append(n), s.run(out, feed))[1]})())
    for batch, tokens in ((1, 7), (1, 60), (3, 40)):
        ids, boxes, _ = _inputs(batch, tokens, seed=tokens)
        keep = np.tile(np.arange(0, tokens, 3, dtype=np.int64), (batch, 1))
        named = {"input_ids": ids, "bbox": boxes, "attention_mask": np.ones_like(ids), "keep": keep}
        assert np.array_equal(both.logits(named), masked.logits(named))
    assert asked == ["unpadded"] * 3
    ids, boxes, mask = _inputs(3, 40, seed=5)  # the last window padded
    named = {"input_ids": ids, "bbox": boxes, "attention_mask": mask, "keep": _keep(3, 40, seed=5)}
    assert np.array_equal(both.logits(named), masked.logits(named)) and asked[-1] == "session"
