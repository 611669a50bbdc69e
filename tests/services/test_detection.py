"""Detection: identifiers and keywords pick the template; otherwise unknown, with the reasons."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.contracts import DocumentRef
from services.detection.logic import detect
from services.extraction.templates import load_templates
from services.parsing.logic import parse
from services.synth.layouts import KESTREL, LAYOUTS
from services.synth.render import generate

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
