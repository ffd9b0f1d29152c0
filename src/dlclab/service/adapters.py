"""Storage adapters: how the service reaches each storage instance's files (fsspec).

A storage URL is ``file:///...`` (a local path; a CernVM-FS mount on Kubernetes is one),
``http(s)://...`` (an HTTP endpoint serving the storage tree) or ``root://host:port//path``
(an XRootD server, read through fsspec-xrootd with the service's sss key, see
:func:`configure_xrootd`). Paths come from the catalogue, but are checked again here:
relative, no ``..``, no NUL, no backslash.

A storage that cannot be reached (server down, connection lost mid-read, refused) raises
:class:`StorageUnavailable` naming it, so callers answer "this instance is down" (HTTP 503,
a failed export) instead of a 500 or a silent gap; a missing file stays
``FileNotFoundError``.
"""
from __future__ import annotations

import os
import posixpath
import shutil
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import IO, TypeVar

import fsspec

from dlclab.errors import DlclabError, ParameterError

T = TypeVar("T")
#: XRootD's "no such file" (kXR_NotFound) as fsspec-xrootd words it in an OSError
_XRD_NOT_FOUND = ("[3011]", "no such file or directory")


class StorageUnavailable(DlclabError):
    """A storage instance did not answer (or refused the service): name it to the user."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"storage {url} is unavailable: {reason}")


def configure_xrootd(keytab: Path | None, connect_retries: int = 1,
                     request_timeout_s: int = 120) -> None:
    """The XRootD client's identity (the sss keytab) and its patience with a dead server.

    XRootD's client reads these from the process environment when it first loads: call
    before the first ``root://`` access. Defaults of the client would retry a refused
    connection for minutes (5 x 120 s); one retry makes a down instance an error at once."""
    if keytab is not None:
        os.environ["XrdSecSSSKT"] = str(keytab)
    os.environ["XRD_CONNECTIONRETRY"] = str(connect_retries)
    os.environ["XRD_REQUESTTIMEOUT"] = str(request_timeout_s)


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

    def _guard(self, action: Callable[[], T]) -> T:
        """Run one storage access; storage failures become :class:`StorageUnavailable`."""
        try:
            return action()
        except FileNotFoundError:
            raise
        except OSError as exc:
            text = str(exc)
            if self.protocol == "root" and any(s in text.lower() for s in _XRD_NOT_FOUND):
                raise FileNotFoundError(text) from exc
            raise StorageUnavailable(self.url, text or type(exc).__name__) from exc

    def open(self, relpath: str) -> IO[bytes]:
        loc = self.location(relpath)
        if self.protocol in ("http", "https"):
            # a plain stream: HTTP storages need not support Range requests
            return self._guard(lambda: self.fs.open(loc, "rb", block_size=0))
        if self.protocol == "root":
            # fsspec-xrootd answers stat from its listings cache, which may lack the file
            self.fs.invalidate_cache()
            return _Guarded(self._guard(lambda: self.fs.open(loc, "rb")), self)
        return self._guard(lambda: self.fs.open(loc, "rb"))

    def read_bytes(self, relpath: str) -> bytes:
        if self.protocol == "root":
            # explicit-range reads only: fsspec-xrootd's whole-file cat_file reads a cached
            # handle with size 0, which crashes the XRootD client once its server died
            with self.open(relpath) as handle:
                return handle.read()
        return self._guard(lambda: self.fs.cat_file(self.location(relpath)))

    def size(self, relpath: str) -> int:
        if self.protocol == "root":
            self.fs.invalidate_cache()
        return int(self._guard(lambda: self.fs.size(self.location(relpath))))

    def fetch(self, relpath: str, local_path: str) -> None:
        """Copy one file to a local path (readers that need a real file get one)."""
        if self.protocol == "root":  # see read_bytes: no size-0 reads of cached handles
            with self.open(relpath) as src, open(local_path, "wb") as dst:
                self._guard(lambda: shutil.copyfileobj(src, dst, 4 << 20))
            return
        self._guard(lambda: self.fs.get_file(self.location(relpath), local_path))


class _Guarded:
    """A file of a ``root://`` storage whose read errors name the storage."""

    def __init__(self, handle: IO[bytes], adapter: StorageAdapter) -> None:
        self._handle, self._adapter = handle, adapter

    def read(self, size: int = -1) -> bytes:
        return self._adapter._guard(lambda: self._handle.read(size))

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._handle.seek(offset, whence)

    def tell(self) -> int:
        return self._handle.tell()

    def close(self) -> None:
        try:
            self._handle.close()
        except OSError:
            pass  # the server is gone: nothing to flush on a read-only handle

    def __enter__(self) -> _Guarded:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@lru_cache(maxsize=64)
def adapter_for(url: str) -> StorageAdapter:
    return StorageAdapter(url)
