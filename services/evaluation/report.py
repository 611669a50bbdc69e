"""The evaluation report as a terminal table and as a self-contained HTML page
(a per-field bar chart, a vendor-by-field heat map and the reliability table)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

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


_PAGE = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                    autoescape=select_autoescape(["html"]), trim_blocks=False)


def html(report: dict, title: str = "docflow evaluation") -> str:
    """The report as one page (services/evaluation/templates/report.html, every value escaped)."""
    return _PAGE.get_template("report.html").render(
        report=report, title=title, missing=len(report["missing_predictions"]), header_fields=HEADER_FIELDS,
        colour=_colour, optional=_opt)
