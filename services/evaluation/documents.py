"""Truth and prediction files, read into one shape and paired by document.

Two truth formats are read unchanged: the synthetic corpus's (``fields`` and ``line_items``
beside each PDF) and the real corpus's in ../shared/corpus (one folder per document with
``invoice.pdf`` and ``truth.json``; fields scored only where ``meta.visible_in_text`` says
the value is printed). Predictions are `docflow extract --json` outputs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from services.contracts import HEADER_FIELDS

# The real corpus's names for our fields.
_REAL_FIELDS = {"iban": "vendor_iban"}
_REAL_ITEM = {"line_total": "amount"}


@dataclass
class Truth:
    key: str
    kind: str  # "synthetic" | "real"
    vendor: str
    fields: dict[str, str | None]  # only the fields to score
    line_items: list[dict[str, str | None]] | None  # None: not scored
    scanned: bool = False


@dataclass
class Prediction:
    fields: dict[str, str | None] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)
    line_items: list[dict[str, str | None]] = field(default_factory=list)


def document_key(truth_path: Path, root: Path) -> str:
    """The PDF a truth file describes, relative to ``root``, without its suffix."""
    sibling = truth_path.with_suffix(".pdf")
    if not sibling.exists():
        pdfs = sorted(truth_path.parent.glob("*.pdf"))
        sibling = pdfs[0] if len(pdfs) == 1 else sibling
    return sibling.relative_to(root).with_suffix("").as_posix()


def read_truth(path: Path, root: Path) -> Truth | None:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        return None
    key = document_key(path, root)
    if "fields" in data and isinstance(data["fields"], dict):
        return Truth(key=key, kind="synthetic", vendor=str(data.get("vendor_id", key.split("/")[0])),
                     fields={f: data["fields"].get(f) for f in HEADER_FIELDS},
                     line_items=data.get("line_items"), scanned=bool(data.get("scanned")))
    if "meta" in data:
        visible = data["meta"].get("visible_in_text", {})
        fields = {}
        for name, value in data.items():
            ours = _REAL_FIELDS.get(name, name)
            if ours in HEADER_FIELDS and visible.get(name, visible.get(ours)):
                fields[ours] = None if value is None else str(value)
        items = None
        if data["meta"].get("line_items_in_truth"):
            items = [{_REAL_ITEM.get(k, k): (None if v is None else str(v)) for k, v in item.items()
                      if _REAL_ITEM.get(k, k) in ("description", "quantity", "unit_price", "amount")}
                     for item in data.get("line_items", [])]
        return Truth(key=key, kind="real", vendor=str(data.get("vendor_name") or key.split("/")[0]),
                     fields=fields, line_items=items)
    return None


def read_truths(root: Path) -> list[Truth]:
    truths = []
    for path in sorted(root.rglob("*.json")):
        if path.name in ("split.json", "vendors.json", "manifest.json"):
            continue
        truth = read_truth(path, root)
        if truth is not None:
            truths.append(truth)
    return truths


def read_prediction(path: Path) -> Prediction:
    data = json.loads(path.read_text(encoding="utf-8"))
    fields = data.get("fields") or {}
    return Prediction(
        fields={k: (v.get("value") if isinstance(v, dict) else v) for k, v in fields.items()},
        confidence={k: float(v["confidence"]) for k, v in fields.items()
                    if isinstance(v, dict) and v.get("confidence") is not None},
        line_items=list(data.get("line_items") or []),
    )


def read_predictions(root: Path) -> dict[str, Prediction]:
    return {p.relative_to(root).with_suffix("").as_posix(): read_prediction(p) for p in sorted(root.rglob("*.json"))}
