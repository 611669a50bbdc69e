"""The e-invoice syntaxes read from their XML: ZUGFeRD 1.0, CII 2.x with allowances, charges and
price base quantities, UBL invoices and credit notes; and what is no e-invoice."""

# ruff: noqa: E501  (XML fixtures, one element per line)
from __future__ import annotations

import pytest

from services.extraction.einvoice import read_xml
from services.extraction.einvoice.xml import NotAnInvoice

ZF1 = b"""<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:CrossIndustryDocument:invoice:1p0"
 xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12"
 xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:15">
 <rsm:SpecifiedExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter>
  <ram:ID>urn:ferd:CrossIndustryDocument:invoice:1p0:comfort</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter>
 </rsm:SpecifiedExchangedDocumentContext>
 <rsm:HeaderExchangedDocument><ram:ID>471102</ram:ID><ram:TypeCode>380</ram:TypeCode>
  <ram:IssueDateTime><udt:DateTimeString format="102">20130605</udt:DateTimeString></ram:IssueDateTime>
 </rsm:HeaderExchangedDocument>
 <rsm:SpecifiedSupplyChainTradeTransaction>
  <ram:ApplicableSupplyChainTradeAgreement>
   <ram:SellerTradeParty><ram:Name>Lieferant GmbH</ram:Name>
    <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">DE 123456789</ram:ID></ram:SpecifiedTaxRegistration>
   </ram:SellerTradeParty>
   <ram:BuyerTradeParty><ram:Name>Kunden AG</ram:Name></ram:BuyerTradeParty>
   <ram:BuyerOrderReferencedDocument><ram:ID>2013-471331</ram:ID></ram:BuyerOrderReferencedDocument>
  </ram:ApplicableSupplyChainTradeAgreement>
  <ram:ApplicableSupplyChainTradeSettlement>
   <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
   <ram:SpecifiedTradeSettlementPaymentMeans><ram:PayeePartyCreditorFinancialAccount>
    <ram:IBANID>DE08 7009 0100 1234 5678 90</ram:IBANID></ram:PayeePartyCreditorFinancialAccount>
   </ram:SpecifiedTradeSettlementPaymentMeans>
   <ram:ApplicableTradeTax><ram:CalculatedAmount>1.90</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode>
    <ram:BasisAmount>10.00</ram:BasisAmount><ram:CategoryCode>S</ram:CategoryCode>
    <ram:ApplicablePercent>19.00</ram:ApplicablePercent></ram:ApplicableTradeTax>
   <ram:SpecifiedTradeAllowanceCharge><ram:ChargeIndicator><udt:Indicator>false</udt:Indicator></ram:ChargeIndicator>
    <ram:ActualAmount>1.00</ram:ActualAmount><ram:Reason>Sondernachlass</ram:Reason></ram:SpecifiedTradeAllowanceCharge>
   <ram:SpecifiedLogisticsServiceCharge><ram:Description>Versand</ram:Description>
    <ram:AppliedAmount>1.00</ram:AppliedAmount></ram:SpecifiedLogisticsServiceCharge>
   <ram:SpecifiedTradePaymentTerms><ram:DueDateDateTime><udt:DateTimeString format="102">20130704</udt:DateTimeString>
    </ram:DueDateDateTime></ram:SpecifiedTradePaymentTerms>
   <ram:SpecifiedTradeSettlementMonetarySummation>
    <ram:LineTotalAmount>10.00</ram:LineTotalAmount><ram:ChargeTotalAmount>1.00</ram:ChargeTotalAmount>
    <ram:AllowanceTotalAmount>1.00</ram:AllowanceTotalAmount><ram:TaxBasisTotalAmount>10.00</ram:TaxBasisTotalAmount>
    <ram:TaxTotalAmount currencyID="EUR">1.90</ram:TaxTotalAmount><ram:GrandTotalAmount>11.90</ram:GrandTotalAmount>
    <ram:TotalPrepaidAmount>5.00</ram:TotalPrepaidAmount><ram:DuePayableAmount>6.90</ram:DuePayableAmount>
   </ram:SpecifiedTradeSettlementMonetarySummation>
  </ram:ApplicableSupplyChainTradeSettlement>
  <ram:IncludedSupplyChainTradeLineItem>
   <ram:AssociatedDocumentLineDocument><ram:LineID>1</ram:LineID></ram:AssociatedDocumentLineDocument>
   <ram:SpecifiedSupplyChainTradeAgreement><ram:NetPriceProductTradePrice><ram:ChargeAmount>3.3333</ram:ChargeAmount>
    <ram:BasisQuantity unitCode="MTK">1.0000</ram:BasisQuantity></ram:NetPriceProductTradePrice>
   </ram:SpecifiedSupplyChainTradeAgreement>
   <ram:SpecifiedSupplyChainTradeDelivery><ram:BilledQuantity unitCode="MTK">3.0000</ram:BilledQuantity>
   </ram:SpecifiedSupplyChainTradeDelivery>
   <ram:SpecifiedSupplyChainTradeSettlement><ram:SpecifiedTradeSettlementMonetarySummation>
    <ram:LineTotalAmount>10.00</ram:LineTotalAmount></ram:SpecifiedTradeSettlementMonetarySummation>
   </ram:SpecifiedSupplyChainTradeSettlement>
   <ram:SpecifiedTradeProduct><ram:Name>Kunstrasen</ram:Name></ram:SpecifiedTradeProduct>
  </ram:IncludedSupplyChainTradeLineItem>
 </rsm:SpecifiedSupplyChainTradeTransaction>
</rsm:CrossIndustryDocument>"""

UBL_CREDIT_NOTE = b"""<?xml version="1.0" encoding="UTF-8"?>
<CreditNote xmlns="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
 <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0</cbc:CustomizationID>
 <cbc:ID>GS-2024-17</cbc:ID><cbc:IssueDate>2024-03-01</cbc:IssueDate>
 <cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode><cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
 <cac:OrderReference><cbc:ID>PO-9</cbc:ID></cac:OrderReference>
 <cac:AccountingSupplierParty><cac:Party>
  <cac:PartyTaxScheme><cbc:CompanyID>DE136695976</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
  <cac:PartyLegalEntity><cbc:RegistrationName>Seller GmbH</cbc:RegistrationName></cac:PartyLegalEntity>
 </cac:Party></cac:AccountingSupplierParty>
 <cac:AccountingCustomerParty><cac:Party><cac:PartyName><cbc:Name>Buyer AG</cbc:Name></cac:PartyName></cac:Party></cac:AccountingCustomerParty>
 <cac:PaymentMeans><cbc:PaymentMeansCode>58</cbc:PaymentMeansCode>
  <cac:PayeeFinancialAccount><cbc:ID>DE02120300000000202051</cbc:ID></cac:PayeeFinancialAccount></cac:PaymentMeans>
 <cac:AllowanceCharge><cbc:ChargeIndicator>true</cbc:ChargeIndicator><cbc:AllowanceChargeReason>Fracht</cbc:AllowanceChargeReason>
  <cbc:Amount currencyID="EUR">5.00</cbc:Amount><cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent></cac:TaxCategory></cac:AllowanceCharge>
 <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">4.75</cbc:TaxAmount>
  <cac:TaxSubtotal><cbc:TaxableAmount currencyID="EUR">25.00</cbc:TaxableAmount><cbc:TaxAmount currencyID="EUR">4.75</cbc:TaxAmount>
   <cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent></cac:TaxCategory></cac:TaxSubtotal></cac:TaxTotal>
 <cac:LegalMonetaryTotal><cbc:LineExtensionAmount currencyID="EUR">20.00</cbc:LineExtensionAmount>
  <cbc:TaxExclusiveAmount currencyID="EUR">25.00</cbc:TaxExclusiveAmount><cbc:TaxInclusiveAmount currencyID="EUR">29.75</cbc:TaxInclusiveAmount>
  <cbc:ChargeTotalAmount currencyID="EUR">5.00</cbc:ChargeTotalAmount><cbc:PayableAmount currencyID="EUR">29.75</cbc:PayableAmount>
 </cac:LegalMonetaryTotal>
 <cac:CreditNoteLine><cbc:ID>1</cbc:ID><cbc:CreditedQuantity unitCode="KGM">250</cbc:CreditedQuantity>
  <cbc:LineExtensionAmount currencyID="EUR">20.00</cbc:LineExtensionAmount><cac:Item><cbc:Name>Kaffee</cbc:Name></cac:Item>
  <cac:Price><cbc:PriceAmount currencyID="EUR">8.00</cbc:PriceAmount><cbc:BaseQuantity unitCode="KGM">100</cbc:BaseQuantity></cac:Price>
 </cac:CreditNoteLine>
</CreditNote>"""


def test_zugferd_1_is_read_in_its_own_namespace() -> None:
    r = read_xml(ZF1, "ZUGFeRD-invoice.xml")
    assert r.fields == {
        "invoice_number": "471102", "invoice_date": "2013-06-05", "vendor_name": "Lieferant GmbH",
        "vendor_vat_id": "DE123456789", "vendor_iban": "DE08700901001234567890", "due_date": "2013-07-04",
        "purchase_order": "2013-471331", "currency": "EUR", "net_amount": "10.00", "tax_amount": "1.90",
        "total_amount": "11.90"}
    assert r.info.syntax == "cii-zugferd1" and r.info.profile.endswith(":comfort")
    assert (r.info.prepaid, r.info.amount_due) == ("5.00", "6.90")
    # The 1.0 logistics charge is a document-level charge like any other.
    assert [(x.charge, x.amount) for x in r.info.allowances_charges] == [(False, "1.00"), (True, "1.00")]
    assert [(t.rate, t.basis, t.tax) for t in r.info.taxes] == [("19.00", "10.00", "1.90")]
    (line,) = r.items
    # A price keeps its four decimals: 3 x 3.3333 is the line's 10.00, a price rounded to 3.33 is not.
    assert (line.quantity, line.unit_price, line.amount, line.price_basis_quantity) == ("3.00", "3.3333", "10.00", "1.00")
    assert r.buyer_name == "Kunden AG"


def test_ubl_credit_note() -> None:
    r = read_xml(UBL_CREDIT_NOTE, "xrechnung.xml")
    assert r.info.syntax == "ubl" and r.info.credit_note and r.info.type_code == "381"
    assert r.fields["invoice_number"] == "GS-2024-17" and r.fields["vendor_name"] == "Seller GmbH"
    assert r.fields["vendor_vat_id"] == "DE136695976" and r.fields["purchase_order"] == "PO-9"
    assert (r.fields["net_amount"], r.fields["tax_amount"], r.fields["total_amount"]) == ("25.00", "4.75", "29.75")
    (line,) = r.items
    assert (line.quantity, line.unit_price, line.price_basis_quantity, line.amount) == ("250.00", "8.00", "100.00", "20.00")
    assert r.info.allowances_charges[0].charge and r.info.charge_total == "5.00"


def test_other_xml_is_no_invoice() -> None:
    with pytest.raises(NotAnInvoice):
        read_xml(b"<Order xmlns='urn:x'><ID>1</ID></Order>")


def test_entities_are_not_expanded() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>&b;</ID></Invoice>')
    r = read_xml(bomb)
    assert "aaaa" not in (r.fields.get("invoice_number") or "")
