"""One small exception hierarchy. Pure code raises it; the agent edge turns it into a message."""

from __future__ import annotations

from services.contracts import Reason


class DocflowError(Exception):
    """A document cannot go on; ``reason`` says why, in a code routing can read."""

    def __init__(self, reason: Reason, message: str, *, stage: str = "", page: int | None = None):
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
        self.stage = stage
        self.page = page


class UnreadableDocument(DocflowError):
    """The input cannot be read at all: it goes to the dead-letter topic, original kept."""


class ContractError(UnreadableDocument):
    """A message does not satisfy its topic's contract."""


class TemplateError(Exception):
    """A rules/*.yaml file is invalid; raised when templates are loaded, never per document."""

    def __init__(self, path: str, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem
