"""The one rule between the layers (ARCHITECTURE.md): every import runs down.

Each module of services/ and labeling/ belongs to the first layer whose patterns name it; a module
may import modules of its own layer and of the layers below, never of one above. Imports inside
functions count as much as those at the top of a file: a lazy import is still a dependency.
Besides, no two packages import each other (services.web and labeling, say), whatever their layers;
in this rule a package's agent, service process and command line stand for themselves.
"""

from __future__ import annotations

import ast
from fnmatch import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("services", "labeling")

# Bottom to top. A pattern names a module and, ending in ".*", the modules under it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("core", ("services", "services.contracts", "services.errors", "services.topics", "services.settings",
              "services.log_setup", "services.ids", "services.emit")),
    ("vocabulary", ("services.vocabulary", "services.vocabulary.*")),
    ("storage", ("services.codec", "services.storage", "services.storage.*", "services.monitoring.metrics",
                 "services.monitoring.privacy", "services.access", "services.access.passwords",
                 "services.access.roles", "services.access.throttle", "services.access.users",
                 "services.inflight")),
    ("parsing", ("services.intake", "services.intake.logic", "services.parsing", "services.parsing.*")),
    ("detection", ("services.detection", "services.detection.logic")),
    ("extraction", ("services.extraction", "services.extraction.logic", "services.extraction.rules",
                    "services.extraction.induction", "services.extraction.registry",
                    "services.extraction.ranking*", "services.extraction.einvoice*", "services.extraction.model*")),
    ("validation", ("services.validation", "services.validation.logic", "services.validation.checks",
                    "services.validation.en16931", "services.validation.rules")),
    ("measurement", ("services.evaluation*", "services.synth*", "services.training*")),
    ("lifecycle", ("services.review", "services.review.logic", "services.review.policy", "services.review.queue",
                   "services.review.store", "labeling", "labeling.labels", "labeling.studio", "labeling.store",
                   "labeling.onboarding", "labeling.teacher", "services.models", "services.models.datasets",
                   "services.models.evaluate", "services.models.policy", "services.models.registry",
                   "services.models.rollout", "services.models.shadow", "services.models.store", "services.monitoring",
                   "services.monitoring.alerts", "services.monitoring.drift", "services.monitoring.features",
                   "services.monitoring.monitor", "services.monitoring.series", "services.monitoring.store",
                   "services.reconcile", "services.reconcile.logic", "services.reconcile.store",
                   "services.trainer", "services.trainer.store", "services.trainer.triggers")),
    ("runtime", ("services.runtime", "services.stages", "services.books", "services.agents", "services.pipeline",
                 "services.batch",
                 "services.transport", "services.kafka", "services.broker", "services.*.agent", "labeling.agent",
                 "services.*.service", "services.trainer.job", "services.reconcile.crashes")),
    ("edge", ("services.web", "services.web.*", "services.cli", "services.cli.*", "services.*.cli", "labeling.cli",
              "labeling.client", "labeling.teacher_eval", "services.app", "services.client", "services.cluster",
              "services.supervisor",
              "services.bench", "services.bench.*")),
]


def modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            out[name] = path
    return out


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of ours ``path`` imports (``from a.b import c``: a.b.c where that is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # ``from a import b``: the module a.b where b is one, else a itself
            names = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in known else node.module
                     for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def layer(module: str) -> int:
    # A stage's agent is the thin transport around it, whatever package it lives in.
    ordered = sorted(enumerate(LAYERS), key=lambda item: "*" not in " ".join(item[1][1]))
    exact = [i for i, (_, patterns) in enumerate(LAYERS) if module in patterns]
    if exact:
        return exact[0]
    for i, (_, patterns) in ordered:
        if any(fnmatch(module, p) for p in patterns if "*" in p):
            return i
    raise AssertionError(f"{module} is in no layer: name it in LAYERS (tests/test_layers.py) and ARCHITECTURE.md")


# The thin transport and edges around a package (its agent, service process, command line) stand
# for themselves in the package rule: an agent may wire its stage to the lifecycle above it.
AROUND = ("services.*.agent", "services.*.service", "services.*.cli", "services.trainer.job",
          "services.reconcile.crashes", "labeling.agent",
          "labeling.cli", "labeling.client", "labeling.teacher_eval")


def package(module: str) -> str:
    if any(fnmatch(module, p) for p in AROUND):
        return module
    return ".".join(module.split(".")[:2]) if module.startswith("services.") else module.split(".")[0]


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(path, known) - {name} for name, path in known.items()}


def test_every_module_has_a_layer(graph: dict[str, set[str]]) -> None:
    for module in graph:
        layer(module)


def upward(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{a} ({LAYERS[layer(a)][0]}) imports {b} ({LAYERS[layer(b)][0]})"
                  for a, targets in graph.items() for b in targets if layer(b) > layer(a))


def mutual(graph: dict[str, set[str]]) -> list[str]:
    edges: dict[tuple[str, str], str] = {}
    for a, targets in graph.items():
        for b in targets:
            if package(a) != package(b):
                edges.setdefault((package(a), package(b)), f"{a} -> {b}")
    return sorted(f"{edges[(p, q)]}  and  {edges[(q, p)]}" for p, q in edges if (q, p) in edges and p < q)


def test_every_import_runs_down(graph: dict[str, set[str]]) -> None:
    found = upward(graph)
    assert not found, "imports that run up the layers:\n" + "\n".join(found)


def test_no_two_packages_import_each_other(graph: dict[str, set[str]]) -> None:
    found = mutual(graph)
    assert not found, "packages that import each other:\n" + "\n".join(found)


def test_the_rules_bite() -> None:
    """The imports the tree had before these layers are reported."""
    assert upward({"services.transport": {"services.runtime"}, "services.contracts": {"services.topics"}}) == []
    assert upward({"services.detection.logic": {"services.extraction.rules"},
                   "services.inflight": {"services.reconcile.service"}}) == [
        "services.detection.logic (detection) imports services.extraction.rules (extraction)",
        "services.inflight (storage) imports services.reconcile.service (runtime)"]
    assert mutual({"labeling.api": {"services.web.auth"}, "services.web.app": {"labeling.api"}}) == [
        "labeling.api -> services.web.auth  and  services.web.app -> labeling.api"]
    assert mutual({"services.intake.agent": {"services.transport"}, "services.transport": {"services.intake.logic"}}) \
        == []  # an agent stands for itself
