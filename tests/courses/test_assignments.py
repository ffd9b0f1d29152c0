"""Every assignment is complete and correct: metadata, nbgrader structure, and the source
notebook (with its solutions and hidden tests) executes within the time it states."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from dlclab import config
from dlclab.courses.registry import load_courses

COURSES = load_courses(config.PROJECT_ROOT / "courses" / "courses.yaml")
COURSE = next(c for c in COURSES if c.id == "astroparticle-online")
SOURCES = sorted((COURSE.source / "source").glob("*/*.ipynb"))
KEYS = ("TargetGroup", "LearningResourceType", "LearningObjectives", "CompetencyRequired",
        "TimeRequired", "AccessCost")


def iso_duration_s(value: str) -> int:
    m = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?", value)
    assert m and any(m.groups()), f"TimeRequired {value!r} is not an ISO 8601 duration like PT90M"
    return int(m.group(1) or 0) * 3600 + int(m.group(2) or 0) * 60


def test_six_assignments():
    assert len(COURSE.assignments()) >= 6
    assert len(SOURCES) == len(COURSE.assignments())


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_structure(path: Path):
    nb = nbformat.read(path, 4)
    resource = nb.metadata["dlclab"]["learning_resource"]
    assert all(resource.get(k) for k in KEYS), f"missing learning-resource keys in {path.name}"
    iso_duration_s(resource["TimeRequired"])
    cells = [c.metadata.get("nbgrader", {}) for c in nb.cells]
    solutions = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")
                 and c.cell_type == "code"]
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
             and not c.metadata["nbgrader"].get("solution")]
    manual = [m for m in cells if m.get("grade") and m.get("solution")]
    assert solutions and all("BEGIN SOLUTION" in c.source for c in solutions)
    assert tests and all(c.metadata["nbgrader"].get("points", 0) > 0 for c in tests)
    assert any("BEGIN HIDDEN TESTS" in c.source for c in tests), "no hidden tests"
    assert any(not c.source.strip().startswith("### BEGIN HIDDEN") for c in tests), "no visible tests"
    assert manual, "no manually graded answer"
    ids = [m["grade_id"] for m in cells if m]
    assert len(ids) == len(set(ids)), "duplicate grade ids"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_solution_runs_within_its_time(path: Path, tmp_path: Path):
    nb = nbformat.read(path, 4)
    limit = iso_duration_s(nb.metadata["dlclab"]["learning_resource"]["TimeRequired"])
    # the whole notebook, hidden tests included, must run well inside the stated time
    NotebookClient(nb, timeout=limit, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    failed = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not failed
