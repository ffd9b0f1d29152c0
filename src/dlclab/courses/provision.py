"""Put the registry's courses on this machine: grader accounts, course folders, exchange.

Layout under the courses root (``/srv/nbgrader`` as root):

    exchange/                  0755 root: students create nothing here, so they cannot
                               pre-create (squat) a course's exchange folder
      <course>/                0755 grader-<id>, made here, not by the first release
        outbound/              0755 grader-<id>: releases (readable by all)
        inbound/               3733 grader-<id>:grader-<id>: students add submissions;
                               sticky, so nobody renames or removes another's; setgid, so
                               a submission's folder gets the grader's group (mode 0750)
        feedback/              0711 grader-<id>: not listable; names are per-submission
                               secrets
    courses/<id>/              0700 grader-<id>: source, release, submitted, autograded,
                               feedback, gradebook.db. Students never read it.
    config/student/            nbgrader_config.py + labconfig for students' servers

As root everything is made through directory descriptors (:mod:`dlclab.courses.rootfs`)
and an entry that is in the way (not owned as expected, a symlink) is moved aside.
Everything here is idempotent: a second run changes nothing, and an instructor's edited
sources are never overwritten.
"""
from __future__ import annotations

import json
import os
import pwd
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dlclab.courses import rootfs
from dlclab.courses.exchange import FACTORY_CLASSES
from dlclab.courses.registry import Course

#: Lab extensions students must not get (formgrader UI, assignment authoring).
INSTRUCTOR_ONLY_LAB_EXTENSIONS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
)
INSTRUCTOR_ONLY_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
)

#: A course's folders in the exchange and their modes (all owned by its grader account).
EXCHANGE_FOLDERS = {"outbound": 0o755, "inbound": 0o3733, "feedback": 0o711}


@dataclass(frozen=True)
class CourseLayout:
    """Where a machine keeps its courses."""

    root: Path

    @property
    def exchange(self) -> Path:
        return self.root / "exchange"

    def course_dir(self, course: Course) -> Path:
        return self.root / "courses" / course.id

    @property
    def student_config(self) -> Path:
        return self.root / "config" / "student"


def ensure_system_user(name: str) -> pwd.struct_passwd:
    """Create a system account with a private home unless it exists."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "-m", "-K", "HOME_MODE=0700", "-s", "/bin/bash", name],
                       check=True, capture_output=True)
        return pwd.getpwnam(name)


def student_nbgrader_config(layout: CourseLayout) -> str:
    return (
        "# Written by dlclab.courses.provision: students' nbgrader settings.\n"
        "c = get_config()  # noqa: F821\n"
        f"c.Exchange.root = {str(layout.exchange)!r}\n"
        "c.Exchange.path_includes_course = True\n"
        "# The exchange root is root's, submissions private (dlclab.courses.exchange).\n"
        + _factory_lines() +
        "# Courses a student sees are their hub groups nbgrader-<course id>.\n"
        "c.Authenticator.plugin_class = 'nbgrader.auth.JupyterHubAuthPlugin'\n"
    )


def grader_nbgrader_config(layout: CourseLayout, course: Course) -> str:
    return (
        "# Written by dlclab.courses.provision: the course's grading settings.\n"
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {course.id!r}\n"
        f"c.CourseDirectory.root = {str(layout.course_dir(course))!r}\n"
        f"c.Exchange.root = {str(layout.exchange)!r}\n"
        "c.Exchange.path_includes_course = True\n"
        "# Collect copies submissions through descriptors, refusing links and special files.\n"
        + _factory_lines() +
        "# The grader account is no hub user: enrolment is the hub groups nbgrader-<id>,\n"
        "# managed by courses.yaml and the hub admin, so grading needs no hub look-ups.\n"
        "c.Authenticator.plugin_class = 'nbgrader.auth.NoAuthPlugin'\n"
        "# Solutions, hidden tests and the gradebook stay in the 0700 course folder, and\n"
        "# autograde runs students' code in a sandbox that does not see it.\n"
        "from dlclab.courses.sandbox import sandboxed_preprocessors\n"
        "c.Autograde.autograde_preprocessors = sandboxed_preprocessors()\n"
        "c.ClearSolutions.code_stub = {'python': '# YOUR CODE HERE\\nraise NotImplementedError()'}\n"
    )


def _factory_lines() -> str:
    return "".join(f"c.ExchangeFactory.{kind} = {cls!r}\n" for kind, cls in FACTORY_CLASSES.items())


def provision_course(layout: CourseLayout, course: Course, *, as_root: bool | None = None) -> Path:
    """Create (or check and repair) one course on this machine; returns the course folder.

    As root, everything below the courses root is made through directory descriptors
    (:mod:`dlclab.courses.rootfs`): an entry a student or grader put in the way is moved
    aside, never followed or chowned.
    """
    as_root = os.geteuid() == 0 if as_root is None else as_root
    if as_root:
        grader = ensure_system_user(course.grader_user)
        admin, owner = (0, 0), (grader.pw_uid, grader.pw_gid)
    else:  # a developer's own lab: everything is theirs
        admin = owner = (os.getuid(), os.getgid())
    layout.root.mkdir(parents=True, exist_ok=True)
    os.chmod(layout.root, 0o755)
    fds: list[int] = []

    def folder(parent: int, name: str, who: tuple[int, int], mode: int, where: Path) -> int:
        fd = rootfs.ensure_dir(parent, name, *who, mode, where=str(where))
        fds.append(fd)
        return fd

    try:
        root = rootfs.open_dir(layout.root)
        fds.append(root)
        # exchange/: root's; students cannot create (or squat) a course's folders in it
        exchange = folder(root, "exchange", admin, 0o755, layout.exchange)
        course_x = folder(exchange, course.id, owner, 0o755, layout.exchange / course.id)
        for name, mode in EXCHANGE_FOLDERS.items():
            folder(course_x, name, owner, mode, layout.exchange / course.id / name)
        # courses/<id>/: the grader's, 0700 (sources, hidden tests, gradebook)
        courses = folder(root, "courses", admin, 0o755, layout.root / "courses")
        course_dir = folder(courses, course.id, owner, 0o700, layout.course_dir(course))
        try:
            os.stat("source", dir_fd=course_dir, follow_symlinks=False)
        except FileNotFoundError:  # an instructor's edited sources are never overwritten
            rootfs.copy_tree(course.source / "source", course_dir, "source", *owner)
        # The formgrader and nbgrader's commands run in the course folder and read this.
        rootfs.write_file(course_dir, "nbgrader_config.py",
                          grader_nbgrader_config(layout, course).encode(), *owner, 0o600)
        # config/student/: what every user's server reads (JUPYTER_CONFIG_PATH)
        config = folder(root, "config", admin, 0o755, layout.root / "config")
        student = folder(config, "student", admin, 0o755, layout.student_config)
        rootfs.write_file(student, "nbgrader_config.py",
                          student_nbgrader_config(layout).encode(), *admin, 0o644)
        # Jupyter Server reads extension switches from every config path; a later
        # (user-side) path wins over the venv's own, so the instructor-only extensions are
        # off here.
        server_d = folder(student, "jupyter_server_config.d", admin, 0o755,
                          layout.student_config / "jupyter_server_config.d")
        switches = {"ServerApp": {"jpserver_extensions": {
            name: False for name in INSTRUCTOR_ONLY_SERVER_EXTENSIONS}}}
        rootfs.write_file(server_d, "dlclab-courses.json",
                          (json.dumps(switches, indent=1) + "\n").encode(), *admin, 0o644)
        # JupyterLab reads labconfig/page_config.json from every config path.
        labconfig = folder(student, "labconfig", admin, 0o755, layout.student_config / "labconfig")
        page = {"disabledExtensions": {name: True for name in INSTRUCTOR_ONLY_LAB_EXTENSIONS}}
        rootfs.write_file(labconfig, "page_config.json",
                          (json.dumps(page, indent=1) + "\n").encode(), *admin, 0o644)
    finally:
        for fd in fds:
            os.close(fd)
    return layout.course_dir(course)
