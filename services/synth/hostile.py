"""Hostile documents: input built to exhaust a worker, each with the terminal place and reason it
must reach within its budget (tests/integration/test_hostile.py).

Where ``bad.py`` breaks envelopes and PDFs by accident, these are attacks: decompression bombs,
loops and nesting built for the parser, pages and text floods sized to the limits, regex
patterns built to backtrack, hostile e-invoice XML, and names and metadata built to reach a file
system, a browser or a log. The good invoice some of them hide in must still be read.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from services.contracts import Reason
from services.synth import bad
from services.synth.bad import assemble
from services.synth.facturx import attach, cii_xml
from services.synth.layouts import NORTHWIND
from services.synth.render import generate

# What the integration test runs under: budgets small enough for CI, the same code paths.
TEST_ENV = {"DOCFLOW_PARSE_TIMEOUT_S": "8", "DOCFLOW_PARSE_MEMORY_MB": "1024",
            "DOCFLOW_MAX_MESSAGE_BYTES": str(1024 * 1024)}


@dataclass(frozen=True)
class HostileCase:
    name: str
    kind: str  # bomb, nesting, page, flood, pattern, xml, name
    state: str
    reason: Reason | None  # None: accepted, nothing to say
    build: Callable[[str], bytes]  # document id -> the raw message value


# ---------------------------------------------------------------- raw PDF parts
def stream(body: bytes, extra: bytes = b"", *, encoded: bytes | None = None, filters: bytes = b"") -> bytes:
    data = body if encoded is None else encoded
    return b"<</Length %d%s%s>>stream\n" % (len(data), filters, extra) + data + b"\nendstream"


def one_page(content: bytes, *, media: bytes = b"[0 0 612 792]", filters: bytes = b"", encoded: bytes | None = None,
             resources: bytes = b"<</Font<</F1 5 0 R>>>>", more: list[bytes] | None = None, mark: str = "",
             catalog_extra: bytes = b"") -> bytes:
    return assemble([
        b"<</Type/Catalog/Pages 2 0 R%s>>" % catalog_extra,
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox%s/Resources%s/Contents 4 0 R>>" % (media, resources),
        stream(content, encoded=encoded, filters=filters),
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica/Encoding/WinAnsiEncoding>>",
        *(more or []),
    ], mark=mark)


def text_ops(lines: list[str], *, size: float = 10, top: float = 760, step: float = 14) -> bytes:
    ops = [b"BT /F1 %g Tf" % size]
    for n, line in enumerate(lines):
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(b"1 0 0 1 40 %g Tm (%s) Tj" % (top - n * step, escaped.encode("latin-1", "replace")))
    ops.append(b"ET")
    return b"\n".join(ops)


def zeros_deflated(size: int) -> bytes:
    """zlib data that inflates to ``size`` zero bytes, made without compressing them all:
    a block of 1 MiB after a full flush is the same bytes every time."""
    mib, zeros = 1 << 20, bytes(1 << 20)
    head = zlib.compressobj(9)
    first = head.compress(zeros) + head.flush(zlib.Z_FULL_FLUSH)
    again = head.compress(zeros) + head.flush(zlib.Z_FULL_FLUSH)
    blocks, checksum = size // mib, 1
    for _ in range(blocks):
        checksum = zlib.adler32(zeros, checksum)
    tail = head.flush()  # the final empty block and adler32 of what this object saw (two MiB): replaced
    body = first + again * (blocks - 1) + tail[:-4] + checksum.to_bytes(4, "big")
    return body


# ---------------------------------------------------------------- the good invoice some cases carry
@cache
def good(serial: int = 0) -> bytes:
    return generate(NORTHWIND, seed=404, serial=serial)[0]


@cache
def good_truth(serial: int = 0) -> dict:
    return generate(NORTHWIND, seed=404, serial=serial)[1]


def _in_good(document_id: str, change: Callable[[bytes], bytes], **extra: object) -> bytes:
    serial = sum(map(ord, document_id)) % 997 + 1  # its own invoice: not a duplicate of another case's
    return bad.envelope(document_id, change(good(serial)), **extra).model_dump_json().encode()


def _raw(document_id: str, pdf: bytes, **extra: object) -> bytes:
    return bad.envelope(document_id, pdf, **extra).model_dump_json().encode()


def incremental(pdf: bytes, objects: dict[int, bytes]) -> bytes:
    """``pdf`` with an incremental update that replaces or adds the numbered objects."""
    last = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    size = max(int(n) for n in re.findall(rb"(\d+) 0 obj", pdf)) + 1
    root = re.findall(rb"/Root (\d+) 0 R", pdf)[-1]
    out = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    offsets = {}
    for number, body in sorted(objects.items()):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n"
    for number, offset in sorted(offsets.items()):
        out += b"%d 1\n%010d 00000 n \n" % (number, offset)
    size = max(size, *(n + 1 for n in objects))
    out += b"trailer<</Size %d/Root %s 0 R/Prev %d>>\nstartxref\n%d\n%%%%EOF\n" % (size, root, last, xref)
    return bytes(out)


def catalog_with(pdf: bytes, extra: bytes, new_objects: dict[int, bytes] | None = None) -> bytes:
    """The good invoice's catalog again, with ``extra`` entries (an /OpenAction, say)."""
    root = int(re.findall(rb"/Root (\d+) 0 R", pdf)[-1])
    body = re.search(rb"\n%d 0 obj\s*(<<.*?>>)\s*endobj" % root, pdf, re.S)
    assert body is not None
    catalog = body.group(1)[:-2] + extra + b">>"
    return incremental(pdf, {root: catalog} | (new_objects or {}))


def _next_object(pdf: bytes) -> int:
    return max(int(n) for n in re.findall(rb"(\d+) 0 obj", pdf)) + 1


def _with_xml(xml: bytes, name: str = "factur-x.xml") -> Callable[[bytes], bytes]:
    return lambda pdf: attach(pdf, xml, name)


# ---------------------------------------------------------------- the cases
def _deflate_bomb(i: str) -> bytes:
    inner = zeros_deflated(3 << 30)  # 3 GiB of zeros in ~3 MB, deflated again to a few KB
    return _raw(i, one_page(b"", filters=b"/Filter[/FlateDecode/FlateDecode]", encoded=zlib.compress(inner, 9),
                            mark=i))


def _operator_flood(i: str) -> bytes:
    # 48 MB of graphics-state pushes and pops: no text, all interpretation (pdfminer's 8 s and more,
    # PDFium's 0.6 s)
    body = b"q Q " * 12_000_000
    return _raw(i, one_page(b"", filters=b"/Filter/FlateDecode", encoded=zlib.compress(body, 9), mark=i))


def _image_bomb(i: str) -> bytes:
    side = 60_000  # 3.6 gigapixels declared, a few KB sent
    image = stream(b"", b"/Type/XObject/Subtype/Image/Width %d/Height %d/ColorSpace/DeviceGray/BitsPerComponent 8"
                   % (side, side), encoded=zlib.compress(zeros_deflated(side * side), 9),
                   filters=b"/Filter[/FlateDecode/FlateDecode]")
    return _raw(i, one_page(b"q 612 0 0 792 0 0 cm /Im1 Do Q", resources=b"<</XObject<</Im1 6 0 R>>>>",
                            more=[image], mark=i))


def _ocr_flood(i: str) -> bytes:
    """Eight poster-sized pages without text, each a field of noise for OCR (seconds a page): one
    25 KB image drawn on all of them."""
    import random

    rng, side, pages = random.Random(i), 400, 8
    noise = bytes(rng.choice((0, 255)) for _ in range(side * side))
    kids = b" ".join(b"%d 0 R" % (4 + n) for n in range(pages))
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[%s]/Count %d>>" % (kids, pages),
               stream(b"q 4000 0 0 4000 0 0 cm /Im1 Do Q")]
    objects += [b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 4000 4000]/Resources<</XObject<</Im1 %d 0 R>>>>"
                b"/Contents 3 0 R>>" % (4 + pages)] * pages
    objects.append(stream(b"", b"/Type/XObject/Subtype/Image/Width %d/Height %d/ColorSpace/DeviceGray"
                          b"/BitsPerComponent 8" % (side, side), encoded=zlib.compress(noise, 9),
                          filters=b"/Filter/FlateDecode"))
    return _raw(i, assemble(objects, mark=i))


def _page_tree_cycle(i: str) -> bytes:
    return _raw(i, assemble([b"<</Type/Catalog/Pages 2 0 R>>",
                             b"<</Type/Pages/Kids[2 0 R 3 0 R]/Count 2>>",
                             b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>"], mark=i))


def _deep_dictionary(i: str) -> bytes:
    nested = b"<</A " * 50_000 + b"1" + b">>" * 50_000
    return _raw(i, one_page(text_ops(["nothing to see"]), resources=b"<</Font<</F1 5 0 R>>/X " + nested + b">>",
                            mark=i))


def _deep_content_arrays(i: str) -> bytes:
    return _raw(i, one_page(b"[" * 200_000 + b"]" * 200_000, mark=i))


def _xref_claims_billions(i: str) -> bytes:
    pdf = one_page(text_ops(["a short page"]), mark=i)
    return _raw(i, pdf.replace(b"trailer<</Size 6", b"trailer<</Size 2000000000"))


def _object_stream_bomb(i: str) -> bytes:
    """An object stream that claims a hundred million objects and holds three."""
    header = b"7 0 8 2 9 4"
    objstm = stream(b"", b"/Type/ObjStm/N 100000000/First %d" % (len(header) + 1),
                    encoded=zlib.compress(header + b" 1 2 3", 9), filters=b"/Filter/FlateDecode")
    return _raw(i, one_page(text_ops(["objects"]), more=[objstm], mark=i))


def _huge_page_text(i: str) -> bytes:
    return _raw(i, one_page(text_ops(["A page of 20,000 points square", "with a few words"], top=19_900),
                            media=b"[0 0 20000 20000]", mark=i))


def _huge_blank_page(i: str) -> bytes:
    return _raw(i, one_page(b"0 0 m", media=b"[0 0 20000 20000]", mark=i))


def _zero_media_box(i: str) -> bytes:
    return _raw(i, one_page(text_ops(["no area at all"]), media=b"[0 0 0 0]", mark=i))


def _inverted_media_box(i: str) -> bytes:
    return _raw(i, one_page(text_ops(["upside down"]), media=b"[612 792 0 0]", mark=i))


def _grid(rows: int, columns: int, step: float, width: int, height: int, i: str) -> bytes:
    """``rows`` x ``columns`` words on a page of ``width`` x ``height`` points, rows ``step`` apart
    (more than the 3 pt within which the reader folds rows into one)."""
    ops = [b"BT /F1 6 Tf"]
    for r in range(rows):
        ops.append(b"1 0 0 1 10 %.2f Tm (%s) Tj" % (height - 10 - r * step,
                                                   " ".join(f"w{r * columns + c}" for c in range(columns)).encode()))
    ops.append(b"ET")
    return _raw(i, one_page(b"", encoded=zlib.compress(b"\n".join(ops), 9), filters=b"/Filter/FlateDecode",
                            media=b"[0 0 %d %d]" % (width, height), mark=i))


def _word_flood(i: str) -> bytes:
    return _grid(780, 40, 4.5, 14_400, 3_600, i)  # 31,200 words on one wide page


def _row_flood(i: str) -> bytes:
    """3,500 rows on one tall page (the quadratic line grouping took 74 s over 40,000 rows)."""
    return _grid(3_500, 4, 4.0, 612, 14_400, i)


def _one_long_word(i: str) -> bytes:
    return _raw(i, one_page(b"", encoded=zlib.compress(text_ops(["Total" + "9" * 200_000]), 9),
                            filters=b"/Filter/FlateDecode", mark=i))


def _char_flood(i: str) -> bytes:
    """Characters set wider apart than the word-joining rule: every one a word, 45,000 of them."""
    lines = ["Total " + "1," * 1500 + "x", "Amount due " + "1." * 1500 + "x", "EUR " + "1 " * 1500 + "-"]
    return _raw(i, one_page(text_ops(lines * 5, size=0.5, step=1.5), mark=i))


def _amount_backtracking(i: str) -> bytes:
    """Labels followed by what looks like the start of an amount and never ends as one."""
    lines = [f"Total {'1,' * 60}x   Amount due {'1.' * 60}x   Net {'1 ' * 40}-" for _ in range(40)]
    return _raw(i, one_page(text_ops(lines, size=4, step=6), mark=i))


def _digit_soup(i: str) -> bytes:
    import random

    rng = random.Random(i)
    lines = ["".join(rng.choice("0123456789.,/- ") for _ in range(300)) for _ in range(200)]
    return _raw(i, one_page(text_ops(lines, size=2, step=3.5), mark=i))


def _label_flood(i: str) -> bytes:
    lines = [f"Invoice No Invoice Date Total Due VAT IBAN {n}.{n:02d}" for n in range(2_000)]
    return _raw(i, one_page(b"", encoded=zlib.compress(text_ops(lines, size=0.8, step=0.38), 9),
                            filters=b"/Filter/FlateDecode", mark=i))


def _date_soup(i: str) -> bytes:
    lines = [" ".join(f"{d:02d}.{m:02d}.20{y:02d}" for d in range(1, 29)) for m in range(1, 13) for y in range(30)]
    return _raw(i, one_page(b"", encoded=zlib.compress(text_ops(lines, size=0.8, step=2.1), 9),
                            filters=b"/Filter/FlateDecode", mark=i))


_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + b"".join(b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
                      for n in range(1, 10))
           + b']><rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100">'
             b"&lol9;</rsm:CrossIndustryInvoice>")
_XXE = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100">&x;'
        b"</rsm:CrossIndustryInvoice>")
_DEEP_XML = (b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100">'
             + b"<a>" * 200_000 + b"</a>" * 200_000 + b"</rsm:CrossIndustryInvoice>")


def _xml_lines_flood(pdf: bytes) -> bytes:
    """The good invoice's own XML with 14,000 line items: under the 20 MB XML limit, over the
    message limit once extracted."""
    truth = dict(good_truth(0))
    item = truth["line_items"][0]
    truth = truth | {"line_items": [item] * 14_000}
    return attach(pdf, cii_xml(truth))


def _attachment_bomb(pdf: bytes) -> bytes:
    """An attachment by its standard name that inflates to 2 GiB: deflated twice, a few KB."""
    import io

    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as doc:
        doc.attachments["factur-x.xml"] = pikepdf.AttachedFileSpec(doc, b"x", mime_type="text/xml")
        embedded = doc.attachments["factur-x.xml"].obj.EF.F
        embedded.write(zlib.compress(zeros_deflated(2 << 30), 9),
                       filter=pikepdf.Array([pikepdf.Name.FlateDecode, pikepdf.Name.FlateDecode]))
        out = io.BytesIO()
        doc.save(out, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)
    return out.getvalue()


def _open_action(pdf: bytes) -> bytes:
    n = _next_object(pdf)
    return catalog_with(pdf, b"/OpenAction %d 0 R/AA<</WC %d 0 R>>" % (n, n + 1), {
        n: b"<</S/JavaScript/JS(app.alert\\('x'\\); this.exportDataObject\\({cName: 'a', nLaunch: 2}\\))>>",
        n + 1: b"<</S/Launch/F(cmd.exe)/Win<</F(cmd.exe)/P(/c calc)>>>>",
    })


def _huge_info(pdf: bytes) -> bytes:
    n = _next_object(pdf)
    out = incremental(pdf, {n: b"<</Title(" + b"T" * 300_000 + b")/Author(<script>alert(1)</script>)>>"})
    return out.replace(b"/Prev", b"/Info %d 0 R/Prev" % n)


def _metadata_flood(i: str) -> bytes:
    body = json.loads(_in_good(i, lambda pdf: pdf))
    body["metadata"] = {f"k{n}": "v" * 100 for n in range(5_000)}
    return json.dumps(body).encode()


def _names(i: str, filename: str) -> bytes:
    return _in_good(i, lambda pdf: pdf).replace(f'"{i}.pdf"'.encode(), filename.encode())


CASES: list[HostileCase] = [
    # bombs: the parse sandbox's budgets
    HostileCase("deflate_bomb", "bomb", "deadletter", Reason.PARSE_MEMORY_EXCEEDED, _deflate_bomb),
    HostileCase("operator_flood", "bomb", "exception", Reason.NO_TEXT_LAYER, _operator_flood),
    HostileCase("ocr_flood", "bomb", "deadletter", Reason.PARSE_TIMEOUT, _ocr_flood),
    HostileCase("image_bomb", "bomb", "exception", Reason.NO_TEXT_LAYER, _image_bomb),
    HostileCase("object_stream_bomb", "bomb", "exception", Reason.REQUIRED_FIELD_MISSING, _object_stream_bomb),
    # nesting and loops
    HostileCase("page_tree_cycle", "nesting", "exception", Reason.NO_TEXT_LAYER, _page_tree_cycle),
    HostileCase("deep_dictionary", "nesting", "exception", Reason.NO_TEXT_LAYER, _deep_dictionary),
    HostileCase("deep_content_arrays", "nesting", "exception", Reason.NO_TEXT_LAYER, _deep_content_arrays),
    HostileCase("xref_claims_billions", "nesting", "exception", Reason.REQUIRED_FIELD_MISSING, _xref_claims_billions),
    # pages
    HostileCase("huge_page_text", "page", "exception", Reason.REQUIRED_FIELD_MISSING, _huge_page_text),
    HostileCase("huge_blank_page", "page", "exception", Reason.NO_TEXT_LAYER, _huge_blank_page),
    HostileCase("zero_media_box", "page", "deadletter", Reason.PDF_CORRUPT, _zero_media_box),
    HostileCase("inverted_media_box", "page", "exception", Reason.REQUIRED_FIELD_MISSING, _inverted_media_box),
    # text floods: a page of more words than any invoice is refused before any stage pays for them
    HostileCase("word_flood", "flood", "deadletter", Reason.TOO_MANY_WORDS, _word_flood),
    HostileCase("row_flood", "flood", "deadletter", Reason.TOO_MANY_WORDS, _row_flood),
    HostileCase("char_flood", "flood", "deadletter", Reason.TOO_MANY_WORDS, _char_flood),
    HostileCase("one_long_word", "flood", "exception", Reason.REQUIRED_FIELD_MISSING, _one_long_word),
    # patterns built to backtrack: the per-document regex budget
    HostileCase("amount_backtracking", "pattern", "exception", Reason.REQUIRED_FIELD_MISSING, _amount_backtracking),
    HostileCase("digit_soup", "pattern", "exception", Reason.REQUIRED_FIELD_MISSING, _digit_soup),
    HostileCase("label_flood", "pattern", "exception", Reason.REQUIRED_FIELD_MISSING, _label_flood),
    HostileCase("date_soup", "pattern", "exception", Reason.REQUIRED_FIELD_MISSING, _date_soup),
    # hostile e-invoice XML: refused, and the print read instead
    HostileCase("xml_billion_laughs", "xml", "accepted", None, lambda i: _in_good(i, _with_xml(_LAUGHS))),
    HostileCase("xml_external_entity", "xml", "accepted", None, lambda i: _in_good(i, _with_xml(_XXE))),
    HostileCase("xml_deep_nesting", "xml", "accepted", None, lambda i: _in_good(i, _with_xml(_DEEP_XML))),
    HostileCase("xml_attachment_bomb", "xml", "accepted", None, lambda i: _in_good(i, _attachment_bomb)),
    HostileCase("xml_not_xml", "xml", "accepted", None,
                lambda i: _in_good(i, _with_xml(bytes(range(256)) * 64, "zugferd-invoice.xml"))),
    HostileCase("xml_line_flood", "xml", "deadletter", Reason.MESSAGE_TOO_LARGE,
                lambda i: _in_good(i, _xml_lines_flood)),
    # names and metadata built for a file system, a browser, a terminal or a log
    HostileCase("path_traversal_name", "name", "accepted", None, lambda i: _names(i, '"../../../../etc/passwd.pdf"')),
    HostileCase("html_name", "name", "accepted", None,
                lambda i: _names(i, '"<img src=x onerror=alert(1)>\\u202egpj.pdf"')),
    HostileCase("terminal_escape_name", "name", "deadletter", Reason.MESSAGE_INVALID,
                lambda i: _names(i, '"\\u001b]0;owned\\u0007.pdf"')),
    HostileCase("metadata_flood", "name", "deadletter", Reason.MESSAGE_INVALID,
                _metadata_flood),
    HostileCase("javascript_and_launch", "name", "accepted", None, lambda i: _in_good(i, _open_action)),
    HostileCase("huge_info_dictionary", "name", "accepted", None, lambda i: _in_good(i, _huge_info)),
]
