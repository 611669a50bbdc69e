"""Content-addressed blob store on a local folder (the claim check for large bytes).

URIs are ``blob://sha256/<hex>``; the same bytes are stored once, whoever sends them. A URI is
given out only once its bytes are on the disk (the file and its name synced): a message that names a
blob is sent after ``put`` returns, so a power cut that spares the broker's copy of the message spares
the document's bytes too. The sync costs about 0.2 ms of CPU a blob alone, 0.5-0.9 in a busy worker.
What can be made again from a synced blob (a document's parsed pages, from its bytes) is put with
``durable=False``: it survives its process, not a power cut, as an SQLite commit here does; who
reads it checks it against its address (``get(..., verify=True)``) and makes it again when it is gone
or torn (services/storage/claims.py).

Files lie under ``sha256/<first two hex>/``: 256 folders (a million blobs are about 4,000 a
folder), all made at a store's first write in a process (a folder made on a blob's way in is one
more name to sync in the folder above). A blob is written under a temporary name of its writer's
own (process, thread, digest), synced, then renamed to its address: one new file and one new name,
without ``tempfile``'s random names and a folder check a blob (0.51 ms of CPU a 30 KB blob against
0.59 here). The layout before, ``sha256/<2>/<2>/``, had 65,536 folders; blobs stored that way are
still found where they lie.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
from itertools import takewhile
from pathlib import Path

from services.contracts import Reason
from services.errors import UnreadableDocument

_URI = re.compile(r"^blob://sha256/([0-9a-f]{64})$")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self._made: Path | None = None  # the root whose folders this store made (or found) last

    @property
    def root(self) -> Path:
        return self._root

    @root.setter
    def root(self, root: Path) -> None:  # a store may be moved (the anchor bench gives each pass its own)
        self._root, self._top = Path(root), os.fspath(Path(root) / "sha256")

    def _path(self, digest: str) -> Path:
        return Path(self._name(digest))

    def _name(self, digest: str) -> str:
        # Strings, not Paths: three lookups a document (its bytes stored and read, its pages stored),
        # and joining Paths cost more than the stat each asks for.
        return f"{self._top}/{digest[:2]}/{digest}"

    def _where(self, digest: str) -> Path | None:
        """Where the blob lies: in the layout of today, or in the one before (see above); None if nowhere."""
        for name in (self._name(digest), f"{self._top}/{digest[:2]}/{digest[2:4]}/{digest}"):
            if os.path.exists(name):
                return Path(name)
        return None

    def put(self, data: bytes, *, durable: bool = True) -> str:
        """Store ``data`` (atomically, once; ``durable``: synced to the disk) and return its URI."""
        digest = sha256_hex(data)
        where = self._where(digest)
        if where is None or (not durable and _torn(where, digest)):
            self._write(self._name(digest), data, durable=durable)
        return f"blob://sha256/{digest}"

    def _write(self, name: str, data: bytes, *, durable: bool = True) -> None:
        if self._made != self.root:
            self._make_folders()
        folder, base = os.path.split(name)
        tmp = f"{folder}/.tmp-{os.getpid()}-{threading.get_ident()}-{base[:16]}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
        try:
            fd = os.open(tmp, flags, 0o600)
        except FileNotFoundError:  # its folder was removed under a running process (a store cleared by hand)
            self._make_folders()
            fd = os.open(tmp, flags, 0o600)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                if durable:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, name)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        if durable:
            _sync(folder)  # the new name

    def _make_folders(self) -> None:
        """The 256 folders of the layout, those missing made (each made is named in ``sha256``, synced once)."""
        top = self.root / "sha256"
        _folder(top)
        made = False
        for n in range(256):
            try:
                (top / f"{n:02x}").mkdir()
                made = True
            except FileExistsError:
                pass
        if made:
            _sync(top)
        self._made = self.root

    def get(self, uri: str, *, verify: bool = False) -> bytes:
        """The blob's bytes; ``verify``: checked against its address (one put without ``durable``
        may be torn by a power cut), a torn one is not found."""
        match = _URI.match(uri or "")
        if not match:
            raise UnreadableDocument(Reason.BLOB_NOT_FOUND, "blob_uri is not blob://sha256/<hex>")
        path = self._where(match.group(1))
        try:
            if path is not None:
                data = path.read_bytes()
                if not verify or sha256_hex(data) == match.group(1):
                    return data
        except FileNotFoundError:  # removed in between
            pass
        raise UnreadableDocument(Reason.BLOB_NOT_FOUND, "no blob stored under that digest")

    def exists(self, uri: str) -> bool:
        match = _URI.match(uri or "")
        return match is not None and self._where(match.group(1)) is not None


def _torn(path: Path, digest: str) -> bool:
    """A blob whose bytes are not its address's (a put without ``durable``, cut by a power loss)."""
    try:
        return sha256_hex(path.read_bytes()) != digest
    except FileNotFoundError:
        return True


def _folder(folder: Path) -> None:
    """``folder`` made where it is missing, each new folder's name synced in the one above it."""
    if folder.is_dir():
        return
    missing = list(takewhile(lambda p: not p.exists(), (folder, *folder.parents)))
    folder.mkdir(parents=True, exist_ok=True)
    for made in reversed(missing):
        _sync(made.parent)


def _sync(folder: Path | str) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
