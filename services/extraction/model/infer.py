"""Inference: a loaded model artifact reads a document's pages on the CPU, its windows in batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.contracts import FieldValue, Page
from services.extraction.model import network
from services.extraction.model.calibration import Calibrator
from services.extraction.model.decode import choose
from services.extraction.model.features import PageWords, reading_order, windows

# Windows one forward pass reads (its attention memory grows with it), and one document at most.
BATCH = 16
MAX_WINDOWS = 32


class LayoutModel:
    """A trained artifact (folder with weights, tokenizer and meta.json), ready to extract."""

    def __init__(self, folder: Path, *, int8: bool = False, threads: int | None = None):
        import torch

        if threads:
            torch.set_num_threads(threads)
        self.model, self.tokenizer, self.meta = network.load(folder, int8=int8)
        self.version = self.meta["version"] + ("+int8" if int8 else "")
        self.calibrate = Calibrator(self.meta.get("calibration"))

    def word_probs(self, pages: list[Page]) -> tuple[list[PageWords], list[list[list[float]]]]:
        """Tag probabilities per word of every page, windows batched ``BATCH`` at a time.

        At most ``MAX_WINDOWS`` windows per document are read, half from its start and half from
        its end (header fields lead, totals close); the words between keep "O". An invoice needs
        one or two a page; a page flooded with digits would need hundreds, each costing the same.
        """
        import torch

        page_words = [reading_order(p) for p in pages]
        batch: list[tuple[int, dict[str, Any]]] = []
        for n, pw in enumerate(page_words):
            batch.extend((n, w) for w in windows(self.tokenizer, pw))
        if len(batch) > MAX_WINDOWS:
            batch = batch[: MAX_WINDOWS // 2] + batch[-(MAX_WINDOWS // 2):]
        sums = [[None] * len(pw.words) for pw in page_words]
        for start in range(0, len(batch), BATCH):
            chunk = batch[start:start + BATCH]
            width = max(len(w["input_ids"]) for _, w in chunk)
            ids = torch.zeros((len(chunk), width), dtype=torch.long)
            boxes = torch.zeros((len(chunk), width, 4), dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for row, (_, w) in enumerate(chunk):
                k = len(w["input_ids"])
                ids[row, :k] = torch.tensor(w["input_ids"])
                boxes[row, :k] = torch.tensor(w["bbox"])
                mask[row, :k] = 1
            with torch.inference_mode():
                probs = self.model(input_ids=ids, bbox=boxes, attention_mask=mask).logits.softmax(-1).tolist()
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
        uniform = [1.0] + [0.0] * (len(self.model.config.id2label) - 1)
        return page_words, [[p if p is not None else uniform for p in page] for page in sums]

    def extract(self, pages: list[Page]) -> dict[str, FieldValue]:
        page_words, probs = self.word_probs([p for p in pages if p.words])
        return choose(page_words, probs, f"model:{self.version}", self.calibrate)
