"""Contracts: checked decoding, version handling, schema and AsyncAPI export."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from services import topics
from services.cli import main
from services.codec import decode, encode
from services.contracts import CONTRACT_VERSION, TOPIC_CONTRACTS, DeadLetter, IncomingDocument, Reason
from services.errors import ContractError


def test_every_topic_has_one_contract() -> None:
    """Each topic named in topics.ALL has exactly one message model."""
    assert set(TOPIC_CONTRACTS) == set(topics.ALL)


def test_round_trip() -> None:
    """An encoded message decodes to an equal model."""
    env = IncomingDocument(document_id="d-1", source="erp", content="JVBERi0=")
    assert decode(IncomingDocument, encode(env)) == env


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", Reason.MESSAGE_INVALID),
        (b"{not json", Reason.MESSAGE_INVALID),
        (b"[1, 2]", Reason.MESSAGE_INVALID),
        (b'{"source": "x", "contract_version": "2.0"}', Reason.CONTRACT_VERSION_UNSUPPORTED),
        (b'{"source": ""}', Reason.MESSAGE_INVALID),
        (b'{"source": "x", "document_id": "has space"}', Reason.MESSAGE_INVALID),
        (b'{"source": "x", "surprise": 1}', Reason.MESSAGE_INVALID),
    ],
)
def test_decode_rejects_with_reason(raw: bytes, reason: Reason) -> None:
    """Every way an envelope can be broken gives a ContractError with its reason code."""
    with pytest.raises(ContractError) as info:
        decode(IncomingDocument, raw)
    assert info.value.reason == reason


def test_minor_version_accepted_and_unknown_fields_ignored_downstream() -> None:
    """A newer minor version of an internal contract decodes; unknown fields are ignored."""
    letter = DeadLetter(document_id="d", stage="parse", reason=Reason.PDF_CORRUPT, message="m", source_topic="t")
    body = json.loads(encode(letter)) | {"contract_version": "1.9", "added_in_1_9": True}
    assert decode(DeadLetter, json.dumps(body).encode()).reason == Reason.PDF_CORRUPT


def test_export_writes_schemas_and_asyncapi(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`docflow contracts export` writes a JSON Schema per topic and an AsyncAPI document naming them all."""
    result = CliRunner().invoke(main, ["contracts", "export", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for topic in topics.ALL:
        schema = json.loads((tmp_path / f"{topic}.schema.json").read_text())
        assert schema["type"] == "object"
    api = json.loads((tmp_path / "asyncapi.json").read_text())
    assert api["info"]["version"] == CONTRACT_VERSION
    assert {c["address"] for c in api["channels"].values()} == set(topics.ALL)
    incoming = json.loads((tmp_path / "documents.incoming.schema.json").read_text())
    assert {"source", "content", "blob_uri", "sha256", "document_id"} <= set(incoming["properties"])


def test_a_word_built_without_validation_is_the_validated_word() -> None:
    from services.contracts import Line, Word, make_line, make_word

    word, checked = make_word(text="Total", bbox=(1.0, 2.0, 3.0, 4.0)), Word(text="Total", bbox=(1.0, 2.0, 3.0, 4.0))
    assert word == checked and word.model_dump_json() == checked.model_dump_json()
    assert word.model_fields_set == checked.model_fields_set
    line = make_line(text="Total", bbox=(1.0, 2.0, 3.0, 4.0), words=[0])
    assert line == Line(text="Total", bbox=(1.0, 2.0, 3.0, 4.0), words=[0])
    with pytest.raises(AssertionError):
        make_line(text="Total", bbox=(1.0, 2.0, 3.0, 4.0))  # every field, or the model is not whole
