"""The evaluation report as a terminal table and as a self-contained HTML page
(a per-field bar chart, a vendor-by-field heat map and the reliability table)."""

from __future__ import annotations

from html import escape

from services.contracts import HEADER_FIELDS


def _f(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.3f}"


def terminal(report: dict) -> str:
    lines = [f"documents {report['documents']}  {report['kinds']}"
             + (f"  missing predictions {len(report['missing_predictions'])}" if report["missing_predictions"] else "")]
    for name, group in report["groups"].items():
        lines.append("")
        lines.append(f"== {name}: {group['documents']} documents")
        lines.append(f"{'field':18} {'P':>6} {'R':>6} {'F1':>6} {'exact':>6} {'n':>6}")
        for field, m in group["fields"].items():
            lines.append(f"{field:18} {_f(m['precision']):>6} {_f(m['recall']):>6} {_f(m['f1']):>6} "
                         f"{_f(m['exact_match']):>6} {m['scored']:>6}")
        h = group["header"]
        lines.append(f"{'HEADER (micro)':18} {_f(h['precision']):>6} {_f(h['recall']):>6} {_f(h['f1']):>6} "
                     f"{_f(h['exact_match']):>6} {h['scored']:>6}")
        if group["line_items"]:
            li = group["line_items"]["items"]
            lines.append(f"{'line items (set)':18} {_f(li['precision']):>6} {_f(li['recall']):>6} {_f(li['f1']):>6} "
                         f"{_f(li['exact_match']):>6} {group['line_items']['documents']:>6}")
    cal = [b for b in report["calibration"] if b["count"]]
    if cal:
        lines.append("")
        lines.append("reliability: confidence bin -> accuracy (count)")
        for b in cal:
            lines.append(f"  [{b['bin'][0]:.2f}, {b['bin'][1]:.2f})  mean conf {b['mean_confidence']:.3f}  "
                         f"accuracy {b['accuracy']:.3f}  ({b['count']})")
    return "\n".join(lines)


def _missing(count: int) -> str:
    return f" · {count} without prediction" if count else ""


def _opt(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _colour(value: float | None) -> str:
    """Red below 0.6, through amber at 0.9, to green at 1: the range where extraction lives."""
    if value is None:
        return "#eeeeee"
    if value < 0.9:
        t = max(0.0, (value - 0.6) / 0.3)
        return f"rgb({int(215 + 25 * t)},{int(70 + 130 * t)},60)"
    t = (value - 0.9) / 0.1
    return f"rgb({int(240 - 170 * t)},{int(200 - 10 * t)},{int(60 + 20 * t)})"


def _bars(group: dict) -> str:
    fields = list(group["fields"].items())
    width, bar, gap, left = 640, 18, 6, 140
    height = len(fields) * (bar + gap) + 30
    out = [f'<svg width="{width}" height="{height}" role="img" aria-label="F1 per field">']
    for i, (field, m) in enumerate(fields):
        y = i * (bar + gap) + 10
        w = (width - left - 60) * (m["f1"] or 0)
        out.append(f'<text x="{left - 8}" y="{y + 13}" text-anchor="end">{escape(field)}</text>')
        out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" fill="{_colour(m["f1"])}"/>')
        out.append(f'<text x="{left + w + 6:.1f}" y="{y + 13}">{m["f1"]:.3f}</text>')
    out.append("</svg>")
    return "".join(out)


def _heatmap(group: dict) -> str:
    fields = [f for f in HEADER_FIELDS if f in group["fields"]]
    head = "".join(f'<th class="rot"><div>{escape(f)}</div></th>' for f in fields)
    rows = []
    for vendor, v in group["vendors"].items():
        cells = []
        for f in fields:
            m = v["fields"].get(f)
            value = None if m is None else m["exact_match"]
            title = "not scored" if m is None else f"F1 {m['f1']:.3f}, exact {m['exact_match']:.3f}, n {m['scored']}"
            cells.append(f'<td style="background:{_colour(value)}" title="{escape(title)}">'
                         f'{"" if value is None else f"{value:.2f}"}</td>')
        rows.append(f"<tr><th>{escape(vendor)}</th>{''.join(cells)}<td>{v['header']['f1']:.3f}</td></tr>")
    return f'<table class="heat"><tr><th>vendor</th>{head}<th>header F1</th></tr>{"".join(rows)}</table>'


def html(report: dict, title: str = "docflow evaluation") -> str:
    sections = []
    for name, group in report["groups"].items():
        h = group["header"]
        li = group["line_items"]
        items = (f" · line items (matched set) F1 <b>{li['items']['f1']:.3f}</b> over {li['documents']} documents"
                 if li else "")
        sections.append(
            f"<section><h2>{escape(name)}</h2><p>{group['documents']} documents · header fields F1 "
            f"<b>{h['f1']:.3f}</b> (P {h['precision']:.3f}, R {h['recall']:.3f}, exact {h['exact_match']:.3f})"
            f"{items}</p><h3>F1 per field</h3>{_bars(group)}"
            f"<h3>Exact match per vendor and field</h3>{_heatmap(group)}</section>"
        )
    cal_rows = "".join(
        f"<tr><td>[{b['bin'][0]:.2f}, {b['bin'][1]:.2f})</td><td>{b['count']}</td>"
        f"<td>{_opt(b['mean_confidence'])}</td>"
        f"<td style=\"background:{_colour(b['accuracy'])}\">{_opt(b['accuracy'])}</td></tr>"
        for b in report["calibration"]
    )
    missing = len(report["missing_predictions"])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}
svg text {{ font: 12px system-ui, sans-serif; }}
table.heat {{ border-collapse: collapse; font-size: 12px; }}
table.heat td, table.heat th {{ border: 1px solid #fff; padding: 3px 6px; text-align: center; }}
table.heat th.rot {{ height: 110px; vertical-align: bottom; }}
th.rot div {{ writing-mode: vertical-rl; transform: rotate(180deg); }}
table.cal td, table.cal th {{ padding: 3px 10px; border-bottom: 1px solid #ddd; }}
section {{ margin-bottom: 3em; }}
</style></head><body>
<h1>{escape(title)}</h1>
<p>{report['documents']} documents {escape(str(report['kinds']))}{_missing(missing)}.
Rules of comparison: docs/evaluation.md.</p>
{''.join(sections)}
<h2>Reliability of confidences</h2>
<table class="cal"><tr><th>confidence</th><th>values</th><th>mean confidence</th><th>accuracy</th></tr>
{cal_rows}</table>
</body></html>
"""
