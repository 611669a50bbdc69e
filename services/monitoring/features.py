"""What the monitors record of each document, as pure functions of the stage contracts."""

from __future__ import annotations

import re

from services.contracts import ClassifiedDocument, ExtractedDocument, vendor_of

# Words invoices print, per language: enough to tell the five the stream sees apart.
_WORDS = {
    "en": {"invoice", "total", "date", "due", "amount", "number", "tax", "description", "quantity", "price",
           "subtotal", "vat", "payment", "qty", "unit"},
    "de": {"rechnung", "datum", "betrag", "gesamt", "gesamtbetrag", "menge", "preis", "steuer", "netto", "brutto",
           "fällig", "beschreibung", "rechnungsnummer", "rechnungsdatum", "mwst", "summe", "einzelpreis"},
    "fr": {"facture", "montant", "quantité", "prix", "échéance", "tva", "désignation", "total", "ht", "ttc",
           "numéro", "unitaire", "paiement"},
    "es": {"factura", "fecha", "importe", "cantidad", "precio", "vencimiento", "iva", "descripción", "base",
           "imponible", "número", "unitario"},
    "nl": {"factuur", "datum", "bedrag", "totaal", "aantal", "prijs", "vervaldatum", "btw", "omschrijving",
           "factuurnummer", "factuurdatum", "subtotaal"},
}
_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)
_LANGUAGES_OF = {word: tuple(lang for lang, vocabulary in _WORDS.items() if word in vocabulary)
                 for vocabulary in _WORDS.values() for word in vocabulary}  # a word -> the languages that print it


def language(words: list[str]) -> str:
    """The language whose invoice words are most frequent among ``words`` ("und" when none is)."""
    counts = dict.fromkeys(_WORDS, 0)
    for token in _TOKEN.findall(" ".join(words).lower()):
        for lang in _LANGUAGES_OF.get(token, ()):
            counts[lang] += 1
    best = max(counts.items(), key=lambda kv: kv[1])
    return best[0] if best[1] and list(counts.values()).count(best[1]) == 1 else "und"


def vendor_key(doc: ExtractedDocument) -> str | None:
    """The vendor as monitoring groups documents, as the queue does (the template, else the name
    read), else the VAT id read."""
    found = vendor_of(doc)
    if found:
        return found
    vat = doc.fields.get("vendor_vat_id")
    return "vat:" + re.sub(r"\W", "", vat.value).upper() if vat is not None and vat.value else None


def observe(classified: ClassifiedDocument, extracted: ExtractedDocument) -> dict:
    """The input features and output confidences of one document."""
    pages = [p for p in classified.pages]
    words = [w.text for p in pages[:3] for w in p.words]
    return {
        "vendor": vendor_key(extracted), "template_id": extracted.detection.template_id,
        "detection": extracted.detection.status, "pages": len(pages),
        "words_per_page": round(sum(len(p.words) for p in pages) / max(len(pages), 1), 1),
        "text_layer": classified.text_layer, "ocr": any(p.ocr for p in pages), "language": language(words),
        "model_version": extracted.model_version,
        "confidence": {name: round(fv.confidence, 4) for name, fv in extracted.fields.items()},
    }
