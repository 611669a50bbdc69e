"""After a run of `docflow up` on invoices of known vendors, an unknown vendor and a hybrid
e-invoice (which teaches a template), no value read from those documents appears in any log
file, in the supervisor's output or on the unauthenticated /metrics."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from services.storage.models import DocumentState
from services.synth.facturx import attach, cii_xml
from services.synth.layouts import BERGMANN, KESTREL, LUMIERE, NORTHWIND
from services.synth.render import generate
from tests.integration.test_recovery import states, wait_states
from tests.integration.up_world import Up

pytestmark = pytest.mark.integration
VALUE_FIELDS = ("vendor_name", "vendor_vat_id", "vendor_iban", "invoice_number", "purchase_order",
                "net_amount", "tax_amount", "total_amount")


def secrets(truth: dict) -> set[str]:
    """The values a document carries, as printed and as normalised (identifiers without spaces)."""
    out = set()
    for name in VALUE_FIELDS:
        value = truth["fields"].get(name)
        if value and len(value) >= 5:
            out |= {value, value.replace(" ", "")}
    out |= {item["description"] for item in truth["line_items"] if len(item["description"]) >= 8}
    return out


def test_no_document_value_in_logs_or_metrics(tmp_path: Path) -> None:
    folder = tmp_path / "pdfs"
    folder.mkdir()
    values: set[str] = set()
    for layout in (NORTHWIND, BERGMANN, LUMIERE, KESTREL):
        for serial in range(3):
            pdf, truth = generate(layout, seed=77, serial=serial)
            (folder / f"{layout.vendor_id}-{serial}.pdf").write_bytes(pdf)
            values |= secrets(truth)
    for serial in range(3, 5):  # hybrid e-invoices of the vendor no template reads: the teacher's path
        pdf, truth = generate(KESTREL, seed=77, serial=serial)
        (folder / f"kestrel-hybrid-{serial}.pdf").write_bytes(attach(pdf, cii_xml(truth)))
        values |= secrets(truth)

    total = len(list(folder.iterdir()))
    up = Up(tmp_path / "home").start()
    try:
        up.submit(folder)
        done = wait_states(up.home, lambda st: all(v in DocumentState.TERMINAL for v in st.values()), 240)
        assert len(done) == total and all(v in DocumentState.TERMINAL for v in done.values()), done
        with urllib.request.urlopen(f"http://127.0.0.1:{up.port}/metrics", timeout=10) as r:
            metrics = r.read().decode()
        assert "docflow_stage_messages" in metrics  # the page is the real one, with the run's figures
    finally:
        up.stop()

    texts = {"/metrics": metrics, "up.out": (up.home / "up.out").read_text(errors="replace")}
    texts |= {str(p.relative_to(up.home)): p.read_text(errors="replace") for p in (up.home / "logs").glob("*.log")}
    assert any("stage done" in t for t in texts.values()), "the logs are the run's"
    leaks = {(where, value) for where, text in texts.items() for value in values if value.lower() in text.lower()}
    assert not leaks, sorted(leaks)[:20]
    assert len(states(up.home)) == total
