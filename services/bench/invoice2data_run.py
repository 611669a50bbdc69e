"""Runs invoice2data on folders of PDFs, one pass a request: a folder's path on a line of stdin, its
CPU per document and what it read as a line of JSON on stdout; it ends at the end of its input.

Run by ``docflow bench --against invoice2data`` with the Python of invoice2data's own environment:
it imports nothing of docflow. CPU is this process's and its children's (the ``pdftotext`` each
document spawns), read with ``getrusage``; one warm-up document first (a path no pass reads), then a
pass when asked, between docflow's own passes: both sides measured under the same load on the
machine. Each pass reads the same PDFs under other paths, since its pdftotext reader caches a file's
text by path and modification time, and a second pass over the same paths would read nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
from pathlib import Path

FIELDS = ("invoice_number", "date", "amount", "amount_untaxed", "amount_tax", "vat", "iban")


def cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("templates", type=Path)
    parser.add_argument("warm", type=Path, help="a PDF to read once before the first pass")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # it logs every document it reads

    import invoice2data
    from invoice2data import extract_data
    from invoice2data.extract.loader import read_templates
    from invoice2data.input import pdftotext

    templates = read_templates(str(args.templates))
    extract_data(str(args.warm), templates=templates, input_module=pdftotext)  # imports, compiled templates
    for line in sys.stdin:
        files = sorted(Path(line.strip()).glob("*.pdf"))
        read = {}
        started = cpu()
        for path in files:
            result = extract_data(str(path), templates=templates, input_module=pdftotext)
            read[path.stem] = {name: _plain(result.get(name)) for name in FIELDS if name in result}
        spent = cpu() - started
        print(json.dumps({"version": getattr(invoice2data, "__version__", "?"), "reader": "pdftotext",
                          "documents": len(files), "cpu_ms_per_doc": 1000 * spent / max(len(files), 1),
                          "read": read}), flush=True)


def _plain(value):  # type: ignore[no-untyped-def]
    return value.date().isoformat() if hasattr(value, "date") and callable(value.date) else value


if __name__ == "__main__":
    main()
