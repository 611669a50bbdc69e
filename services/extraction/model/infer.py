"""Inference: a loaded model artifact reads a document's pages on the CPU, its windows in batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from services.contracts import FieldValue, Page
from services.extraction.model import network
from services.extraction.model.calibration import Calibrator
from services.extraction.model.decode import choose
from services.extraction.model.engines import OnnxEngine, TorchEngine, compiled
from services.extraction.model.features import PageWords, reading_order, tensors, windows
from services.settings import default_cache_dir

# Windows one forward pass reads (its attention memory grows with it), and one document at most.
BATCH = 16
MAX_WINDOWS = 32


class LayoutModel:
    """A trained artifact (folder with weights, tokenizer and meta.json), ready to extract: in int8
    on ONNX Runtime (compiled into ``cache`` on first use), or in float32 on torch."""

    def __init__(self, folder: Path, *, int8: bool = False, threads: int | None = None, cache: Path | None = None):
        model, self.tokenizer, self.meta = network.load(folder)
        self.labels = len(model.config.id2label)
        self.version = self.meta["version"] + ("+int8" if int8 else "")
        self.engine: OnnxEngine | TorchEngine
        if int8:  # keyed by version and weights: a packed and an unpacked copy are not the same model
            key = f"{self.meta['version']}-{network.digest(folder)}"
            folder = cache or default_cache_dir()
            self.engine = OnnxEngine(compiled(model, key, folder), threads or 1,
                                     unpadded=compiled(model, key, folder, unpadded=True))
        else:
            self.engine = TorchEngine(model, threads)
        self.calibrate = Calibrator(self.meta.get("calibration"))

    @classmethod
    def in_training(cls, model: Any, tokenizer: Any) -> LayoutModel:
        """A model still being trained, read in float32 as it stands (its dev scores, calibration)."""
        runner = cls.__new__(cls)
        runner.tokenizer, runner.meta, runner.version = tokenizer, {}, "training"
        runner.labels, runner.engine = len(model.config.id2label), TorchEngine(model)
        runner.calibrate = Calibrator(None)
        return runner

    def word_probs(self, pages: list[Page]) -> tuple[list[PageWords], list[list[list[float]]]]:
        """Tag probabilities per word of every page, windows batched ``BATCH`` at a time.

        At most ``MAX_WINDOWS`` windows per document are read, half from its start and half from
        its end (header fields lead, totals close); the words between keep "O". An invoice needs
        one or two a page; a page flooded with digits would need hundreds, each costing the same.
        """
        page_words = [reading_order(p) for p in pages]
        batch: list[tuple[int, dict[str, Any]]] = []
        for n, pw in enumerate(page_words):
            batch.extend((n, w) for w in windows(self.tokenizer, pw))
        if len(batch) > MAX_WINDOWS:
            batch = batch[: MAX_WINDOWS // 2] + batch[-(MAX_WINDOWS // 2):]
        sums = [[None] * len(pw.words) for pw in page_words]
        for start in range(0, len(batch), BATCH):
            chunk = batch[start:start + BATCH]
            probs = _softmax(self.engine.logits(tensors([w for _, w in chunk]))).tolist()
            for row, (n, w) in enumerate(chunk):
                previous = None
                for t, word in enumerate(w["word_ids"]):
                    if word is None or word == previous:
                        previous = word
                        continue
                    previous = word
                    current = sums[n][word]
                    sums[n][word] = probs[row][t] if current is None else [
                        (a + b) / 2 for a, b in zip(current, probs[row][t], strict=True)]
        uniform = [1.0] + [0.0] * (self.labels - 1)
        return page_words, [[p if p is not None else uniform for p in page] for page in sums]

    def extract(self, pages: list[Page]) -> dict[str, FieldValue]:
        page_words, probs = self.word_probs([p for p in pages if p.words])
        return choose(page_words, probs, f"model:{self.version}", self.calibrate)


def _softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)

