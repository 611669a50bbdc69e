"""What runs the network's forward pass: torch in float32, or ONNX Runtime in int8 (the default).

int8: the artifact's float32 model is exported once with torch's exporter (dynamo) and quantised
with ONNX Runtime's dynamic quantisation (int8 weights with one scale per output channel,
activations quantised per call); the file is kept in a cache by model version, so a worker pays the
compile (about 6 s) once per model on a machine, not per start. torch's own int8 path
(``torch.ao`` dynamic quantisation) is deprecated, and it was both slower and further from float32
on the anchor bench's pages, one thread: 15.2 ms a window against 11.5, float32's label on 95.4 % of
tokens against 98.8 % (of the tokens float32 tags, 84 % against 96.5 %). ``docflow bench`` prints
both engines' CPU a page and their agreement.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

# Part of the cache key: change it when the export or the quantisation changes.
FORMAT = "int8pc2"  # 2: a sub-token model computes only the kept positions' last layer
KEEP = 16  # compiled files kept in the cache, the most recently made or used (about 18 MB each; two a model)


def seven_bit_weights(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether to quantise weights to 7 bits: on an x86 CPU without VNNI, ONNX Runtime's int8 kernel
    adds pairs of 8-bit products in 16 bits (VPMADDUBSW), which saturate with 8-bit weights. On such
    a CPU (AVX2) a small random funnel's int8 logits were off by 29 % of float32's largest, 1.8 %
    with 7-bit weights (tests/services/extraction/test_engines.py). The file is compiled on the
    machine that runs it, so the choice is this machine's; where the flags cannot be read, 7 bits
    (the safe side)."""
    try:
        flags = cpuinfo.read_text()
    except OSError:
        return True
    return not any(flag in flags.split() for flag in ("avx512_vnni", "avx_vnni"))


class TorchEngine:
    """The float32 torch model itself (training evaluates with it; ``model_int8=false`` serves it)."""

    def __init__(self, model: Any, threads: int | None = None):
        import torch

        if threads:
            torch.set_num_threads(threads)
        self.model = model

    def logits(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self.model(**{name: torch.from_numpy(v) for name, v in inputs.items()}).logits.numpy()


# Graph fusions ONNX Runtime would make and must not. SkipLayerNormalization (a residual Add and
# its LayerNormalization in one node): ONNX Runtime 1.32's CPU kernel of it took 0.52 ms on a
# 329 x 384 window, where the LayerNormalization and Add it replaces take 0.045 and 0.04, so
# unfused the whole int8 forward costs 12.1 ms a window instead of 14.6 (anchor bench's pages, one
# thread; docs/extraction.md, "The model's cost").
UNFUSED = ("SkipLayerNormFusion",)


class OnnxEngine:
    """An int8 ONNX file in ONNX Runtime, on ``threads`` CPU threads (a worker scales by processes:
    one thread each wastes nothing on spinning pool threads); with ``unpadded``, the same model
    compiled without its attention masks, for a batch no window of which is padded (an invoice's page
    is one window): each layer's attention adds its mask of zeros to every score otherwise, 0.55 ms
    of a window's 7.5 (the first layer's 12 heads x 237 x 237 scores on the anchor's pages)."""

    def __init__(self, path: Path, threads: int = 1, *, optimized: Path | None = None,
                 unpadded: Path | None = None):
        """``optimized``: where to write the graph as ONNX Runtime runs it (to see its fusions)."""
        self.session = _session(path, threads, optimized)
        self.unpadded = _session(unpadded, threads, None) if unpadded is not None else None

    def logits(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """``inputs`` by name, as features.tensors makes them."""
        if self.unpadded is not None and inputs["attention_mask"].all() and (inputs["keep"] >= 0).all():
            return self.unpadded.run(["logits"], {k: v for k, v in inputs.items() if k != "attention_mask"})[0]
        return self.session.run(["logits"], inputs)[0]


def _session(path: Path, threads: int, optimized: Path | None) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.log_severity_level = 3  # errors only
    if optimized is not None:
        options.optimized_model_filepath = str(optimized)
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"],
                                disabled_optimizers=list(UNFUSED))


def compiled(model: Any, version: str, cache: Path, *, unpadded: bool = False) -> Path:
    """The int8 ONNX file of ``model`` (``version``: the artifact's and its weights'), made on first use; two processes
    making it at once each write their own and the last rename wins (the files are the same). ``unpadded``: the
    model without attention masks (no ``attention_mask`` input), for batches without padding."""
    import onnxruntime

    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only home: this process's compile lives in the temporary directory
        cache = Path(tempfile.gettempdir()) / "docflow-compiled"
        cache.mkdir(parents=True, exist_ok=True)
    seven = seven_bit_weights()
    form = f"{FORMAT}{'w7' if seven else ''}{'u' if unpadded else ''}"
    target = cache / f"{version}.{form}.ort{onnxruntime.__version__}.onnx"
    if target.exists():
        os.utime(target)  # used: the last to be evicted
        return target
    with tempfile.TemporaryDirectory(dir=cache, prefix=".compile-") as tmp:
        fp32, int8 = Path(tmp) / "model.onnx", Path(tmp) / "model.int8.onnx"
        export(model, fp32, unpadded=unpadded)
        quantise(fp32, int8, seven_bits=seven)
        os.replace(int8, target)
    _evict(cache, keep=KEEP)
    return target


def _evict(cache: Path, keep: int) -> None:
    """All but the ``keep`` newest compiled models (every trained version would stay otherwise). A
    process serving an evicted one keeps it in memory; a later start compiles it again."""
    made = sorted(cache.glob("*.int8pc*.ort*.onnx"), key=lambda p: p.stat().st_mtime, reverse=True)  # any format
    for old in made[keep:]:
        old.unlink(missing_ok=True)


def export(model: Any, path: Path, *, unpadded: bool = False) -> None:
    """The float32 graph, its batch, token and kept axes dynamic (traced at two windows of 16
    tokens, 8 kept: a dimension of 1 would be taken for a constant); ``unpadded``: without the
    attention_mask input and the masks it makes."""
    import torch

    batch, tokens = torch.export.Dim("batch"), torch.export.Dim("tokens")
    example = {"input_ids": torch.ones((2, 16), dtype=torch.long),
               "bbox": torch.zeros((2, 16, 4), dtype=torch.long),
               "attention_mask": torch.ones((2, 16), dtype=torch.long),
               "keep": torch.arange(8, dtype=torch.long).repeat(2, 1)}
    if unpadded:
        del example["attention_mask"]
    shapes = {name: {0: batch, 1: tokens} for name in example}
    shapes["keep"] = {0: batch, 1: torch.export.Dim("kept")}
    # The exporter prints its progress to stdout (where `docflow extract --json` writes), warns about
    # axis names it merged and logs the torchvision operators it skips: none of it is for the user.
    exporter = logging.getLogger("torch.onnx")
    level = exporter.level
    exporter.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            program = torch.onnx.export(model.eval(), (), kwargs=example, dynamo=True, input_names=list(example),
                                        output_names=["logits"], dynamic_shapes=shapes, optimize=True)
    finally:
        exporter.setLevel(level)
    if program is None:  # only a call with ``f=`` returns nothing
        raise RuntimeError("the ONNX export returned no program")
    program.save(str(path))


def quantise(source: Path, target: Path, *, seven_bits: bool = False) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    quiet = _Drop("pre-processing before quantization")  # its advice to the model's author, logged on root
    root.addFilter(quiet)
    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True,
                         reduce_range=seven_bits)
    finally:
        root.removeFilter(quiet)


class _Drop(logging.Filter):
    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()
