"""The pdfium reader: words with boxes from PDFium's text layer, in the form and by the word-joining
rule the pdfplumber reader gives, at a fraction of its cost (pdfminer interprets every content
stream in Python; PDFium does it in C++).

Characters: PDFium's own (no generated spaces), each with its origin, advance (the loose box) and
font size; the box is made as pdfminer makes it (from the baseline, the font's descent and the size
up), so that boxes agree with the pdfplumber reader's within a fraction of a point. Words: chars
clustered into lines by their top within ``Y_TOLERANCE``, sorted left to right, split at a blank or
where the next char starts before the last one or more than ``X_TOLERANCE`` after its end,
ligatures expanded: pdfplumber's ``extract_words`` rule, written out here. The loops over chars
and words run in C (``_chars.c``, built by setup.py: a tenth of the Python loops' CPU, which was half
of a known vendor's path); ``_chars`` and ``_words`` below are the same loops in Python, for an
install without a C compiler and as the C loops' reference in the tests.

A rotated page (``/Rotate``) is left to the pdfplumber reader (``fallback``), as is a document PDFium
cannot open for a reason pdfplumber may name better.

PDFium is not thread-safe, and pypdfium2 does not lock for it: two threads in it at once (the
console rendering a page while it reads the page's words) crash the process, fail to load pages or
read wrong text. Every use of PDFium in the process holds ``LOCK``.
"""

from __future__ import annotations

import ctypes
import threading
from functools import cache
from itertools import groupby
from types import ModuleType
from typing import cast

from services.contracts import BBox, Page, Reason, make_word
from services.errors import UnreadableDocument
from services.parsing.layout import group_lines

_compiled: ModuleType | None
try:  # the loops in C, built with the package (setup.py); the same loops in Python where they are not
    from services.parsing import _chars as _compiled
except ImportError:  # pragma: no cover - a build without a C compiler
    _compiled = None

X_TOLERANCE = 1.5
Y_TOLERANCE = 3.0
SPACE_SHARE = 0.15  # of the font size: a gap this wide after an inferred space is a word break
LOCK = threading.RLock()  # held by every caller of PDFium in this process (see above)
LIGATURES = {"ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl", "ﬁ": "fi", "ﬂ": "fl", "ﬆ": "st", "ﬅ": "st"}


class Unsuited(Exception):
    """This document is for the pdfplumber reader (a rotated page, say)."""


def attachment_count(data: bytes) -> int | None:
    """The files the PDF embeds (its EmbeddedFiles name tree, as pikepdf reads it too); None where
    PDFium cannot say. 0.03 ms: extraction looks no further for an e-invoice in a PDF of none, where
    opening it with pikepdf to find out cost 0.25 ms a document."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    with LOCK:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            return None
        try:
            count = raw.FPDFDoc_GetAttachmentCount(document.raw)
            return count if count >= 0 else None
        finally:
            document.close()


def read_pages(data: bytes, *, max_pages: int) -> list[Page]:
    with LOCK:
        return _read_pages(data, max_pages=max_pages)


def _read_pages(data: bytes, *, max_pages: int) -> list[Page]:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise Unsuited(str(exc)) from None
    try:
        count = len(document)
        if count == 0:
            raise UnreadableDocument(Reason.PDF_NO_PAGES, "the PDF has no pages")
        if count > max_pages:
            raise UnreadableDocument(Reason.TOO_MANY_PAGES, f"{count} pages exceeds the limit of {max_pages}")
        pages = []
        for number in range(1, count + 1):
            try:
                page = document[number - 1]
            except pdfium.PdfiumError as exc:
                raise Unsuited(f"page {number}: {exc}") from None
            try:
                pages.append(_page(page, number))
            finally:
                page.close()
        return pages
    finally:
        document.close()


def _page(page, number: int) -> Page:  # type: ignore[no-untyped-def]
    import pypdfium2.raw as raw

    if page.get_rotation() % 360:
        raise Unsuited(f"page {number} is rotated")
    x0, y0, x1, y1 = page.get_mediabox()
    left, bottom, right, top = min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)  # a rectangle's corners, any order
    width, height = right - left, top - bottom
    if not (width > 0 and height > 0):
        raise UnreadableDocument(Reason.PDF_CORRUPT, f"page {number} has no area ({width:g} x {height:g} pt)",
                                 page=number)
    textpage = page.get_textpage()
    try:
        if _compiled is None:
            read = _words(_chars(raw, textpage, left, top))
        else:
            read = _compiled_words(raw, textpage, left, top)
        words = [make_word(text=text, bbox=box) for text, box in read]  # built valid: str, 4 floats
    finally:
        textpage.close()
    return Page(number=number, width=float(width), height=float(height), words=words, lines=group_lines(words),
                has_text_layer=bool(words))


# (text, x0, top, x1, bottom, upright)
Char = tuple[str, float, float, float, float, bool]


def _compiled_chars(raw, textpage, left: float, top_edge: float) -> list[Char]:  # type: ignore[no-untyped-def]
    """``_chars`` in C (services/parsing/_chars.c): the same chars."""
    assert _compiled is not None
    return cast(list[Char], _compiled.chars(*_compiled_args(raw, textpage, left, top_edge)))


def _compiled_words(raw, textpage, left: float, top_edge: float) -> list[tuple[str, BBox]]:  # type: ignore[no-untyped-def]
    """``_words`` of ``_chars`` in C: the same words, a tenth of the CPU."""
    assert _compiled is not None
    return cast(list[tuple[str, BBox]], _compiled.words(*_compiled_args(raw, textpage, left, top_edge)))


def _compiled_args(raw, textpage, left: float, top_edge: float) -> tuple:  # type: ignore[no-untyped-def]
    def font_descent(font: int) -> float | None:  # once per font of the page
        return _font_descent(raw, ctypes.cast(font, raw.FPDF_FONT))

    return ctypes.cast(textpage.raw, ctypes.c_void_p).value or 0, _api(raw).addresses, left, top_edge, font_descent


def _chars(raw, textpage, left: float, top_edge: float) -> list[Char]:  # type: ignore[no-untyped-def]
    api = _api(raw)
    is_generated, loose_box, origin, text_object = api.is_generated, api.loose_box, api.origin, api.text_object
    handle = ctypes.cast(textpage.raw, ctypes.c_void_p)
    count = raw.FPDFText_CountChars(textpage.raw)
    codes = _codes(raw, textpage.raw, count)
    rect = raw.FS_RECTF()
    ox, oy = ctypes.c_double(), ctypes.c_double()
    rect_ref, ox_ref, oy_ref = ctypes.byref(rect), ctypes.byref(ox), ctypes.byref(oy)
    out: list[Char] = []
    gap_after: float | None = None  # a space PDFium inferred after the last char: its font size
    last_obj, last_at = None, -1  # the text object of the last char, and its place in out
    fonts: dict[int, float | None] = {}  # font handle -> its AFM descent (em), standard 14 fonts only
    # A text object draws all its chars in one font, size and matrix: read them once per object.
    objects: dict[int, tuple[bool, float, float | None]] = {}
    for i, code in enumerate(codes):
        if code in _UNSPELT:  # the page text's stand-in (PDFium's line-end hyphen reads 0xFFFE there)
            code = raw.FPDFText_GetUnicode(textpage.raw, i)
        if code in _MAYBE_GENERATED and is_generated(handle, i) == 1:
            # A space or line break PDFium inferred from the positioning: a word break if the next
            # char stands apart by a space's width (kerning gaps are far smaller).
            if code == 0x20 and out:
                gap_after = raw.FPDFText_GetFontSize(textpage.raw, i - 1) if i else None
            continue
        if code in _UNSPELT or not loose_box(handle, i, rect_ref) or not origin(handle, i, ox_ref, oy_ref):
            continue
        text = "-" if code == 0x02 else chr(code)  # PDFium reports a hyphen at a line's end as 0x02
        text = LIGATURES.get(text, text)
        obj = text_object(handle, i)
        known = objects.get(obj) if obj is not None else None
        if known is None:  # a char without a text object is read on its own
            known = _object(raw, textpage.raw, i, obj, fonts)
            if obj is not None:
                objects[obj] = known
        upright, size, afm = known
        x0, x1, origin_x = rect.left - left, rect.right - left, ox.value - left
        if upright:
            # pdfminer's box: from the baseline plus the descent, one font size high. The loose
            # box's bottom is the baseline plus the font's descent as PDFium has it, which for the
            # standard 14 fonts (drawn with PDFium's own) is not the AFM's that pdfminer uses.
            box_bottom = oy.value + afm * size if afm is not None else min(rect.bottom, oy.value)
            bottom = top_edge - box_bottom
            char = (text, x0, bottom - size, x1, bottom, True)
            if last_obj == obj and last_at >= 0:
                # pdfminer ends a char at its origin plus its advance: where the next char of the
                # same text object starts (the loose box's edge is the glyph's, a fraction of a
                # point off).
                prev = out[last_at]
                if prev[5] and abs(prev[4] - bottom) < 0.01 and prev[1] < origin_x <= prev[3] + 1.0:
                    out[last_at] = (prev[0], prev[1], prev[2], origin_x, prev[4], True)
        else:  # the loose box as it stands on the page
            char = (text, x0, top_edge - rect.top, x1, top_edge - rect.bottom, False)
        if gap_after is not None:
            if out and _apart(out[-1], char, gap_after):
                prev = out[-1]
                out.append((" ", prev[3], prev[2], prev[3], prev[4], prev[5]))
            gap_after = None
        last_obj, last_at = obj, len(out)
        out.append(char)
    return out


# PDFium infers spaces and line breaks; every other char is drawn (and 0x02, its line-end hyphen).
_MAYBE_GENERATED = frozenset((0x20, 0x0D, 0x0A, 0x02))
_UNSPELT = frozenset((0, 0xFFFE, 0xFFFF))


class _Api:
    """The per-char calls of the loop, bound with plain pointers and without argument types: ctypes
    converts a declared argument list at every call (0.45 us a call against 0.24 here), and the text
    page's handle is a ``c_void_p`` already. The text object is compared by address."""

    def __init__(self, raw) -> None:  # type: ignore[no-untyped-def]
        from pypdfium2_raw.bindings import _libs  # the loaded library, as pypdfium2.raw binds it

        lib = _libs["pdfium"]
        self.is_generated = self._bind(lib, "FPDFText_IsGenerated", ctypes.c_int)
        self.loose_box = self._bind(lib, "FPDFText_GetLooseCharBox", ctypes.c_int)
        self.origin = self._bind(lib, "FPDFText_GetCharOrigin", ctypes.c_int)
        self.text_object = self._bind(lib, "FPDFText_GetTextObject", ctypes.c_void_p)
        # The C loop's functions, by address (services/parsing/_chars.c says which, in this order).
        self.addresses = tuple(cast(int, ctypes.cast(lib[name], ctypes.c_void_p).value) for name in (
            "FPDFText_CountChars", "FPDFText_GetUnicode", "FPDFText_IsGenerated", "FPDFText_GetLooseCharBox",
            "FPDFText_GetCharOrigin", "FPDFText_GetTextObject", "FPDFText_GetFontSize", "FPDFText_GetMatrix",
            "FPDFTextObj_GetFont"))

    @staticmethod
    def _bind(lib, name: str, restype):  # type: ignore[no-untyped-def]
        function = lib[name]  # a fresh function object: pypdfium2's own keeps its types
        function.restype = restype  # every argument is a c_void_p, a byref or an int index
        return function


@cache
def _api(raw) -> _Api:  # type: ignore[no-untyped-def]
    return _Api(raw)


def _codes(raw, handle, count: int) -> list[int]:  # type: ignore[no-untyped-def]
    """Each char's code point: the page's text in one call, char by char where it holds a surrogate
    pair (one char, two UTF-16 units)."""
    buffer = (ctypes.c_ushort * (count + 1))()
    written = raw.FPDFText_GetText(handle, 0, count, buffer) if count else 0
    codes = list(buffer[:count])
    if written - 1 != count or any(0xD800 <= c <= 0xDFFF for c in codes):
        codes = [raw.FPDFText_GetUnicode(handle, i) for i in range(count)]
    return codes


def _object(raw, handle, i: int, obj: int | None,  # type: ignore[no-untyped-def]
            fonts: dict[int, float | None]) -> tuple[bool, float, float | None]:
    """(upright, font size as drawn, AFM descent) of char ``i``'s text object."""
    matrix = raw.FS_MATRIX()
    upright, scale = True, 1.0
    if raw.FPDFText_GetMatrix(handle, i, matrix):  # pdfminer's test: no rotation or shear
        upright = matrix.a * matrix.d > 0 and matrix.b * matrix.c <= 0
        scale = (matrix.c ** 2 + matrix.d ** 2) ** 0.5  # the vertical scale the font size is drawn at
    size = raw.FPDFText_GetFontSize(handle, i) * scale
    afm = _afm_descent(raw, raw.FPDFText_GetTextObject(handle, i), fonts) if obj and upright else None
    return upright, size, afm


def _afm_descent(raw, obj, fonts: dict[int, float | None]) -> float | None:  # type: ignore[no-untyped-def]
    font = raw.FPDFTextObj_GetFont(obj)
    key = ctypes.cast(font, ctypes.c_void_p).value or 0
    if key not in fonts:
        fonts[key] = _font_descent(raw, font)
    return fonts[key]


def _font_descent(raw, font) -> float | None:  # type: ignore[no-untyped-def]
    """The AFM descent (em) of a standard-14 font the PDF does not embed; None for any other."""
    length = raw.FPDFFont_GetBaseFontName(font, None, 0)
    if not length:
        return None
    buffer = ctypes.create_string_buffer(length)
    raw.FPDFFont_GetBaseFontName(font, buffer, length)
    metrics = _standard_metrics().get(buffer.value.decode("latin-1").split("+")[-1])
    if metrics is None or raw.FPDFFont_GetIsEmbedded(font) == 1:
        return None
    return float(metrics[0].get("Descent", 0)) / 1000


@cache
def _standard_metrics() -> dict:
    from pdfminer.fontmetrics import FONT_METRICS

    return FONT_METRICS


def _apart(prev: Char, ch: Char, size: float) -> bool:
    if prev[5] != ch[5] or not ch[5]:
        return True  # turned text: PDFium's inference is all there is
    gap = max(ch[1] - prev[3], prev[1] - ch[3], ch[2] - prev[4], prev[2] - ch[4])
    return gap >= SPACE_SHARE * size


def _words(chars: list[Char]):  # type: ignore[no-untyped-def]
    """pdfplumber's extract_words: (text, (x0, top, x1, bottom)) per word. Upright text runs in lines
    clustered by top and is read left to right; other text (a margin line turned 90 degrees) in
    columns clustered by x0, read top to bottom, as pdfplumber reads it."""
    for upright, run in groupby(chars, key=lambda ch: ch[5]):
        line_key, tolerance, order = (2, Y_TOLERANCE, 1) if upright else (1, X_TOLERANCE, 2)
        for line in _lines(list(run), line_key, tolerance, order):
            current: list[Char] = []
            for ch in line:
                if ch[0].isspace():
                    if current:
                        yield _merge(current)
                    current = []
                elif current and _begins_word(current[-1], ch, upright):
                    yield _merge(current)
                    current = [ch]
                else:
                    current.append(ch)
            if current:
                yield _merge(current)


def _lines(chars: list[Char], key: int, tolerance: float, order: int) -> list[list[Char]]:
    """Clusters of chars whose ``key`` coordinate chains within ``tolerance``, each sorted by ``order``."""
    cluster: dict[float, int] = {}
    n, last = -1, None
    for value in sorted({cast(float, ch[key]) for ch in chars}):
        if last is None or value > last + tolerance:
            n += 1
        cluster[value] = n
        last = value
    lines: dict[int, list[Char]] = {}
    for ch in chars:
        lines.setdefault(cluster[cast(float, ch[key])], []).append(ch)
    # pdfplumber's sort keys: x0 alone left to right (equal ones in stream order), (top, bottom) down.
    key_of = (lambda ch: ch[1]) if order == 1 else (lambda ch: (ch[2], ch[4]))
    return [sorted(line, key=key_of) for _, line in sorted(lines.items())]


def _begins_word(prev: Char, ch: Char, upright: bool) -> bool:
    if upright:  # along x; the next line by top
        return ch[1] < prev[1] or ch[1] > prev[3] + X_TOLERANCE or abs(ch[2] - prev[2]) > Y_TOLERANCE
    return ch[2] < prev[2] or ch[2] > prev[4] + Y_TOLERANCE or abs(ch[1] - prev[1]) > X_TOLERANCE


def _merge(chars: list[Char]) -> tuple[str, tuple[float, float, float, float]]:
    texts, x0, top, x1, bottom, _ = zip(*chars, strict=True)  # one transposition, then C's min and max
    return "".join(texts), (round(min(x0), 2), round(min(top), 2), round(max(x1), 2), round(max(bottom), 2))
