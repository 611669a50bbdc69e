"""The blob store gives out a URI only for bytes that are on the disk."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from services.errors import UnreadableDocument
from services.storage.blobs import BlobStore


def test_a_blob_is_synced_file_and_name_before_its_uri_is_given(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    blobs = BlobStore(tmp_path / "blobs")
    uri = blobs.put(b"%PDF-1.7 an invoice")
    path = Path(blobs._path(uri.rsplit("/", 1)[1]))
    assert blobs.get(uri) == b"%PDF-1.7 an invoice"
    # Each new folder's name in the one above it; the file's bytes (under its temporary name), then
    # its name in its folder.
    file = next(n for n, name in enumerate(synced) if name.startswith(str(path.parent / ".tmp-")))
    assert synced[-1] == str(path.parent) and file < len(synced) - 1
    assert {str(path.parent), str(path.parent.parent), str(tmp_path / "blobs" / "sha256"),
            str(tmp_path / "blobs"), str(tmp_path)} <= set(synced)
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp-")]

    synced.clear()
    assert blobs.put(b"%PDF-1.7 an invoice") == uri
    assert synced == []  # stored once: nothing to write again
    blobs.put(b"%PDF-1.7 another")
    assert len(synced) >= 2  # its own file and name, in folders already made


def test_a_shard_folder_removed_by_hand_is_made_again(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    blobs.put(b"%PDF-1.7 first")
    shutil.rmtree(tmp_path / "blobs")  # an operator clears the store under a running worker
    uri = blobs.put(b"%PDF-1.7 first")
    assert blobs.get(uri) == b"%PDF-1.7 first"


def test_blobs_stored_in_the_layout_before_are_found_and_not_stored_again(tmp_path: Path) -> None:
    """A store written before the one-level layout (sha256/ab/cd/<digest>) is read where it lies."""
    from services.storage.blobs import sha256_hex

    data = b"%PDF-1.7 stored last year"
    digest = sha256_hex(data)
    old = tmp_path / "blobs" / "sha256" / digest[:2] / digest[2:4] / digest
    old.parent.mkdir(parents=True)
    old.write_bytes(data)
    blobs = BlobStore(tmp_path / "blobs")
    uri = f"blob://sha256/{digest}"
    assert blobs.exists(uri) and blobs.get(uri) == data
    assert blobs.put(data) == uri and not blobs._path(digest).exists()  # the bytes are there already
    new = blobs.put(b"%PDF-1.7 stored today")
    assert blobs._path(new.rsplit("/", 1)[1]).parent.parent == tmp_path / "blobs" / "sha256"
    with pytest.raises(Exception, match="no blob stored"):
        blobs.get("blob://sha256/" + "0" * 64)


def test_a_store_makes_its_folders_at_its_first_write_and_never_again(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    assert not (tmp_path / "blobs").exists()  # a store only read makes nothing
    blobs.put(b"%PDF-1.7 first")
    assert sorted(p.name for p in (tmp_path / "blobs" / "sha256").iterdir()) == [f"{n:02x}" for n in range(256)]
    made: list[Path] = []
    real_mkdir = Path.mkdir
    monkeypatch.setattr(Path, "mkdir", lambda self, *a, **k: made.append(self) or real_mkdir(self, *a, **k))
    for n in range(50):
        blobs.put(f"%PDF-1.7 invoice {n}".encode())
    assert made == []


def test_threads_storing_the_same_bytes_at_once_each_get_the_blob(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    blobs = BlobStore(tmp_path / "blobs")
    data = [f"%PDF-1.7 invoice {n % 5}".encode() * 2000 for n in range(40)]
    with ThreadPoolExecutor(8) as pool:
        uris = list(pool.map(blobs.put, data))
    assert [blobs.get(uri) for uri in uris] == data
    assert not list((tmp_path / "blobs").rglob(".tmp-*"))


def test_what_can_be_made_again_is_stored_unsynced_and_a_torn_copy_is_not_given_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    blobs.put(b"the first blob makes the folders")
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    uri = blobs.put(b'[{"number": 1}]', durable=False)
    assert synced == [] and blobs.get(uri, verify=True) == b'[{"number": 1}]'

    path = Path(blobs._path(uri.rsplit("/", 1)[1]))
    path.write_bytes(b"")  # what a power cut can leave of an unsynced file
    assert blobs.get(uri) == b""  # unchecked, as a document's synced bytes are read
    with pytest.raises(UnreadableDocument):
        blobs.get(uri, verify=True)
    assert blobs.put(b'[{"number": 1}]', durable=False) == uri  # put again: the torn copy is replaced
    assert blobs.get(uri, verify=True) == b'[{"number": 1}]'
