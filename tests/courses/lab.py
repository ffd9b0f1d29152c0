"""A real course on a real lab hub, for the course tests and the course attacks.

:func:`course_lab` starts a :class:`~tests.hub_harness.LabHub` hosting the real
astroparticle-online course under a temporary courses root; :func:`grader` and
:func:`student` run nbgrader as the grader account and as a student, as their servers
would (the student's nbgrader reads the lab's students' configuration).
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from dlclab import config
from dlclab.courses.provision import CourseLayout
from dlclab.courses.registry import Course, load_courses
from tests.courses.oscmd import run_as
from tests.hub_harness import LabHub

COURSE = "astroparticle-online"
ASSIGNMENT = "02-energy-spectrum"
NOTEBOOK = "energy-spectrum"
COURSES_FILE = config.PROJECT_ROOT / "courses" / "courses.yaml"


@dataclass
class CourseLab:
    """The hub, where the courses live, and the course."""

    hub: LabHub
    layout: CourseLayout
    course: Course

    @property
    def course_dir(self) -> Path:
        return self.layout.course_dir(self.course)

    @property
    def inbound(self) -> Path:
        return self.layout.exchange / self.course.id / "inbound"

    def parts(self) -> tuple[LabHub, CourseLayout, Course]:
        return self.hub, self.layout, self.course

    def name(self, short: str) -> str:
        return self.hub.user(short).name

    def home(self, short: str) -> Path:
        return Path("/home") / self.name(short)

    def fetched(self, short: str) -> Path:
        """The student's fetched notebook of the assignment."""
        return self.home(short) / self.course.id / ASSIGNMENT / f"{NOTEBOOK}.ipynb"

    def source_notebook(self) -> Path:
        """The instructor's notebook (solutions, hidden tests)."""
        return self.course_dir / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"


@contextlib.contextmanager
def course_lab(users: dict[str, list[str]], root: Path | None = None) -> Iterator[CourseLab]:
    """A lab hub with the course; ``users`` as for LabHub (``nbgrader-<course>`` enrols).

    ``root`` is the courses root (default: a fresh temporary folder, removed after)."""
    if os.geteuid() != 0:
        pytest.fail("the course tests need root: the student id is the OS user (STACK.md)")
    own_root = root is None
    root = root or Path(tempfile.mkdtemp(prefix="dlclab-courses-"))
    os.chmod(root, 0o755)
    try:
        with LabHub(users=users, settings={"courses_file": COURSES_FILE,
                                           "courses_root": root}) as hub:
            course = next(c for c in load_courses(COURSES_FILE) if c.id == COURSE)
            yield CourseLab(hub, CourseLayout(root), course)
        hub.assert_nothing_left()
    finally:
        if own_root:
            shutil.rmtree(root, ignore_errors=True)


def grader(lab: CourseLab, *args: str, check: bool = True, env: dict[str, str] | None = None):
    """``nbgrader <args>`` as the course's grader account, in the course folder."""
    return run_as(lab.course.grader_user, ["nbgrader", *args], cwd=lab.course_dir,
                  env=env, check=check)


def student(lab: CourseLab, short: str, *args: str, check: bool = True):
    """``nbgrader <args>`` as the student, with what their server's environment holds."""
    user = lab.hub.user(short)
    env = {
        "JUPYTERHUB_USER": user.name,
        "JUPYTERHUB_API_URL": lab.hub.settings.hub_api_url,
        "JUPYTERHUB_API_TOKEN": lab.hub.token(short, scopes=["read:users:groups!user"]),
        "JUPYTER_CONFIG_PATH": str(lab.layout.student_config),
    }
    return run_as(user.name, ["nbgrader", *args], env=env, check=check)


def submit(lab: CourseLab, short: str) -> Path:
    """Submit the student's assignment; returns the submission's folder in the inbound."""
    proc = student(lab, short, "submit", ASSIGNMENT, "--course", lab.course.id)
    found = re.search(r"Destination: (\S.*\S)\s*$", proc.stdout + proc.stderr, re.MULTILINE)
    assert found, f"no destination in submit's log:\n{proc.stderr}"
    return Path(found.group(1))


def solved(released: Path, source: Path, wrong_flux: bool = False, mark: str = "") -> None:
    """Fill the released notebook's solution cells from the instructor's source; ``mark``
    (a comment) is added to each so that the student's work can be recognised."""
    src = {c.metadata["nbgrader"]["grade_id"]: c for c in nbformat.read(source, 4).cells
           if c.metadata.get("nbgrader", {}).get("solution")}
    nb = nbformat.read(released, 4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = src[meta["grade_id"]].source
            if wrong_flux and meta["grade_id"] == "flux":
                # a classic slip: the bin width left in eV
                cell.source = cell.source.replace("/ EV_PER_GEV", "")
            if mark and cell.cell_type == "code":
                cell.source = f"# {mark}\n{cell.source}"
    nbformat.write(nb, released)
