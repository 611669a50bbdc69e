"""What the e-invoice teacher is worth on real vendors: for every vendor with two or more documents,
its first hybrid invoice is read (and teaches, as the stream's teacher would), then its other
documents are read as plain PDFs (no XML), once with what was learned and once without, and
header F1 is reported per vendor and overall.

    python -m labeling.teacher_eval HYBRID_DIR PLAIN_DIR [--out DIR]

HYBRID_DIR and PLAIN_DIR hold the same documents (folder per document, invoice.pdf +
truth.json), with and without their XML; truth.json names the vendor (name and VAT id).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from labeling.teacher import teach
from services.batch import read_file
from services.evaluation.documents import read_predictions, read_truths
from services.evaluation.score import score_group
from services.runtime import Runtime
from services.settings import Settings
from services.storage.db import session_scope, upgrade


def vendors(root: Path) -> dict[str, list[str]]:
    """Document folders per vendor (name and VAT id as the truth has them), those with two or more."""
    found: dict[str, list[str]] = defaultdict(list)
    for folder in sorted(p for p in root.iterdir() if (p / "truth.json").exists()):
        truth = json.loads((folder / "truth.json").read_text())
        found[f"{truth['vendor_name']} / {truth.get('vendor_vat_id') or '-'}"].append(folder.name)
    return {v: docs for v, docs in found.items() if len(docs) >= 2}


def _runtime(home: Path) -> Runtime:
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'docflow.db'}", einvoice_teacher="publish")
    home.mkdir(parents=True, exist_ok=True)
    upgrade(settings.db_url)
    return Runtime(settings)


def measure(hybrid: Path, plain: Path, out: Path) -> dict[str, Any]:
    groups = vendors(plain)
    lessons: dict[str, str | None] = {}
    matched: dict[str, int] = defaultdict(int)
    with tempfile.TemporaryDirectory() as tmp:
        taught_rt, untaught_rt = _runtime(Path(tmp) / "taught"), _runtime(Path(tmp) / "untaught")
        for vendor, docs in groups.items():  # each vendor's first hybrid invoice teaches
            def hook(classified, extracted, vendor=vendor):  # type: ignore[no-untyped-def]
                with session_scope(taught_rt.engine) as s:
                    lessons[vendor] = teach(s, classified, extracted.fields, live=taught_rt.templates,
                                            files=taught_rt.registry.files,
                                            regex_timeout_s=taught_rt.settings.regex_timeout_s, mode="publish")
            read_file(hybrid / docs[0] / "invoice.pdf", taught_rt, hook)
        for name, rt in (("taught", taught_rt), ("untaught", untaught_rt)):
            for vendor, docs in groups.items():
                for doc in docs[1:]:  # the others, as plain PDFs
                    report = read_file(plain / doc / "invoice.pdf", rt)
                    matched[f"{name}:{vendor}"] += report["template"] is not None
                    target = out / name / doc / "invoice.json"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(json.dumps(report, ensure_ascii=False))
        templates = {t.id: t.issuer for t in taught_rt.templates}
    truths = {t.key: t for t in read_truths(plain)}
    result: dict[str, Any] = {"vendors": {}, "templates": templates}
    for name in ("taught", "untaught"):
        preds = read_predictions(out / name)
        result[name] = score_group([truths[f"{d}/invoice"] for docs in groups.values() for d in docs[1:]],
                                   preds)["header"]
        for vendor, docs in groups.items():
            row = result["vendors"].setdefault(vendor, {"documents": len(docs) - 1, "lesson": lessons.get(vendor)})
            row[name] = score_group([truths[f"{d}/invoice"] for d in docs[1:]], preds)["header"]
            row[f"{name}_matched"] = matched[f"{name}:{vendor}"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("hybrid", type=Path)
    parser.add_argument("plain", type=Path)
    parser.add_argument("--out", type=Path, default=Path("out/teacher-eval"))
    args = parser.parse_args()
    result = measure(args.hybrid, args.plain, args.out)
    print(f"{'vendor (name / VAT id)':46} {'docs':>4} {'lesson':>10} {'matched':>7} {'F1':>6} {'before':>6}")
    for vendor, row in result["vendors"].items():
        print(f"{vendor[:46]:46} {row['documents']:4} {row['lesson'] or '-':>10} {row['taught_matched']:7} "
              f"{row['taught']['f1']:6.3f} {row['untaught']['f1']:6.3f}")
    print(f"{'all':46} {sum(r['documents'] for r in result['vendors'].values()):4} {'':>10} "
          f"{sum(r['taught_matched'] for r in result['vendors'].values()):7} "
          f"{result['taught']['f1']:6.3f} {result['untaught']['f1']:6.3f}")
    (args.out / "report.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))

if __name__ == "__main__":
    main()
