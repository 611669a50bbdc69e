"""The default model the product ships: small, packed int8, described by its meta, found when no
model was trained here, and reading an unknown vendor at once (no MODEL_UNAVAILABLE)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.extraction.model.network import PACKED, pack
from services.runtime import model_folder
from services.settings import Settings

SHIPPED = Path(__file__).resolve().parents[3] / "models"


def shipped() -> Path:
    found = sorted(SHIPPED.glob("*/meta.json"))
    assert found, "no shipped model: make model"
    return found[-1].parent


def test_shipped_artifact_is_small_and_described() -> None:
    """Under 25 MB, int8-packed, with its dataset hash, training settings and dev metrics."""
    folder = shipped()
    size = sum(f.stat().st_size for f in folder.iterdir())
    assert size < 25 * 1024 * 1024
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["packed"]["file"] == PACKED and (folder / PACKED).exists()
    assert len(meta["dataset"]["sha256"]) == 64 and meta["training"]["seed"] == 0
    assert meta["metrics"]["dev_header"]["f1"] > 0.85 and meta["calibration"]


def test_model_folder_falls_back_to_the_shipped_default(tmp_path: Path) -> None:
    """Nothing trained under the home: the shipped model; a model trained here comes first."""
    settings = Settings(home=tmp_path, shipped_model_dir=SHIPPED)
    assert model_folder(settings) == shipped()
    mine = tmp_path / "models" / "layoutlm-29990101000000000000-abcdef12"
    mine.mkdir(parents=True)
    (mine / "meta.json").write_text("{}")
    assert model_folder(settings) == mine
    pinned = Settings(home=tmp_path, shipped_model_dir=SHIPPED, model_version=shipped().name)
    assert model_folder(pinned) == shipped()


def test_pack_round_trip(tmp_path: Path) -> None:
    """Packing keeps every weight within half a quantisation step of its row's scale."""
    import torch
    from safetensors.torch import load_file, save_file

    from services.extraction.model.network import _unpacked

    source = tmp_path / "src"
    source.mkdir()
    config = json.loads((shipped() / "config.json").read_text())
    (source / "config.json").write_text(json.dumps(config))
    (source / "meta.json").write_text(json.dumps({"version": "v", "dataset": {}}))
    model = _unpacked(shipped())
    weights = {k: v.contiguous() for k, v in model.state_dict().items() if k != "layoutlm.embeddings.position_ids"}
    save_file(weights, str(source / "model.safetensors"))
    pack(source, tmp_path / "out")
    packed = load_file(str(tmp_path / "out" / PACKED))
    name = "layoutlm.embeddings.word_embeddings.weight"
    assert packed[name].dtype == torch.int8
    again = _unpacked(tmp_path / "out").state_dict()
    scale = packed[f"{name}.__scale__"][:, None]
    assert torch.all((again[name] - weights[name]).abs() <= scale / 2 + 1e-6)
    assert torch.equal(again["layoutlm.embeddings.LayerNorm.weight"], weights["layoutlm.embeddings.LayerNorm.weight"])


@pytest.mark.parametrize("vendor", ["kestrel"])
def test_unknown_vendor_read_with_the_shipped_model(vendor: str, tmp_path: Path) -> None:
    """`docflow extract` on a fresh home reads a vendor no template knows, with the shipped model."""
    from click.testing import CliRunner

    from services.cli import main
    from tests.services.test_pipeline import golden_pdf

    result = CliRunner().invoke(main, ["extract", str(golden_pdf(vendor)), "--json"],
                                env={"DOCFLOW_HOME": str(tmp_path), "DOCFLOW_SHIPPED_MODEL_DIR": str(SHIPPED)})
    report = json.loads(result.output)
    assert "MODEL_UNAVAILABLE" not in report["reasons"]
    assert any(f"model:{shipped().name}" in fv["source"] for fv in report["fields"].values())
    for name in ("vendor_name", "invoice_number", "invoice_date", "total_amount", "currency"):
        assert report["fields"][name]["value"], name
