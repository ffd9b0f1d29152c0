"""Copy a tree a student owns, as another account, without following anything the student
can point elsewhere.

The grader reads what it collects with its own rights, which reach the course's sources,
hidden tests, the gradebook and everybody's submissions. A submission is therefore copied
through directory file descriptors: every entry is opened relative to the descriptor of
the folder it was listed in, with ``O_NOFOLLOW`` (a symlink is refused, never followed),
and the checks (owner, type, link count) are made with ``fstat`` on the descriptor that is
then read. What was checked is what is copied: swapping an entry for a symlink or another
folder after the check changes nothing, since the descriptor still names the checked
object.
"""
from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a fifo must not wait for a writer (it is refused after fstat anyway)
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class UnsafeSubmission(Exception):
    """The submission holds something that must not be copied; the message says what."""


@dataclass(frozen=True)
class CopyLimits:
    """Bounds on what one submission may hold (a copy never fills the course's disk)."""

    max_bytes: int = 100_000_000
    max_entries: int = 10_000


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe (fifo)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    return f"a special file (mode {mode:o})"


class _Copier:
    def __init__(self, uid: int, limits: CopyLimits):
        self.uid = uid
        self.limits = limits
        self.bytes = 0
        self.entries = 0

    def check(self, st: os.stat_result, where: str, want_dir: bool) -> None:
        """Owner, type and link count of what the descriptor names."""
        if want_dir and not stat.S_ISDIR(st.st_mode):
            raise UnsafeSubmission(f"{where} is {_kind(st.st_mode)}, expected a folder")
        if not want_dir and not stat.S_ISREG(st.st_mode):
            raise UnsafeSubmission(f"{where} is {_kind(st.st_mode)}, expected a regular file")
        if st.st_uid != self.uid:
            raise UnsafeSubmission(f"{where} is owned by uid {st.st_uid}, expected the "
                                   f"student's uid {self.uid}")
        if not want_dir and st.st_nlink != 1:
            # nbgrader's submit writes fresh copies: a second name means a hard link,
            # possibly to a file that is not the student's work
            raise UnsafeSubmission(f"{where} is a hard link ({st.st_nlink} names), "
                                   "expected a file of its own")
        self.entries += 1
        if self.entries > self.limits.max_entries:
            raise UnsafeSubmission(f"{where}: more than {self.limits.max_entries} entries")

    def open_entry(self, dir_fd: int, name: str, where: str, want_dir: bool | None) -> tuple[int, os.stat_result]:
        """Open ``name`` in ``dir_fd`` without following it; refuse what is not a plain
        file or folder before opening (a fifo or device is never opened)."""
        try:
            pre = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError as err:
            raise UnsafeSubmission(f"{where}: cannot stat ({err.strerror})") from None
        is_dir = stat.S_ISDIR(pre.st_mode)
        if not (is_dir or stat.S_ISREG(pre.st_mode)):
            raise UnsafeSubmission(f"{where} is {_kind(pre.st_mode)}, expected a regular "
                                   "file or a folder")
        if want_dir is not None and is_dir != want_dir:
            self.check(pre, where, want_dir)  # raises with the right message
        try:
            fd = os.open(name, _DIR_FLAGS if is_dir else _FILE_FLAGS, dir_fd=dir_fd)
        except OSError as err:
            # ELOOP: it became a symlink since the stat; ENOTDIR: no longer a folder
            raise UnsafeSubmission(f"{where}: cannot open it safely ({err.strerror})") from None
        try:
            st = os.fstat(fd)
            self.check(st, where, is_dir)
        except BaseException:
            os.close(fd)
            raise
        return fd, st

    def copy_file(self, fd: int, dest: Path, where: str) -> None:
        out = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            while chunk := os.read(fd, 1 << 20):
                self.bytes += len(chunk)
                if self.bytes > self.limits.max_bytes:
                    raise UnsafeSubmission(f"{where}: the submission is larger than "
                                           f"{self.limits.max_bytes} bytes")
                os.write(out, chunk)
        finally:
            os.close(out)

    def copy_dir(self, dir_fd: int, dest: Path, where: str) -> None:
        os.mkdir(dest, 0o755)
        for name in sorted(os.listdir(dir_fd)):
            child = f"{where}/{name}"
            fd, st = self.open_entry(dir_fd, name, child, None)
            try:
                if stat.S_ISDIR(st.st_mode):
                    self.copy_dir(fd, dest / name, child)
                else:
                    self.copy_file(fd, dest / name, child)
            finally:
                os.close(fd)


def copy_student_tree(parent: Path | str, name: str, dest: Path | str, uid: int, *,
                      limits: CopyLimits = CopyLimits(),
                      after_check: Callable[[], None] | None = None) -> None:
    """Copy the folder ``parent/name``, owned by ``uid``, to the new folder ``dest``.

    Refuses (:class:`UnsafeSubmission`, naming the entry and what was expected) symlinks,
    fifos, sockets, devices, hard links and anything not owned by ``uid``, anywhere in
    the tree, the folder itself included. ``parent`` must be a folder the student cannot
    replace (the sticky inbound). ``after_check`` runs once the folder itself was opened
    and checked, before anything is read from it: the security tests swap the folder
    there to show that a swap after the check is harmless. On refusal ``dest`` may hold a
    partial copy: the caller removes it.
    """
    copier = _Copier(uid, limits)
    parent_fd = os.open(parent, _DIR_FLAGS)
    try:
        fd, _ = copier.open_entry(parent_fd, name, name, True)
    finally:
        os.close(parent_fd)
    try:
        if after_check is not None:
            after_check()
        copier.copy_dir(fd, Path(dest), name)
    finally:
        os.close(fd)
