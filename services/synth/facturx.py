"""Hybrid e-invoices for tests: a synthetic PDF with a Factur-X (CII) XML built from its truth."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape


def cii_xml(truth: dict, overrides: dict[str, str] | None = None) -> bytes:
    f = dict(truth["fields"]) | (overrides or {})
    currency = f["currency"]

    def d(iso: str) -> str:
        return f'<udt:DateTimeString format="102">{iso.replace("-", "")}</udt:DateTimeString>'

    lines = "".join(
        f"""<ram:IncludedSupplyChainTradeLineItem>
  <ram:AssociatedDocumentLineDocument><ram:LineID>{n}</ram:LineID></ram:AssociatedDocumentLineDocument>
  <ram:SpecifiedTradeProduct><ram:Name>{escape(item["description"])}</ram:Name></ram:SpecifiedTradeProduct>
  <ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice><ram:ChargeAmount>{item["unit_price"]}</ram:ChargeAmount></ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>
  <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="C62">{item["quantity"]}</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery>
  <ram:SpecifiedLineTradeSettlement><ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>{item["amount"]}</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation></ram:SpecifiedLineTradeSettlement>
</ram:IncludedSupplyChainTradeLineItem>"""
        for n, item in enumerate(truth["line_items"], start=1)
    )
    due = (f"<ram:SpecifiedTradePaymentTerms><ram:DueDateDateTime>{d(f['due_date'])}</ram:DueDateDateTime>"
           f"</ram:SpecifiedTradePaymentTerms>") if f.get("due_date") else ""
    po = (f"<ram:BuyerOrderReferencedDocument><ram:IssuerAssignedID>{f['purchase_order']}</ram:IssuerAssignedID>"
          f"</ram:BuyerOrderReferencedDocument>") if f.get("purchase_order") else ""
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
 xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
 xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
<rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>urn:cen.eu:en16931:2017</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter></rsm:ExchangedDocumentContext>
<rsm:ExchangedDocument><ram:ID>{f["invoice_number"]}</ram:ID><ram:TypeCode>380</ram:TypeCode><ram:IssueDateTime>{d(f["invoice_date"])}</ram:IssueDateTime></rsm:ExchangedDocument>
<rsm:SupplyChainTradeTransaction>
{lines}
<ram:ApplicableHeaderTradeAgreement>
  <ram:SellerTradeParty><ram:Name>{escape(f["vendor_name"])}</ram:Name><ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">{f["vendor_vat_id"]}</ram:ID></ram:SpecifiedTaxRegistration></ram:SellerTradeParty>
  <ram:BuyerTradeParty><ram:Name>Buyer</ram:Name></ram:BuyerTradeParty>{po}
</ram:ApplicableHeaderTradeAgreement>
<ram:ApplicableHeaderTradeDelivery/>
<ram:ApplicableHeaderTradeSettlement>
  <ram:InvoiceCurrencyCode>{currency}</ram:InvoiceCurrencyCode>
  <ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>58</ram:TypeCode><ram:PayeePartyCreditorFinancialAccount><ram:IBANID>{f["vendor_iban"]}</ram:IBANID></ram:PayeePartyCreditorFinancialAccount></ram:SpecifiedTradeSettlementPaymentMeans>
  {due}
  <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    <ram:LineTotalAmount>{f["net_amount"]}</ram:LineTotalAmount>
    <ram:TaxBasisTotalAmount>{f["net_amount"]}</ram:TaxBasisTotalAmount>
    <ram:TaxTotalAmount currencyID="{currency}">{f["tax_amount"]}</ram:TaxTotalAmount>
    <ram:GrandTotalAmount>{f["total_amount"]}</ram:GrandTotalAmount>
    <ram:DuePayableAmount>{f["total_amount"]}</ram:DuePayableAmount>
  </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
</ram:ApplicableHeaderTradeSettlement>
</rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>
"""
    return xml.encode()


def attach(pdf: bytes, xml: bytes, name: str = "factur-x.xml") -> bytes:
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as doc:
        doc.attachments[name] = pikepdf.AttachedFileSpec(doc, xml, mime_type="text/xml")
        out = io.BytesIO()
        doc.save(out)
    return out.getvalue()
