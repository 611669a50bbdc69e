"""`docflow eval`: 1.0 on truth against itself, exact figures on hand-made wrong predictions,
and every comparison rule."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from services.cli import main
from services.evaluation import normalise as norm
from services.evaluation.documents import read_predictions, read_truths
from services.evaluation.score import compare_items, evaluate
from services.synth.corpus import build

REAL = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "zugferd-dev"


def pred_from_fields(fields: dict, items: list[dict]) -> dict:
    return {"fields": {k: {"value": v, "confidence": 0.9} for k, v in fields.items() if v is not None},
            "line_items": items}


@pytest.mark.parametrize(
    ("rule", "truth", "pred", "same"),
    [
        (norm.amount, "1234.5", "1.234,50", True),
        (norm.amount, "1234.56", "1,234.56", True),
        (norm.amount, "-12.00", "-12", True),
        (norm.amount, "10.005", "10.01", True),  # to the cent, half up
        (norm.amount, "10.00", "10.01", False),
        (norm.iso_date, "2025-03-01", "01.03.2025", True),
        (norm.iso_date, "2025-03-01", "1 March 2025", True),
        (norm.iso_date, "2025-03-01", "2025-01-03", False),
        (norm.currency, "EUR", "€", True),
        (norm.currency, "GBP", "gbp", True),
        (norm.compact, "DE89 3704 0044 0532 0130 00", "de89370400440532013000", True),
        (norm.compact, "FR 40 303 265 045", "FR40303265045", True),
        (norm.compact, "INV-2025/001", "inv 2025 001", True),
        (norm.name, "Lumière Conseil SARL", "LUMIERE CONSEIL", True),
        (norm.name, "Bergmann Industrietechnik GmbH & Co. KG", "bergmann industrietechnik", True),
        (norm.name, "Acme Ltd", "Acme Trading Ltd", True),  # containment
        (norm.name, "4000001123452 Lieferant GmbH", "Lieferant GmbH", True),  # truth with a GLN prefix
        (norm.name, "Acme Ltd", "Zenith Ltd", False),
        (norm.text, "Printer  paper A4", "printer paper a4.", True),
    ],
)
def test_comparison_rules(rule, truth: str, pred: str, same: bool) -> None:  # type: ignore[no-untyped-def]
    """Each normalisation rule of docs/evaluation.md, on a matching and a non-matching pair."""
    field = {norm.amount: "total_amount", norm.iso_date: "invoice_date", norm.currency: "currency",
             norm.compact: "vendor_iban", norm.name: "vendor_name", norm.text: "vendor_name"}[rule]
    if rule is norm.text:
        assert (rule(truth) == rule(pred)) is same
    else:
        assert norm.same(field, rule(truth), rule(pred)) is same


def test_line_items_are_a_matched_set() -> None:
    """Order does not matter; an item counts only when all four sub-fields agree."""
    truth = [{"description": "A", "quantity": "2", "unit_price": "5", "amount": "10"},
             {"description": "B", "quantity": "1", "unit_price": "3", "amount": "3"}]
    pred = [{"description": "b", "quantity": "1.00", "unit_price": "3.00", "amount": "3.00"},
            {"description": "A", "quantity": "2", "unit_price": "5", "amount": "10.01"}]
    items, sub = compare_items(truth, pred)
    assert (items.tp, items.fp, items.fn) == (1, 1, 1)
    assert (sub["amount"].tp, sub["amount"].fp, sub["amount"].fn) == (1, 1, 1)
    assert (sub["description"].tp, sub["description"].fp) == (2, 0)


def write_case(tmp_path: Path) -> tuple[Path, Path]:
    truth_dir, pred_dir = tmp_path / "truth" / "va", tmp_path / "pred" / "va"
    truth_dir.mkdir(parents=True)
    pred_dir.mkdir(parents=True)
    base = {"vendor_name": "Acme Trading GmbH", "vendor_vat_id": "DE811907980", "vendor_iban": "DE24969811816785102541",
            "invoice_number": "INV-001", "invoice_date": "2025-03-01", "due_date": None, "purchase_order": None,
            "currency": "EUR", "net_amount": "100.00", "tax_amount": "19.00", "total_amount": "119.00"}
    for doc, vendor, items in (("a", "va", [("Widget", "2", "50.00", "100.00")]),
                               ("b", "vb", [("Gadget", "1", "10.00", "10.00")])):
        (truth_dir / f"{doc}.pdf").write_bytes(b"%PDF-1.4")
        (truth_dir / f"{doc}.json").write_text(json.dumps({
            "vendor_id": vendor, "fields": base,
            "line_items": [dict(zip(("description", "quantity", "unit_price", "amount"), i, strict=True))
                           for i in items]}))
    wrong = base | {"vendor_name": "ACME trading", "vendor_iban": "DE24 9698 1181 6785 1025 41",
                    "invoice_number": "inv 001", "invoice_date": "01.03.2025", "due_date": "2025-04-01",
                    "currency": "€", "net_amount": "100", "tax_amount": "19.01", "total_amount": None}
    items = [{"description": "widget", "quantity": "2.00", "unit_price": "50", "amount": "100.00"},
             {"description": "Extra", "quantity": "1", "unit_price": "5", "amount": "5"}]
    (pred_dir / "a.json").write_text(json.dumps(pred_from_fields(wrong, items)))  # b has no prediction
    return tmp_path / "pred", tmp_path / "truth"


def test_hand_made_wrong_predictions(tmp_path: Path) -> None:
    """Known errors give known figures: 7 right, 2 wrong values, 11 missed, over 22 scored fields."""
    pred, truth = write_case(tmp_path)
    report = evaluate(read_truths(truth), read_predictions(pred))
    assert report["missing_predictions"] == ["va/b"]
    group = report["groups"]["all"]
    assert group["header"] == {"precision": 0.7778, "recall": 0.3889, "f1": 0.5185, "exact_match": 0.4545,
                               "tp": 7, "fp": 2, "fn": 11, "scored": 22}
    assert group["fields"]["tax_amount"] | {} == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "exact_match": 0.0,
                                                  "tp": 0, "fp": 1, "fn": 2, "scored": 2}
    assert group["fields"]["due_date"]["fp"] == 1 and group["fields"]["due_date"]["exact_match"] == 0.5
    assert group["fields"]["purchase_order"]["exact_match"] == 1.0
    assert group["fields"]["vendor_name"]["tp"] == 1
    assert group["line_items"]["items"] | {} == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "exact_match": 0.0,
                                                 "tp": 1, "fp": 1, "fn": 1, "scored": 2}
    assert group["vendors"]["va"]["header"]["tp"] == 7 and group["vendors"]["vb"]["header"]["tp"] == 0
    calibration = {tuple(b["bin"]): b for b in report["calibration"] if b["count"]}
    assert calibration[(0.9, 0.95)] == {"bin": [0.9, 0.95], "count": 9, "accuracy": 0.7778, "mean_confidence": 0.9}


def test_truth_against_itself_synthetic(tmp_path: Path) -> None:
    """A synthetic corpus scored against itself: 1.0 everywhere, split groups included."""
    corpus = tmp_path / "corpus"
    build(corpus, vendors=5, docs=3, seed=4, holdout_vendors=1, jobs=1)
    pred = tmp_path / "pred"
    for path in corpus.glob("v*/*.json"):
        truth = json.loads(path.read_text())
        (pred / path.parent.name).mkdir(parents=True, exist_ok=True)
        (pred / path.parent.name / path.name).write_text(json.dumps(pred_from_fields(truth["fields"],
                                                                                     truth["line_items"])))
    result = CliRunner().invoke(main, ["eval", str(pred), str(corpus), "--json", str(tmp_path / "r.json"),
                                       "--html", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert set(report["groups"]) == {
        "all", "known vendors (unseen documents)", "new vendors (layouts never trained on)"}
    for group in report["groups"].values():
        assert group["header"]["f1"] == 1.0 and group["header"]["exact_match"] == 1.0
        assert group["line_items"]["items"]["f1"] == 1.0
    page = (tmp_path / "r.html").read_text()
    assert "<svg" in page and "Exact match per vendor" in page and "<script" not in page


@pytest.mark.skipif(not REAL.exists(), reason="../shared/corpus is not beside this checkout")
def test_truth_against_itself_real(tmp_path: Path) -> None:
    """The real corpus's truth.json files, read unchanged, score 1.0 against themselves."""
    truth_root = tmp_path / "real"
    shutil.copytree(REAL, truth_root, ignore=shutil.ignore_patterns("*.pdf"))
    for folder in truth_root.iterdir():
        (folder / "invoice.pdf").write_bytes(b"%PDF-1.4")
    truths = read_truths(truth_root)
    assert len(truths) == len(list(REAL.iterdir())) and all(t.kind == "real" for t in truths)
    preds = {t.key: read_predictions_from_truth(t) for t in truths}
    report = evaluate(truths, preds)
    assert report["groups"]["all"]["header"]["f1"] == 1.0
    assert report["groups"]["all"]["line_items"]["items"]["f1"] == 1.0


def read_predictions_from_truth(truth):  # type: ignore[no-untyped-def]
    from services.evaluation.documents import Prediction

    return Prediction(fields=dict(truth.fields), line_items=list(truth.line_items or []))
