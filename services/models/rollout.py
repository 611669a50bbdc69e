"""Which model reads a document, in the stream: production, a canary for a stable share of
documents, and a shadow beside them whose reading is stored and compared but never used.

Workers compare the registry's revision (max ``model_events.seq``, one indexed query) before each
document, as they do for templates, so a promotion or a rollback holds from the next document on,
on every worker. Loaded models are kept by version (a rollback back to a recent model costs no
reload).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.contracts import FieldValue
from services.log_setup import get_logger
from services.models import store
from services.models.store import Live

KEEP_LOADED = 4


def bucket(document_id: str, salt: str = "") -> float:
    """A number in [0, 1) fixed by the document id: the same document always falls the same side."""
    return int(hashlib.sha256(f"{salt}{document_id}".encode()).hexdigest()[:8], 16) / 0x1_0000_0000


def served_names(version: str) -> list[str]:
    """How a registry version appears as a document's ``model_version`` (int8 or not)."""
    return [version, f"{version}+int8"]


def agreement(served: dict[str, FieldValue], shadow: dict[str, FieldValue]) -> dict[str, bool]:
    """Per field either read: did both read the same value?"""
    return {name: (served[name].value if name in served else None) == (shadow[name].value if name in shadow else None)
            for name in sorted(set(served) | set(shadow))}


@dataclass(frozen=True)
class Choice:
    model: Any  # a LayoutModel, or None
    role: str  # production | canary
    shadow: Any = None


class ModelRollout:
    """Thread-safe: extraction runs in worker threads while the loop refreshes."""

    def __init__(self, engine: Engine | None, load: Callable[[Path], Any], default: Callable[[], Any]):
        self.engine, self.load, self.default = engine, load, default
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.live = Live(-1)

    def refresh(self) -> bool:
        if self.engine is None:
            return False
        if store.latest(self.engine) == self.live.revision:  # before every document: no session
            return False
        with Session(self.engine) as s:
            revision = store.revision(s)
            live = store.live(s) if revision else Live(0)  # 0: nothing registered (or not migrated yet)
        try:
            for row in (live.production, live.canary, live.shadow):
                if row is not None:
                    self._model(row.version, Path(row.artifact))
        except Exception:  # an artifact that will not load: keep serving what was loaded, say so
            get_logger(stage="models").exception("rollout not loaded; keeping the previous one", revision=revision)
            return False
        self.live = live
        if not revision:
            return True
        get_logger(stage="models").info(
            "rollout loaded", revision=revision, production=live.production and live.production.version,
            canary=live.canary and f"{live.canary.version} ({live.canary.share:.0%})",
            shadow=live.shadow and live.shadow.version)
        return True

    def _model(self, version: str, artifact: Path) -> Any:
        with self._lock:
            if version in self._cache:
                self._cache.move_to_end(version)
                return self._cache[version]
        model = self.load(artifact)
        with self._lock:
            self._cache[version] = model
            while len(self._cache) > KEEP_LOADED:
                self._cache.popitem(last=False)
        return model

    def choose(self, document_id: str) -> Choice:
        live = self.live
        production = (self._model(live.production.version, Path(live.production.artifact))
                      if live.production is not None else self.default())
        served, role = production, "production"
        if live.canary is not None and bucket(document_id) < live.canary.share:
            served, role = self._model(live.canary.version, Path(live.canary.artifact)), "canary"
        shadow = None
        if live.shadow is not None and bucket(document_id, "shadow:") < live.shadow.share:
            shadow = self._model(live.shadow.version, Path(live.shadow.artifact))
        return Choice(served, role, shadow)
