"""The exception queue's state machine, as a pure function: who may take which item where.

    open ──claim──▶ in_review ──approve──▶ resolved
      ▲  ◀─release──    │  ──reject───▶ rejected
      │                 └──escalate─▶ escalated ──claim (approver)──▶ in_review
      └──────────── reopen (an accepted document found wrong) ◀── resolved

Deciding an open item claims it on the way. An approver (or admin) may reassign any active
item and is the only one who may take or decide an escalated one.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.access.roles import Permission
from services.access.users import Principal
from services.storage.models import QueueStatus

ACTIONS = ("claim", "release", "reassign", "approve", "reject", "escalate")
DECISIONS = {"approve": QueueStatus.RESOLVED, "reject": QueueStatus.REJECTED, "escalate": QueueStatus.ESCALATED}


class QueueError(Exception):
    """``status`` is the HTTP status that says why: 403 not allowed, 409 not in this state."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class Item:
    status: str
    assignee: str | None


def step(item: Item, action: str, actor: Principal, target: str | None = None) -> Item:
    """The item after ``actor`` does ``action``; raises ``QueueError`` when they may not."""
    if action not in ACTIONS:
        raise QueueError(422, f"unknown action {action!r}")
    if not actor.can(Permission.WORK_QUEUE):
        raise QueueError(403, "your role cannot work the queue")
    supervisor = actor.can(Permission.ASSIGN_QUEUE)
    mine = item.assignee == actor.username
    if item.status not in QueueStatus.ACTIVE:
        raise QueueError(409, f"the item is {item.status}")
    if item.status == QueueStatus.ESCALATED and not supervisor and action != "release":
        raise QueueError(403, "an escalated item is for an approver")

    if action == "claim":
        if item.status == QueueStatus.IN_REVIEW and not mine:
            raise QueueError(409, f"claimed by {item.assignee}")
        return Item(QueueStatus.IN_REVIEW, actor.username)
    if action == "release":
        if item.status != QueueStatus.IN_REVIEW or not (mine or supervisor):
            raise QueueError(409, "only the assignee (or an approver) releases a claimed item")
        return Item(QueueStatus.OPEN, None)
    if action == "reassign":
        if not supervisor:
            raise QueueError(403, "reassigning needs the approver role")
        if not target:
            raise QueueError(422, "reassign to whom?")
        return Item(QueueStatus.IN_REVIEW, target)
    # approve / reject / escalate
    if item.status == QueueStatus.IN_REVIEW and not mine:
        raise QueueError(409, f"claimed by {item.assignee}")
    if action == "escalate":
        if item.status == QueueStatus.ESCALATED:
            raise QueueError(409, "the item is escalated already")
        return Item(QueueStatus.ESCALATED, None)
    return Item(DECISIONS[action], actor.username)
