"""Onboarding vendors through the labeling service's HTTP API, as a labeler's browser does it.

``docflow labels onboard`` uses it to onboard the vendors of a labeled corpus (a synthetic one,
or documents labeled elsewhere): upload a document, send the labels as word boxes on its pages
(what clicks and drags send), induce the template, publish it. Where the service reads a value
differently from the corpus (an ambiguous date, say), the value is typed in, as a labeler
correcting the field would, and counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from labeling.labels import Pick
from services.contracts import HEADER_FIELDS, LabeledValue


@dataclass
class Onboarded:
    vendor: str
    template_id: str
    documents: list[str]
    version: int | None = None
    reproduced: bool = False
    dropped: dict[str, str] = field(default_factory=dict)
    typed: list[str] = field(default_factory=list)  # fields whose value had to be typed
    error: str | None = None


class LabelingClient:
    def __init__(self, url: str, token: str, timeout: float = 120.0):
        self.http = httpx.Client(base_url=url.rstrip("/"), headers={"Authorization": f"Bearer {token}"},
                                 timeout=timeout)

    def _ok(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise RuntimeError(f"{response.request.method} {response.request.url.path}: "
                               f"{response.status_code} {response.text[:500]}")
        return response.json()

    def upload(self, pdf: Path) -> str:
        with pdf.open("rb") as f:
            answer = self.http.post("/api/labeling/documents", files={"file": (pdf.name, f, "application/pdf")})
        return self._ok(answer)["document_id"]

    def label(self, document_id: str, picks: list[Pick]) -> list[LabeledValue]:
        """The labels the service saved from these picks."""
        body = {"picks": [pick.model_dump(mode="json") for pick in picks]}
        answer = self._ok(self.http.put(f"/api/labeling/documents/{document_id}/labels", json=body))
        return [LabeledValue.model_validate(label) for label in answer["labels"]]

    def induce(self, template_id: str, documents: list[str]) -> dict:
        return self._ok(self.http.post(f"/api/labeling/templates/{template_id}/induce", json={"documents": documents}))

    def publish(self, template_id: str, documents: list[str], yaml: str, note: str, force: bool = False) -> dict:
        return self._ok(self.http.post(f"/api/labeling/templates/{template_id}/publish",
                                       json={"documents": documents, "yaml": yaml, "note": note, "force": force}))


def corpus_labels(pdf: Path) -> list[LabeledValue]:
    """The labels of a corpus document's truth (the .json beside it)."""
    truth = json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))
    return [LabeledValue.model_validate(label) for label in truth["labels"]]


def picks_for(labels: list[LabeledValue]) -> list[Pick]:
    """Labels as a labeler's picks: the page and the boxes of the words."""
    return [Pick(field=lab.field, page=lab.page, words=[w.bbox for w in lab.words]) for lab in labels if lab.words]


def onboard_vendor(client: LabelingClient, vendor: str, docs: list[Path], *, force: bool = False) -> Onboarded:
    result = Onboarded(vendor, vendor.lower().replace("_", "-"), [])
    try:
        for pdf in docs:
            labels = corpus_labels(pdf)
            document_id = client.upload(pdf)
            saved = client.label(document_id, picks_for(labels))
            want = {lab.field: lab.value for lab in labels}
            wrong = [lab.field for lab in saved if want.get(lab.field) != lab.value]
            if wrong:  # the labeler types what the document means
                picks = [p.model_copy(update={"value": want[p.field]}) if p.field in wrong else p
                         for p in picks_for(labels)]
                client.label(document_id, picks)
                result.typed += wrong
            result.documents.append(document_id)
        induced = client.induce(result.template_id, result.documents)
        result.dropped = induced["dropped"]
        result.reproduced = induced["check"]["ok"]
        if result.reproduced or force:
            published = client.publish(result.template_id, result.documents, induced["yaml"],
                                       note=f"onboarded from {', '.join(p.name for p in docs)}", force=force)
            result.version = published["version"]
    except RuntimeError as exc:
        result.error = str(exc)
    return result


def most_complete(pdfs: list[Path], n: int) -> list[Path]:
    """The ``n`` documents printing the most header fields (a labeler onboarding a vendor picks an
    invoice that shows its due date and order number, if it has them), earliest first on ties."""
    def printed(pdf: Path) -> int:
        return sum(1 for lab in corpus_labels(pdf) if lab.field in HEADER_FIELDS)

    return sorted(pdfs, key=lambda p: -printed(p))[:n]
