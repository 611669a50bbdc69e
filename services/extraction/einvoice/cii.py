"""UN/CEFACT Cross Industry Invoice: Factur-X and ZUGFeRD 2.x (CrossIndustryInvoice, every profile
from MINIMUM to EXTENDED and XRECHNUNG) and ZUGFeRD 1.0 (CrossIndustryDocument, its own namespace
and element names). Each path lists the 2.x name first, then the 1.0 one."""

from __future__ import annotations

from typing import Any

from services.contracts import EInvoice, LineItem
from services.extraction.einvoice import xml
from services.extraction.einvoice.xml import Reading, amount, date, decimal, first, identifier, text

ROOTS = ("CrossIndustryInvoice", "CrossIndustryDocument")

CONTEXT = "ExchangedDocumentContext|SpecifiedExchangedDocumentContext"
DOCUMENT = "ExchangedDocument|HeaderExchangedDocument"
TRANSACTION = "SupplyChainTradeTransaction|SpecifiedSupplyChainTradeTransaction"
AGREEMENT = "ApplicableHeaderTradeAgreement|ApplicableSupplyChainTradeAgreement"
SETTLEMENT = "ApplicableHeaderTradeSettlement|ApplicableSupplyChainTradeSettlement"
SUMMATION = "SpecifiedTradeSettlementHeaderMonetarySummation|SpecifiedTradeSettlementMonetarySummation"
RATE = "RateApplicablePercent|ApplicablePercent"


def read(root: Any, attachment: str) -> Reading:
    zf1 = root.tag == "CrossIndustryDocument"
    doc, tx = first(root, DOCUMENT), first(root, TRANSACTION)
    agreement, settlement = first(tx, AGREEMENT), first(tx, SETTLEMENT)
    totals = first(settlement, SUMMATION)
    currency = text(settlement, "InvoiceCurrencyCode")
    seller = first(agreement, "SellerTradeParty")
    fields = {
        "invoice_number": text(doc, "ID"),
        "invoice_date": date(text(doc, "IssueDateTime/DateTimeString")),
        "vendor_name": text(seller, "Name"),
        "vendor_vat_id": identifier(text(seller, "SpecifiedTaxRegistration/ID[@schemeID='VA']")),
        "vendor_iban": identifier(text(settlement, "SpecifiedTradeSettlementPaymentMeans/"
                                                   "PayeePartyCreditorFinancialAccount/IBANID")),
        "due_date": date(text(settlement, "SpecifiedTradePaymentTerms/DueDateDateTime/DateTimeString")),
        "purchase_order": text(agreement, "BuyerOrderReferencedDocument/IssuerAssignedID"
                                          "|BuyerOrderReferencedDocument/ID"),
        "currency": currency,
        "net_amount": amount(text(totals, "TaxBasisTotalAmount")),
        "tax_amount": amount(_tax_total(totals, currency)),
        "total_amount": amount(text(totals, "GrandTotalAmount")),
    }
    type_code = text(doc, "TypeCode")
    info = EInvoice(
        attachment=attachment, syntax="cii-zugferd1" if zf1 else "cii",
        profile=text(first(root, CONTEXT), "GuidelineSpecifiedDocumentContextParameter/ID"),
        type_code=type_code, credit_note=type_code in xml.CREDIT_NOTE_CODES,
        line_total=amount(text(totals, "LineTotalAmount")),
        allowance_total=amount(text(totals, "AllowanceTotalAmount")),
        charge_total=amount(text(totals, "ChargeTotalAmount")),
        tax_basis_total=fields["net_amount"], tax_total=fields["tax_amount"], grand_total=fields["total_amount"],
        prepaid=amount(text(totals, "TotalPrepaidAmount")), rounding=amount(text(totals, "RoundingAmount")),
        amount_due=amount(text(totals, "DuePayableAmount")),
        allowances_charges=_allowances_charges(settlement),
        taxes=[xml.tax(text(t, "CategoryCode"), text(t, RATE), text(t, "BasisAmount"), text(t, "CalculatedAmount"))
               for t in settlement.xpath("ApplicableTradeTax")] if settlement is not None else [],
    )
    items = [_line(line) for line in (tx.xpath("IncludedSupplyChainTradeLineItem") if tx is not None else [])
             [:xml.MAX_LINES]]
    return Reading(fields={k: v for k, v in fields.items() if v}, items=items, info=info,
                   buyer_name=text(agreement, "BuyerTradeParty/Name"))


def _tax_total(totals: Any, currency: str | None) -> str | None:
    """BT-110, the VAT total in the invoice currency (a second TaxTotalAmount may be in the
    accounting currency, BT-111)."""
    if totals is None:
        return None
    found = totals.xpath("TaxTotalAmount")
    for node in found:
        if currency and node.get("currencyID") == currency and node.text:
            return node.text
    return text(totals, "TaxTotalAmount")


def _allowances_charges(settlement: Any) -> list:
    if settlement is None:
        return []
    out = []
    for ac in settlement.xpath("SpecifiedTradeAllowanceCharge"):
        found = xml.allowance_charge(xml.is_true(text(ac, "ChargeIndicator/Indicator")), text(ac, "ActualAmount"),
                                     text(ac, "Reason"), text(ac, "CategoryTradeTax/CategoryCode"),
                                     text(first(ac, "CategoryTradeTax"), RATE))
        if found:
            out.append(found)
    for lc in settlement.xpath("SpecifiedLogisticsServiceCharge"):  # ZUGFeRD 1.0: a charge of its own
        found = xml.allowance_charge(True, text(lc, "AppliedAmount"), text(lc, "Description"),
                                     text(lc, "AppliedTradeTax/CategoryCode"),
                                     text(first(lc, "AppliedTradeTax"), RATE))
        if found:
            out.append(found)
    return out


def _line(line: Any) -> LineItem:
    document = first(line, "AssociatedDocumentLineDocument")
    agreement = first(line, "SpecifiedLineTradeAgreement|SpecifiedSupplyChainTradeAgreement")
    delivery = first(line, "SpecifiedLineTradeDelivery|SpecifiedSupplyChainTradeDelivery")
    settlement = first(line, "SpecifiedLineTradeSettlement|SpecifiedSupplyChainTradeSettlement")
    allowances, charges = xml.line_allowances_charges(
        settlement.xpath("SpecifiedTradeAllowanceCharge") if settlement is not None else [],
        "ActualAmount", "ChargeIndicator/Indicator")
    return LineItem(
        description=text(line, "SpecifiedTradeProduct/Name"),
        quantity=decimal(text(delivery, "BilledQuantity")),
        unit_price=decimal(text(agreement, "NetPriceProductTradePrice/ChargeAmount")),
        amount=amount(text(settlement, "SpecifiedTradeSettlementLineMonetarySummation/LineTotalAmount"
                                       "|SpecifiedTradeSettlementMonetarySummation/LineTotalAmount")),
        price_basis_quantity=decimal(text(agreement, "NetPriceProductTradePrice/BasisQuantity"
                                                     "|GrossPriceProductTradePrice/BasisQuantity")),
        allowances=allowances, charges=charges,
        line_id=text(document, "LineID"), parent_line_id=text(document, "ParentLineID"),
    )

