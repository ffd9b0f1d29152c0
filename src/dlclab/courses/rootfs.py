"""Folders and files made by root inside folders other accounts can write.

Provisioning runs as root and creates the exchange and the course folders, which graders
and (in the exchange) students write to. Root therefore never acts on a path there: every
step is relative to a directory descriptor, nothing is followed (``O_NOFOLLOW``,
``follow_symlinks=False``), ownership and mode are set with ``fchown``/``fchmod`` on the
descriptor of what was created or checked. An entry that exists but is not what it should
be (a symlink, a file, a folder of someone else: say, pre-created by a student to take a
course's exchange over) is moved aside (``.untrusted-<name>-<random>``, which nbgrader
never lists) and made afresh.
"""
from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

log = logging.getLogger(__name__)

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def open_dir(path: Path) -> int:
    """Descriptor of a folder the administrator configured (its last part not followed)."""
    return os.open(path, DIR_FLAGS)


def _move_aside(parent_fd: int, name: str, why: str, where: str) -> None:
    aside = f".untrusted-{name}-{secrets.token_hex(4)}"
    # rename acts on the entry itself, never on what a symlink points to
    os.rename(name, aside, src_dir_fd=parent_fd, dst_dir_fd=parent_fd)
    log.warning("%s %s; moved it aside as %s and made it afresh", where, why, aside)


def ensure_dir(parent_fd: int, name: str, uid: int, gid: int, mode: int, *, where: str) -> int:
    """Descriptor of the folder ``name`` in ``parent_fd``, owned ``uid:gid`` with ``mode``.

    Made if missing; an existing folder owned by ``uid`` (or by root: an interrupted run)
    is kept and its owner and mode set; anything else is moved aside first. ``where`` names
    the folder in log messages. The caller closes the descriptor.
    """
    for _attempt in range(3):
        try:
            st = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
        except FileNotFoundError:
            st = None
        if st is not None and not (stat.S_ISDIR(st.st_mode) and st.st_uid in (uid, 0)):
            kind = "is a symlink" if stat.S_ISLNK(st.st_mode) else (
                f"is owned by uid {st.st_uid}" if stat.S_ISDIR(st.st_mode) else "is not a folder")
            _move_aside(parent_fd, name, f"{kind} (expected a folder of uid {uid})", where)
            st = None
        if st is None:
            try:
                os.mkdir(name, 0o700, dir_fd=parent_fd)
            except FileExistsError:
                continue  # someone made it meanwhile: look again
        try:
            fd = os.open(name, DIR_FLAGS, dir_fd=parent_fd)
        except (FileNotFoundError, NotADirectoryError, OSError):
            continue  # replaced meanwhile (ELOOP: now a symlink): look again
        got = os.fstat(fd)
        if got.st_uid not in (uid, 0):
            os.close(fd)
            continue
        # the descriptor names the folder checked: owner and mode go to it, not to a path
        if (got.st_uid, got.st_gid) != (uid, gid):
            os.fchown(fd, uid, gid)
        if stat.S_IMODE(got.st_mode) != mode:
            os.fchmod(fd, mode)
        return fd
    raise RuntimeError(f"{where}: it keeps changing while being made; is another account "
                       "writing to its parent folder?")


def write_file(dir_fd: int, name: str, data: bytes, uid: int, gid: int, mode: int) -> None:
    """Write ``name`` in ``dir_fd`` atomically (new file, then rename) unless it holds ``data``."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        fd = None
    if fd is not None:
        try:
            st = os.fstat(fd)
            current = os.read(fd, len(data) + 1) if stat.S_ISREG(st.st_mode) else None
            if (current == data and (st.st_uid, st.st_gid) == (uid, gid)
                    and stat.S_IMODE(st.st_mode) == mode):
                return
        finally:
            os.close(fd)
    tmp = f".{name}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o600, dir_fd=dir_fd)
    try:
        os.write(fd, data)
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)


def copy_tree(src: Path, parent_fd: int, name: str, uid: int, gid: int) -> None:
    """Copy the trusted folder ``src`` (the repository's course sources) to a new folder
    ``name`` in ``parent_fd``, every entry created by descriptor and owned ``uid:gid``."""
    os.mkdir(name, 0o700, dir_fd=parent_fd)
    fd = os.open(name, DIR_FLAGS, dir_fd=parent_fd)
    try:
        os.fchown(fd, uid, gid)
        os.fchmod(fd, 0o755)
        for entry in sorted(Path(src).iterdir()):
            if entry.is_symlink():
                continue  # a course's sources are plain files; a link is a mistake
            if entry.is_dir():
                copy_tree(entry, fd, entry.name, uid, gid)
            elif entry.is_file():
                write_file(fd, entry.name, entry.read_bytes(), uid, gid, 0o644)
    finally:
        os.close(fd)
