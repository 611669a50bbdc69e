"""The claim check: parsed pages ride in the blob store; the message stays small whatever the words."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.codec import decode, encode
from services.contracts import PAGES, ClassifiedDocument, Detection, DocumentRef, ParsedDocument
from services.errors import UnreadableDocument
from services.parsing.logic import parse
from services.storage.blobs import BlobStore
from services.storage.claims import check_in, check_out, store
from services.synth.layouts import NORTHWIND
from services.synth.render import generate
from tests.services.test_parsing import ref


def parsed_of(pdf: bytes) -> ParsedDocument:
    return parse(pdf, ref(), max_pages=10, ocr=False)


def test_pages_ride_in_the_blob_store_and_come_back_whole(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    small = parsed_of(generate(NORTHWIND, seed=3, serial=1, items=1)[0])
    large = parsed_of(generate(NORTHWIND, seed=3, serial=2, items=80)[0])
    assert sum(len(p.words) for p in large.pages) > 4 * sum(len(p.words) for p in small.pages)
    wire = {name: encode(check_in(doc, blobs)) for name, doc in (("small", small), ("large", large))}
    assert abs(len(wire["large"]) - len(wire["small"])) < 200  # the size no longer follows the words
    back = check_out(decode(ParsedDocument, wire["large"]), blobs)
    assert back.pages == large.pages and back.pages_uri and blobs.exists(back.pages_uri)
    assert large.pages, "check_in leaves the message it was given as it was"

    classified = ClassifiedDocument(**dict(back), detection=Detection(status="unknown"))
    again = decode(ClassifiedDocument, encode(check_in(classified, blobs)))
    assert again.pages_uri == back.pages_uri and again.pages == []  # one blob for both hops
    assert check_out(again, blobs).pages == large.pages


def test_pages_that_are_gone_are_a_reasoned_error(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    doc = parsed_of(generate(NORTHWIND, seed=3, serial=1, items=1)[0])
    wire = encode(check_in(doc, blobs))
    for path in (tmp_path / "sha256").rglob("*"):
        if path.is_file():
            path.unlink()
    with pytest.raises(UnreadableDocument) as caught:
        check_out(decode(ParsedDocument, wire), blobs)
    assert caught.value.reason == "BLOB_NOT_FOUND"


def test_the_next_stage_in_the_same_worker_takes_the_pages_without_reading_them(tmp_path: Path,
                                                                                  monkeypatch) -> None:  # type: ignore[no-untyped-def]
    blobs = BlobStore(tmp_path)
    doc = parsed_of(generate(NORTHWIND, seed=3, serial=4, items=2)[0])
    wire = encode(check_in(doc, blobs))
    monkeypatch.setattr(blobs, "get", lambda uri: pytest.fail("the pages were read again"))
    assert check_out(decode(ParsedDocument, wire), blobs).pages is doc.pages
    monkeypatch.undo()
    elsewhere = BlobStore(tmp_path / "other")  # another store's copy is not this one's
    with pytest.raises(UnreadableDocument):
        check_out(decode(ParsedDocument, wire), elsewhere)


def test_pages_stored_as_parsed_are_not_written_again_by_the_messages_that_carry_them(tmp_path: Path,
                                                                                        monkeypatch) -> None:  # type: ignore[no-untyped-def]
    blobs = BlobStore(tmp_path)
    doc = parsed_of(generate(NORTHWIND, seed=3, serial=5, items=2)[0])
    doc.pages_uri = store(doc.pages, blobs)  # as a worker's parse step does
    classified = ClassifiedDocument(**dict(doc), detection=Detection(status="unknown"))
    monkeypatch.setattr(blobs, "put", lambda data, durable=True: pytest.fail("the pages were written again"))
    assert check_in(doc, blobs).pages_uri == check_in(classified, blobs).pages_uri == doc.pages_uri
    monkeypatch.undo()
    _forget()
    assert check_out(decode(ClassifiedDocument, encode(check_in(classified, blobs))), blobs).pages == doc.pages
    other = parsed_of(generate(NORTHWIND, seed=3, serial=6, items=2)[0])  # other pages: stored, at their own address
    assert check_in(other, blobs).pages_uri not in (None, doc.pages_uri)


def test_the_sandbox_s_pages_json_is_their_claim_check(tmp_path: Path) -> None:
    """The bytes the parse sandbox answered are stored as they came: the same address as the pages
    serialised again, read back as the same pages."""
    from services.parsing.sandbox import ParseSandbox

    pdf = generate(NORTHWIND, seed=3, serial=8, items=4)[0]
    ref = parsed_of(pdf).doc
    sandbox = ParseSandbox(timeout_s=30, memory_mb=1536)
    try:
        done = sandbox.parse(pdf, ref, max_pages=10)
    finally:
        sandbox.close()
    assert done.pages_json is not None and done.document.pages == parsed_of(pdf).pages
    blobs = BlobStore(tmp_path)
    uri = store(done.document.pages, blobs, done.pages_json)
    assert uri == BlobStore(tmp_path / "again").put(PAGES.dump_json(done.document.pages))
    _forget()
    assert check_out(ParsedDocument(**{**dict(done.document), "pages": [], "pages_uri": uri}), blobs).pages \
        == done.document.pages


def test_pages_a_power_cut_took_or_tore_are_parsed_again_where_the_reader_can(tmp_path: Path) -> None:
    """Pages are stored unsynced (they are made again from the document's bytes, which are synced)."""
    blobs = BlobStore(tmp_path)
    pdf = generate(NORTHWIND, seed=3, serial=7, items=3)[0]
    doc = parsed_of(pdf)
    wire = encode(check_in(doc, blobs))
    stored = next(p for p in (tmp_path / "sha256").rglob("*") if p.is_file())
    asked: list[str] = []

    def reparse(ref: DocumentRef) -> list:  # type: ignore[type-arg]
        asked.append(ref.document_id)
        return parse(pdf, ref, max_pages=10, ocr=False).pages

    for damage in (lambda: stored.write_bytes(stored.read_bytes()[:100]), stored.unlink):
        damage()
        _forget()
        with pytest.raises(UnreadableDocument):  # a reader that cannot parse: gone is gone
            check_out(decode(ParsedDocument, wire), blobs)
        _forget()
        assert check_out(decode(ParsedDocument, wire), blobs, reparse).pages == doc.pages
        assert blobs.get(check_in(doc, blobs).pages_uri or "", verify=True)  # stored again, whole
    assert asked == [doc.doc.document_id] * 2


def _forget() -> None:
    """This process's pages kept in hand, forgotten (as a worker after a restart has none)."""
    from services.storage import claims

    claims._recent.clear()
