"""Label Studio interchange: its OCR labeling config, and tasks in its JSON export format.

One Label Studio task per page (its ``ocr`` image is the page rendered by docflow). Each label
is a region of three results sharing one id, as Label Studio's OCR template makes them: a
``rectangle`` (``bbox``), its ``labels`` (the field) and a ``textarea`` (``transcription``: the
value). Coordinates are percentages of the image, so they hold at any render scale. Line-item
regions carry their row in the region's ``meta`` text ("row 3"); regions drawn in Label Studio
without it are put in rows by their vertical position.

Import turns every region back into the words it covers (half of a word's box inside the
rectangle), so a re-imported export gives the same labels.
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import quoteattr

from labeling.labels import Pick, words_inside
from services.contracts import HEADER_FIELDS, LINE_ITEM_FIELDS, LabeledValue, Page

FROM_BOX, FROM_LABEL, FROM_TEXT, TO = "bbox", "label", "transcription", "image"
LINE_LABEL = "line_item."  # the Label Studio label of a line-item column: line_item.amount
_ROW = re.compile(r"^line_items\.(\d+)\.(\w+)$")
COLOURS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
           "#fabed4", "#469990", "#9a6324", "#800000", "#808000", "#000075", "#a9a9a9")


def config() -> str:
    """The labeling config to paste into a Label Studio project (Settings > Labeling Interface)."""
    names = [*HEADER_FIELDS, *(LINE_LABEL + c for c in LINE_ITEM_FIELDS)]
    labels = "\n".join(f'    <Label value={quoteattr(n)} background="{COLOURS[i % len(COLOURS)]}"/>'
                       for i, n in enumerate(names))
    return f"""<View>
  <Image name="{TO}" value="$ocr" zoom="true" zoomControl="true"/>
  <Labels name="{FROM_LABEL}" toName="{TO}">
{labels}
  </Labels>
  <Rectangle name="{FROM_BOX}" toName="{TO}" strokeWidth="2"/>
  <TextArea name="{FROM_TEXT}" toName="{TO}" editable="true" perRegion="true" required="true"
            maxSubmissions="1" rows="2" placeholder="Value" displayMode="region-list"/>
</View>
"""


def export_document(document_id: str, pages: list[Page], labels: list[LabeledValue], *, image_url: str,
                    revision: int, author: str, scale: float) -> list[dict[str, Any]]:
    """The tasks of one document: a task per page, its labels as one completed annotation."""
    tasks = []
    for page in pages:
        width, height = round(page.width * scale), round(page.height * scale)
        result: list[dict[str, Any]] = []
        for n, label in enumerate(lab for lab in labels if lab.page == page.number and lab.bbox):
            x0, y0, x1, y1 = label.bbox  # type: ignore[misc]
            geometry = {"x": 100 * x0 / page.width, "y": 100 * y0 / page.height,
                        "width": 100 * (x1 - x0) / page.width, "height": 100 * (y1 - y0) / page.height, "rotation": 0}
            match = _ROW.match(label.field)
            name = LINE_LABEL + match.group(2) if match else label.field
            region = {"id": f"p{page.number}r{n}", "to_name": TO, "original_width": width,
                      "original_height": height, "image_rotation": 0}
            meta = {"meta": {"text": [f"row {int(match.group(1)) + 1}"]}} if match else {}
            result += [
                region | {"type": "rectangle", "from_name": FROM_BOX, "value": dict(geometry)} | meta,
                region | {"type": "labels", "from_name": FROM_LABEL, "value": geometry | {"labels": [name]}},
                region | {"type": "textarea", "from_name": FROM_TEXT, "value": geometry | {"text": [label.value]}},
            ]
        tasks.append({
            "data": {"ocr": image_url.format(page=page.number), "document_id": document_id, "page": page.number,
                     "docflow_revision": revision},
            "annotations": [{"result": result, "completed_by": author, "was_cancelled": False}] if result else [],
        })
    return tasks


def _annotation(task: dict) -> list[dict]:
    done = [a for a in task.get("annotations") or [] if not a.get("was_cancelled")]
    return (done[-1].get("result") or []) if done else []


def picks_from_tasks(tasks: list[dict], pages: list[Page]) -> list[Pick]:
    """The picks of one document's tasks (ValueError for a region that is not a field or covers no word)."""
    regions: dict[tuple[int, str], dict[str, Any]] = {}
    for task in tasks:
        number = int(task["data"]["page"])
        if not 1 <= number <= len(pages):
            raise ValueError(f"task for page {number}: the document has {len(pages)} page(s)")
        for r in _annotation(task):
            region = regions.setdefault((number, str(r.get("id"))), {"page": number})
            value = r.get("value") or {}
            if {"x", "y", "width", "height"} <= value.keys():
                region["rect"] = value
            if r.get("type") in ("labels", "rectanglelabels"):
                region["label"] = (value.get("labels") or value.get("rectanglelabels") or [None])[0]
            if r.get("type") == "textarea":
                region["text"] = " ".join(value.get("text") or [])
            meta = (r.get("meta") or {}).get("text") or []
            row = next((int(m.group(1)) for t in meta if (m := re.search(r"row\s*(\d+)", str(t)))), None)
            if row is not None:
                region["row"] = row - 1
    picks, unrowed = [], []
    for region in regions.values():
        name = region.get("label")
        if not name or "rect" not in region:
            continue
        page = pages[region["page"] - 1]
        rect = region["rect"]
        box = (rect["x"] * page.width / 100, rect["y"] * page.height / 100,
               (rect["x"] + rect["width"]) * page.width / 100, (rect["y"] + rect["height"]) * page.height / 100)
        words = words_inside(page, box)
        if not words and not region.get("text"):
            raise ValueError(f"a {name} region on page {page.number} covers no word and has no text")
        pick = {"page": page.number, "words": [w.bbox for w in words], "value": region.get("text") or None}
        if name.startswith(LINE_LABEL):
            unrowed.append((region.get("row"), page.number, box[1], box[3], name[len(LINE_LABEL):], pick))
        else:
            picks.append(Pick(field=name, **pick))
    return picks + _rows(unrowed)


def _rows(regions: list[tuple]) -> list[Pick]:
    """Line-item regions to ``line_items.<row>.<column>``: the row from the region's meta, else rows
    by position (a region whose vertical middle falls inside the previous row's band joins it)."""
    if all(r[0] is not None for r in regions):
        return [Pick(field=f"line_items.{row}.{column}", **pick) for row, _, _, _, column, pick in regions]
    out, row, band = [], -1, None
    for _, page, top, bottom, column, pick in sorted(regions, key=lambda r: (r[1], (r[2] + r[3]) / 2)):
        middle = (top + bottom) / 2
        if band is None or band[0] != page or not band[1] <= middle <= band[2]:
            row, band = row + 1, (page, top, bottom)
        out.append(Pick(field=f"line_items.{row}.{column}", **pick))
    return out


def group_tasks(tasks: list[dict]) -> dict[str, list[dict]]:
    """Tasks by the docflow document they are pages of (ValueError for a task that names none)."""
    grouped: dict[str, list[dict]] = {}
    for n, task in enumerate(tasks):
        data = task.get("data") if isinstance(task, dict) else None
        if not isinstance(data, dict) or not data.get("document_id") or not data.get("page"):
            raise ValueError(f"task {n}: data.document_id and data.page are needed to know which page it labels")
        grouped.setdefault(str(data["document_id"]), []).append(task)
    return grouped
