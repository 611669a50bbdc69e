r"""The model registry's rules as pure functions: which status may follow which, who may move a
model there, what else moves with it, and the evaluation gate.

    candidate --gate--> shadow --approver--> canary --approver--> production --> retired
        \--gate--> rejected          \--> retired    \--monitor/approver--> rolled_back
    production --rollback--> rolled_back, and the previous production model back to production

At most one model holds each of shadow, canary and production: moving a model there retires (or,
for production, retires) the one that held it. Promotion past shadow needs the approver role,
unless the policy auto-promotes (then the actor is the monitor).
"""

from __future__ import annotations

from dataclasses import dataclass

from services.contracts import HEADER_FIELDS


class Status:
    CANDIDATE = "candidate"
    REJECTED = "rejected"
    SHADOW = "shadow"
    CANARY = "canary"
    PRODUCTION = "production"
    RETIRED = "retired"
    ROLLED_BACK = "rolled_back"
    ALL = (CANDIDATE, REJECTED, SHADOW, CANARY, PRODUCTION, RETIRED, ROLLED_BACK)
    LIVE = (SHADOW, CANARY, PRODUCTION)  # statuses that read live documents


# (from, to) -> the models.events action it announces
TRANSITIONS: dict[tuple[str, str], str] = {
    (Status.CANDIDATE, Status.SHADOW): "shadow",
    (Status.CANDIDATE, Status.REJECTED): "rejected",
    (Status.SHADOW, Status.CANARY): "canary",
    (Status.CANARY, Status.PRODUCTION): "promoted",
    (Status.SHADOW, Status.RETIRED): "retired",
    (Status.CANARY, Status.RETIRED): "retired",
    (Status.CANARY, Status.ROLLED_BACK): "rolled_back",
    (Status.PRODUCTION, Status.RETIRED): "retired",
    (Status.PRODUCTION, Status.ROLLED_BACK): "rolled_back",
    (Status.RETIRED, Status.PRODUCTION): "promoted",  # a rollback restores the previous production model
}
# Moving a model here needs the approver role (or the auto-promote policy).
NEEDS_APPROVAL = frozenset({Status.CANARY, Status.PRODUCTION})


class TransitionError(ValueError):
    """A move the registry refuses, with the reason (HTTP 409 / CLI error)."""


@dataclass(frozen=True)
class Step:
    version: str
    before: str
    after: str
    action: str


def plan(statuses: dict[str, str], version: str, target: str) -> list[Step]:
    """The steps that put ``version`` in ``target``: its own move first, then whoever held the slot
    steps aside (retired). TransitionError when the move is not allowed."""
    current = statuses.get(version)
    if current is None:
        raise TransitionError(f"no model {version}")
    action = TRANSITIONS.get((current, target))
    if action is None:
        raise TransitionError(f"{version} is {current}; it cannot become {target}")
    steps = [Step(version, current, target, action)]
    if target in Status.LIVE:
        for other, status in sorted(statuses.items()):
            if other != version and status == target:
                steps.append(Step(other, status, Status.RETIRED, "retired"))
    return steps


def may(target: str, *, approver: bool, auto_promote: bool) -> bool:
    return target not in NEEDS_APPROVAL or approver or auto_promote


def gate(candidate: dict[str, float], production: dict[str, float] | None, *, tolerance: float,
         min_f1: float = 0.0) -> dict:
    """The evaluation gate on the frozen evaluation set's per-field F1 (``header`` is the overall).

    Passed when no header field falls more than ``tolerance`` below the production model's
    figure; with no production model, when the overall header F1 reaches ``min_f1``.
    """
    if production is None:
        overall = candidate.get("header", 0.0)
        passed = overall >= min_f1
        return {"passed": passed, "compared_with": None, "tolerance": tolerance, "regressions": {},
                "reason": f"first model: header F1 {overall:.4f} {'>=' if passed else '<'} {min_f1:.4f}"}
    regressions = {}
    for name in (*HEADER_FIELDS, "header"):
        if name not in production:
            continue
        before, after = production[name], candidate.get(name, 0.0)
        if after < before - tolerance:
            regressions[name] = {"production": round(before, 4), "candidate": round(after, 4),
                                 "delta": round(after - before, 4)}
    reason = ("no header field regresses beyond the tolerance" if not regressions else
              "regresses " + ", ".join(f"{k} {v['production']:.3f} -> {v['candidate']:.3f}"
                                       for k, v in regressions.items()))
    return {"passed": not regressions, "tolerance": tolerance, "regressions": regressions, "reason": reason}
