"""The full nbgrader cycle on a real lab hub with real system users.

One hub, one instructor and three students (plus one who is not enrolled); the course is
the real astroparticle-online course. Assignment 02 goes through generate, release,
fetch, submit, collect, autograde, feedback: the reference solution scores full marks on
the autograded cells, an unmodified release zero, and a plausible wrong answer (the flux
per eV instead of per GeV) passes the visible tests but fails a hidden one.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest

from dlclab import config
from dlclab.courses.provision import CourseLayout
from dlclab.courses.registry import load_courses
from tests.courses.oscmd import run_as
from tests.hub_harness import LabHub

pytestmark = [pytest.mark.hub, pytest.mark.slow]

COURSE = "astroparticle-online"
ASSIGNMENT = "02-energy-spectrum"
NOTEBOOK = "energy-spectrum"
STUDENTS = ("sam", "sue", "sid")


@pytest.fixture(scope="module")
def course_hub():
    if os.geteuid() != 0:
        pytest.fail("the course tests need root: the student id is the OS user (STACK.md)")
    root = Path(tempfile.mkdtemp(prefix="dlclab-courses-"))
    os.chmod(root, 0o755)
    courses_file = config.PROJECT_ROOT / "courses" / "courses.yaml"
    users = {"ina": ["instructors", f"formgrade-{COURSE}"], "eve": ["students"]}
    users.update({s: ["students", f"nbgrader-{COURSE}"] for s in STUDENTS})
    with LabHub(users=users, settings={"courses_file": courses_file, "courses_root": root}) as hub:
        course = next(c for c in load_courses(courses_file) if c.id == COURSE)
        yield hub, CourseLayout(root), course
    hub.assert_nothing_left()
    shutil.rmtree(root, ignore_errors=True)


def grader(hub_layout_course, *args: str):
    hub, layout, course = hub_layout_course
    return run_as(course.grader_user, ["nbgrader", *args], cwd=layout.course_dir(course))


def student(hub_layout_course, short: str, *args: str, check: bool = True):
    hub, layout, course = hub_layout_course
    user = hub.user(short)
    env = {
        "JUPYTERHUB_USER": user.name,
        "JUPYTERHUB_API_URL": hub.settings.hub_api_url,
        "JUPYTERHUB_API_TOKEN": hub.token(short, scopes=["read:users:groups!user"]),
        "JUPYTER_CONFIG_PATH": str(layout.student_config),
    }
    return run_as(user.name, ["nbgrader", *args], env=env, check=check)


def home(hub, short: str) -> Path:
    return Path("/home") / hub.user(short).name


def solved(released: Path, source: Path, wrong_flux: bool = False) -> None:
    """Fill the released notebook's solution cells from the instructor's source."""
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
    nbformat.write(nb, released)


@pytest.fixture(scope="module")
def graded(course_hub):
    hub, layout, course = course_hub
    grader(course_hub, "generate_assignment", ASSIGNMENT, "--force")
    grader(course_hub, "release_assignment", ASSIGNMENT, "--force")
    source = layout.course_dir(course) / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    for short in STUDENTS:
        student(course_hub, short, "fetch_assignment", ASSIGNMENT, "--course", COURSE)
    fetched = {s: home(hub, s) / COURSE / ASSIGNMENT / f"{NOTEBOOK}.ipynb" for s in STUDENTS}
    solved(fetched["sam"], source)
    solved(fetched["sid"], source, wrong_flux=True)
    for short in STUDENTS:   # sue submits the release untouched
        student(course_hub, short, "submit", ASSIGNMENT, "--course", COURSE)
    grader(course_hub, "collect", ASSIGNMENT)
    grader(course_hub, "autograde", ASSIGNMENT, "--create")
    grader(course_hub, "generate_feedback", ASSIGNMENT)
    grader(course_hub, "release_feedback", ASSIGNMENT)
    return course_hub


def scores(course_hub) -> dict[str, tuple[float, float]]:
    from nbgrader.api import Gradebook

    hub, layout, course = course_hub
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
    hub, layout, course = graded
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
    hub, layout, course = graded
    student(graded, "sam", "fetch_feedback", ASSIGNMENT, "--course", COURSE)
    feedback = list((home(hub, "sam") / COURSE / ASSIGNMENT / "feedback").rglob("*.html"))
    assert len(feedback) == 1
    got, maximum = scores(graded)["sam"]
    assert f"{got:g}" in feedback[0].read_text()


def test_released_notebook_has_no_solutions_or_hidden_tests(graded):
    hub, layout, course = graded
    released = layout.exchange / COURSE / "outbound" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    text = released.read_text()
    assert "BEGIN HIDDEN TESTS" not in text and "check the units" not in text
    assert "width_GeV = np.diff" not in text   # the solution of the flux task
    assert "raise NotImplementedError()" in text


def test_student_cannot_read_sources_solutions_or_gradebook(graded):
    hub, layout, course = graded
    name = hub.user("sue").name
    course_dir = layout.course_dir(course)
    for path in (course_dir / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb",
                 course_dir / "gradebook.db", course_dir / "autograded"):
        proc = run_as(name, ["cat", str(path)], check=False)
        assert proc.returncode != 0 and "Permission denied" in proc.stderr, path
    assert run_as(name, ["ls", str(course_dir)], check=False).returncode != 0


def test_student_cannot_see_other_submissions_or_feedback(graded):
    hub, layout, course = graded
    sue = hub.user("sue").name
    inbound = layout.exchange / COURSE / "inbound"
    assert run_as(sue, ["ls", str(inbound)], check=False).returncode != 0
    assert run_as(sue, ["ls", str(layout.exchange / COURSE / "feedback")], check=False).returncode != 0
    sams = next(p for p in inbound.iterdir() if p.name.startswith(hub.user("sam").name + "+"))
    # knowing the exact name (which has a random part) would be needed; even then, the
    # fetched copy in sam's home is private
    assert run_as(sue, ["cat", str(home(hub, "sam") / COURSE / ASSIGNMENT / f"{NOTEBOOK}.ipynb")],
                  check=False).returncode != 0
    assert sams.exists()


def test_student_cannot_submit_as_someone_else(graded):
    """sue plants a newer submission named as sam's: collect refuses it, sam's stays."""
    hub, layout, course = graded
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
    assert not (Path("/home") / graded[0].user("eve").name / COURSE).exists()


def test_formgrader_only_for_instructors(graded):
    import httpx

    hub, layout, course = graded
    url = f"{hub.url}/services/{course.service_name}/formgrader"
    assert httpx.get(url, follow_redirects=False).status_code in (302, 401, 403)
    as_student = httpx.get(url, headers={"Authorization": f"token {hub.token('sam')}"})
    assert as_student.status_code == 403
    as_instructor = httpx.get(url, headers={"Authorization": f"token {hub.token('ina')}"},
                              follow_redirects=True)
    assert as_instructor.status_code == 200
    assert "formgrader" in as_instructor.text.lower()
