"""Generic rules (rules/generic.yaml): what a document no vendor template matched gets from the
labels every invoice uses, at their own confidence; a matched document never uses them."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

from services.contracts import IncomingDocument
from services.extraction.logic import CHECKED_CONFIDENCE, GENERIC_CONFIDENCE
from services.pipeline import run
from services.runtime import Runtime
from services.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "tests" / "golden"


def runtime(tmp_path: Path, *, templates: bool) -> Runtime:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    if not templates:
        shutil.rmtree(rules / "templates")
        (rules / "templates").mkdir()
    return Runtime(Settings(home=tmp_path / "home", rules_dir=rules, database_url=f"sqlite:///{tmp_path / 'd.db'}"))


def read(rt: Runtime, name: str):  # type: ignore[no-untyped-def]
    pdf = (GOLDEN / f"{name}.pdf").read_bytes()
    return run(IncomingDocument(document_id=name, source="t", content=base64.b64encode(pdf).decode()), rt).result


def test_an_unknown_vendor_gets_its_identifiers_and_key_values_from_the_generic_rules(tmp_path: Path) -> None:
    result = read(runtime(tmp_path, templates=False), "northwind")
    assert result.detection.status == "unknown"
    generic = {name: fv for name, fv in result.fields.items() if "generic@1" in fv.source.split("+")}
    # Northwind prints "Invoice No:", "IBAN:", "VAT Reg. No:", "Currency:", "Invoice Date:", "Total Due".
    printed = {"invoice_number", "vendor_iban", "vendor_vat_id", "currency", "invoice_date", "total_amount"}
    assert printed <= set(generic)
    golden = json.loads((GOLDEN / "northwind.json").read_text())["fields"]  # what its template reads
    assert {name: fv.value for name, fv in generic.items()} == {name: golden[name]["value"] for name in generic}
    # The identifiers come from the generic rules alone (their check digits hold: 0.9); the other
    # values the ranking read first, and the generic rules' agreement raised their confidence.
    assert {name: fv.confidence for name, fv in generic.items() if name.startswith("vendor_")} == {
        "vendor_iban": CHECKED_CONFIDENCE, "vendor_vat_id": CHECKED_CONFIDENCE}
    for name in printed - {"vendor_iban", "vendor_vat_id"}:
        assert generic[name].source == "ranker@1+generic@1" and generic[name].confidence > GENERIC_CONFIDENCE


def test_a_matched_document_is_read_by_its_template_alone(tmp_path: Path) -> None:
    result = read(runtime(tmp_path, templates=True), "northwind")
    assert result.detection.status == "matched"
    assert not any("generic" in fv.source for fv in result.fields.values())


def test_without_the_file_there_are_no_generic_rules(tmp_path: Path) -> None:
    rt = runtime(tmp_path, templates=False)
    (rt.settings.rules_dir / "generic.yaml").unlink()
    assert rt.generic is None
    assert not any("generic" in fv.source for fv in read(rt, "northwind").fields.values())


def test_checked_identifiers_are_surer(tmp_path: Path) -> None:
    """An IBAN or VAT id beside its label whose check digits hold reads at 0.9; one that fails them
    at the generic rules' own confidence (validation reports it)."""
    from services.extraction.logic import _generic_confidence

    assert _generic_confidence("vendor_iban", "DE89370400440532013000") == CHECKED_CONFIDENCE
    assert _generic_confidence("vendor_iban", "DE89370400440532013001") == GENERIC_CONFIDENCE
    assert _generic_confidence("vendor_vat_id", "DE123456789") == GENERIC_CONFIDENCE  # check digit 8, not 9
    assert _generic_confidence("vendor_vat_id", "DE136695976") == CHECKED_CONFIDENCE
    assert _generic_confidence("invoice_number", "4711") == GENERIC_CONFIDENCE


def test_a_template_s_gaps_are_filled_and_only_its_gaps(tmp_path: Path) -> None:
    """A template with no rule for the VAT total, the VAT id and the IBAN (one induced from an invoice
    that did not show them, say): the IBAN it was detected by is taken from the page, the ranking and
    the generic rules fill the other two, and they touch nothing else."""
    import yaml

    rt = runtime(tmp_path, templates=True)
    path = rt.settings.rules_dir / "templates" / "northwind.yaml"
    data = yaml.safe_load(path.read_text())
    del data["fields"]["tax_amount"], data["fields"]["vendor_vat_id"], data["fields"]["vendor_iban"]
    del data["match"]["identifiers"]["vendor_vat_id"]
    path.write_text(yaml.safe_dump(data))
    result = read(rt, "northwind")
    golden = json.loads((GOLDEN / "northwind.json").read_text())["fields"]
    assert result.detection.status == "matched"
    assert result.fields["tax_amount"].value == golden["tax_amount"]["value"]
    assert result.fields["tax_amount"].source.startswith("ranker@1")
    assert result.fields["vendor_vat_id"].value == golden["vendor_vat_id"]["value"]
    assert result.fields["vendor_vat_id"].source.startswith("generic@1")
    iban = result.fields["vendor_iban"]
    assert (iban.value, iban.source) == (golden["vendor_iban"]["value"], "northwind@1")
    for name, fv in result.fields.items():
        if name not in ("tax_amount", "vendor_vat_id"):
            assert fv.source.split("+")[0].startswith("northwind@"), name
            assert "ranker" not in fv.source and "generic" not in fv.source, name


def test_an_unknown_vendor_s_item_table_is_read_where_it_adds_up_to_the_net(tmp_path: Path) -> None:
    """Under a header row of the usual column names the generic rules read the items, as the
    vendor's own template reads them, for a vendor nobody onboarded."""
    rt = runtime(tmp_path, templates=False)
    for name in ("northwind", "bergmann", "lumiere"):  # English, German, French headers
        result = read(rt, name)
        assert result.detection.status == "unknown", name
        golden = json.loads((GOLDEN / f"{name}.json").read_text())["line_items"]
        assert [item.model_dump(include={"description", "quantity", "unit_price", "amount"})
                for item in result.line_items] == [
            {key: item[key] for key in ("description", "quantity", "unit_price", "amount")} for item in golden], name


def test_rows_that_are_not_the_invoice_s_items_are_left_out() -> None:
    """A reader that knows no vendor keeps its rows only where they add up to the net to the cent
    and each row's quantity times its price is its amount: anything else would be an integrator's
    wrong data, or a validation issue for nothing."""
    from services.contracts import FieldValue, LineItem
    from services.extraction.logic import _items_add_up

    def net(value: str | None) -> FieldValue:
        return FieldValue(value=value, confidence=0.9, source="ranker@1")

    items = [LineItem(description="a", quantity="2.00", unit_price="1.50", amount="3.00"),
             LineItem(description="b", amount="4.00")]
    assert _items_add_up(items, net("7.00"))
    assert not _items_add_up(items, net("7.01"))  # a row missing, or one too many
    assert not _items_add_up(items, None) and not _items_add_up(items, net(None))  # nothing to add up to
    assert not _items_add_up([], net("0.00"))
    wrong = [items[0].model_copy(update={"unit_price": "1.60"}), items[1]]
    assert not _items_add_up(wrong, net("7.00"))  # 2 x 1.60 is not 3.00: a column read as another
    assert not _items_add_up([LineItem(description="c", amount="n/a")], net("7.00"))
