"""Storage adapters: how the service reaches each storage instance's files (fsspec).

A storage URL is ``file:///...`` (a local path; a CernVM-FS mount on Kubernetes is one) or
``http(s)://...`` (an HTTP endpoint serving the storage tree). Paths come from the
catalogue, but are checked again here: relative, no ``..``, no NUL, no backslash.
"""
from __future__ import annotations

import posixpath
from functools import lru_cache
from typing import IO

import fsspec

from dlclab.errors import ParameterError


def safe_relpath(relpath: str) -> str:
    """A storage-relative POSIX path that cannot leave the storage root."""
    if not relpath or "\x00" in relpath or "\\" in relpath or relpath.startswith("/"):
        raise ParameterError(f"file name {relpath!r}: expected a relative path inside the storage")
    norm = posixpath.normpath(relpath)
    if norm.startswith("..") or norm != relpath.rstrip("/") or "/../" in f"/{relpath}/":
        raise ParameterError(f"file name {relpath!r}: path tricks ('..', '//', './') are refused")
    return norm


class StorageAdapter:
    """Read access to one storage instance through fsspec."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/") + "/"
        self.fs, self.root = fsspec.core.url_to_fs(self.url)
        self.protocol = self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]

    def location(self, relpath: str) -> str:
        rel = safe_relpath(relpath)
        if self.protocol in ("http", "https"):
            return self.url + rel
        return posixpath.join(self.root, rel)

    def open(self, relpath: str) -> IO[bytes]:
        if self.protocol in ("http", "https"):
            # a plain stream: HTTP storages need not support Range requests
            return self.fs.open(self.location(relpath), "rb", block_size=0)
        return self.fs.open(self.location(relpath), "rb")

    def read_bytes(self, relpath: str) -> bytes:
        return self.fs.cat_file(self.location(relpath))

    def size(self, relpath: str) -> int:
        return int(self.fs.size(self.location(relpath)))

    def fetch(self, relpath: str, local_path: str) -> None:
        """Copy one file to a local path (readers that need a real file get one)."""
        self.fs.get_file(self.location(relpath), local_path)


@lru_cache(maxsize=64)
def adapter_for(url: str) -> StorageAdapter:
    return StorageAdapter(url)
