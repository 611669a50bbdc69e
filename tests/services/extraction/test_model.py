"""The layout model: initialisation from MiniLM, features, decoding, calibration, and a short
real training run through to an artifact that loads (fp32 and int8) and extracts."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from services.contracts import FieldValue, Page, Word
from services.extraction.logic import merge
from services.extraction.model import network
from services.extraction.model.calibration import Calibrator, fit
from services.extraction.model.decode import choose
from services.extraction.model.features import (
    MAX_TOKENS,
    STRIDE,
    align_tags,
    reading_order,
    tensors,
    windows,
    word_pieces,
)
from services.extraction.model.labels import IGNORE, LABEL_ID, LABELS
from services.extraction.model.tagger import inputs_of
from services.parsing.readers import DEFAULT_READER
from services.synth.layouts import vendor_layouts
from services.synth.render import generate

pytest.importorskip("torch")


def test_minilm_weights_load_and_box_tables_start_at_zero() -> None:
    """Text weights come from MiniLM unchanged; the four 2-D tables are zero."""
    from safetensors.torch import load_file

    model = network.from_minilm(layers=2)
    base = load_file(str(network.base_path() / "model.safetensors"))
    key = next(k for k in base if k.endswith("embeddings.word_embeddings.weight"))
    assert (model.layoutlm.embeddings.word_embeddings.weight == base[key]).all()
    emb = model.layoutlm.embeddings
    for table in (emb.x_position_embeddings, emb.y_position_embeddings, emb.h_position_embeddings,
                  emb.w_position_embeddings):
        assert float(table.weight.abs().sum()) == 0.0
    assert model.config.num_labels == len(LABELS)


def test_tags_follow_the_truth_boxes() -> None:
    """Each labelled value's words get B- then I- tags; everything else is O."""
    pdf, truth = generate(vendor_layouts(1, 0)[0], 1, 1)
    page = DEFAULT_READER.read(pdf, max_pages=5)[0]
    pw = reading_order(page)
    tags = align_tags(pw, truth["labels"])
    total = next(lab for lab in truth["labels"] if lab["field"] == "total_amount")
    first = pw.boxes.index(next(b for b in pw.boxes if abs(b[0] - total["words"][0]["bbox"][0]) < 2
                                and abs(b[1] - total["words"][0]["bbox"][1]) < 2))
    assert tags[first] == LABEL_ID["B-total_amount"]
    assert sum(t != LABEL_ID["O"] for t in tags) == sum(
        len(lab["words"]) for lab in truth["labels"] if lab["page"] == 1 and lab["field"] in
        {label[2:] for label in LABELS[1:]})


def test_long_pages_split_into_overlapping_windows() -> None:
    """A page longer than 512 tokens becomes windows that overlap; a window's outputs are its words'
    first sub-tokens, each tagged (a word cut at a window's start counts from where it resumes)."""
    tokenizer = network.tokenizer_from(network.base_path())
    words = [Word(text=f"word{i} extraordinarily", bbox=(10, 10 + i, 50, 18 + i)) for i in range(400)]
    page = Page(number=1, width=600, height=900, words=words)
    pw = reading_order(page)
    out = windows(tokenizer, pw, [0] * len(pw.words))
    assert len(out) >= 2 and all(len(w["input_ids"]) <= MAX_TOKENS for w in out)
    assert out[0]["input_ids"][-1 - STRIDE:-1] == out[1]["input_ids"][1:1 + STRIDE]
    for w in out:
        inner = w["word_ids"][1:-1]
        assert inner == sorted(set(inner)) and len(w["keep"]) == len(inner) + 2 < len(w["input_ids"])
        assert w["labels"] == [IGNORE, *[0] * len(inner), IGNORE]


def test_word_pieces_are_the_tokenizers_whatever_the_memo_holds() -> None:
    """The memo of each word's pieces gives what the tokenizer gives the pre-split words: on real
    invoice words, words it has not seen, words repeated, a word that has no piece, and after the
    memo was emptied for its size."""
    from services.extraction.model import features

    tokenizer = network.tokenizer_from(network.base_path())
    pdf, _ = generate(vendor_layouts(1)[0], seed=3, serial=2, items=6)
    invoice = [w.text for p in DEFAULT_READER.read(pdf, max_pages=5) for w in p.words]
    odd = ["Ã¼berweisung", "€", "\u200b", "ﬁnal", "1.234,56", "Straße", "INV-2025/0007", "x" * 120, "日本"]

    def direct(words: list[str]) -> tuple[list[int], list[int]]:
        enc = tokenizer(words, is_split_into_words=True, add_special_tokens=False, truncation=False)
        return enc["input_ids"], enc.word_ids()

    for words in (invoice, odd + invoice[:20] + odd, invoice[::-1], odd):
        assert word_pieces(tokenizer, words) == direct(words)
    kept = features.PIECES_KEPT
    try:
        features.PIECES_KEPT = len(invoice) + 3  # the next page's new words overflow it
        assert word_pieces(tokenizer, invoice + odd) == direct(invoice + odd)
    finally:
        features.PIECES_KEPT = kept


def test_a_sub_token_model_computes_its_first_pieces_alone() -> None:
    """A sub-token model's outputs are each word's first sub-token (and the window's ends), tagged
    there; given those positions it computes exactly what it computes over every token there, and
    a funnel (kept positions from its first layer on) reads the same windows."""
    import torch

    tokenizer = network.tokenizer_from(network.base_path())
    texts = ["Rechnungsnummer", "RE-2024-0017", "vom", "03.12.2024", "Gesamtbetrag", "1.234,56", "EUR"]
    words = [Word(text=t, bbox=(10 + 80 * i, 10, 80 + 80 * i, 18)) for i, t in enumerate(texts)]
    pw = reading_order(Page(number=1, width=600, height=900, words=words))
    tags = list(range(1, len(texts) + 1))
    (window,) = windows(tokenizer, pw, tags)
    tokens = tokenizer(texts, is_split_into_words=True, add_special_tokens=False).word_ids()
    assert len(window["input_ids"]) == len(tokens) + 2 > len(texts) + 2
    assert window["word_ids"] == [None, *range(len(texts)), None] and window["labels"] == [IGNORE, *tags, IGNORE]
    assert [([None, *tokens, None])[t] for t in window["keep"]] == window["word_ids"]
    model = network.from_minilm(layers=3).eval()
    named = {name: torch.from_numpy(v) for name, v in tensors([window]).items()}
    with torch.inference_mode():
        kept = model(**named).logits[0]
        full = model(**{k: v for k, v in named.items() if k != "keep"}).logits[0, window["keep"]]
        assert torch.allclose(kept, full, atol=1e-5)
        funnel = network.from_minilm(layers=3, inputs="funnel").eval()
        assert inputs_of(funnel) == "funnel" and inputs_of(model) == "sub-tokens"
        assert funnel(**named).logits.shape == kept.unsqueeze(0).shape


def test_decoding_picks_best_span_and_currency_beside_amount() -> None:
    """The highest-scoring span per field wins, normalised; currency is read beside the total."""
    words = [Word(text=t, bbox=(10 + 60 * i, 100, 60 + 60 * i, 110)) for i, t in
             enumerate(["Total", "1.234,50", "EUR", "Ref", "A-17"])]
    pw = reading_order(Page(number=1, width=600, height=800, words=words, lines=[]))
    o = [1.0] + [0.0] * (len(LABELS) - 1)

    def tag(label: str, p: float) -> list[float]:
        row = [0.0] * len(LABELS)
        row[LABEL_ID[label]], row[0] = p, 1 - p
        return row

    probs = [o, tag("B-total_amount", 0.9), o, o, tag("B-invoice_number", 0.8)]
    fields = choose([pw], [probs], "model:test", lambda s: s)
    assert fields["total_amount"].value == "1234.50" and fields["total_amount"].raw == "1.234,50"
    assert fields["invoice_number"].value == "A-17"
    assert fields["currency"].value == "EUR"


def test_calibration_is_monotone() -> None:
    """Fitted knots never fall as the score rises; the calibrator interpolates between them."""
    pairs = [(i / 100, i % 3 != 0 or i > 80) for i in range(100)]
    knots = fit(pairs, bins=8)
    assert all(a[1] <= b[1] for a, b in itertools.pairwise(knots))
    cal = Calibrator(knots)
    assert 0 <= cal(0.0) <= cal(0.5) <= cal(1.0) <= 1


def test_merge() -> None:
    """Agreement raises confidence; disagreement keeps the earlier extractor's value, less sure when
    the other reader was surer."""
    rule = FieldValue(value="A", confidence=0.9, source="t@1")
    same = FieldValue(value="A", confidence=0.8, source="model:x")
    other = FieldValue(value="B", confidence=0.6, source="model:x")
    assert merge(rule, same).confidence == pytest.approx(0.98)
    assert merge(rule, other) == rule  # a less sure reader that disagrees is no evidence against it
    surer = FieldValue(value="B", confidence=0.95, source="model:x")
    assert merge(rule, surer).value == "A" and merge(rule, surer).confidence == pytest.approx(0.9 * (1 - 0.475))
    assert merge(None, other) is other
    assert merge(other, rule).value == "B" and merge(other, rule).confidence == pytest.approx(0.33)


def test_merge_for_a_vendor_no_template_reads() -> None:
    """What the ranking or the generic rules read is lowered only by a surer reader that disagrees:
    the synthetic-trained model, unsure on a real layout, is no evidence against the arithmetic."""
    ranked = FieldValue(value="518.99", confidence=0.95, source="ranker@1")
    unsure = FieldValue(value="382.47", confidence=0.93, source="model:x")
    sure = FieldValue(value="382.47", confidence=0.99, source="model:x")
    assert merge(ranked, unsure) == ranked
    assert merge(ranked, sure).confidence == pytest.approx(0.95 * (1 - 0.5 * 0.99), abs=1e-4)
    checked = FieldValue(value="DE89370400440532013000", confidence=0.9, source="generic@1")
    assert merge(checked, FieldValue(value="DE123456789", confidence=0.6, source="model:x")) == checked
    agree = merge(ranked, FieldValue(value="518.99", confidence=0.7, source="generic@1"))
    assert agree.source == "ranker@1+generic@1" and agree.confidence == pytest.approx(0.985)


@pytest.mark.parametrize("inputs", ["sub-tokens", "funnel"])
def test_train_load_and_extract(tmp_path: Path, inputs: str) -> None:
    """A short real training run writes a versioned artifact that loads (fp32, int8) and extracts,
    a plain model or a funnel."""
    from services.extraction.model.infer import LayoutModel
    from services.synth.corpus import build
    from services.training.layout_model import train

    corpus = tmp_path / "corpus"
    build(corpus, vendors=4, docs=3, seed=5, holdout_vendors=1, jobs=1)
    folder = train(corpus, tmp_path / "models", epochs=1, layers=1 if inputs != "funnel" else 3, batch_size=4,
                   inputs=inputs, log=lambda m: None)
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["version"] == folder.name and len(meta["dataset"]["sha256"]) == 64
    assert meta["labels"] == LABELS and meta["calibration"]
    assert meta["inputs"] == inputs
    pdf, _ = generate(vendor_layouts(4, 5)[0], 5, 9)
    pages = DEFAULT_READER.read(pdf, max_pages=5)
    for int8 in (False, True):
        model = LayoutModel(folder, int8=int8, cache=tmp_path / "compiled")
        assert model.version == meta["version"] + ("+int8" if int8 else "")
        _, probs = model.word_probs(pages)
        assert len(probs[0]) == len(pages[0].words) and abs(sum(probs[0][0]) - 1) < 1e-3
        assert all(v.source.startswith("model:layoutlm-") for v in model.extract(pages).values())


def test_the_models_other_amount_does_not_question_totals_that_add_up() -> None:
    """net + tax = total as the ranking read them: the model's other VAT total is left out, its
    agreeing one raises confidence; where the totals do not add up, it questions them as before."""
    from services.extraction.logic import _against_totals

    def read(net: str, tax: str, total: str) -> dict[str, FieldValue]:
        return {name: FieldValue(value=v, confidence=0.95, source="ranker@1")
                for name, v in (("net_amount", net), ("tax_amount", tax), ("total_amount", total))}

    model = {"tax_amount": FieldValue(value="5.50", confidence=1.0, source="model:x+int8"),
             "total_amount": FieldValue(value="197.58", confidence=0.9, source="model:x+int8"),
             "invoice_number": FieldValue(value="R-1", confidence=0.9, source="model:x+int8")}
    assert set(_against_totals(read("177.43", "20.15", "197.58"), model)) == {"total_amount", "invoice_number"}
    assert _against_totals(read("177.43", "20.15", "197.00"), model) == model  # they do not add up
    assert _against_totals({"tax_amount": read("1", "2", "3")["tax_amount"]}, model) == model  # no triple


def test_unsure_model_only_values_are_left_out() -> None:
    """A value only the model read stays only when it is sure (or a reader agreed): for a vendor no
    template reads, and for the fields a known vendor's template missed."""
    from services.extraction.logic import MODEL_ONLY_FLOOR, _model_only, _uncorroborated

    assert _model_only("model:layoutlm-x+int8") and _model_only("model:layoutlm-x")
    assert not _model_only("ranker@1+model:layoutlm-x+int8") and not _model_only("generic@1")
    fields = {"vendor_iban": FieldValue(value="DE89370400440532013000", confidence=MODEL_ONLY_FLOOR - 0.1,
                                        source="model:x+int8"),
              "due_date": FieldValue(value="2025-01-01", confidence=0.95, source="model:x+int8"),
              "total_amount": FieldValue(value="1.00", confidence=0.6, source="ranker@1+model:x+int8"),
              "net_amount": FieldValue(value="1.00", confidence=0.6, source="t@1")}
    assert set(_uncorroborated(fields)) == {"due_date", "total_amount", "net_amount"}
