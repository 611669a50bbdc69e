"""Candidate ranking on pages built word by word: each test is one thing real invoices do that a
single label or a single amount gets wrong."""

from __future__ import annotations

from services.contracts import Line, Page, Word
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


def test_a_phrase_test_finds_what_a_loop_over_the_phrases_would() -> None:
    """The party and legal-form tests search for all their phrases at once and answer as a test of
    each phrase in turn would: shorter phrases inside longer ones, at the text's ends, none."""
    from services.extraction.ranking.parties import _any_of

    phrases = [" gmbh ", " gmbh & co kg ", " ag ", " s a ", " sa ", " ltd "]
    found = _any_of(phrases)
    for text in (" nordlicht gmbh & co kg ", " ag ", " basa ", " s a r l ", " limited ", "", " agent ", " sa"):
        assert (found(text) is not None) == any(p in text for p in phrases), text
    assert _any_of([])(" gmbh ") is None


def test_the_layout_s_bands_give_the_neighbours_a_scan_of_every_segment_gives() -> None:
    """Above and left of a value, the segments come from the band of heights they can stand in, in
    the order and with the choice a scan of every segment makes: ties in page order, a row's
    segment a point lower, one upside down (on no row) and one with no number for a coordinate."""
    from services.extraction.ranking.layout import PageLayout, _same_row

    p = page((60, 100, "Datum"), (300, 100, "Rechnungsnummer"), (300, 112, "R-1"), (60, 112, "01.02.2026"),
             (180, 100, "Kunde"), (240, 104, "Betrag"), (180, 90, "Kopf"), (420, 101, "Nummer 7"), size=9.0)

    def with_lines(*words: Word) -> Page:  # each word a segment of its own, in the order given
        lines = [Line(text=w.text, bbox=w.bbox, words=[len(p.words) + n]) for n, w in enumerate(words)]
        return Page(number=1, width=595, height=842, words=[*p.words, *words], lines=[*p.lines, *lines])

    turned = with_lines(Word(text="Gedreht", bbox=(380, 110, 400, 95)),
                        Word(text="Leer", bbox=(200, 100, 240, float("nan"))))
    # Two ending where the other does, on the row of a tall value: the first in page order is chosen.
    tied = with_lines(Word(text="Hoch", bbox=(500, 96, 540, 117)), Word(text="Flach", bbox=(500, 104, 540, 112)),
                      Word(text="Wert", bbox=(560, 100, 590, 118)))

    def above_by_scan(layout, bbox, reach):  # type: ignore[no-untyped-def]
        height = max(bbox[3] - bbox[1], 4.0)
        found = [(bbox[1] - s.bbox[3], s) for s in layout.segments
                 if not (bbox[1] - s.bbox[3] < -height * 0.3 or bbox[1] - s.bbox[3] > reach * height * 1.6)
                 and not s.bbox[1] >= bbox[1] - 1 and min(bbox[2], s.bbox[2]) - max(bbox[0], s.bbox[0]) > -2]
        return [s for _, s in sorted(found, key=lambda pair: pair[0])]

    def left_by_scan(layout, seg, x):  # type: ignore[no-untyped-def]
        best = None
        for other in layout.segments:
            near = other.bbox[2] <= x + 1 and x - other.bbox[2] <= 320 and other is not seg
            if near and _same_row(seg.bbox, other.bbox) and other.worded \
                    and (best is None or other.bbox[2] > best.bbox[2]):
                best = other
        return best

    for layout in (PageLayout(p), PageLayout(turned), PageLayout(tied)):
        for seg in layout.segments:
            assert layout.left_of(seg, seg.bbox[0] + 1) is left_by_scan(layout, seg, seg.bbox[0] + 1)
            for reach in (3.2, 7.0, 12.0):
                assert layout.above(seg.bbox, reach) == above_by_scan(layout, seg.bbox, reach)
    layout = PageLayout(p)
    value = next(s for s in layout.segments if s.text == "R-1")
    assert layout.above(value.bbox)[0].text == "Rechnungsnummer"
    number = next(s for s in layout.segments if s.text == "Nummer 7")
    assert layout.left_of(number, number.bbox[0] + 1).text == "Rechnungsnummer"  # a point lower, same row
    title = next(s for s in layout.segments if s.text == "Rechnungsnummer")
    assert layout.left_of(title, title.bbox[0] + 1).text == "Betrag"  # four points lower, same row
    layout = PageLayout(tied)
    value = next(s for s in layout.segments if s.text == "Wert")
    assert layout.left_of(value, value.bbox[0] + 1).text == "Hoch"


def test_a_short_segment_s_searches_are_bounded_by_its_length() -> None:
    """The ranking searches a segment of up to ``UNTIMED`` characters without a timeout of its own:
    no text that long, made of the characters its patterns weigh, repeated in every unit of up to
    three (digit runs, grouped thousands, date parts, month names), takes any of them 10 ms of CPU.
    A pattern that backtracks past what the text's length allows would not be that cheap."""
    import itertools
    import time

    from services.extraction.ranking.values import AMOUNT, DATE, NUMBER, UNTIMED

    alphabet = "1a.,- /'(Z"
    units = ["".join(u) for n in (1, 2, 3) for u in itertools.product(alphabet, repeat=n)]
    units += ["123 ", "12.34.", "1 January ", "January 1, ", "1 de enero de ", "A1-", "1.234,"]
    slowest = (0.0, "", "")
    for pattern, unit in itertools.product((DATE, AMOUNT, NUMBER), units):
        text = (unit * (UNTIMED // len(unit) + 1))[:UNTIMED]
        started = time.process_time()
        list(pattern.finditer(text, timeout=1.0))
        slowest = max(slowest, (time.process_time() - started, pattern.pattern[:20], unit))
    assert slowest[0] < 0.010, slowest


def test_a_column_header_is_found_over_rows_of_numbers_and_in_signs_that_fold_to_letters() -> None:
    """Above an amount, rows of numbers say nothing and are passed over; a header written in a sign
    that folds to letters ("№" is "No") still says something."""
    from services.extraction.ranking.layout import PageLayout

    for header, said in (("№", "No"), ("Betrag €", "betrag"), ("%", "")):
        layout = PageLayout(page((300, 88, header), (300, 100, "12.50"), (300, 112, "(7.25)"), (300, 124, "19,99")))
        value = next(s for s in layout.segments if s.text == "19,99")
        assert layout.header_words_above(value.bbox) == said, header


def _per_segment(layout, pattern) -> list[tuple[int, int, int, str]]:  # type: ignore[no-untyped-def]
    from services.extraction.ranking.values import MAX_SEGMENT

    return [(seg.index, m.start(), m.end(), m.group(0)) for seg in layout.segments
            for m in pattern.finditer(seg.text[:MAX_SEGMENT])]


def test_a_page_searched_as_one_text_finds_what_each_segment_searched_alone_finds() -> None:
    """Values at a segment's either edge, the next segment's first characters of the kinds a value
    may run on with (digits, separators, signs: "1" then "234,56" is no "1 234,56"), a segment cut
    at ``MAX_SEGMENT``."""
    from services.extraction.ranking.layout import PageLayout
    from services.extraction.ranking.values import AMOUNT, DATE, MAX_SEGMENT, NUMBER, _matches

    long = " ".join(f"{n}.{n % 100:02d}" for n in range(600))
    assert len(long) > MAX_SEGMENT
    pages = [page((60, 100, "Summe 1.234,56"), (60, 115, "-12,50 EUR"), (60, 130, "2025-03-05"),
                  (60, 145, "/7 RE-2025-17"), (60, 160, ".5 5 March 2025"), (60, 175, "12,00"),
                  (400, 175, "3,00%"), (60, 190, "A1-"), (60, 205, "5 de marzo de 2025 (1.000,00)"),
                  (60, 220, "Menge 1"), (60, 235, "234,56 EUR"), (60, 250, long))]
    for p in pages:
        layout = PageLayout(p)
        for pattern in (DATE, AMOUNT, NUMBER):
            found = [(seg.index, start, end, raw) for seg, start, end, raw in _matches(layout, pattern)]
            assert found == _per_segment(layout, pattern) and found


def test_a_page_whose_text_times_out_is_searched_segment_by_segment_the_slow_one_passed_over() -> None:
    from services.extraction.ranking.layout import PageLayout
    from services.extraction.ranking.values import AMOUNT, _matches

    class Slow:  # AMOUNT, but any text holding "slow" takes too long
        def finditer(self, text: str, timeout: float | None = None):  # type: ignore[no-untyped-def]
            if "slow" in text:
                raise TimeoutError
            return AMOUNT.finditer(text, timeout=timeout)

    layout = PageLayout(page((60, 100, "Netto 10,00"), (60, 115, "slow 99,99"), (60, 130, "Summe 11,90")))
    found = [(seg.text, raw) for seg, _, _, raw in _matches(layout, Slow())]  # type: ignore[arg-type]
    assert found == [("Netto 10,00", "10,00"), ("Summe 11,90", "11,90")]
    broken = PageLayout(page((60, 100, "Netto 10,00"), (60, 115, "Summe 11,90")))
    object.__setattr__(broken.segments[0], "text", "Netto\n10,00")  # a segment holding a break: searched alone
    assert [raw for _, _, _, raw in _matches(broken, AMOUNT)] == ["10,00", "11,90"]
