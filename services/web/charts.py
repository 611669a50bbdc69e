"""Small line charts as inline SVG (no script, no inline style: the console's CSP allows them)."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD = 320, 120, 28


def line_chart(title: str, points: list[float | None], unit: str = "", labels: tuple[str, str] = ("", "")) -> Markup:
    """One series: a polyline over the buckets (gaps where a bucket had no value), the last value,
    and the range on the axis."""
    values = [p for p in points if p is not None]
    scale = 100.0 if unit == "%" else 1.0
    top = max(values) * scale if values else 1.0
    top = top if top > 0 else 1.0
    step = (WIDTH - 2 * PAD) / max(len(points) - 1, 1)
    segments: list[list[str]] = []
    current: list[str] = []
    for i, p in enumerate(points):
        if p is None:
            if current:
                segments.append(current)
            current = []
            continue
        x = PAD + i * step
        y = HEIGHT - PAD - (p * scale / top) * (HEIGHT - 2 * PAD)
        current.append(f"{x:.1f},{y:.1f}")
    if current:
        segments.append(current)
    last = f"{values[-1] * scale:.1f}{unit}" if values else "no data"
    lines = "".join(f'<polyline fill="none" stroke="#2563eb" stroke-width="2" points="{" ".join(s)}"/>'
                    for s in segments)
    dots = "".join(f'<circle r="2.5" fill="#2563eb" cx="{s[-1].split(",")[0]}" cy="{s[-1].split(",")[1]}"/>'
                   for s in segments[-1:])
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(title)}">'
        f'<text x="{PAD}" y="14" font-size="11" fill="#111">{escape(title)}: {escape(last)}</text>'
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>'
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>'
        f'<text x="2" y="{PAD + 4}" font-size="9" fill="#555">{top:.3g}</text>'
        f'<text x="2" y="{HEIGHT - PAD}" font-size="9" fill="#555">0</text>'
        f'<text x="{PAD}" y="{HEIGHT - 8}" font-size="9" fill="#555">{escape(labels[0])}</text>'
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" font-size="9" fill="#555" '
        f'text-anchor="end">{escape(labels[1])}</text>'
        f'{lines}{dots}</svg>')
