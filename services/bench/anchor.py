"""``docflow bench --against invoice2data``: CPU per document against the anchor, in one run.

invoice2data 1.0.1, in an environment of its own (made once under ``HOME/anchor``), reads the PDFs
with its pdftotext reader and a template written by hand per layout (``invoice2data/*.yml``, as its
own test suite has one per PDF). docflow reads the same PDFs in-process, the whole path from intake
to validation, each pass storing its documents anew as the broker's side does: with its templates
(known vendors: no model where the template's reading validates), without any (unknown vendors: the
layout model and the generic rules), and through the broker with one worker. Each side's CPU is its
process's and its children's (pdftotext; the parse sandbox), the median of ``rounds`` passes after a
warm-up; milliseconds a document are the monitoring page's CPU seconds per 1,000 documents. The
passes take turns (invoice2data's, then docflow's known and unknown, the order turning each round),
and a ratio is the median of each round's: a machine shared with others runs faster or slower by the
minute, and two sides measured minutes apart would compare the minutes as much as the code. The
broker's side is taken the same way: one worker, started once, is sent each round's own new
documents at once (the same bytes twice would be duplicates), which the known side also reads in
process, the two in turn; its ratio is the median of the rounds'. Beside each figure: the fields it
read right, so that a cheap side is not cheap by reading nothing.
"""

from __future__ import annotations

import base64
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from services.bench.stream import Streamed, _own_cpu
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


def corpus(count: int, seed: int, first: int = 0) -> list[tuple[str, bytes, dict]]:
    """The layouts both sides have a template for, each document with its truth (serials from ``first``:
    other serials are other invoices, other bytes)."""
    layouts = sorted(LAYOUTS.values(), key=lambda layout: layout.vendor_id)
    out = []
    for i in range(first, first + count):
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


class Invoice2data:
    """invoice2data's runner in its own environment, warm, reading the next of ``folders`` a call
    (the same PDFs in each: see invoice2data_run.py)."""

    def __init__(self, python: Path, warm: Path, folders: list[Path]):
        self.folders = iter(folders)
        self.proc = subprocess.Popen([str(python), str(RUNNER), str(TEMPLATES), str(warm)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def read(self) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{next(self.folders)}\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"invoice2data's runner ended (exit {self.proc.wait()})")
        return json.loads(answer)  # type: ignore[no-any-return]

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


class Docflow:
    """The in-process path, as ``docflow extract`` runs it, warm, one pass over the documents a call."""

    def __init__(self, docs: list[tuple[str, bytes, dict]], settings: Settings):
        self.docs, self.rt = docs, Runtime(settings)
        self.blobs = self.rt.blobs.root
        run(IncomingDocument(source="bench", content=base64.b64encode(docs[0][1]).decode()), self.rt)  # warm
        self.passes = 0

    def read(self, docs: list[tuple[str, bytes, dict]] | None = None) -> dict:
        """A pass over the bench's documents, or over ``docs``."""
        docs = self.docs if docs is None else docs
        n, self.passes = self.passes, self.passes + 1
        # Each pass stores its documents as new ones (as a stream of invoices does, and the broker's
        # side): the blob store keeps the same bytes once, and a pass over stored ones skipped the write.
        self.rt.blobs.root = self.blobs / f"pass-{n}"
        started = _own_cpu()
        outcomes = [run(IncomingDocument(document_id=f"{doc_id}-{n}", source="bench",
                                         content=base64.b64encode(pdf).decode()), self.rt)
                    for doc_id, pdf, _ in docs]
        figures: dict = {"cpu_ms_per_doc": 1000 * (_own_cpu() - started) / len(docs), "states": {},
                         "model_ran": 0, "read": {}}
        for (doc_id, _, _), outcome in zip(docs, outcomes, strict=True):
            figures["states"][outcome.state] = figures["states"].get(outcome.state, 0) + 1
            fields = getattr(outcome.result, "fields", {})
            figures["read"][doc_id] = {name: fv.value for name, fv in fields.items()}
            figures["model_ran"] += getattr(outcome.result, "model_version", None) is not None
        return figures


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
        (root / "warm.pdf").write_bytes(docs[0][1])  # a path no pass reads
        base = Settings(home=root / "known", database_url=f"sqlite:///{root / 'known.db'}", model_dir=model_root)
        bare = root / "rules"  # the same rules without a vendor template: every document unknown
        shutil.copytree(base.rules_dir, bare, ignore=shutil.ignore_patterns("templates"))
        (bare / "templates").mkdir()
        anchor = Invoice2data(python, root / "warm.pdf", passes)
        streamed = Streamed(root / "cluster", f"sqlite:///{root / 's.db'}", 1, 4, model_root) if broker else None
        try:
            unknown = base.model_copy(update={"home": root / "unknown", "rules_dir": bare,
                                              "database_url": f"sqlite:///{root / 'unknown.db'}"})
            known = Docflow(docs, base)
            sides: dict[str, Callable[[], dict]] = {"invoice2data": anchor.read, "known": known.read,
                                                    "unknown": Docflow(docs, unknown).read}
            order = list(sides)
            passed: dict[str, list[dict]] = {name: [] for name in sides}
            bursts: list[tuple[dict, dict]] = []  # (through the broker, in process) on a round's new documents
            for n in range(rounds):
                for name in order[n % 3:] + order[:n % 3]:
                    passed[name].append(sides[name]())
                if streamed is not None:
                    bursts.append(_burst(streamed, known, corpus(count, seed=42, first=(n + 1) * count), n))
        finally:
            anchor.close()
            if streamed is not None:
                streamed.close()
    mine = {name: name for name in COMPARED}
    report: dict = {"documents": count, "rounds": rounds}
    for name, figures in passed.items():
        first = figures[0]
        report[name] = {"cpu_ms_per_doc": statistics.median(f["cpu_ms_per_doc"] for f in figures),
                        "rounds_ms": [f["cpu_ms_per_doc"] for f in figures],
                        "right": right(docs, first["read"], COMPARED if name == "invoice2data" else mine)}
        if name != "invoice2data":
            report[name] |= {"states": first["states"], "model_ran": first["model_ran"],
                             "ratio": statistics.median(f["cpu_ms_per_doc"] / a["cpu_ms_per_doc"]
                                                        for f, a in zip(figures, passed["invoice2data"], strict=True))}
    report["broker"] = None if not bursts else {
        "cpu_ms_per_doc": statistics.median(b["cpu_ms_per_doc"] for b, _ in bursts),
        "rounds_ms": [b["cpu_ms_per_doc"] for b, _ in bursts],
        "monitors_rounds_ms": [b["monitors_cpu_ms_per_doc"] for b, _ in bursts],
        "in_process_rounds_ms": [i["cpu_ms_per_doc"] for _, i in bursts],
        "ratio": statistics.median(b["cpu_ms_per_doc"] / i["cpu_ms_per_doc"] for b, i in bursts),
        "terminal": bursts[0][0]["terminal"], "model_ran": bursts[0][0]["model_ran"]}
    return report


def _burst(streamed: Streamed, known: Docflow, docs: list[tuple[str, bytes, dict]], n: int) -> tuple[dict, dict]:
    """New documents through the broker and the same ones in process, the order turning each round
    (bytes the broker saw before would be duplicates: each round has its own)."""
    named = [(f"{doc_id}-b", pdf) for doc_id, pdf, _ in docs]
    if n % 2:
        local = known.read(docs)
        return streamed.burst(named), local
    through = streamed.burst(named)
    return through, known.read(docs)


def print_against(report: dict) -> None:
    anchor, known, unknown, streamed = report["invoice2data"], report["known"], report["unknown"], report["broker"]
    base = anchor["cpu_ms_per_doc"]
    print(f"CPU per document (ms = CPU s per 1,000 documents), {report['documents']} PDFs, median of "
          f"{report['rounds']} passes taking turns, each side's process and its children; a ratio is the median of "
          f"the rounds'")
    print(f"  invoice2data 1.0.1, pdftotext, a template per layout : {base:6.1f} ms   fields right "
          f"{anchor['right'][0]}/{anchor['right'][1]}")
    for label, side in (("docflow, known vendor (its template)", known), ("docflow, unknown vendor (model)", unknown)):
        print(f"  {label:<53}: {side['cpu_ms_per_doc']:6.1f} ms   {side['ratio']:5.2f} x invoice2data"
              f"   fields right {side['right'][0]}/{side['right'][1]}, model ran on {side['model_ran']}, "
              f"{side['states'].get('accepted', 0)} accepted")
    if streamed:
        print(f"  {'docflow through the broker, one worker (known)':<53}: {streamed['cpu_ms_per_doc']:6.1f} ms   "
              f"{streamed['ratio']:5.2f} x in-process   (each round's new documents, in process: "
              f"{statistics.median(streamed['in_process_rounds_ms']):.1f} ms), model ran on {streamed['model_ran']}")
        monitors = [ms for ms in streamed["monitors_rounds_ms"] if ms is not None]
        if monitors:
            print(f"  {'the same, as the monitoring page counts it':<53}: {statistics.median(monitors):6.1f} ms")
    print(json.dumps(report))
