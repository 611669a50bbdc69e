"""``docflow bench --against invoice2data``: the anchor installs into an environment of its own,
reads the same PDFs with its pdftotext reader and hand-written templates, and both sides' CPU per
document and fields read right come back. Figures are the benchmark's to print; what is asserted
here is that the comparison compares work done: each side read every field right, the model did
not run for the known vendors and did for the unknown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_bench_against_invoice2data(tmp_path: Path) -> None:
    env = os.environ | {"DOCFLOW_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1",
                        "DOCFLOW_SHIPPED_MODEL_DIR": str(Path(__file__).resolve().parents[2] / "models")}
    done = subprocess.run([sys.executable, "-m", "services.cli", "bench", "--against", "invoice2data", "--docs", "6",
                           "--rounds", "2", "--no-broker"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    print(done.stdout)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    anchor, known, unknown = report["invoice2data"], report["known"], report["unknown"]
    assert (tmp_path / "home" / "anchor" / "invoice2data-1.0.1" / ".installed").exists()
    assert anchor["right"] == [42, 42] and len(anchor["rounds_ms"]) == 2  # its templates read every field
    assert known["right"] == [42, 42] and known["model_ran"] == 0 and known["states"] == {"accepted": 6}
    assert unknown["model_ran"] == 6 and unknown["right"][0] >= 36
    for side in (anchor, known, unknown):
        assert side["cpu_ms_per_doc"] > 1.0  # a pass that read from a cache would cost next to nothing
    assert unknown["cpu_ms_per_doc"] > known["cpu_ms_per_doc"]
    # The passes took turns and a ratio is the median of the rounds' (each pass beside the anchor's).
    for side in (known, unknown):
        assert len(side["rounds_ms"]) == 2
        pairs = sorted(ours / theirs for ours, theirs in zip(side["rounds_ms"], anchor["rounds_ms"], strict=True))
        assert side["ratio"] == pytest.approx(sum(pairs) / 2)
