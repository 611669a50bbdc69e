"""Words with boxes to model inputs: reading order, normalised boxes, sub-word windows, and
training tags aligned from the truth's word boxes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from services.contracts import Page
from services.extraction.model.labels import IGNORE, LABEL_ID
from services.extraction.model.network import SUB_TOKENS, WORDS

MAX_TOKENS = 512
STRIDE = 128
MAX_PIECES = 8  # a word's sub-tokens a word-reading model averages (an IBAN has about ten)


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
        x0, y0, x1, y1 = (min(1000, max(0, round(v))) for v in (b[0] / w * 1000, b[1] / h * 1000,
                                                                  b[2] / w * 1000, b[3] / h * 1000))
        return [x0, y0, max(x0, x1), max(y0, y1)]

    return PageWords(page.number, [x.text for x in words], [x.bbox for x in words],
                     [scale(x.bbox) for x in words], order)


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


def windows(tokenizer, page_words: PageWords, tags: list[int] | None = None, *,  # type: ignore[no-untyped-def]
            inputs: str = SUB_TOKENS) -> list[dict]:
    """Windows of at most MAX_TOKENS positions over one page, overlapping by STRIDE positions.

    A position is a sub-token, or for a WORDS model a whole word (its ``input_ids`` are then its
    first MAX_PIECES sub-tokens, a list per position). ``word_ids`` maps the network's outputs back
    to words and ``labels`` are the outputs' tags: a sub-token model's outputs are its ``keep``
    positions (each word's first sub-token, and the window's first and last: network.tagger_class).
    """
    if not page_words.words:
        return []
    enc = tokenizer(page_words.words, is_split_into_words=True, add_special_tokens=False, truncation=False)
    ids: list = enc["input_ids"]
    word_ids: list = enc.word_ids()
    cls: int | list[int] = tokenizer.cls_token_id
    sep: int | list[int] = tokenizer.sep_token_id
    if inputs == WORDS:
        pieces: list[list[int]] = [[] for _ in page_words.words]
        for piece, word in zip(ids, word_ids, strict=True):
            if len(pieces[word]) < MAX_PIECES:
                pieces[word].append(piece)
        ids, word_ids = [p or [tokenizer.unk_token_id] for p in pieces], list(range(len(pieces)))
        cls, sep = [tokenizer.cls_token_id], [tokenizer.sep_token_id]
    body = MAX_TOKENS - 2
    out = []
    start = 0
    while True:
        end = min(start + body, len(ids))
        span_ids = [cls, *ids[start:end], sep]
        span_words = [None, *word_ids[start:end], None]
        boxes = [[0, 0, 0, 0]] + [page_words.norm_boxes[w] for w in word_ids[start:end]] + [[1000, 1000, 1000, 1000]]
        firsts = [0] + [t for t in range(1, len(span_words) - 1) if span_words[t] != span_words[t - 1]] \
            + [len(span_words) - 1]
        window = {"input_ids": span_ids, "bbox": boxes, "word_ids": span_words}
        if inputs != WORDS:
            window["keep"], window["word_ids"] = firsts, [span_words[t] for t in firsts]
        if tags is not None:
            window["labels"] = [IGNORE] + [tags[w] for w in window["word_ids"][1:-1]] + [IGNORE]
        out.append(window)
        if end == len(ids):
            return out
        start = end - STRIDE


def tensors(batch: list[dict]) -> dict[str, np.ndarray]:
    """A batch of windows as the network's named inputs: ids (batch x positions, or x pieces for
    words), boxes, the attention mask and for sub-tokens the kept positions (-1 padding),
    zero-padded to the longest."""
    width = max(len(w["input_ids"]) for w in batch)
    words = isinstance(batch[0]["input_ids"][0], list)
    depth = max(len(p) for w in batch for p in w["input_ids"]) if words else 0
    ids = np.zeros((len(batch), width, depth) if words else (len(batch), width), dtype=np.int64)
    boxes = np.zeros((len(batch), width, 4), dtype=np.int64)
    mask = np.zeros((len(batch), width), dtype=np.int64)
    for row, w in enumerate(batch):
        k = len(w["input_ids"])
        if words:
            for t, piece in enumerate(w["input_ids"]):
                ids[row, t, :len(piece)] = piece
        else:
            ids[row, :k] = w["input_ids"]
        boxes[row, :k] = w["bbox"]
        mask[row, :k] = 1
    named = {"input_ids": ids, "bbox": boxes, "attention_mask": mask}
    if "keep" in batch[0]:
        keep = np.full((len(batch), max(len(w["keep"]) for w in batch)), -1, dtype=np.int64)
        for row, w in enumerate(batch):
            keep[row, :len(w["keep"])] = w["keep"]
        named["keep"] = keep
    return named
