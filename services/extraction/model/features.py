"""Words with boxes to model inputs: reading order, normalised boxes, sub-word windows, and
training tags aligned from the truth's word boxes."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from services.contracts import Page
from services.extraction.model.labels import IGNORE, LABEL_ID

MAX_TOKENS = 512
STRIDE = 128


@dataclass
class PageWords:
    page: int
    words: list[str]
    boxes: list[tuple[float, float, float, float]]  # page points, as parsed
    norm_boxes: list[list[int]]  # 0..1000
    indexes: list[int]  # into Page.words


def reading_order(page: Page) -> PageWords:
    order = [i for line in page.lines for i in line.words]
    seen = set(order)
    order += [i for i in range(len(page.words)) if i not in seen]
    words = [page.words[i] for i in order]
    w, h = page.width or 1.0, page.height or 1.0

    def scale(b: tuple[float, float, float, float]) -> list[int]:
        x0, y0 = _permille(b[0] / w * 1000), _permille(b[1] / h * 1000)
        x1, y1 = _permille(b[2] / w * 1000), _permille(b[3] / h * 1000)
        return [x0, y0, x1 if x1 > x0 else x0, y1 if y1 > y0 else y0]

    return PageWords(page.number, [x.text for x in words], [x.bbox for x in words],
                     [scale(x.bbox) for x in words], order)


def _permille(v: float) -> int:
    """``v`` rounded and held to 0..1000 (a word's edge off the page stands on its edge)."""
    n = round(v)
    return 0 if n < 0 else 1000 if n > 1000 else n


def align_tags(page_words: PageWords, truth_labels: list[dict]) -> list[int]:
    """A tag per word: B-/I-field where a truth word of that field lies at the word's box."""
    tags = [LABEL_ID["O"]] * len(page_words.words)
    for label in truth_labels:
        field = label["field"]
        if f"B-{field}" not in LABEL_ID or label["page"] != page_words.page:
            continue
        first = True
        for truth_word in label["words"]:
            tx0, ty0, tx1, ty1 = truth_word["bbox"]
            for n, (x0, y0, x1, y1) in enumerate(page_words.boxes):
                if abs(x0 - tx0) < 2 and abs(y0 - ty0) < 2 and abs(x1 - tx1) < 2 and abs(y1 - ty1) < 2:
                    tags[n] = LABEL_ID[f"{'B' if first else 'I'}-{field}"]
                    first = False
                    break
    return tags


def windows(tokenizer, page_words: PageWords, tags: list[int] | None = None) -> list[dict]:  # type: ignore[no-untyped-def]
    """Token windows of at most MAX_TOKENS over one page, overlapping by STRIDE tokens.

    The network's outputs are a window's ``keep`` positions (each word's first sub-token, and the
    window's first and last: tagger.tagger_class); ``word_ids`` maps them back to words and
    ``labels`` are their tags.
    """
    if not page_words.words:
        return []
    ids, word_ids = word_pieces(tokenizer, page_words.words)
    body = MAX_TOKENS - 2
    out = []
    start = 0
    while True:
        end = min(start + body, len(ids))
        span_words = [None, *word_ids[start:end], None]
        keep = [0] + [t for t in range(1, len(span_words) - 1) if span_words[t] != span_words[t - 1]] \
            + [len(span_words) - 1]
        window = {"input_ids": [tokenizer.cls_token_id, *ids[start:end], tokenizer.sep_token_id],
                  "bbox": [[0, 0, 0, 0]] + [page_words.norm_boxes[w] for w in word_ids[start:end]]
                  + [[1000, 1000, 1000, 1000]],
                  "keep": keep, "word_ids": [span_words[t] for t in keep]}
        if tags is not None:
            window["labels"] = [IGNORE] + [tags[w] for w in window["word_ids"][1:-1]] + [IGNORE]
        out.append(window)
        if end == len(ids):
            return out
        start = end - STRIDE


_PIECES: weakref.WeakKeyDictionary[Any, dict[str, tuple[int, ...]]] = weakref.WeakKeyDictionary()
PIECES_KEPT = 50_000  # words' pieces kept per tokenizer (a few MB); past it, the memo starts again


def word_pieces(tokenizer: Any, words: list[str]) -> tuple[list[int], list[int]]:
    """The sub-token ids of ``words`` and the word each comes from, as the tokenizer gives them for
    the words pre-split (WordPiece reads each word on its own). A word's pieces are looked up once
    per process: an invoice's labels, currency and units come back on every page, and the Rust
    tokenizer cost 4.6 us a word where a dictionary costs a tenth of it."""
    memo = _PIECES.setdefault(tokenizer, {})
    new = list(dict.fromkeys(w for w in words if w not in memo))
    if len(memo) + len(new) > PIECES_KEPT:
        memo.clear()
        new = list(dict.fromkeys(words))
    if new:
        enc = tokenizer(new, is_split_into_words=True, add_special_tokens=False, truncation=False)
        pieces: list[list[int]] = [[] for _ in new]
        for token, word in zip(enc["input_ids"], enc.word_ids(), strict=True):
            pieces[word].append(token)
        memo.update(zip(new, map(tuple, pieces), strict=True))
    ids: list[int] = []
    word_ids: list[int] = []
    for n, word in enumerate(words):
        found = memo[word]
        ids.extend(found)
        word_ids.extend([n] * len(found))
    return ids, word_ids


def tensors(batch: list[dict]) -> dict[str, np.ndarray]:
    """A batch of windows as the network's named inputs, zero-padded to the longest (kept
    positions padded with -1)."""
    width = max(len(w["input_ids"]) for w in batch)
    ids = np.zeros((len(batch), width), dtype=np.int64)
    boxes = np.zeros((len(batch), width, 4), dtype=np.int64)
    mask = np.zeros((len(batch), width), dtype=np.int64)
    keep = np.full((len(batch), max(len(w["keep"]) for w in batch)), -1, dtype=np.int64)
    for row, w in enumerate(batch):
        k = len(w["input_ids"])
        ids[row, :k] = w["input_ids"]
        boxes[row, :k] = w["bbox"]
        mask[row, :k] = 1
        keep[row, :len(w["keep"])] = w["keep"]
    return {"input_ids": ids, "bbox": boxes, "attention_mask": mask, "keep": keep}
