"""Runs invoice2data on a folder of PDFs and prints its CPU per document and what it read, as JSON.

Run by ``docflow bench --against invoice2data`` with the Python of invoice2data's own environment:
it imports nothing of docflow. CPU is this process's and its children's (the ``pdftotext`` each
document spawns), read with ``getrusage``; one warm-up document first, then one pass over each
folder given: the same PDFs under other paths, since its pdftotext reader caches a file's text by
path and modification time, and a second pass over the same paths would read nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import shutil
import statistics
from pathlib import Path

FIELDS = ("invoice_number", "date", "amount", "amount_untaxed", "amount_tax", "vat", "iban")


def cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("templates", type=Path)
    parser.add_argument("passes", type=Path, nargs="+", help="folders of PDFs, one pass each")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # it logs every document it reads

    import invoice2data
    from invoice2data import extract_data
    from invoice2data.extract.loader import read_templates
    from invoice2data.input import pdftotext

    templates = read_templates(str(args.templates))
    warm = args.passes[0].parent / "warm.pdf"  # a path no pass reads
    shutil.copyfile(sorted(args.passes[0].glob("*.pdf"))[0], warm)
    extract_data(str(warm), templates=templates, input_module=pdftotext)  # imports, compiled templates
    rounds, read = [], {}
    for folder in args.passes:
        files = sorted(folder.glob("*.pdf"))
        started = cpu()
        for path in files:
            result = extract_data(str(path), templates=templates, input_module=pdftotext)
            read[path.stem] = {name: _plain(result.get(name)) for name in FIELDS if name in result}
        rounds.append(1000 * (cpu() - started) / len(files))
    print(json.dumps({
        "version": getattr(invoice2data, "__version__", "?"), "reader": "pdftotext", "documents": len(files),
        "cpu_ms_per_doc": statistics.median(rounds), "rounds_ms": rounds, "read": read,
    }))


def _plain(value):  # type: ignore[no-untyped-def]
    return value.date().isoformat() if hasattr(value, "date") and callable(value.date) else value


if __name__ == "__main__":
    main()
