"""The course registry: ``courses/courses.yaml`` read into typed records."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dlclab.errors import ParameterError

_COURSE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,40}$")


@dataclass(frozen=True)
class Course:
    """One nbgrader course hosted on the hub."""

    id: str
    title: str
    source: Path
    instructors: tuple[str, ...] = field(default_factory=tuple)
    students: tuple[str, ...] = field(default_factory=tuple)

    @property
    def grader_user(self) -> str:
        """The system account that owns the course directory and runs its formgrader."""
        return f"grader-{self.id}"[:32]

    @property
    def student_group(self) -> str:
        """Hub group of enrolled students (nbgrader's JupyterHubAuthPlugin convention)."""
        return f"nbgrader-{self.id}"

    @property
    def instructor_group(self) -> str:
        """Hub group of instructors (nbgrader's JupyterHubAuthPlugin convention)."""
        return f"formgrade-{self.id}"

    @property
    def service_name(self) -> str:
        """Name of the course's formgrader hub service."""
        return f"formgrader-{self.id}"

    def assignments(self) -> list[str]:
        """Assignment ids, i.e. the folders under ``source/``."""
        src = self.source / "source"
        return sorted(p.name for p in src.iterdir() if p.is_dir() and not p.name.startswith("."))


def load_courses(path: Path) -> list[Course]:
    """Read the registry. Raises :class:`ParameterError` naming the field that is wrong."""
    data = yaml.safe_load(Path(path).read_text()) or {}
    courses: list[Course] = []
    seen: set[str] = set()
    for i, entry in enumerate(data.get("courses") or []):
        where = f"{path}: courses[{i}]"
        cid = str(entry.get("id", ""))
        if not _COURSE_ID.match(cid):
            raise ParameterError(f"{where}.id: {cid!r} is not a course id (lower-case letters, digits, '-')")
        if cid in seen:
            raise ParameterError(f"{where}.id: course {cid!r} is listed twice")
        seen.add(cid)
        source = (Path(path).parent / str(entry.get("source", cid))).resolve()
        if not (source / "source").is_dir():
            raise ParameterError(f"{where}.source: {source}/source does not exist")
        courses.append(Course(
            id=cid,
            title=str(entry.get("title", cid)),
            source=source,
            instructors=tuple(entry.get("instructors") or ()),
            students=tuple(entry.get("students") or ()),
        ))
    return courses
