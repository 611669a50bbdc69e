"""``docflow bench --against invoice2data``: CPU per document against the anchor, in one run.

invoice2data 1.0.1, in an environment of its own (made once under ``HOME/anchor``), reads the PDFs
with its pdftotext reader and a template written by hand per layout (``invoice2data/*.yml``, as its
own test suite has one per PDF). docflow reads the same PDFs in-process, the whole path from intake
to validation: with its templates (known vendors: no model where the template's reading validates),
without any (unknown vendors: the layout model and the generic rules), and through the broker with
one worker. Each side's CPU is its process's and its children's (pdftotext; the parse sandbox), the
median of ``rounds`` passes after a warm-up; milliseconds a document are the monitoring page's CPU
seconds per 1,000 documents. Beside each figure: the fields it read right, so that a cheap side is
not cheap by reading nothing.
"""

from __future__ import annotations

import base64
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from services.bench.stream import _own_cpu, through_broker
from services.contracts import IncomingDocument
from services.pipeline import run
from services.runtime import Runtime
from services.settings import Settings
from services.synth.layouts import LAYOUTS
from services.synth.render import generate

ANCHOR = "invoice2data==1.0.1"
HERE = Path(__file__).resolve().parent
TEMPLATES, RUNNER = HERE / "invoice2data", HERE / "invoice2data_run.py"
# The fields both read: docflow's name, invoice2data's, and how its value is written for comparison.
COMPARED = {"invoice_number": "invoice_number", "invoice_date": "date", "total_amount": "amount",
            "net_amount": "amount_untaxed", "tax_amount": "amount_tax", "vendor_vat_id": "vat",
            "vendor_iban": "iban"}


class AnchorUnavailable(RuntimeError):
    """invoice2data cannot run here (no pdftotext, no package index)."""


def corpus(count: int, seed: int) -> list[tuple[str, bytes, dict]]:
    """The layouts both sides have a template for, each document with its truth."""
    layouts = sorted(LAYOUTS.values(), key=lambda layout: layout.vendor_id)
    out = []
    for i in range(count):
        pdf, truth = generate(layouts[i % len(layouts)], seed=seed, serial=i, items=1 + i % 12)
        out.append((f"anchor-{seed}-{i:05d}", pdf, truth["fields"]))
    return out


def environment(root: Path) -> Path:
    """The Python of invoice2data's own environment, made on first use."""
    if shutil.which("pdftotext") is None:
        raise AnchorUnavailable("invoice2data reads with poppler's pdftotext: install poppler-utils")
    venv = root / ANCHOR.replace("==", "-")
    python = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        done = subprocess.run([str(python), "-m", "pip", "install", "-q", ANCHOR], capture_output=True, text=True)
        if done.returncode:
            raise AnchorUnavailable(f"pip install {ANCHOR} failed: {done.stderr.strip()[-400:]}")
        (venv / ".installed").touch()
    return python


def invoice2data(python: Path, passes: list[Path]) -> dict:
    done = subprocess.run([str(python), str(RUNNER), str(TEMPLATES), *map(str, passes)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def docflow(docs: list[tuple[str, bytes, dict]], settings: Settings, rounds: int) -> dict:
    """The in-process path, as ``docflow extract`` runs it, on every document ``rounds`` times."""
    rt = Runtime(settings)
    run(IncomingDocument(source="bench", content=base64.b64encode(docs[0][1]).decode()), rt)  # warm
    costs: list[float] = []
    read: dict[str, dict] = {}
    states: dict[str, int] = {}
    modelled = 0
    for n in range(rounds):
        started = _own_cpu()
        outcomes = [run(IncomingDocument(document_id=f"{doc_id}-{n}", source="bench",
                                         content=base64.b64encode(pdf).decode()), rt) for doc_id, pdf, _ in docs]
        costs.append(1000 * (_own_cpu() - started) / len(docs))
        if n == 0:
            for (doc_id, _, _), outcome in zip(docs, outcomes, strict=True):
                states[outcome.state] = states.get(outcome.state, 0) + 1
                fields = getattr(outcome.result, "fields", {})
                read[doc_id] = {name: fv.value for name, fv in fields.items()}
                modelled += getattr(outcome.result, "model_version", None) is not None
    return {"cpu_ms_per_doc": statistics.median(costs), "rounds_ms": costs, "states": states,
            "model_ran": modelled, "read": read}


def right(docs: list[tuple[str, bytes, dict]], read: dict[str, dict], names: dict[str, str]) -> tuple[int, int]:
    """(fields read right, fields asked) against the generator's truth."""
    good = total = 0
    for doc_id, _, truth in docs:
        got = read.get(doc_id, {})
        for ours, theirs in names.items():
            if truth.get(ours) is None:
                continue
            total += 1
            good += _same(ours, truth[ours], got.get(theirs))
    return good, total


def _same(name: str, truth: str, value) -> bool:  # type: ignore[no-untyped-def]
    if value is None:
        return False
    if name.endswith("_amount"):
        try:
            return abs(float(value) - float(truth)) < 0.005
        except ValueError:
            return False
    return str(value).replace(" ", "").upper() == truth.replace(" ", "").upper()


def against(count: int, rounds: int, home: Path, *, broker: bool = True, model_root: Path | None = None) -> dict:
    docs = corpus(count, seed=42)
    python = environment(home / "anchor")
    with tempfile.TemporaryDirectory(prefix="docflow-anchor-") as tmp:
        root = Path(tmp)
        passes = [root / f"pass-{n}" for n in range(rounds)]
        for folder in passes:
            folder.mkdir()
            for doc_id, pdf, _ in docs:
                (folder / f"{doc_id}.pdf").write_bytes(pdf)
        anchor = invoice2data(python, passes)
        base = Settings(home=root / "known", database_url=f"sqlite:///{root / 'known.db'}", model_dir=model_root)
        known = docflow(docs, base, rounds)
        bare = root / "rules"  # the same rules without a vendor template: every document unknown
        shutil.copytree(base.rules_dir, bare, ignore=shutil.ignore_patterns("templates"))
        (bare / "templates").mkdir()
        unknown = docflow(docs, base.model_copy(update={"home": root / "unknown", "rules_dir": bare,
                                                        "database_url": f"sqlite:///{root / 'unknown.db'}"}), rounds)
        streamed = through_broker([(d, pdf) for d, pdf, _ in docs], root / "cluster", f"sqlite:///{root / 's.db'}",
                                  1, 4, model_root, latency=False) if broker else None
    mine = {name: name for name in COMPARED}
    return {
        "documents": count, "rounds": rounds,
        "invoice2data": {"cpu_ms_per_doc": anchor["cpu_ms_per_doc"], "rounds_ms": anchor["rounds_ms"],
                         "right": right(docs, anchor["read"], COMPARED)},
        "known": _side(known, right(docs, known["read"], mine)),
        "unknown": _side(unknown, right(docs, unknown["read"], mine)),
        "broker": {key: streamed[key] for key in ("cpu_ms_per_doc", "terminal", "model_ran")} if streamed else None,
    }


def _side(figures: dict, right_of: tuple[int, int]) -> dict:
    return {key: figures[key] for key in ("cpu_ms_per_doc", "rounds_ms", "states", "model_ran")} | {"right": right_of}


def print_against(report: dict) -> None:
    anchor, known, unknown, streamed = report["invoice2data"], report["known"], report["unknown"], report["broker"]
    base = anchor["cpu_ms_per_doc"]
    print(f"CPU per document (ms = CPU s per 1,000 documents), {report['documents']} PDFs, median of "
          f"{report['rounds']} passes, each side's process and its children")
    print(f"  invoice2data 1.0.1, pdftotext, a template per layout : {base:6.1f} ms   fields right "
          f"{anchor['right'][0]}/{anchor['right'][1]}")
    for label, side in (("docflow, known vendor (its template)", known), ("docflow, unknown vendor (model)", unknown)):
        print(f"  {label:<53}: {side['cpu_ms_per_doc']:6.1f} ms   {side['cpu_ms_per_doc'] / base:5.2f} x invoice2data"
              f"   fields right {side['right'][0]}/{side['right'][1]}, model ran on {side['model_ran']}, "
              f"{side['states'].get('accepted', 0)} accepted")
    if streamed:
        print(f"  {'docflow through the broker, one worker (known)':<53}: {streamed['cpu_ms_per_doc']:6.1f} ms   "
              f"{streamed['cpu_ms_per_doc'] / known['cpu_ms_per_doc']:5.2f} x in-process   model ran on "
              f"{streamed['model_ran']}")
    print(json.dumps(report))
