"""What the stages need at run time, built once from the settings and passed down."""

from __future__ import annotations

import contextlib
import contextvars
import gc
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from sqlalchemy.engine import Engine

from services.contracts import ExtractedDocument
from services.extraction.logic import Context
from services.extraction.registry import TemplateRegistry
from services.intake.logic import Limits
from services.models.policy import ModelPolicy
from services.models.rollout import ModelRollout
from services.review.policy import QueuePolicy
from services.settings import Settings
from services.storage.blobs import BlobStore
from services.storage.db import make_engine
from services.validation.logic import check
from services.validation.rules import RuleSet, load_ruleset
from services.vocabulary.templates import Template, load_template

# Set while a batch's documents are walked (``Runtime.refreshed``): templates and models were looked
# up for the batch, its documents' stages do not look again.
_REFRESHED: contextvars.ContextVar[bool] = contextvars.ContextVar("docflow_refreshed", default=False)

# The collector's first generation runs after this many more container objects made than freed.
# A document's path makes tens of thousands and reference counting frees nearly all of them: at
# Python's 700 the collector ran about once a document, for nothing (0.4-0.7 ms of a known vendor's
# 9-10, counted with gc.callbacks over the anchor's 120; none ran at this threshold). What cycles
# there are wait for at most this many objects more: a few megabytes.
FIRST_GENERATION = 20_000


def settle_heap() -> None:
    """Take what is loaded now (a model, templates, the libraries) out of the collector's passes,
    and let it pass less often. Every full pass walked each of torch's and transformers' objects
    again: 1 ms of a known-vendor document's 7 (``docflow bench --against invoice2data``). Called
    after a load, not per document."""
    gc.collect()
    gc.freeze()
    first, second, third = gc.get_threshold()
    gc.set_threshold(max(FIRST_GENERATION, first), second, third)


def model_folder(settings: Settings) -> Path | None:
    """The artifact to serve: the pinned version, else the newest trained here, else the shipped default."""
    roots = [settings.model_root, settings.shipped_model_dir]
    if settings.model_version not in ("", "latest"):
        for root in roots:
            if (root / settings.model_version / "meta.json").exists():
                return root / settings.model_version
        raise FileNotFoundError(f"no model artifact {settings.model_version} in {settings.model_root}")
    for root in roots:
        found = sorted((p.parent for p in root.glob("*/meta.json")), key=lambda p: p.name) if root.exists() else []
        if found:
            return found[-1]
    return None


@dataclass
class Runtime:
    settings: Settings

    @cached_property
    def blobs(self) -> BlobStore:
        return BlobStore(self.settings.blob_root)

    @cached_property
    def limits(self) -> Limits:
        return Limits(
            max_document_bytes=self.settings.max_document_bytes,
            inline_content_limit=self.settings.inline_content_limit,
        )

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.db_url)

    @cached_property
    def registry(self) -> TemplateRegistry:
        return TemplateRegistry(self.settings.rules_dir / "templates", self.engine)

    @property
    def templates(self) -> list[Template]:
        return self.registry.current.active

    @contextlib.contextmanager
    def refreshed(self) -> Iterator[None]:
        """Inside, templates and models stay as they were last refreshed: a batch's documents use
        what was looked up for the batch (one look at the database, where each document's stages
        looked three times: 0.4 ms of the 9 a document cost a worker; a publication reaches the next
        batch)."""
        token = _REFRESHED.set(True)
        try:
            yield
        finally:
            _REFRESHED.reset(token)

    def refresh_templates(self) -> None:
        """Pick up a template version published (or rolled back) since the last document."""
        if _REFRESHED.get():
            return
        if self.registry.refresh():
            self.__dict__.pop("extraction", None)
            settle_heap()

    @cached_property
    def model(self):  # type: ignore[no-untyped-def]
        """The layout model named by the settings (newest by default), or None before training."""
        folder = model_folder(self.settings)
        return self.load_model(folder) if folder is not None else None

    def load_model(self, folder: Path):  # type: ignore[no-untyped-def]
        from services.extraction.model.infer import LayoutModel

        model = LayoutModel(folder, int8=self.settings.model_int8, threads=self.settings.model_threads or None,
                            cache=self.settings.cache_dir)
        settle_heap()
        return model

    @cached_property
    def models(self) -> ModelRollout:
        """Production, canary and shadow models as the registry has them (the settings' model
        until anything is registered)."""
        return ModelRollout(self.engine, self.load_model, lambda: self.model)

    def refresh_models(self) -> None:
        """Pick up a promotion, a new shadow or canary, or a rollback since the last document."""
        if not _REFRESHED.get():
            self.models.refresh()

    @cached_property
    def extraction(self) -> Context:
        current = self.registry.current
        return Context(
            templates=current.by_id, versions=current.every, regex_timeout_s=self.settings.regex_timeout_s,
            regex_budget_s=self.settings.regex_budget_s,
            model=self.model, blobs=self.blobs, generic=self.generic, rank=self.settings.rank,
            model_only_floor=self.settings.model_only_floor, settled=self.settled,
        )

    def settled(self, doc: ExtractedDocument) -> bool:
        """Would validation accept ``doc`` as it stands (extraction then skips the model)?"""
        return check(doc, self.ruleset).ok

    @cached_property
    def generic(self) -> Template | None:
        """rules/generic.yaml, when the rules folder has one."""
        path = self.settings.rules_dir / "generic.yaml"
        return load_template(path) if path.exists() else None

    @cached_property
    def ruleset(self) -> RuleSet:
        return load_ruleset(self.settings.rules_dir, "invoice")

    @cached_property
    def model_policy(self) -> ModelPolicy:
        return ModelPolicy.load(self.settings.rules_dir / "models.yaml")

    @cached_property
    def queue_policy(self) -> QueuePolicy:
        return QueuePolicy.load(self.settings.rules_dir / "queue.yaml")
