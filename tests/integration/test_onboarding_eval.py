"""The labeling issue's measure, run as it is documented: scripts/evaluate-onboarding onboards 12
synthetic vendors never seen in training through the HTTP API of a running `docflow web`, one
labeled invoice each, and `docflow eval` scores the other 20 invoices of each vendor read with
the published templates alone."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_one_labeled_invoice_per_vendor_reads_its_other_invoices(tmp_path: Path) -> None:
    out = tmp_path / "onboarding"
    run = subprocess.run([str(ROOT / "scripts" / "evaluate-onboarding"), str(out)], capture_output=True, text=True,
                         timeout=600, env={k: v for k, v in os.environ.items() if not k.startswith("DOCFLOW_")})
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    onboarded = json.loads((out / "onboarding.json").read_text())
    assert len(onboarded) == 12 and all(o["version"] == 1 and o["reproduced"] for o in onboarded)
    group = json.loads((out / "eval.json").read_text())["groups"]["all"]
    assert group["documents"] == 12 * 20
    low = {vendor: v["header"]["f1"] for vendor, v in group["vendors"].items() if v["header"]["f1"] < 0.98}
    assert not low, low
