"""One training job, run in its own process (``python -m services.trainer.job JOB_ID``) so that the
trainer's consumer, and every stream worker, keep going while it trains.

snapshot the dataset -> train (continuing from production) -> score candidate and production on
the frozen evaluation set and on the recent corrections -> gate -> register (shadow or rejected).

The job ends with the trainer that started it (Linux's parent-death signal): a trainer that died
fails its running job at its next start, so a job that went on would train for nothing, on a
core the stream needs.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from services.log_setup import get_logger
from services.models import store as registry
from services.models.datasets import recent_documents, snapshot, training_documents
from services.models.evaluate import frozen_set, per_field
from services.models.registry import gate
from services.runtime import Runtime, model_folder
from services.settings import get_settings
from services.storage.db import session_scope
from services.storage.lifecycle import TrainingJob
from services.trainer import store


def production_artifact(rt: Runtime) -> tuple[str | None, Path | None]:
    """The model a retraining continues from: the registry's production model, else the one the
    workers load by default (before anything was registered)."""
    with session_scope(rt.engine) as s:
        live = registry.live(s)
    if live.production is not None:
        return live.production.version, Path(live.production.artifact)
    folder = model_folder(rt.settings)
    return (folder.name, folder) if folder is not None else (None, None)


def score(rt: Runtime, artifact: Path, production: Path | None, recent: list) -> dict:
    """Per-field F1 of the candidate and of production, on the frozen set and on recent corrections."""
    frozen, frozen_hash = frozen_set(rt.settings.eval_dir)
    out: dict = {"frozen_set": {"folder": str(rt.settings.eval_dir), "sha256": frozen_hash, "documents": len(frozen)}}
    cache = rt.settings.cache_dir
    if frozen:
        out["eval"] = per_field(artifact, frozen, cache=cache)
        out["production_eval"] = per_field(production, frozen, cache=cache) if production else None
    if recent:
        out["recent"] = per_field(artifact, recent, cache=cache)
        out["production_recent"] = per_field(production, recent, cache=cache) if production else None
    return out


def run(job_id: int, rt: Runtime) -> str:
    """Run the job; returns the registered model version. Raises on failure (the caller records it)."""
    from services.parsing.pages import PageCache
    from services.training.layout_model import train_on

    log = get_logger(stage="trainer", job=job_id)
    policy = rt.model_policy
    with session_scope(rt.engine) as s:
        job = s.get(TrainingJob, job_id)
        if job is None:
            raise LookupError(f"no training job {job_id}")
        job.state, job.started_at = "running", datetime.now(UTC)
        s.add(job)
        trigger = {"kind": job.trigger, "reason": job.reason, "job_id": job_id}
    pages = PageCache(rt.blobs, rt.settings.max_pages, size=1)
    with session_scope(rt.engine) as s:
        dataset = snapshot(s, cutoff=datetime.now(UTC), base=rt.settings.training_corpus,
                           out_root=rt.settings.datasets_root, blobs=rt.blobs,
                           pages_of=lambda d: pages.pages(d.document_id, d.blob_uri or ""), policy=policy.retrain)
        s.get(TrainingJob, job_id).dataset_version = dataset.version  # type: ignore[union-attr]
        s.expunge(dataset)
    log.info("dataset", version=dataset.version, human=dataset.documents, labels=dataset.labels)
    docs = training_documents(dataset, policy.retrain.human_weight)
    if not docs:
        raise ValueError(f"{dataset.version} holds no document to train on")
    parent, parent_artifact = production_artifact(rt)
    if rt.settings.train_threads:
        import torch

        torch.set_num_threads(rt.settings.train_threads)
    folder = train_on(docs, rt.settings.model_root, dataset={"version": dataset.version, "sha256": dataset.sha256},
                      epochs=policy.retrain.epochs, lr=policy.retrain.learning_rate, init_from=parent_artifact,
                      layers=3, dev_vendors=0.0, log=lambda m: log.info("training", progress=m))
    metrics = score(rt, folder, parent_artifact, recent_documents(dataset))
    verdict = (gate(metrics["eval"], metrics.get("production_eval"), tolerance=policy.gate.tolerance,
                    min_f1=policy.gate.min_f1) if "eval" in metrics else
               {"passed": False, "reason": "no frozen evaluation set (DOCFLOW_EVAL_DIR): an approver decides",
                "regressions": {}})
    with session_scope(rt.engine) as s:
        if parent and registry.get(s, parent) is None and parent_artifact is not None:
            registry.adopt(s, version=parent, artifact=str(parent_artifact), actor="trainer")
        registry.register(s, version=folder.name, artifact=str(folder), actor="trainer",
                          dataset_version=dataset.version, parent=parent, trigger=trigger, job_id=job_id,
                          metrics=metrics, gate=verdict if "eval" in metrics else None,
                          shadow_share=policy.rollout.shadow_share)
    log.info("candidate registered", version=folder.name, gate=verdict["reason"])
    return folder.name


def die_with_parent(parent: int | None) -> None:
    """SIGKILL this process when its parent ends (PR_SET_PDEATHSIG); at once if ``parent``, the
    pid that started it, is no longer its parent (it died before the signal was asked for)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the job outlives a dead trainer, as before
        return
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)


def main(argv: list[str]) -> int:
    job_id = int(argv[1])
    die_with_parent(int(os.environ[store.PARENT_ENV]) if os.environ.get(store.PARENT_ENV) else None)
    rt = Runtime(get_settings())
    try:
        version = run(job_id, rt)
    except Exception as exc:
        get_logger(stage="trainer", job=job_id).exception("training job failed")
        with session_scope(rt.engine) as s:
            store.finish(s, job_id, state="failed", error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        return 1
    with session_scope(rt.engine) as s:
        store.finish(s, job_id, state="done", model_version=version)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
