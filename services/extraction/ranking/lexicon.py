"""The words invoices print beside their key values, as data: per field, label phrases with a
weight (how surely the phrase names that field) and the phrases that name a neighbouring field
instead (a delivery date is not the invoice date, a net total not the total).

Phrases are matched on folded text (``fold``: lower case, no accents, punctuation as spaces) at
word starts, so "Rechnungsdatum:" and "Rechnungs-Datum" both meet "rechnungs". Written from what
invoices in English, German, French, Spanish, Italian and Dutch print in general, not from any
vendor's documents.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

_PUNCTUATION = re.compile(r"[^\w]+")


@lru_cache(maxsize=1 << 16)  # a page's texts are folded again for every value they may label
def fold(text: str) -> str:
    """Lower case, accents and punctuation off, one space between words."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).replace("ß", "ss")
    return " ".join(_PUNCTUATION.sub(" ", text).split())


# Phrase -> weight. A phrase is folded like the text it is matched on.
POSITIVE: dict[str, dict[str, float]] = {
    "invoice_date": {
        "rechnungsdatum": 1.0, "rechnungs datum": 1.0, "belegdatum": 0.9, "beleg datum": 0.9,
        "invoice date": 1.0, "date of invoice": 1.0, "date of issue": 1.0, "issue date": 1.0, "issued on": 0.9,
        "invoice dated": 1.0, "date de facture": 1.0, "date de la facture": 1.0, "date facture": 1.0,
        "date d emission": 1.0, "fecha de factura": 1.0, "fecha factura": 1.0, "fecha de emision": 1.0,
        "data fattura": 1.0, "data emissione": 1.0, "factuurdatum": 1.0, "datum factuur": 1.0,
        "datum": 0.55, "date": 0.55, "fecha": 0.55, "data": 0.4, "dated": 0.7, "ausgestellt am": 0.8,
    },
    "due_date": {
        "falligkeitsdatum": 1.0, "falligkeit": 0.9, "fallig am": 1.0, "fallig bis": 1.0, "fallig": 0.8,
        "zahlbar bis": 1.0, "zahlungsziel": 0.8, "zahlungstermin": 0.9, "netto bis": 0.9, "spatestens": 0.6,
        "due date": 1.0, "payment due": 1.0, "due on": 1.0, "due by": 1.0, "pay by": 0.9, "due": 0.7,
        "date d echeance": 1.0, "echeance": 0.9, "a payer avant": 0.9, "payable avant": 0.9,
        "a regler avant": 0.9, "date limite": 0.7,
        "fecha de vencimiento": 1.0, "vencimiento": 0.9, "scadenza": 0.9, "vervaldatum": 1.0,
    },
    "total_amount": {
        "gesamtbetrag": 1.0, "rechnungsbetrag": 1.0, "bruttobetrag": 1.0, "bruttosumme": 1.0, "summe brutto": 1.0,
        "gesamt brutto": 1.0, "gesamtsumme": 0.9, "endbetrag": 1.0, "rechnungssumme brutto": 1.0, "brutto": 0.7,
        "rechnungsendbetrag": 1.0, "inkl ust": 0.6, "inkl mwst": 0.6, "zahlbetrag": 0.75, "zu zahlen": 0.7,
        "rechnungssumme": 0.8, "total ttc": 1.0, "montant ttc": 1.0, "ttc": 0.8, "net a payer": 0.8,
        "montant total": 0.8, "total a payer": 0.8, "grand total": 1.0, "invoice total": 1.0, "total amount": 0.9,
        "total due": 0.8, "amount due": 0.75, "balance due": 0.7, "total incl": 0.9, "total including": 0.9,
        "total factura": 1.0, "importe total": 1.0, "total a pagar": 0.8, "totale fattura": 1.0,
        "totale documento": 1.0, "te betalen": 0.75, "totaalbedrag": 1.0, "totaal": 0.6,
        "total": 0.6, "summe": 0.45, "gesamt": 0.5, "betrag": 0.3, "montant": 0.3, "amount": 0.3,
    },
    "net_amount": {
        "nettobetrag": 1.0, "summe netto": 1.0, "gesamt netto": 1.0, "nettosumme": 1.0, "netto": 0.8,
        "rechnungssumme netto": 1.0, "rechnungssumme ohne": 1.0, "exkl": 0.5, "ohne ust": 0.7,
        "zwischensumme": 0.5, "total ht": 1.0, "montant ht": 1.0, "total hors taxe": 1.0, "ht": 0.7,
        "subtotal": 0.8, "sub total": 0.8, "net amount": 1.0, "net total": 1.0, "total net": 1.0,
        "total excl": 0.9, "total excluding": 0.9, "base imponible": 0.9, "imponibile": 0.9,
        "subtotaal": 0.8, "totaal excl": 0.9, "net": 0.6, "basisbetrag": 0.5, "steuerbasis": 0.6,
    },
    "tax_amount": {
        "umsatzsteuer": 0.9, "mehrwertsteuer": 0.9, "mwst": 0.9, "ust": 0.9, "steuerbetrag": 1.0,
        "summe umsatzsteuer": 1.0, "summe mwst": 1.0, "mwst betrag": 1.0, "tva": 0.9, "total tva": 1.0,
        "montant tva": 1.0, "vat": 0.9, "tax": 0.8, "sales tax": 1.0, "total tax": 1.0, "tax amount": 1.0,
        "iva": 0.9, "btw": 0.9, "steuer": 0.5,
    },
    "invoice_number": {
        "rechnungsnummer": 1.0, "rechnungs nr": 1.0, "rechnungsnr": 1.0, "rechnung nr": 1.0, "rechnung no": 1.0,
        "belegnummer": 0.9, "beleg nr": 0.9, "belegnr": 0.9, "invoice number": 1.0, "invoice no": 1.0,
        "invoice nr": 1.0, "invoice": 0.6, "inv no": 0.9, "facture n": 1.0, "numero de facture": 1.0,
        "n de facture": 1.0, "n facture": 1.0, "facture": 0.6, "numero de factura": 1.0, "factura n": 1.0,
        "n factura": 1.0, "fattura n": 1.0, "numero fattura": 1.0, "factuurnummer": 1.0, "factuur nr": 1.0,
        "document no": 0.7, "dokumentnummer": 0.7, "gutschrift nr": 0.9, "gutschriftsnummer": 0.9,
        "credit note no": 0.9, "avoir n": 0.9, "nr": 0.35, "no": 0.3, "n": 0.25, "numero": 0.4, "number": 0.4,
    },
    "currency": {"wahrung": 1.0, "currency": 1.0, "devise": 1.0, "monnaie": 1.0, "moneda": 1.0, "valuta": 1.0,
                 "betrage in": 0.9, "amounts in": 0.9, "montants en": 0.9},
}

# Phrases that name another value: a candidate whose label has one of these (and no positive
# phrase longer than it) is not the field's value.
NEGATIVE: dict[str, tuple[str, ...]] = {
    "invoice_date": (
        "liefer", "leistung", "bestell", "auftrag", "order", "delivery", "deliver", "ship", "versand",
        "fallig", "zahlbar", "zahlung", "due", "echeance", "payment", "skonto", "period", "zeitraum", "vertrag",
        "contract", "bis", "until", "from", "von", "du au", "livraison", "commande", "expedition", "vencimiento",
        "pedido", "entrega", "valuta", "geburt", "erstellt", "druck", "print", "stand", "gultig", "valid",
        "abrechnung", "reklamation", "telefonat", "schreiben", "ursprung", "original", "referenz", "reference",
        "angebot", "quote", "offer", "devis", "exportiert", "export", "associee", "associated", "related",
        "referenced", "precedent", "previous", "vorherig", "bezug", "debut", "fin", "start", "end", "prestation",
        "periode", "beginn", "ende", "version",
    ),
    "due_date": ("skonto", "discount", "escompte", "liefer", "leistung", "delivery", "bestell", "order",
                 "rechnungsdatum", "invoice date", "vom", "dated"),
    "total_amount": (
        "netto", "net", "ht", "hors taxe", "exkl", "ohne", "excl", "mwst", "ust", "umsatzsteuer", "steuer", "tax",
        "vat", "tva", "iva", "btw", "zwischensumme", "subtotal", "sub total", "sous total", "rabatt", "discount",
        "remise", "skonto", "escompte", "bereits", "prepaid", "paid", "acompte", "anzahlung", "vorauszahlung",
        "warenwert", "positionssumme", "positionen", "zuschlag", "abschlag", "zu abschlag", "versand", "shipping",
        "fracht", "porto", "unit", "preis", "price", "prix", "einzel", "menge", "qty", "quantity", "basis",
        "base", "rate", "satz", "pfand", "deposit", "gutschrift", "offen", "restbetrag", "verbleibend", "allowance",
        "charge", "frais", "line", "ligne", "zeile", "position", "artikel", "item", "lieferung",
    ),
    "net_amount": ("brutto", "ttc", "gesamtbetrag", "inkl", "incl", "mwst", "ust", "tax", "vat", "tva", "steuerbetrag",
                   "rabatt", "discount", "skonto", "unit", "preis", "price", "prix", "einzel", "menge", "qty"),
    "tax_amount": ("netto", "brutto", "ttc", "ht", "excl", "exkl", "ohne", "inkl", "incl", "nr", "id", "nummer",
                   "number", "no", "basis", "base", "satz", "rate", "total ttc", "summe brutto", "betrag brutto",
                   "gesamtbetrag", "rechnungsbetrag", "steuernummer", "tax number", "tax id"),
    "currency": (),
    "invoice_number": (
        "kunde", "kunden", "customer", "client", "bestell", "order", "auftrag", "commande", "pedido", "liefer",
        "delivery", "livraison", "lieferschein", "steuer", "tax", "ust", "vat", "tva", "iva", "btw", "gln", "iban",
        "konto", "account", "compte", "siret", "siren", "rcs", "tel", "fax", "seite", "page", "hr", "hrb",
        "handelsreg", "register", "contract", "contrat", "vertrag", "projekt", "project", "projet", "artikel",
        "article", "art", "item", "pos", "position", "referenz", "reference", "ref", "zeichen", "plz", "postfach",
        "mandat", "mandate", "glaubiger", "creditor", "blz", "bic", "ident", "identifikator", "version", "urn",
        "associee", "ursprung", "original", "vorherig", "previous", "eori", "duns", "ean", "gtin", "serial",
        "serien", "los", "lot", "charge", "nummer kunde", "vos", "your", "ihr", "ihre", "nif", "cif", "nie",
        "ein", "tin", "abn", "gst", "hst", "partita", "codice fiscale", "kvk", "ust id", "uid", "mwst nr",
        "tarif", "tariff", "zoll", "customs", "hs code", "unspsc", "bestellung", "lieferavis",
    ),
}


@lru_cache(maxsize=8192)
def label_score(field: str, label: str) -> float:
    """How surely the folded ``label`` names ``field``: the weight of its best phrase, or -1 when a
    phrase of another value stands in it beside no longer phrase of this field; 0 when neither.
    (Asked for the same few labels again and again: a page's segments label many values.)"""
    if not label:
        return 0.0
    padded = f" {label} "
    positive, negative = _phrases(field)
    best, best_len = 0.0, 0
    for phrase, weight, length in positive:
        if phrase in padded and (weight > best or (weight == best and length > best_len)):
            best, best_len = weight, length
    for phrase, inside in negative:
        # Word starts only, so "ust" in "ustid" counts but "ust" inside "august" does not; not a
        # part of a positive phrase present ("net" in "net a payer").
        if phrase in padded and not any(positive_phrase in padded for positive_phrase in inside):
            return -1.0
    return best


@cache
def _phrases(field: str) -> tuple[tuple[tuple[str, float, int], ...], tuple[tuple[str, tuple[str, ...]], ...]]:
    """``field``'s phrases as searched for: (" phrase", weight, length) of each positive one, and
    (" phrase", the positive ones it is part of) of each negative one."""
    positive = POSITIVE.get(field, {})
    negative = NEGATIVE.get(field, ())
    return (tuple((f" {phrase}", weight, len(phrase)) for phrase, weight in positive.items()),
            tuple((f" {phrase}", tuple(f" {p}" for p in positive if phrase in p)) for phrase in negative))


# Where a party's block starts: the label above or beside a name says whose name it is.
SELLER_LABELS = (
    "verkaufer", "lieferant", "rechnungssteller", "leistungserbringer", "auftragnehmer", "absender", "anbieter",
    "seller", "vendor", "supplier", "sold by", "issued by", "bill from", "from", "biller", "provider",
    "fournisseur", "vendeur", "emetteur", "prestataire", "vendedor", "proveedor", "emisor", "fornitore",
    "cedente", "leverancier", "verkoper",
)
BUYER_LABELS = (
    "rechnungsempfanger", "rechnungsadresse", "kaufer", "kunde", "kunden", "empfanger", "leistungsempfanger",
    "warenempfanger", "lieferadresse", "lieferanschrift", "auftraggeber", "bill to", "billed to", "invoice to",
    "sold to", "ship to", "shipped to", "deliver to", "delivery address", "buyer", "customer", "client",
    "recipient", "destinataire", "adresse de facturation", "facture a", "livre a", "livraison", "acheteur",
    "comprador", "cliente", "destinatario", "committente", "cessionario", "klant", "koper", "afnemer",
)
# Words of a title, a label or a sentence, never of a company name.
NOT_A_NAME = (
    "rechnung", "invoice", "facture", "factura", "fattura", "factuur", "gutschrift", "credit note", "avoir",
    "seite", "page", "datum", "date", "nummer", "number", "kundennummer", "telefon", "phone", "fax", "tel",
    "email", "e mail", "www", "http", "iban", "bic", "swift", "bank", "konto", "account", "steuer", "tax", "ust",
    "vat", "tva", "siret", "siren", "rcs", "hrb", "amtsgericht", "registergericht", "handelsregister",
    "geschaftsfuhrer", "geschaftsfuhrung", "managing director", "director", "ceo", "inhaber", "vorstand",
    "gerant", "capital", "bestell", "order", "zahlbar", "payment", "total", "summe", "betrag", "menge",
    "beschreibung", "description", "position", "artikel", "pos", "preis", "price", "bemerkung", "hinweis",
    "note", "notes", "referenz", "reference", "contact", "kontakt", "ansprechpartner", "zahlungs", "lieferschein",
    "lieferdatum", "leistungsdatum", "bedingungen", "terms", "conditions", "gemass", "according", "vielen dank",
    "thank", "merci", "bitte", "please", "beispiel", "example", "muster rechnung", "copyright",
    "representant", "fiscal", "tax representative", "name", "company", "firma", "societe", "raison sociale",
    "logo", "trade name", "vos", "votre", "nos", "notre", "your", "our", "ihr", "ihre", "unser", "unsere",
    "identifiant", "references", "remise", "rabatt", "discount", "skonto", "escompte", "nom commercial",
    "visualisierung", "stylesheet", "xml", "profil", "profile",
)
COUNTRIES = frozenset(fold(c) for c in (
    "Deutschland", "Germany", "Allemagne", "Österreich", "Austria", "Schweiz", "Switzerland", "Suisse", "France",
    "Frankreich", "Belgique", "Belgium", "België", "Nederland", "Netherlands", "Luxembourg", "Italia", "Italy",
    "España", "Spain", "Portugal", "Polska", "Poland", "United Kingdom", "UK", "Great Britain", "England",
    "Ireland", "USA", "United States", "Danmark", "Denmark", "Sverige", "Sweden", "Norge", "Norway", "Suomi",
    "Finland", "Česko", "Czech Republic", "Slovensko", "Magyarország", "Hungary", "România", "Romania",
))
LEGAL_FORMS = (
    "gmbh", "mbh", "ag", "kg", "kgaa", "ohg", "gbr", "ug", "e k", "ek", "e v", "ev", "eg", "se", "gmbh co kg",
    "sa", "sas", "sasu", "sarl", "eurl", "sci", "snc", "scop", "selarl", "ltd", "limited", "plc", "llp", "llc",
    "inc", "corp", "corporation", "co", "company", "lp", "bv", "nv", "vof", "cv", "srl", "spa", "sl", "slu",
    "sp z o o", "oy", "ab", "as", "aps", "a s", "sprl", "bvba", "kft", "zrt", "doo", "s r o", "sro", "ou",
    # The same forms written with dots, folded: "S.L.", "S.A.", "S.r.l.", "B.V.", "e.K.".
    "s l", "s a", "s a s", "s a r l", "s r l", "s p a", "b v", "n v", "s l u", "s c", "l t d", "p l c", "s e",
)
