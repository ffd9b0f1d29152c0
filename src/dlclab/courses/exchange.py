"""nbgrader's exchange hardened for a shared machine with hostile students.

The exchange layout (made by :mod:`dlclab.courses.provision`, as root) is::

    exchange/                  0755 root        students create nothing here
      <course>/                0755 grader      made by provisioning, not by a release
        outbound/              0755 grader      releases, readable by all
        inbound/               3733 grader:grader  setgid + sticky: students add entries,
                                                nobody renames or removes another's
        feedback/              0711 grader      files named by a per-submission secret

nbgrader's own classes insist on a world-writable exchange root (``ensure_root``), so
every class here checks only that the root is a folder one can enter.

Collect is the security boundary: the grader copies what students put in ``inbound``
with rights that reach the course's sources, hidden tests, gradebook and everybody's
submissions, and feedback hands the copy back. nbgrader's own collect follows symlinks and
only warns about a foreign owner. :class:`OwnerCheckedCollect` instead copies each
submission through directory descriptors (:mod:`dlclab.courses.safecopy`), refusing
symlinks, hard links, fifos, sockets, devices and anything not owned by the student the
submission names, checked on the very descriptor that is read; nbgrader then works on that
private copy only.

:class:`Submit` (the students' side) closes a submission's folder to other students: the
folder gets the inbound's group (setgid) and mode 0750, where nbgrader leaves it 0777.
"""
from __future__ import annotations

import os
import pwd
import shutil
import stat
import tempfile

from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.exchange.default.fetch_assignment import ExchangeFetchAssignment
from nbgrader.exchange.default.fetch_feedback import ExchangeFetchFeedback
from nbgrader.exchange.default.list import ExchangeList
from nbgrader.exchange.default.release_assignment import ExchangeReleaseAssignment
from nbgrader.exchange.default.release_feedback import ExchangeReleaseFeedback
from nbgrader.exchange.default.submit import ExchangeSubmit

from dlclab.courses.safecopy import CopyLimits, UnsafeSubmission, copy_student_tree

#: ``c.ExchangeFactory`` settings that select these classes (students and graders alike).
FACTORY_CLASSES = {
    "fetch_assignment": "dlclab.courses.exchange.FetchAssignment",
    "fetch_feedback": "dlclab.courses.exchange.FetchFeedback",
    "list": "dlclab.courses.exchange.List",
    "submit": "dlclab.courses.exchange.Submit",
    "release_assignment": "dlclab.courses.exchange.ReleaseAssignment",
    "release_feedback": "dlclab.courses.exchange.ReleaseFeedback",
    "collect": "dlclab.courses.exchange.OwnerCheckedCollect",
}

#: Mode of a submission's folder: the student and the grader (group) only.
SUBMISSION_MODE = 0o750


class RootOwnedExchange:
    """Mixin: the exchange root belongs to root and is not writable by students or graders."""

    def ensure_root(self) -> None:
        if not (os.path.isdir(self.root) and os.access(self.root, os.X_OK)):
            self.fail(f"The exchange {self.root} is missing or cannot be entered; "
                      "please contact your instructor")


class FetchAssignment(RootOwnedExchange, ExchangeFetchAssignment):
    """nbgrader's fetch, on a root-owned exchange."""


class FetchFeedback(RootOwnedExchange, ExchangeFetchFeedback):
    """nbgrader's fetch_feedback, on a root-owned exchange."""


class List(RootOwnedExchange, ExchangeList):
    """nbgrader's list, on a root-owned exchange."""


class ReleaseAssignment(RootOwnedExchange, ExchangeReleaseAssignment):
    """nbgrader's release, which would otherwise try to make the exchange root 0777."""


class ReleaseFeedback(RootOwnedExchange, ExchangeReleaseFeedback):
    """nbgrader's release_feedback, on a root-owned exchange."""


class Submit(RootOwnedExchange, ExchangeSubmit):
    """nbgrader's submit, leaving the submission readable by its student and grader only."""

    def copy_files(self) -> None:
        super().copy_files()
        # nbgrader made the folder 0777 "so the instructor can delete it"; the name's
        # random part was then all that kept other students out.
        inbound_gid = os.stat(self.inbound_path).st_gid
        fd = os.open(os.path.join(self.inbound_path, self.assignment_filename),
                     os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            if os.fstat(fd).st_gid == inbound_gid:
                os.fchmod(fd, SUBMISSION_MODE)
            else:
                # without the inbound's setgid group the grader could not read a 0750 folder
                os.fchmod(fd, 0o755)
                self.log.warning("The inbound %s has no setgid group: the submission is "
                                 "readable by anyone who learns its name", self.inbound_path)
        finally:
            os.close(fd)


class OwnerCheckedCollect(RootOwnedExchange, ExchangeCollect):
    """Collect that copies each submission safely before nbgrader touches it.

    A submission is refused (logged as ``Refusing submission <path>: <reason>``, not
    collected) when its folder or anything in it is not owned by the student it names, or
    is a symlink, a hard link, a fifo, a socket or a device.
    """

    def _owner_uid(self, filename: str) -> int | None:
        try:  # lstat: a symlink is owned by whoever made it, its target does not count
            return os.stat(os.path.join(self.inbound_path, filename), follow_symlinks=False).st_uid
        except OSError:
            return None

    @staticmethod
    def _uid_of(username: str) -> int | None:
        try:
            return pwd.getpwnam(username).pw_uid
        except KeyError:
            return None

    def _owned_by_student(self, record: dict) -> bool:
        owner, uid = self._owner_uid(record["filename"]), self._uid_of(record["username"])
        if uid is None or owner != uid:
            self.log.error("Refusing submission %s: it names student %r (uid %s) but is "
                           "owned by uid %s", os.path.join(self.inbound_path, record["filename"]),
                           record["username"], uid, owner)
            return False
        return True

    def _sort_by_timestamp(self, records: list[dict]) -> list[dict]:
        # Called per student before the newest submission is picked: drop forgeries first,
        # so a forged newer folder cannot hide the student's genuine one. This is only a
        # choice; the binding check is made again on the descriptors at copy time.
        genuine = [r for r in records if self._owned_by_student(r)]
        return super()._sort_by_timestamp(genuine or records)

    def init_src(self) -> None:
        super().init_src()
        self.src_records = [r for r in self.src_records if self._owned_by_student(r)]

    def after_check(self, record: dict) -> None:
        """Called when a submission's folder is open and checked, before it is read.

        Does nothing; the security tests override it to swap the folder for a symlink at
        exactly this point (the copy reads the checked descriptor, so the swap is harmless).
        """

    def _stage(self, staging: str) -> list[dict]:
        """Copy the chosen submissions into ``staging``; returns those that were safe."""
        limits = CopyLimits(max_bytes=1000 * self.coursedir.max_dir_size)
        safe = []
        for rec in self.src_records:
            path = os.path.join(self.inbound_path, rec["filename"])
            dest = os.path.join(staging, rec["filename"])
            uid = self._uid_of(rec["username"])
            try:
                if uid is None:
                    raise UnsafeSubmission(f"there is no account {rec['username']!r}")
                copy_student_tree(self.inbound_path, rec["filename"], dest, uid, limits=limits,
                                  after_check=lambda rec=rec: self.after_check(rec))
            except UnsafeSubmission as err:
                self.log.error("Refusing submission %s of student %r: %s",
                               path, rec["username"], err)
                shutil.rmtree(dest, ignore_errors=True)  # our own partial copy
                continue
            safe.append(rec)
        return safe

    def copy_files(self) -> None:
        self._check_inbound()
        staging = tempfile.mkdtemp(prefix=".collect-", dir=self.coursedir.root)
        inbound, check_owner = self.inbound_path, self.check_owner
        try:
            self.src_records = self._stage(staging)
            # nbgrader copies from the safe copy; its owner warning would now only see the
            # grader (the owner was checked above, on the descriptors)
            self.inbound_path, self.check_owner = staging, False
            super().copy_files()
        finally:
            self.inbound_path, self.check_owner = inbound, check_owner
            shutil.rmtree(staging, ignore_errors=True)

    def _check_inbound(self) -> None:
        """Warn when the inbound lets students rename each other's folders."""
        mode = os.stat(self.inbound_path, follow_symlinks=False).st_mode
        if not (stat.S_ISDIR(mode) and mode & stat.S_ISVTX):
            self.log.warning("The inbound %s is not a sticky folder (mode %o): re-run the "
                             "lab's provisioning", self.inbound_path, stat.S_IMODE(mode))
