"""Put the registry's courses on this machine: grader accounts, course folders, exchange.

Layout under the courses root (``/srv/nbgrader`` as root):

    exchange/                  mode 1777: nbgrader's exchange; the sticky bit keeps a student
                               from renaming or removing a course's exchange folder
    courses/<id>/              mode 0700, owned by grader-<id>: source, release, submitted,
                               autograded, feedback, gradebook.db. Students never read it.
    config/student/            nbgrader_config.py + labconfig for students' servers

Everything here is idempotent: a second run changes nothing, and an instructor's
edited sources are never overwritten.
"""
from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

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


def _write_if_changed(path: Path, text: str, mode: int) -> None:
    if not path.exists() or path.read_text() != text:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    os.chmod(path, mode)


def student_nbgrader_config(layout: CourseLayout) -> str:
    return (
        "# Written by dlclab.courses.provision: students' nbgrader settings.\n"
        "c = get_config()  # noqa: F821\n"
        f"c.Exchange.root = {str(layout.exchange)!r}\n"
        "c.Exchange.path_includes_course = True\n"
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
        "c.ExchangeFactory.collect = 'dlclab.courses.exchange.OwnerCheckedCollect'\n"
        "# The grader account is no hub user: enrolment is the hub groups nbgrader-<id>,\n"
        "# managed by courses.yaml and the hub admin, so grading needs no hub look-ups.\n"
        "c.Authenticator.plugin_class = 'nbgrader.auth.NoAuthPlugin'\n"
        "# Solutions, hidden tests and the gradebook stay in the 0700 course folder.\n"
        "c.ClearSolutions.code_stub = {'python': '# YOUR CODE HERE\\nraise NotImplementedError()'}\n"
    )


def provision_course(layout: CourseLayout, course: Course, *, as_root: bool | None = None) -> Path:
    """Create (or check) one course on this machine; returns the course folder."""
    as_root = os.geteuid() == 0 if as_root is None else as_root
    layout.exchange.mkdir(parents=True, exist_ok=True)
    os.chmod(layout.exchange, 0o1777)
    course_dir = layout.course_dir(course)
    course_dir.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(course_dir.parent, 0o755)
    if not (course_dir / "source").exists():
        shutil.copytree(course.source / "source", course_dir / "source")
    layout.student_config.mkdir(parents=True, exist_ok=True)
    for d in (layout.root, layout.root / "config", layout.student_config):
        os.chmod(d, 0o755)
    _write_if_changed(layout.student_config / "nbgrader_config.py",
                      student_nbgrader_config(layout), 0o644)
    # Jupyter Server reads extension switches from every config path; a later (user-side)
    # path wins over the venv's own, so the instructor-only extensions are off here.
    server_d = layout.student_config / "jupyter_server_config.d"
    server_d.mkdir(exist_ok=True)
    os.chmod(server_d, 0o755)
    switches = {"ServerApp": {"jpserver_extensions": {
        name: False for name in INSTRUCTOR_ONLY_SERVER_EXTENSIONS}}}
    _write_if_changed(server_d / "dlclab-courses.json", json.dumps(switches, indent=1) + "\n", 0o644)
    # JupyterLab reads labconfig/page_config.json from every config path.
    labconfig = layout.student_config / "labconfig"
    labconfig.mkdir(exist_ok=True)
    os.chmod(labconfig, 0o755)
    page = {"disabledExtensions": {name: True for name in INSTRUCTOR_ONLY_LAB_EXTENSIONS}}
    _write_if_changed(labconfig / "page_config.json", json.dumps(page, indent=1) + "\n", 0o644)
    # The formgrader and nbgrader's commands run in the course folder and read this.
    _write_if_changed(course_dir / "nbgrader_config.py",
                      grader_nbgrader_config(layout, course), 0o600)
    if as_root:
        grader = ensure_system_user(course.grader_user)
        for dirpath, dirnames, filenames in os.walk(course_dir):
            os.chown(dirpath, grader.pw_uid, grader.pw_gid)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), grader.pw_uid, grader.pw_gid)
    os.chmod(course_dir, 0o700)
    return course_dir
