"""The template set a worker reads with, and the versions the labeling service publishes.

Two sources: the YAML files under ``rules/templates`` (kept in git, shipped with the image) and
``template_versions`` in the database (published from the labeling service). For each template
id the highest version wins, except versions a rollback retired. Every publish, retirement and
rollback appends to ``template_events``; its highest ``seq`` is the set's revision, which a
worker compares before each document (one indexed query), so the next document after a publish
is read with the new version, on every worker, without a restart. The same rows are the outbox
the web server relays to the ``templates.events`` topic.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.contracts import TemplateEvent
from services.log_setup import get_logger
from services.monitoring import metrics
from services.storage.db import highest
from services.storage.models import TemplateEventRecord, TemplateVersion
from services.vocabulary.templates import Template, load_all, newest, parse_template, to_yaml

PUBLISHED, RETIRED = "published", "retired"


@dataclass
class TemplateSet:
    revision: int
    active: list[Template]
    every: dict[tuple[str, int], Template] = field(default_factory=dict)  # retired ones too

    @property
    def by_id(self) -> dict[str, Template]:
        return {t.id: t for t in self.active}


class TemplateRegistry:
    """Thread-safe: extraction runs in worker threads while the loop refreshes."""

    def __init__(self, folder: Path, engine: Engine | None):
        self.folder, self.engine = folder, engine
        self.files = load_all(folder) if folder.exists() else []
        self._lock = threading.Lock()
        self._set = self._load(self._revision())

    @property
    def current(self) -> TemplateSet:
        return self._set

    def refresh(self) -> bool:
        """Reload when a version was published or rolled back since the last look; True if so."""
        revision = self._revision()
        if revision == self._set.revision:
            return False
        with self._lock:
            if revision != self._set.revision:
                before = {t.ref for t in self._set.active}
                self._set = self._load(revision)
                metrics.TEMPLATE_RELOADS.inc()
                get_logger(stage="templates").info(
                    "templates reloaded", revision=revision,
                    changed=sorted({t.ref for t in self._set.active} - before))
        return True

    def _revision(self) -> int:
        if self.engine is None:
            return 0
        return highest(self.engine, TemplateEventRecord.seq)  # a database not migrated yet: 0, files only

    def _load(self, revision: int) -> TemplateSet:
        every = {(t.id, t.version): t for t in self.files}
        retired: set[tuple[str, int]] = set()
        if revision and self.engine is not None:
            with Session(self.engine) as s:
                for row in s.exec(select(TemplateVersion)).all():
                    key = (row.template_id, row.version)
                    every[key] = parse_template(row.body, f"{row.template_id}@{row.version}")
                    if row.status == RETIRED:
                        retired.add(key)
        return TemplateSet(revision, newest([t for k, t in every.items() if k not in retired]), every)


# ---- the write side, used by the labeling service (each call inside the caller's transaction)

def versions(s: Session, template_id: str, files: list[Template]) -> list[dict]:
    """Every version of a template, newest first, with where it lives and whether it is active."""
    rows = s.exec(select(TemplateVersion).where(TemplateVersion.template_id == template_id)).all()
    out: dict[int, dict[str, Any]] = {
        t.version: {"version": t.version, "source": "file", "status": PUBLISHED, "author": None,
                    "created_at": None, "documents": [], "checks": {}}
        for t in files if t.id == template_id}
    for r in rows:
        out[r.version] = {"version": r.version, "source": "database", "status": r.status, "author": r.author,
                          "created_at": r.created_at.isoformat(), "documents": r.documents, "checks": r.checks,
                          "note": r.note}
    listed = sorted(out.values(), key=lambda v: -v["version"])
    active = next((v["version"] for v in listed if v["status"] == PUBLISHED), None)
    for v in listed:
        v["active"] = v["version"] == active
    return listed


def described(s: Session, reg: TemplateRegistry, template_id: str) -> list[dict]:
    """``versions`` with each version's YAML."""
    listed = versions(s, template_id, reg.files)
    for v in listed:
        v["yaml"] = to_yaml(reg.current.every[(template_id, v["version"])])
    return listed


def publish(s: Session, template: Template, *, body: str, author: str, documents: list[str],
            checks: dict, note: str | None = None) -> TemplateVersion:
    """Store ``template`` as the next version of its id (whatever version its YAML said)."""
    row = TemplateVersion(template_id=template.id, version=template.version, body=body, author=author,
                          documents=documents, checks=checks, note=note)
    s.add(row)
    s.add(TemplateEventRecord(template_id=template.id, version=template.version, action="published", author=author))
    s.flush()
    return row


def next_version(s: Session, template_id: str, files: list[Template]) -> int:
    stored = s.exec(select(func.max(TemplateVersion.version)).where(TemplateVersion.template_id == template_id)).one()
    return max([stored or 0] + [t.version for t in files if t.id == template_id]) + 1


def rollback(s: Session, template_id: str, *, to_version: int, author: str,
             files: list[Template]) -> list[int]:
    """Make ``to_version`` the active one again by retiring every published version above it."""
    known = {v["version"]: v for v in versions(s, template_id, files)}
    if to_version not in known:
        raise LookupError(f"{template_id} has no version {to_version}")
    if known[to_version]["status"] == RETIRED:
        raise ValueError(f"{template_id}@{to_version} is retired; publish it again as a new version instead")
    above = s.exec(select(TemplateVersion).where(TemplateVersion.template_id == template_id,
                                                 TemplateVersion.version > to_version,
                                                 TemplateVersion.status == PUBLISHED)).all()
    if not above:
        raise ValueError(f"{template_id}@{to_version} is already the active version")
    for row in above:
        row.status = RETIRED
        s.add(row)
        s.add(TemplateEventRecord(template_id=template_id, version=row.version, action="retired", author=author))
    s.add(TemplateEventRecord(template_id=template_id, version=to_version, action="rolled_back", author=author))
    s.flush()
    return sorted(r.version for r in above)


def unpublished_events(s: Session) -> list[TemplateEventRecord]:
    return list(s.exec(select(TemplateEventRecord).where(col(TemplateEventRecord.published_at).is_(None))
                       .order_by(col(TemplateEventRecord.seq))).all())


def as_event(row: TemplateEventRecord) -> TemplateEvent:
    return TemplateEvent(template_id=row.template_id, version=row.version, action=row.action,  # type: ignore[arg-type]
                         author=row.author, at=row.at)


def mark_events_published(s: Session, seqs: list[int]) -> None:
    now = datetime.now(UTC)
    for row in s.exec(select(TemplateEventRecord).where(col(TemplateEventRecord.seq).in_(seqs))).all():
        row.published_at = now
        s.add(row)
