"""Content-addressed blob store on a local folder (the claim check for large bytes).

URIs are ``blob://sha256/<hex>``; the same bytes are stored once, whoever sends them.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from services.contracts import Reason
from services.errors import UnreadableDocument

_URI = re.compile(r"^blob://sha256/([0-9a-f]{64})$")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, digest: str) -> Path:
        return self.root / "sha256" / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        """Store ``data`` (atomically, once) and return its URI."""
        digest = sha256_hex(data)
        path = self._path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return f"blob://sha256/{digest}"

    def get(self, uri: str) -> bytes:
        match = _URI.match(uri or "")
        if not match:
            raise UnreadableDocument(Reason.BLOB_NOT_FOUND, "blob_uri is not blob://sha256/<hex>")
        path = self._path(match.group(1))
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise UnreadableDocument(Reason.BLOB_NOT_FOUND, "no blob stored under that digest") from None

    def exists(self, uri: str) -> bool:
        match = _URI.match(uri or "")
        return match is not None and self._path(match.group(1)).exists()
