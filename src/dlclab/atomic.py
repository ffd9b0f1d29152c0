"""Writes that appear whole or not at all: the one place of the lab's write-and-rename.

Every temporary name is ``.<name>.tmp-<pid>-<random>`` beside its target (same file
system, so the rename is atomic; hidden, so listings skip it; the pid tells a stale one
from a running build). Data are fsync'ed before the rename and the parent directory after
it, so a crash leaves the old state or the new one, never a torn file.

    with atomic_file(path) as fh:          # a file written through a file object
        fh.write(data)
    with atomic_path(path) as tmp:         # a library that writes by name (h5py, uproot)
        h5py.File(tmp, "w").close()
    with atomic_dir(target) as tmp:        # a folder built, then published by one rename
        (tmp / "a.parquet").write_bytes(...)
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

TMP_NAME = re.compile(r"^\.(?P<name>.+)\.tmp-(?P<pid>\d+)-[0-9a-f]{8}$")


def temporary_name(target: Path) -> Path:
    """The temporary sibling of ``target`` (see the module docstring)."""
    return target.with_name(f".{target.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(top: Path) -> None:
    """fsync every file, then every directory bottom-up."""
    for dirpath, _dirs, filenames in os.walk(top, topdown=False):
        for name in filenames:
            fsync_file(Path(dirpath) / name)
        fsync_dir(Path(dirpath))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """A temporary path to write ``target``'s content to; renamed over ``target`` when the
    block ends without an exception, removed otherwise."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(target)
    try:
        yield tmp
        fsync_file(tmp)
        os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise
    fsync_dir(target.parent)


@contextmanager
def atomic_file(target: str | os.PathLike, mode: str = "wb", **open_kwargs) -> Iterator[IO]:
    """An open file whose content replaces ``target`` when the block ends cleanly."""
    with atomic_path(target) as tmp, open(tmp, mode, **open_kwargs) as fh:
        yield fh
        fh.flush()


def write_bytes(target: str | os.PathLike, data: bytes | memoryview) -> int:
    """Atomically replace ``target`` by ``data``; returns the bytes written."""
    with atomic_file(target) as fh:
        fh.write(data)
    return len(memoryview(data).cast("B"))


def write_text(target: str | os.PathLike, text: str) -> None:
    with atomic_file(target, "w", encoding="utf-8") as fh:
        fh.write(text)


@contextmanager
def atomic_dir(target: str | os.PathLike, mode: int = 0o755) -> Iterator[Path]:
    """A temporary folder (created with ``mode``) that becomes ``target`` by one rename
    when the block ends cleanly; removed otherwise. An existing ``target`` is never
    replaced: the rename then raises (``FileExistsError`` or ``OSError``)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(target)
    os.mkdir(tmp, mode)
    try:
        yield tmp
        fsync_tree(tmp)
        os.rename(tmp, target)
    except BaseException:
        _remove(tmp)
        raise
    fsync_dir(target.parent)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(parent: str | os.PathLike) -> list[Path]:
    """Remove temporaries in ``parent`` whose writing process no longer runs."""
    parent = Path(parent)
    removed: list[Path] = []
    if not parent.is_dir():
        return removed
    for child in parent.iterdir():
        m = TMP_NAME.match(child.name)
        if m and not _pid_alive(int(m["pid"])):
            _remove(child)
            removed.append(child)
    return removed
