"""The full nbgrader cycle on a real lab hub with real system users.

One hub, one instructor and three students (plus one who is not enrolled); the course is
the real astroparticle-online course. Assignment 02 goes through generate, release,
fetch, submit, collect, autograde, feedback: the reference solution scores full marks on
the autograded cells, an unmodified release zero, and a plausible wrong answer (the flux
per eV instead of per GeV) passes the visible tests but fails a hidden one.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tests.courses.lab import (
    ASSIGNMENT,
    COURSE,
    NOTEBOOK,
    CourseLab,
    course_lab,
    grader,
    solved,
    student,
)
from tests.courses.oscmd import run_as

pytestmark = [pytest.mark.hub, pytest.mark.slow]

STUDENTS = ("sam", "sue", "sid")


@pytest.fixture(scope="module")
def course_hub():
    users = {"ina": ["instructors", f"formgrade-{COURSE}"], "eve": ["students"]}
    users.update({s: ["students", f"nbgrader-{COURSE}"] for s in STUDENTS})
    with course_lab(users) as lab:
        yield lab


def home(lab: CourseLab, short: str) -> Path:
    return lab.home(short)


@pytest.fixture(scope="module")
def graded(course_hub):
    lab = course_hub
    grader(lab, "generate_assignment", ASSIGNMENT, "--force")
    grader(lab, "release_assignment", ASSIGNMENT, "--force")
    for short in STUDENTS:
        student(lab, short, "fetch_assignment", ASSIGNMENT, "--course", COURSE)
    solved(lab.fetched("sam"), lab.source_notebook())
    solved(lab.fetched("sid"), lab.source_notebook(), wrong_flux=True)
    for short in STUDENTS:   # sue submits the release untouched
        student(lab, short, "submit", ASSIGNMENT, "--course", COURSE)
    grader(lab, "collect", ASSIGNMENT)
    grader(lab, "autograde", ASSIGNMENT, "--create")
    grader(lab, "generate_feedback", ASSIGNMENT)
    grader(lab, "release_feedback", ASSIGNMENT)
    return lab


def scores(course_hub) -> dict[str, tuple[float, float]]:
    from nbgrader.api import Gradebook

    hub, layout, course = course_hub.parts()
    db = f"sqlite:///{layout.course_dir(course) / 'gradebook.db'}"
    with Gradebook(db, course.id) as gb:
        return {short: (nb.code_score, nb.max_code_score) for short in STUDENTS
                for nb in [gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, hub.user(short).name)]}


def test_reference_solution_scores_full_marks(graded):
    got, maximum = scores(graded)["sam"]
    assert maximum > 0 and got == maximum


def test_unmodified_release_scores_zero(graded):
    assert scores(graded)["sue"][0] == 0


def test_plausible_wrong_answer_fails_a_hidden_test(graded):
    hub, layout, course = graded.parts()
    got, maximum = scores(graded)["sid"]
    assert 0 < got < maximum
    # the visible tests of the flux task passed in the student's own notebook: only the
    # hidden test (units) caught the slip
    autograded = (layout.course_dir(course) / "autograded" / hub.user("sid").name / ASSIGNMENT
                  / f"{NOTEBOOK}.ipynb")
    cell = next(c for c in nbformat.read(autograded, 4).cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "test-flux")
    error = next(o for o in cell.outputs if o.output_type == "error")
    assert "check the units: per GeV" in error["evalue"] + "".join(error["traceback"])


def test_students_fetch_their_own_feedback(graded):
    hub, layout, course = graded.parts()
    student(graded, "sam", "fetch_feedback", ASSIGNMENT, "--course", COURSE)
    feedback = list((home(graded, "sam") / COURSE / ASSIGNMENT / "feedback").rglob("*.html"))
    assert len(feedback) == 1
    got, maximum = scores(graded)["sam"]
    assert f"{got:g}" in feedback[0].read_text()


def test_released_notebook_has_no_solutions_or_hidden_tests(graded):
    hub, layout, course = graded.parts()
    released = layout.exchange / COURSE / "outbound" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    text = released.read_text()
    assert "BEGIN HIDDEN TESTS" not in text and "check the units" not in text
    assert "width_GeV = np.diff" not in text   # the solution of the flux task
    assert "raise NotImplementedError()" in text


def test_student_cannot_read_sources_solutions_or_gradebook(graded):
    hub, layout, course = graded.parts()
    name = hub.user("sue").name
    course_dir = layout.course_dir(course)
    for path in (course_dir / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb",
                 course_dir / "gradebook.db", course_dir / "autograded"):
        proc = run_as(name, ["cat", str(path)], check=False)
        assert proc.returncode != 0 and "Permission denied" in proc.stderr, path
    assert run_as(name, ["ls", str(course_dir)], check=False).returncode != 0


def test_student_cannot_see_other_submissions_or_feedback(graded):
    hub, layout, course = graded.parts()
    sue = hub.user("sue").name
    inbound = layout.exchange / COURSE / "inbound"
    assert run_as(sue, ["ls", str(inbound)], check=False).returncode != 0
    assert run_as(sue, ["ls", str(layout.exchange / COURSE / "feedback")], check=False).returncode != 0
    sams = next(p for p in inbound.iterdir() if p.name.startswith(hub.user("sam").name + "+"))
    # knowing the exact name (which has a random part) would be needed; even then, the
    # fetched copy in sam's home is private
    assert run_as(sue, ["cat", str(home(graded, "sam") / COURSE / ASSIGNMENT / f"{NOTEBOOK}.ipynb")],
                  check=False).returncode != 0
    assert sams.exists()


def test_student_cannot_submit_as_someone_else(graded):
    """sue plants a newer submission named as sam's: collect refuses it, sam's stays."""
    hub, layout, course = graded.parts()
    sue, sam = hub.user("sue").name, hub.user("sam").name
    inbound = layout.exchange / COURSE / "inbound"
    forged = inbound / f"{sam}+{ASSIGNMENT}+2099-01-01 00:00:00.000000 UTC+forged"
    run_as(sue, ["mkdir", str(forged)])
    run_as(sue, ["sh", "-c", f"echo '{{}}' > '{forged}/{NOTEBOOK}.ipynb'"])
    proc = grader(graded, "collect", ASSIGNMENT, "--update")
    assert "Refusing submission" in proc.stdout + proc.stderr
    submitted = layout.course_dir(course) / "submitted" / sam / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    assert nbformat.read(submitted, 4).cells, "sam's genuine submission must stay"
    timestamp = (submitted.parent / "timestamp.txt").read_text()
    assert "2099" not in timestamp


def test_student_not_enrolled_cannot_fetch(graded):
    proc = student(graded, "eve", "fetch_assignment", ASSIGNMENT, "--course", COURSE, check=False)
    assert proc.returncode != 0
    assert not (Path("/home") / graded.hub.user("eve").name / COURSE).exists()


def test_formgrader_only_for_instructors(graded):
    import httpx

    hub, layout, course = graded.parts()
    url = f"{hub.url}/services/{course.service_name}/formgrader"
    assert httpx.get(url, follow_redirects=False).status_code in (302, 401, 403)
    as_student = httpx.get(url, headers={"Authorization": f"token {hub.token('sam')}"})
    assert as_student.status_code == 403
    as_instructor = httpx.get(url, headers={"Authorization": f"token {hub.token('ina')}"},
                              follow_redirects=True)
    assert as_instructor.status_code == 200
    assert "formgrader" in as_instructor.text.lower()
