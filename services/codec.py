"""Encoding and checked decoding of topic payloads (JSON bytes on the wire)."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import ValidationError

from services.contracts import CONTRACT_MAJOR, Contract, Reason
from services.errors import ContractError

C = TypeVar("C", bound=Contract)


def encode(message: Contract) -> bytes:
    return message.model_dump_json(exclude_none=False).encode()


def decode(model: type[C], raw: bytes | None) -> C:
    """Decode and check one payload against ``model``; raise ``ContractError`` with the reason."""
    if not raw:
        raise ContractError(Reason.MESSAGE_INVALID, "empty message")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractError(Reason.MESSAGE_INVALID, f"not JSON: {exc.__class__.__name__}") from None
    except RecursionError:
        raise ContractError(Reason.MESSAGE_INVALID, "JSON nested too deep") from None
    if not isinstance(data, dict):
        raise ContractError(Reason.MESSAGE_INVALID, "not a JSON object")
    version = str(data.get("contract_version", "1.0"))
    major = version.split(".", 1)[0]
    if major != str(CONTRACT_MAJOR):
        raise ContractError(
            Reason.CONTRACT_VERSION_UNSUPPORTED,
            f"contract_version {version[:20]!r} is not {CONTRACT_MAJOR}.x",
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:5]
        )
        raise ContractError(Reason.MESSAGE_INVALID, problems) from None


def export_schemas() -> dict[str, dict]:
    """JSON Schema of every topic's contract, by topic name."""
    from services.contracts import TOPIC_CONTRACTS

    return {topic: model.model_json_schema() for topic, model in TOPIC_CONTRACTS.items()}


def asyncapi_document() -> dict:
    """An AsyncAPI 3.0 document naming every topic with its payload schema."""
    from services import topics
    from services.contracts import CONTRACT_VERSION, TOPIC_CONTRACTS

    produced_by_upstream = {topics.INCOMING, topics.REVIEWED}
    channels, operations, messages = {}, {}, {}
    for topic, model in TOPIC_CONTRACTS.items():
        key = topic.replace(".", "_")
        messages[model.__name__] = {
            "name": model.__name__,
            "contentType": "application/json",
            "payload": {"$ref": f"./{topic}.schema.json"},
            "summary": (model.__doc__ or model.__name__).strip().splitlines()[0],
        }
        channels[key] = {
            "address": topic,
            "messages": {model.__name__: {"$ref": f"#/components/messages/{model.__name__}"}},
            "bindings": {"kafka": {"topic": topic, "bindingVersion": "0.5.0"}},
        }
        action = "send" if topic in produced_by_upstream else "receive"
        operations[f"{action}_{key}"] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{key}"},
            "bindings": {"kafka": {"key": {"type": "string", "description": "document_id"}}},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "docflow",
            "version": CONTRACT_VERSION,
            "description": "Topics of the docflow document pipeline. Messages are JSON, keyed by document_id.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }
