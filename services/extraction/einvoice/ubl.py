"""OASIS UBL 2.1 Invoice and CreditNote (XRechnung's UBL syntax, Peppol BIS Billing 3.0)."""

from __future__ import annotations

from typing import Any

from services.contracts import EInvoice, LineItem
from services.extraction.einvoice import xml
from services.extraction.einvoice.xml import Reading, amount, date, decimal, first, identifier, text

ROOTS = ("Invoice", "CreditNote")


def read(root: Any, attachment: str) -> Reading:
    credit = root.tag == "CreditNote"
    currency = text(root, "DocumentCurrencyCode")
    seller = first(root, "AccountingSupplierParty/Party")
    totals = first(root, "LegalMonetaryTotal")
    fields = {
        "invoice_number": text(root, "ID"),
        "invoice_date": date(text(root, "IssueDate")),
        "vendor_name": text(seller, "PartyLegalEntity/RegistrationName|PartyName/Name"),
        "vendor_vat_id": identifier(text(seller, "PartyTaxScheme[TaxScheme/ID='VAT']/CompanyID"
                                                 "|PartyTaxScheme/CompanyID")),
        "vendor_iban": identifier(text(root, "PaymentMeans/PayeeFinancialAccount/ID")),
        "due_date": date(text(root, "DueDate|PaymentMeans/PaymentDueDate")),
        "purchase_order": text(root, "OrderReference/ID"),
        "currency": currency,
        "net_amount": amount(text(totals, "TaxExclusiveAmount")),
        "tax_amount": amount(_tax_total(root, currency)),
        "total_amount": amount(text(totals, "TaxInclusiveAmount")),
    }
    type_code = text(root, "InvoiceTypeCode|CreditNoteTypeCode") or ("381" if credit else "380")
    info = EInvoice(
        attachment=attachment, syntax="ubl", profile=text(root, "CustomizationID"), type_code=type_code,
        credit_note=credit or type_code in xml.CREDIT_NOTE_CODES,
        line_total=amount(text(totals, "LineExtensionAmount")),
        allowance_total=amount(text(totals, "AllowanceTotalAmount")),
        charge_total=amount(text(totals, "ChargeTotalAmount")),
        tax_basis_total=fields["net_amount"], tax_total=fields["tax_amount"], grand_total=fields["total_amount"],
        prepaid=amount(text(totals, "PrepaidAmount")), rounding=amount(text(totals, "PayableRoundingAmount")),
        amount_due=amount(text(totals, "PayableAmount")),
        allowances_charges=[found for ac in root.xpath("AllowanceCharge") if (found := xml.allowance_charge(
            xml.is_true(text(ac, "ChargeIndicator")), text(ac, "Amount"),
            text(ac, "AllowanceChargeReason"), text(ac, "TaxCategory/ID"), text(ac, "TaxCategory/Percent")))],
        taxes=[xml.tax(text(t, "TaxCategory/ID"), text(t, "TaxCategory/Percent"), text(t, "TaxableAmount"),
                       text(t, "TaxAmount"))
               for t in root.xpath("TaxTotal/TaxSubtotal")],
    )
    lines = root.xpath("InvoiceLine|CreditNoteLine")[:xml.MAX_LINES]
    return Reading(fields={k: v for k, v in fields.items() if v}, items=[_line(line) for line in lines], info=info,
                   buyer_name=text(root, "AccountingCustomerParty/Party/PartyLegalEntity/RegistrationName"
                                         "|AccountingCustomerParty/Party/PartyName/Name"))


def _tax_total(root: Any, currency: str | None) -> str | None:
    """BT-110: the TaxTotal in the document currency (a second one may be in the tax currency)."""
    for node in root.xpath("TaxTotal/TaxAmount"):
        if currency and node.get("currencyID") == currency and node.text:
            return node.text
    return text(root, "TaxTotal/TaxAmount")


def _line(line: Any) -> LineItem:
    allowances, charges = xml.line_allowances_charges(line.xpath("AllowanceCharge"), "Amount", "ChargeIndicator")
    return LineItem(
        description=text(line, "Item/Name"),
        quantity=decimal(text(line, "InvoicedQuantity|CreditedQuantity")),
        unit_price=decimal(text(line, "Price/PriceAmount")),
        amount=amount(text(line, "LineExtensionAmount")),
        price_basis_quantity=decimal(text(line, "Price/BaseQuantity")),
        allowances=allowances, charges=charges,
        line_id=text(line, "ID"), parent_line_id=None,
    )
