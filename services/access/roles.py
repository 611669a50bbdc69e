"""Roles and the permissions they grant: the one table every endpoint is checked against."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    LABELER = "labeler"
    APPROVER = "approver"
    ADMIN = "admin"


class Permission(StrEnum):
    READ_DOCUMENTS = "documents:read"      # documents, their pages and fields
    READ_QUEUE = "queue:read"              # the exception queue
    WORK_QUEUE = "queue:work"              # claim, release, decide, escalate; reopen accepted documents
    ASSIGN_QUEUE = "queue:assign"          # reassign to someone else; decide escalated items
    WRITE_LABELS = "labels:write"          # the labeling work list, label documents, import labels
    PUBLISH_TEMPLATES = "templates:publish"  # publish an induced or edited template, roll one back
    PROMOTE_MODELS = "models:promote"      # move a model to canary or production, retire it, roll back
    TRAIN_MODELS = "models:train"          # ask the trainer for a retraining now
    MANAGE_USERS = "users:manage"
    READ_AUDIT = "audit:read"


_OPERATOR = {Permission.READ_DOCUMENTS, Permission.READ_QUEUE, Permission.WORK_QUEUE}
GRANTS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ_DOCUMENTS, Permission.READ_QUEUE}),
    Role.OPERATOR: frozenset(_OPERATOR),
    Role.LABELER: frozenset({Permission.READ_DOCUMENTS, Permission.WRITE_LABELS, Permission.PUBLISH_TEMPLATES,
                             Permission.TRAIN_MODELS}),
    Role.APPROVER: frozenset(_OPERATOR | {Permission.ASSIGN_QUEUE, Permission.PROMOTE_MODELS, Permission.TRAIN_MODELS}),
    Role.ADMIN: frozenset(Permission),
}


def permissions(roles: list[str]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        if role in Role.__members__.values():
            granted |= GRANTS[Role(role)]
    return frozenset(granted)
