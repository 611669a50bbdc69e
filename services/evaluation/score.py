"""Precision, recall, F1 and exact match per field, per vendor and overall; line items as a
matched set; a reliability table of the predictions' confidences."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

from services.contracts import HEADER_FIELDS
from services.evaluation import normalise as norm
from services.evaluation.documents import Prediction, Truth

CALIBRATION_BINS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0001)


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    exact: int = 0
    scored: int = 0

    def add(self, other: Counts) -> None:
        self.tp, self.fp, self.fn = self.tp + other.tp, self.fp + other.fp, self.fn + other.fn
        self.exact, self.scored = self.exact + other.exact, self.scored + other.scored

    def as_dict(self) -> dict:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else (1.0 if not self.fn else 0.0)
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else (1.0 if not self.fp else 0.0)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4),
                "exact_match": round(self.exact / self.scored, 4) if self.scored else None,
                "tp": self.tp, "fp": self.fp, "fn": self.fn, "scored": self.scored}


def compare_field(field: str, truth: object, pred: object) -> Counts:
    """One document's field: a right value is a TP; a wrong one both an FP and an FN."""
    rule = norm.FIELD_RULES[field]
    t, p = rule(truth), rule(pred)
    c = Counts(scored=1)
    if norm.same(field, t, p):
        c.exact = 1
        c.tp = int(t is not None)
    else:
        c.fp = int(p is not None)
        c.fn = int(t is not None)
    return c


def item_key(item: dict) -> tuple:
    return tuple(norm.ITEM_RULES[k](item.get(k)) for k in norm.ITEM_RULES)


def compare_items(truth: list[dict], pred: list[dict]) -> tuple[Counts, dict[str, Counts]]:
    """Line items as multisets: an item counts when all four sub-fields agree; each sub-field
    is also scored as a multiset of its values."""
    t, p = Counter(item_key(i) for i in truth), Counter(item_key(i) for i in pred)
    hit = sum((t & p).values())
    items = Counts(tp=hit, fp=sum(p.values()) - hit, fn=sum(t.values()) - hit, scored=1, exact=int(t == p))
    subfields = {}
    for n, name in enumerate(norm.ITEM_RULES):
        tv = Counter(k[n] for k in t.elements() if k[n] is not None)
        pv = Counter(k[n] for k in p.elements() if k[n] is not None)
        h = sum((tv & pv).values())
        subfields[name] = Counts(tp=h, fp=sum(pv.values()) - h, fn=sum(tv.values()) - h, scored=1, exact=int(tv == pv))
    return items, subfields


def score_group(truths: list[Truth], preds: dict[str, Prediction]) -> dict:
    fields = {f: Counts() for f in HEADER_FIELDS}
    vendors: dict[str, dict[str, Counts]] = {}
    items, subfields, item_docs = Counts(), {k: Counts() for k in norm.ITEM_RULES}, 0
    for truth in truths:
        pred = preds.get(truth.key, Prediction())
        per_vendor = vendors.setdefault(truth.vendor, {f: Counts() for f in HEADER_FIELDS})
        for name, value in truth.fields.items():
            c = compare_field(name, value, pred.fields.get(name))
            fields[name].add(c)
            per_vendor[name].add(c)
        if truth.line_items is not None:
            item_docs += 1
            i, s = compare_items(truth.line_items, pred.line_items)
            items.add(i)
            for k, v in s.items():
                subfields[k].add(v)
    header = Counts()
    for c in fields.values():
        header.add(c)

    def vendor_summary(counts: dict[str, Counts]) -> dict:
        total = Counts()
        for c in counts.values():
            total.add(c)
        return {"header": total.as_dict(), "fields": {f: c.as_dict() for f, c in counts.items() if c.scored}}

    return {
        "documents": len(truths),
        "header": header.as_dict(),
        "fields": {f: c.as_dict() for f, c in fields.items() if c.scored},
        "line_items": {"documents": item_docs, "items": items.as_dict(),
                       "subfields": {k: v.as_dict() for k, v in subfields.items()}} if item_docs else None,
        "vendors": {v: vendor_summary(c) for v, c in sorted(vendors.items())},
    }


def calibration(truths: list[Truth], preds: dict[str, Prediction]) -> list[dict]:
    """Reliability table: for predicted values by confidence bin, the share that were right."""
    bins = [[0, 0, 0.0] for _ in CALIBRATION_BINS[:-1]]  # count, right, sum of confidence
    for truth in truths:
        pred = preds.get(truth.key)
        if pred is None:
            continue
        for name, value in truth.fields.items():
            guess = pred.fields.get(name)
            conf = pred.confidence.get(name)
            if guess is None or conf is None:
                continue
            rule = norm.FIELD_RULES[name]
            right = norm.same(name, rule(value), rule(guess))
            for n, (lo, hi) in enumerate(itertools.pairwise(CALIBRATION_BINS)):
                if lo <= conf < hi:
                    bins[n][0] += 1
                    bins[n][1] += int(right)
                    bins[n][2] += conf
                    break
    return [
        {"bin": [lo, min(hi, 1.0)], "count": c, "accuracy": round(r / c, 4) if c else None,
         "mean_confidence": round(s / c, 4) if c else None}
        for (lo, hi), (c, r, s) in zip(itertools.pairwise(CALIBRATION_BINS), bins, strict=True)
    ]


def evaluate(truths: list[Truth], preds: dict[str, Prediction], split: dict | None = None) -> dict:
    groups: dict[str, list[Truth]] = {"all": truths}
    if split:
        by_key = {t.key.split("/")[-1]: t for t in truths}
        groups["known vendors (unseen documents)"] = [by_key[d] for d in split.get("test_seen_vendors", [])
                                                     if d in by_key]
        groups["new vendors (layouts never trained on)"] = [by_key[d] for d in split.get("test_new_vendors", [])
                                                           if d in by_key]
    if any(t.scanned for t in truths):
        for name, members in list(groups.items()):
            groups[f"{name} · text layer"] = [t for t in members if not t.scanned]
            groups[f"{name} · scanned"] = [t for t in members if t.scanned]
    return {
        "documents": len(truths),
        "kinds": dict(Counter(t.kind for t in truths)),
        "missing_predictions": sorted(t.key for t in truths if t.key not in preds),
        "groups": {name: score_group(members, preds) for name, members in groups.items() if members},
        "calibration": calibration(truths, preds),
    }
