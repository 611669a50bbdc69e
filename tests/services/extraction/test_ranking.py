"""Candidate ranking on pages built word by word: each test is one thing real invoices do that a
single label or a single amount gets wrong."""

from __future__ import annotations

from services.contracts import Page, Word
from services.extraction.ranking import rank
from services.extraction.ranking.lexicon import label_score
from services.parsing.layout import group_lines


def page(*rows: tuple[float, float, str], size: float = 10.0, number: int = 1) -> Page:
    """Words laid out left to right from (x, y), 0.55 of the type size a character, one space apart."""
    words = []
    for x, y, text in rows:
        for token in text.split():
            width = 0.55 * size * len(token)
            words.append(Word(text=token, bbox=(x, y, x + width, y + size)))
            x += width + 0.3 * size
    return Page(number=number, width=595, height=842, words=words, lines=group_lines(words))


def test_label_phrases_and_their_neighbours() -> None:
    """A phrase of another value beside the label wins over the generic word ('Lieferdatum' is no
    invoice date); a longer positive phrase holds ('Net à payer' is a total, not a net)."""
    assert label_score("invoice_date", "rechnungsdatum") == 1.0
    assert label_score("invoice_date", "lieferdatum") == -1.0
    assert label_score("invoice_date", "delivery date") == -1.0
    assert label_score("total_amount", "net a payer") > 0
    assert label_score("total_amount", "summe netto") == -1.0


def test_invoice_date_beside_other_dates() -> None:
    """Order, delivery and due dates stand around the invoice date; its label decides."""
    fields = rank([page((60, 100, "Bestelldatum:"), (200, 100, "01.03.2025"),
                        (60, 115, "Lieferdatum:"), (200, 115, "02.03.2025"),
                        (60, 130, "Rechnungsdatum:"), (200, 130, "05.03.2025"),
                        (60, 145, "Fällig am:"), (200, 145, "04.04.2025"))])
    assert fields["invoice_date"].value == "2025-03-05"
    assert fields["due_date"].value == "2025-04-04"


def test_date_from_a_title_heading() -> None:
    """'Rechnung Nr. 4711 vom 03.04.2025': the number and the date from the heading alone."""
    fields = rank([page((60, 60, "Rechnung Nr. 4711 vom 03.04.2025"),
                        (60, 90, "Gemäß Bestellung Nr. 2025-33 vom 28.03.2025"))])
    assert fields["invoice_date"].value == "2025-04-03"
    assert fields["invoice_number"].value == "4711"


def test_grand_total_of_two_tax_rates() -> None:
    """Each rate prints a net + tax = total row; the grand total is the row the others add up to."""
    header = (60, 600, "Nettobetrag"), (200, 600, "MwSt-Betrag"), (340, 600, "Endbetrag")
    rows = [(60, 615, "321,40"), (200, 615, "61,07"), (340, 615, "382,47"),
            (60, 630, "127,59"), (200, 630, "8,93"), (340, 630, "136,52"),
            (60, 645, "448,99"), (200, 645, "70,00"), (340, 645, "518,99")]
    fields = rank([page(*header, *rows)])
    assert (fields["total_amount"].value, fields["net_amount"].value, fields["tax_amount"].value) == (
        "518.99", "448.99", "70.00")


def test_total_beside_its_label_not_the_subtotal() -> None:
    """'Subtotal' and 'Tax' sit above 'Amount due'; the triple that adds up names all three."""
    fields = rank([page((300, 600, "Subtotal"), (480, 600, "1,200.00"),
                        (300, 615, "Tax 20%"), (480, 615, "240.00"),
                        (300, 630, "Amount due"), (480, 630, "$1,440.00"))])
    assert fields["total_amount"].value == "1440.00"
    assert fields["net_amount"].value == "1200.00" and fields["tax_amount"].value == "240.00"
    assert fields["currency"].value == "USD"
    assert fields["total_amount"].confidence > 0.9


def test_zero_rated_totals_not_two_amounts_that_happen_to_add_up() -> None:
    """Exempt, zero-rated or reverse charge: the net is the total and the VAT printed is 0.00.
    An item's amount and the rest of the lines add up to the total too; the labels decide."""
    items = [(60, 300, "Modul"), (300, 300, "3.068,00"), (60, 315, "Wechselrichter"), (300, 315, "205,00")]
    totals = [(300, 600, "Nettobetrag"), (480, 600, "3.273,00"),
              (300, 615, "Umsatzsteuer 0 %"), (480, 615, "0,00"),
              (300, 630, "Rechnungsbetrag"), (480, 630, "3.273,00")]
    fields = rank([page(*items, *totals)])
    assert (fields["total_amount"].value, fields["net_amount"].value, fields["tax_amount"].value) == (
        "3273.00", "3273.00", "0.00")
    taxed = [(300, 600, "Nettobetrag"), (480, 600, "3.068,00"),  # the same items, VAT charged: unchanged
             (300, 615, "Umsatzsteuer 6,68 %"), (480, 615, "205,00"),
             (300, 630, "Rechnungsbetrag"), (480, 630, "3.273,00")]
    fields = rank([page(*items, *taxed)])
    assert (fields["net_amount"].value, fields["tax_amount"].value) == ("3068.00", "205.00")


def test_seller_and_buyer_blocks() -> None:
    """Both parties are companies; the one under the seller's heading is the vendor."""
    fields = rank([page((60, 150, "Rechnungsempfänger"), (60, 165, "Kunden AG Mitte"), (60, 180, "Kundenstraße 15"),
                        (320, 150, "Lieferant"), (320, 165, "Nordlicht Werkzeuge GmbH"),
                        (320, 180, "Hafenweg 3"))])
    assert fields["vendor_name"].value == "Nordlicht Werkzeuge GmbH"


def test_sender_line_over_the_window() -> None:
    """DIN 5008: a one-line sender above the window, the buyer's address in it."""
    p = page((60, 130, "Kestrel Tools Ltd · 4 Mill Lane · Leeds LS1 4AB"), (60, 150, "Harbor Supplies GmbH"),
             (60, 165, "Hauptstraße 1"), (60, 180, "10115 Berlin"), size=7.0)
    assert rank([p])["vendor_name"].value == "Kestrel Tools Ltd"


def test_letterhead_repeated_in_footer() -> None:
    """The seller's name heads the page in large type and again in the footer; the buyer once."""
    fields = rank([page((60, 40, "Ostwind Energie GmbH"), size=18.0),
                   ])
    assert fields["vendor_name"].value == "Ostwind Energie GmbH"


def test_nothing_to_rank() -> None:
    """An empty page gives no values rather than guesses."""
    assert rank([Page(number=1, width=595, height=842)]) == {}
