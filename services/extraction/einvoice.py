"""Embedded e-invoices: a PDF carrying a Factur-X / ZUGFeRD / XRechnung XML is read from the
XML (the authoritative data, EN 16931 in CII or UBL syntax), and each value is checked
against the printed page: a value the page does not show loses confidence, so validation
sends the document to an operator instead of trusting a print that disagrees."""

from __future__ import annotations

import io
import re
from decimal import Decimal, InvalidOperation

from services.contracts import FieldValue, LineItem, Page
from services.extraction.normalise import normalise_amount, normalise_date

ATTACHMENT_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "zugferd_invoice.xml", "xrechnung.xml",
                    "order-x.xml")
PRINTED, NOT_PRINTED = 0.999, 0.6

_CII = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
_UBL = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}
_CII_FIELDS = {
    "invoice_number": "rsm:ExchangedDocument/ram:ID",
    "invoice_date": "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString",
    "vendor_name": "//ram:SellerTradeParty/ram:Name",
    "vendor_vat_id": "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']",
    "vendor_iban": "//ram:PayeePartyCreditorFinancialAccount/ram:IBANID",
    "due_date": "//ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString",
    "purchase_order": "//ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID",
    "currency": "//ram:ApplicableHeaderTradeSettlement/ram:InvoiceCurrencyCode",
    "net_amount": "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:TaxBasisTotalAmount",
    "tax_amount": "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:TaxTotalAmount",
    "total_amount": "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:GrandTotalAmount",
}
_UBL_FIELDS = {
    "invoice_number": "cbc:ID",
    "invoice_date": "cbc:IssueDate",
    "vendor_name": "cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName",
    "vendor_vat_id": "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID",
    "vendor_iban": "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID",
    "due_date": "cbc:DueDate",
    "purchase_order": "cac:OrderReference/cbc:ID",
    "currency": "cbc:DocumentCurrencyCode",
    "net_amount": "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount",
    "tax_amount": "cac:TaxTotal/cbc:TaxAmount",
    "total_amount": "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount",
}


def attachment(data: bytes) -> tuple[str, bytes] | None:
    """The e-invoice XML embedded in the PDF, by its standard file name, if there is one."""
    import pikepdf

    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            for name, spec in pdf.attachments.items():
                if name.lower() in ATTACHMENT_NAMES:
                    return name, spec.get_file().read_bytes()
    except (pikepdf.PdfError, ValueError, KeyError):
        return None
    return None


def _text(root, path: str, ns: dict) -> str | None:  # type: ignore[no-untyped-def]
    found = root.xpath(path, namespaces=ns)
    if not found:
        return None
    value = found[0].text if hasattr(found[0], "text") else str(found[0])
    return value.strip() if value and value.strip() else None


def _date(value: str | None) -> str | None:
    if value is None:
        return None
    if re.fullmatch(r"\d{8}", value):  # CII format 102: YYYYMMDD
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    try:
        return normalise_date(value)
    except ValueError:
        return None


def _amount(value: str | None) -> str | None:
    try:
        return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))
    except InvalidOperation:
        return None


def parse_xml(xml: bytes) -> tuple[str, dict[str, str], list[LineItem]]:
    """Header fields and line items of a CII (Factur-X/ZUGFeRD) or UBL (XRechnung) invoice."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    root = etree.fromstring(xml, parser)
    if root.tag.endswith("CrossIndustryInvoice"):
        syntax, ns, paths = "cii", _CII, _CII_FIELDS
    else:
        syntax, ns, paths = "ubl", _UBL, _UBL_FIELDS
    fields: dict[str, str] = {}
    for name, path in paths.items():
        value = _text(root, path, ns)
        if name in ("invoice_date", "due_date"):
            value = _date(value)
        elif name.endswith("_amount"):
            value = _amount(value)
        elif name in ("vendor_vat_id", "vendor_iban") and value:
            value = re.sub(r"\s", "", value).upper()
        if value:
            fields[name] = value
    items = []
    if syntax == "cii":
        for line in root.xpath("//ram:IncludedSupplyChainTradeLineItem", namespaces=ns):
            items.append(LineItem(
                description=_text(line, "ram:SpecifiedTradeProduct/ram:Name", ns),
                quantity=_amount(_text(line, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", ns)),
                unit_price=_amount(_text(line, ".//ram:NetPriceProductTradePrice/ram:ChargeAmount", ns)),
                amount=_amount(_text(line, ".//ram:LineTotalAmount", ns)),
            ))
    return syntax, fields, items


def printed(name: str, value: str, pages: list[Page]) -> bool:
    """Whether the page shows ``value`` in some printed form."""
    words = [w.text for p in pages for w in p.words]
    if name.endswith("_amount"):
        for i in range(len(words)):
            for j in (1, 2):  # "1 234,56" is two words
                try:
                    if normalise_amount(" ".join(words[i:i + j])) == value or \
                            normalise_amount(" ".join(words[i:i + j]), ",") == value:
                        return True
                except ValueError:
                    continue
        return False
    if name in ("invoice_date", "due_date"):
        for i in range(len(words)):
            for j in (1, 2, 3):
                try:
                    if normalise_date(" ".join(words[i:i + j])) == value:
                        return True
                except ValueError:
                    continue
        return False
    compact = re.sub(r"[\W_]", "", "".join(words)).upper()
    return re.sub(r"[\W_]", "", value).upper() in compact


def read_einvoice(data: bytes, pages: list[Page]) -> tuple[dict[str, FieldValue], list[LineItem]] | None:
    """Fields from the embedded XML, each checked against the printed page; None without XML."""
    found = attachment(data)
    if found is None:
        return None
    name, xml = found
    try:
        _syntax, values, items = parse_xml(xml)
    except Exception:  # a broken attachment is no e-invoice: the page is read as usual
        return None
    source = f"einvoice:{name}"
    fields = {
        field: FieldValue(value=value, confidence=PRINTED if printed(field, value, pages) else NOT_PRINTED,
                          source=source, raw=value)
        for field, value in values.items()
    }
    return fields, items
