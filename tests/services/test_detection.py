"""Detection: identifiers and keywords pick the template; otherwise unknown, with the reasons."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.contracts import DocumentRef
from services.detection.logic import detect
from services.parsing.logic import parse
from services.synth.layouts import KESTREL, LAYOUTS
from services.synth.render import generate
from services.vocabulary.templates import load_templates

TEMPLATES = load_templates(Path(__file__).resolve().parents[2] / "rules" / "templates")


def parsed(layout, serial: int = 1):  # type: ignore[no-untyped-def]
    data, _ = generate(layout, seed=3, serial=serial)
    ref = DocumentRef(document_id="d", source="t", filename="f", content_type="application/pdf",
                      sha256="0" * 64, size=1, blob_uri="b", submitted_at=datetime.now(UTC))
    return parse(data, ref, max_pages=10)


@pytest.mark.parametrize("vendor", sorted(LAYOUTS))
def test_known_vendor_matched(vendor: str) -> None:
    """Each templated vendor is recognised by identifiers and keywords, with high confidence."""
    detection = detect(parsed(LAYOUTS[vendor]), TEMPLATES)
    assert detection.status == "matched"
    assert detection.template_id == vendor and detection.template_version == 1
    assert detection.confidence >= 0.95
    assert any("vendor_vat_id" in e for e in detection.evidence)


def test_unknown_vendor_says_why() -> None:
    """A vendor with no template is unknown, and the evidence names what each template missed."""
    detection = detect(parsed(KESTREL), TEMPLATES)
    assert detection.status == "unknown" and detection.template_id is None
    assert len(detection.evidence) == len(TEMPLATES)
    assert all("not found" in e for e in detection.evidence)


def test_no_templates_loaded() -> None:
    """With no templates at all, the evidence says so."""
    assert detect(parsed(KESTREL), []).evidence == ["no templates are loaded"]


def test_keywords_are_whole_names_and_yield_to_another_vat_id() -> None:
    """A name inside a longer one is not the keyword; nor is the name of a GmbH inside its GmbH & Co. KG;
    and a name printed beside someone else's VAT id of the template's country is no match."""
    from services.detection.logic import _fold, score
    from services.vocabulary.templates import MatchRule, Template

    template = Template(id="lief", version=1, issuer="Lieferant GmbH", fields={},
                        match=MatchRule(keywords=["Lieferant GmbH"], identifiers={"vendor_vat_id": "DE 123 456 789"}))

    def confidence(text: str) -> float:
        folded = _fold(text)
        return score(template, folded, "".join(c for c in folded if c.isalnum()))[0]

    assert confidence("Rechnung der Lieferant GmbH, München") == 0.85
    assert confidence("Musterlieferant GmbH") == 0.0
    assert confidence("Lieferant GmbH & Co. KG") == 0.0
    assert confidence("Lieferant GmbH USt-IdNr. DE 987 654 321") == 0.0
    assert confidence("Lieferant GmbH USt-IdNr. DE123456789") == 0.99
