"""Words of invoices in five languages: labels (with synonyms), month names, products, names."""

from __future__ import annotations

LANGUAGES = ("en", "de", "fr", "es", "nl")

# Per language, per label key: the wordings vendors use. A layout picks one of each.
LABELS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "title": ("INVOICE", "Invoice", "TAX INVOICE", "Sales Invoice"),
        "invoice_number": ("Invoice No.", "Invoice Number", "Invoice #", "Inv. No.", "Document No.", "Invoice"),
        "invoice_date": ("Invoice Date", "Date", "Date of Issue", "Issue Date"),
        "due_date": ("Due Date", "Payment Due", "Pay By", "Due"),
        "purchase_order": ("PO Number", "Your Order", "Purchase Order", "Order Ref."),
        "customer": ("Customer No.", "Account No.", "Client ID"),
        "delivery": ("Delivery Date", "Shipped", "Dispatch Date"),
        "net_amount": ("Subtotal", "Net Amount", "Total excl. VAT", "Net Total"),
        "tax_amount": ("VAT", "Tax", "VAT Amount", "Sales Tax"),
        "total_amount": ("Total", "Total Due", "Amount Due", "Grand Total", "Balance Due", "Invoice Total"),
        "vat": ("VAT No.", "VAT Reg. No.", "VAT ID", "Tax ID"),
        "iban": ("IBAN", "Bank IBAN", "IBAN No."),
        "currency": ("Currency", "Billing Currency"),
        "description": ("Description", "Item", "Product", "Details"),
        "quantity": ("Qty", "Quantity", "Units"),
        "unit_price": ("Unit Price", "Price", "Rate", "Unit Cost"),
        "amount": ("Amount", "Line Total", "Total", "Net"),
        "phone": ("Phone", "Tel."),
        "note": ("Thank you for your business.", "Payment within terms stated above.",
                 "Please quote the invoice number with your payment.", "Goods remain our property until paid."),
    },
    "de": {
        "title": ("RECHNUNG", "Rechnung"),
        "invoice_number": ("Rechnungsnummer", "Rechnungs-Nr.", "Rechnung Nr.", "Beleg-Nr.", "Belegnummer", "Nr."),
        "invoice_date": ("Rechnungsdatum", "Datum", "Belegdatum", "Rechnungsdatum/Leistungsdatum"),
        "due_date": ("Fällig am", "Zahlbar bis", "Fälligkeitsdatum"),
        "purchase_order": ("Bestellnummer", "Ihre Bestellung", "Auftragsnummer"),
        "customer": ("Kundennummer", "Kunden-Nr."),
        "delivery": ("Lieferdatum", "Leistungsdatum"),
        "net_amount": ("Nettobetrag", "Summe netto", "Zwischensumme", "Nettosumme", "Warenwert netto"),
        "tax_amount": ("MwSt.", "Umsatzsteuer", "USt."),
        "total_amount": ("Gesamtbetrag", "Rechnungsbetrag", "Endbetrag", "Summe brutto", "Zahlbetrag", "Gesamtsumme"),
        "vat": ("USt-IdNr.", "USt-ID", "Umsatzsteuer-ID"),
        "iban": ("IBAN", "Bankverbindung IBAN"),
        "currency": ("Währung",),
        "description": ("Bezeichnung", "Artikel", "Beschreibung", "Leistung"),
        "quantity": ("Menge", "Anzahl", "Stk."),
        "unit_price": ("Einzelpreis", "E-Preis", "Preis"),
        "amount": ("Betrag", "Gesamt", "Summe"),
        "phone": ("Telefon", "Tel."),
        "note": ("Vielen Dank für Ihren Auftrag.", "Zahlbar ohne Abzug.", "Bitte geben Sie die Rechnungsnummer an."),
    },
    "fr": {
        "title": ("FACTURE", "Facture"),
        "invoice_number": ("N° de facture", "Facture n°", "Numéro de facture", "Réf. facture", "FACTURE N°"),
        "invoice_date": ("Date de facture", "Date", "Date d'émission"),
        "due_date": ("Échéance", "Date d'échéance", "À payer avant le"),
        "purchase_order": ("Bon de commande", "Votre commande", "Réf. commande"),
        "customer": ("N° client", "Code client"),
        "delivery": ("Date de livraison", "Livré le"),
        "net_amount": ("Total HT", "Montant HT", "Sous-total HT"),
        "tax_amount": ("TVA", "Montant TVA", "Total TVA"),
        "total_amount": ("Total TTC", "Net à payer", "Montant TTC"),
        "vat": ("N° TVA", "TVA intracom.", "N° TVA intracommunautaire"),
        "iban": ("IBAN", "IBAN :"),
        "currency": ("Devise",),
        "description": ("Désignation", "Description", "Libellé"),
        "quantity": ("Qté", "Quantité"),
        "unit_price": ("Prix unitaire", "P.U. HT", "Prix HT"),
        "amount": ("Montant HT", "Total HT", "Montant"),
        "phone": ("Tél.", "Téléphone"),
        "note": ("Merci de votre confiance.", "Paiement à réception de facture.",
                 "Pas d'escompte pour paiement anticipé."),
    },
    "es": {
        "title": ("FACTURA", "Factura"),
        "invoice_number": ("Número de factura", "Factura n.º", "N.º factura", "Nº Factura"),
        "invoice_date": ("Fecha de factura", "Fecha", "Fecha de emisión"),
        "due_date": ("Vencimiento", "Fecha de vencimiento", "Pagar antes de"),
        "purchase_order": ("Pedido", "Su pedido", "N.º pedido"),
        "customer": ("N.º cliente", "Código cliente"),
        "delivery": ("Fecha de entrega", "Entregado"),
        "net_amount": ("Base imponible", "Subtotal", "Importe neto"),
        "tax_amount": ("IVA", "Cuota IVA", "Importe IVA"),
        "total_amount": ("Total factura", "Total", "Importe total"),
        "vat": ("NIF", "CIF", "NIF/CIF"),
        "iban": ("IBAN", "Cuenta IBAN"),
        "currency": ("Moneda", "Divisa"),
        "description": ("Concepto", "Descripción", "Artículo"),
        "quantity": ("Cantidad", "Cant.", "Uds."),
        "unit_price": ("Precio", "Precio unitario", "P. unit."),
        "amount": ("Importe", "Total", "Subtotal"),
        "phone": ("Tel.", "Teléfono"),
        "note": ("Gracias por su confianza.", "Pago por transferencia bancaria.", "Indique el número de factura."),
    },
    "nl": {
        "title": ("FACTUUR", "Factuur"),
        "invoice_number": ("Factuurnummer", "Factuur nr.", "Factuurnr."),
        "invoice_date": ("Factuurdatum", "Datum"),
        "due_date": ("Vervaldatum", "Te betalen voor", "Uiterste betaaldatum"),
        "purchase_order": ("Ordernummer", "Uw referentie", "Inkoopordernummer"),
        "customer": ("Klantnummer", "Debiteurnummer"),
        "delivery": ("Leverdatum", "Geleverd op"),
        "net_amount": ("Subtotaal", "Totaal excl. btw", "Netto bedrag"),
        "tax_amount": ("BTW", "Btw-bedrag", "BTW bedrag"),
        "total_amount": ("Totaal", "Te betalen", "Totaal incl. btw"),
        "vat": ("BTW-nummer", "Btw-nr.", "BTW nr."),
        "iban": ("IBAN", "Rekening IBAN"),
        "currency": ("Valuta",),
        "description": ("Omschrijving", "Artikel", "Product"),
        "quantity": ("Aantal", "Aant."),
        "unit_price": ("Prijs", "Stukprijs", "Eenheidsprijs"),
        "amount": ("Bedrag", "Totaal", "Regeltotaal"),
        "phone": ("Tel.", "Telefoon"),
        "note": ("Bedankt voor uw bestelling.", "Betaling binnen 30 dagen.", "Vermeld het factuurnummer bij betaling."),
    },
}

MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
           "November", "Dezember"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"),
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december"),
}

# Date patterns per language; "{month}" is the month's name in the language.
DATE_PATTERNS = {
    "en": ("%d/%m/%Y", "%m/%d/%Y", "%Y-%m-%d", "%d %b %Y", "{day} {month} %Y", "{month} {day}, %Y"),
    "de": ("%d.%m.%Y", "%d.%m.%y", "{day}. {month} %Y", "%Y-%m-%d"),
    "fr": ("%d/%m/%Y", "{day} {month} %Y", "%d-%m-%Y"),
    "es": ("%d/%m/%Y", "{day} de {month} de %Y", "%d-%m-%Y"),
    "nl": ("%d-%m-%Y", "{day} {month} %Y", "%d/%m/%Y"),
}

COUNTRIES = {
    "en": (("GB", "United Kingdom", ("Ltd", "Limited", "PLC")),),
    "de": (("DE", "Deutschland", ("GmbH", "AG", "KG")), ("AT", "Österreich", ("GmbH",))),
    "fr": (("FR", "France", ("SARL", "SAS", "SA")), ("BE", "Belgique", ("SA", "SPRL"))),
    "es": (("ES", "España", ("S.L.", "S.A.")),),
    "nl": (("NL", "Nederland", ("B.V.", "N.V.")), ("BE", "België", ("BV", "NV"))),
}
CURRENCIES = {"GB": ("GBP", "EUR", "USD"), "DE": ("EUR", "USD", "CHF"), "AT": ("EUR",), "FR": ("EUR", "USD"),
              "BE": ("EUR",), "ES": ("EUR", "USD"), "NL": ("EUR", "USD")}
SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "CHF": "CHF"}

NAME_HEADS = ("Alder", "Brook", "Cedar", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Iris", "Juniper", "Keystone",
              "Linden", "Meridian", "Nordic", "Orchid", "Pioneer", "Quartz", "Riverside", "Summit", "Tidewater",
              "Union", "Vantage", "Willow", "Zenith", "Aurora", "Beacon", "Cobalt", "Dune", "Evergreen", "Fjord",
              "Helios", "Atlas", "Borealis", "Corvus", "Solstice", "Oakridge", "Bluewater", "Silverline")
NAME_TAILS = {
    "en": ("Supplies", "Logistics", "Engineering", "Trading", "Consulting", "Components", "Office Solutions",
           "Industrial", "Services", "Systems"),
    "de": ("Technik", "Logistik", "Handel", "Maschinenbau", "Bürobedarf", "Elektro", "Industriebedarf", "Systeme"),
    "fr": ("Conseil", "Distribution", "Fournitures", "Industrie", "Services", "Équipements", "Logistique"),
    "es": ("Suministros", "Logística", "Ingeniería", "Comercial", "Servicios", "Distribuciones", "Industrial"),
    "nl": ("Techniek", "Logistiek", "Handel", "Groothandel", "Installaties", "Diensten", "Kantoorartikelen"),
}
STREETS = {
    "en": ("{n} High Street", "{n} Station Road", "Unit {n}, Riverside Park", "{n} Church Lane"),
    "de": ("Hauptstraße {n}", "Industriestraße {n}", "Am Hafen {n}", "Bahnhofstraße {n}"),
    "fr": ("{n} rue de la Paix", "{n} avenue Jean Jaurès", "{n} boulevard Voltaire", "ZI des Prés, lot {n}"),
    "es": ("Calle Mayor {n}", "Avenida de la Constitución {n}", "Polígono Industrial, nave {n}"),
    "nl": ("Dorpsstraat {n}", "Industrieweg {n}", "Havenkade {n}", "Stationsplein {n}"),
}
CITIES = {
    "GB": ("London EC1A 1BB", "Leeds LS1 4AP", "Bristol BS1 5TR", "Glasgow G1 2FF"),
    "DE": ("10115 Berlin", "80331 München", "50667 Köln", "20095 Hamburg"),
    "AT": ("1010 Wien", "8010 Graz", "5020 Salzburg"),
    "FR": ("75002 Paris", "69003 Lyon", "31000 Toulouse", "13001 Marseille"),
    "BE": ("1000 Bruxelles", "2000 Antwerpen", "9000 Gent"),
    "ES": ("28013 Madrid", "08002 Barcelona", "46001 Valencia", "41001 Sevilla"),
    "NL": ("1012 AB Amsterdam", "3011 AD Rotterdam", "3511 AA Utrecht"),
}
PRODUCTS = {
    "en": ("Printer paper A4 80g", "Toner cartridge black", "Ballpoint pens (box of 50)", "Desk lamp LED",
           "Office chair ergonomic", "Maintenance service (hours)", "Consulting day rate", "Cable ties 200mm",
           "Safety gloves size L", "Hydraulic hose 1/2 inch", "Shipping and handling", "Software licence annual",
           "Network switch 24-port", "Pallet wrap 500mm", "Steel bolts M8 x 40"),
    "de": ("Kopierpapier A4 80g", "Tonerkartusche schwarz", "Kugelschreiber (50 Stück)", "Schreibtischlampe LED",
           "Bürostuhl ergonomisch", "Wartung (Stunden)", "Beratung Tagessatz", "Kabelbinder 200mm",
           "Schutzhandschuhe Gr. L", "Hydraulikschlauch 1/2 Zoll", "Versandkosten", "Softwarelizenz jährlich"),
    "fr": ("Papier A4 80g", "Cartouche de toner noir", "Stylos bille (boîte de 50)", "Lampe de bureau LED",
           "Fauteuil ergonomique", "Maintenance (heures)", "Journée de conseil", "Colliers de serrage 200mm",
           "Gants de sécurité taille L", "Flexible hydraulique 1/2 pouce", "Frais de port", "Licence logicielle"),
    "es": ("Papel A4 80g", "Cartucho de tóner negro", "Bolígrafos (caja de 50)", "Lámpara de escritorio LED",
           "Silla ergonómica", "Mantenimiento (horas)", "Consultoría por día", "Bridas 200mm",
           "Guantes de seguridad talla L", "Manguera hidráulica 1/2 pulgada", "Gastos de envío"),
    "nl": ("Printpapier A4 80g", "Tonercassette zwart", "Balpennen (doos van 50)", "Bureaulamp LED",
           "Bureaustoel ergonomisch", "Onderhoud (uren)", "Advies dagtarief", "Kabelbinders 200mm",
           "Veiligheidshandschoenen maat L", "Hydraulische slang 1/2 inch", "Verzendkosten"),
}
# The other party: every real invoice names its buyer, a name the vendor field must not take.
BUYER_LABELS = {
    "en": ("Bill to", "Invoice to", "Customer", "Sold to"),
    "de": ("Rechnungsempfänger", "Kunde", "Rechnungsadresse", "An"),
    "fr": ("Facturer à", "Client", "Adresse de facturation"),
    "es": ("Facturar a", "Cliente", "Datos del cliente"),
    "nl": ("Factuuradres", "Klant", "Aan"),
}
BUYER_NAMES = ("Kunden AG Mitte", "Globex Retail", "Initech Services", "Umbrella Hospitality", "Stark Components",
               "Wayne Facilities", "Acme Widgets", "Hooli Europe", "Soylent Foods", "Vandelay Imports",
               "Pied Piper Labs", "Massive Dynamic", "Cyberdyne Office", "Tyrell Logistics", "Oscorp Supplies")

STAMPS = ("PAID", "COPY", "ORIGINAL", "DUPLICATE", "BEZAHLT", "PAYÉ", "PAGADO", "BETAALD")
