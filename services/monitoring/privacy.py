"""What may leave the database where no login guards it (logs, /metrics): ids and counts, never a
value read from a document. A vendor's drift scope ("vendor:<name or VAT id>") becomes a stable
pseudonym ("vendor#3f2a9c1b0d"); the console, behind login, shows the vendor itself."""

from __future__ import annotations

import hashlib


def public_scope(scope: str) -> str:
    if scope.startswith("vendor:"):
        return "vendor#" + hashlib.sha256(scope.encode()).hexdigest()[:10]
    return scope
