"""Scanned variants: pages rendered to images, turned slightly, blurred and speckled, and put
back into a PDF without a text layer. The truth boxes turn with the page."""

from __future__ import annotations

import io
import math
import random

from PIL import Image, ImageChops, ImageFilter
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from services.parsing.pdfium import LOCK

DPI = 150


def scan(pdf: bytes, truth: dict, rng: random.Random) -> tuple[bytes, dict]:
    """An image-only copy of ``pdf`` and its truth with every box moved as the page turned."""
    import pypdfium2 as pdfium

    with LOCK:
        document = pdfium.PdfDocument(pdf)
        try:
            images = [page.render(scale=DPI / 72).to_pil().convert("L") for page in document]
        finally:
            document.close()
    out = io.BytesIO()
    page_size = A4
    c = canvas.Canvas(out, pagesize=page_size, invariant=1)
    angles = []
    for image in images:
        angle = rng.uniform(-1.2, 1.2)
        angles.append(angle)
        image = image.rotate(angle, resample=Image.Resampling.BILINEAR, expand=False, fillcolor=255)
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.8)))
        noise = Image.effect_noise(image.size, rng.uniform(8, 18))
        image = ImageChops.multiply(image, ImageChops.invert(ImageChops.invert(noise).point(lambda v: v // 6)))
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=70)
        buf.seek(0)
        c.drawImage(ImageReader(buf), 0, 0, width=page_size[0], height=page_size[1])
        c.showPage()
    c.save()
    moved = dict(truth, scanned=True, labels=[_turn(label, angles, page_size) for label in truth.get("labels", [])])
    return out.getvalue(), moved


def _turn(label: dict, angles: list[float], size: tuple[float, float]) -> dict:
    angle = angles[label["page"] - 1]
    return label | {
        "bbox": _turn_box(label["bbox"], angle, size),
        "words": [w | {"bbox": _turn_box(w["bbox"], angle, size)} for w in label["words"]],
    }


def _turn_box(box: list[float], angle: float, size: tuple[float, float]) -> list[float]:
    """PIL turns counter-clockwise about the centre; in top-left page coordinates (y down) that is
    x' = cx + dx cos a + dy sin a, y' = cy - dx sin a + dy cos a."""
    cx, cy = size[0] / 2, size[1] / 2
    a = math.radians(angle)
    xs, ys = [], []
    for x, y in ((box[0], box[1]), (box[2], box[1]), (box[0], box[3]), (box[2], box[3])):
        dx, dy = x - cx, y - cy
        xs.append(cx + dx * math.cos(a) + dy * math.sin(a))
        ys.append(cy - dx * math.sin(a) + dy * math.cos(a))
    return [round(min(xs), 2), round(min(ys), 2), round(max(xs), 2), round(max(ys), 2)]
