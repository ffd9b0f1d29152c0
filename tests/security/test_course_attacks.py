"""Attacks by students on a real course of a real lab (real hub, real system users).

nbgrader on one machine collects and grades, as the course's grader account, what
students leave in the exchange, and hands feedback back. Each test here is one student's
attack, made as that student's OS user with ordinary commands:

- a submission whose notebook is a symlink to the instructor's source (solutions, hidden
  tests) or to another student's collected work, so that grading copies it and the
  feedback returns it;
- a hard link to someone else's file, a fifo, a socket in a submission;
- swapping the submission's folder for a symlink between collect's check and its copy
  (made exact by pausing collect at the race point, see ``course_race``);
- reading another student's submission knowing its name;
- pre-creating the course's exchange folders before the course is released, to block or
  take over releases;
- code in an answer cell that autograde runs: it reads the instructor's source, the
  gradebook, other students' collected work and the grader's token (the kernel runs in
  a sandbox, :mod:`dlclab.courses.sandbox`);
- (as the grader account, had it been taken anyway) symlinks in the course folder to
  root's files, for the next provisioning as root to chown or write through.
"""
from __future__ import annotations

import html
import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from dlclab import config
from tests.courses.lab import (
    ASSIGNMENT,
    COURSE,
    NOTEBOOK,
    CourseLab,
    course_lab,
    grader,
    solved,
    student,
    submit,
)
from tests.courses.oscmd import create_user, delete_user, run_as, unique_user, user_command

pytestmark = [pytest.mark.hub, pytest.mark.slow]

ENROLLED = ["students", f"nbgrader-{COURSE}"]
ATTACKERS = ("mal", "max", "hal", "fifi", "soki", "flop", "floc", "exe")
#: Text only the instructor's source holds (a solution marker and a solution's code).
SOURCE_ONLY = ("### BEGIN SOLUTION", "width_GeV = np.diff")
SAMS_MARK = "work-of-sam-5f1c"


def as_text(page: str) -> str:
    """What a reader of an HTML feedback page sees (code is split into spans)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def sh(lab: CourseLab, short: str, script: str, check: bool = True) -> subprocess.CompletedProcess:
    """A shell script run as the student's OS user."""
    return run_as(lab.name(short), ["sh", "-ec", script], check=check)


def mark(notebook: Path, text: str) -> None:
    """Put a recognisable comment in the notebook's first answer cell."""
    nb = nbformat.read(notebook, 4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")
                and c.cell_type == "code")
    cell.source = f"# {text}\n{cell.source}"
    nbformat.write(nb, notebook)


def grade(lab: CourseLab, short: str, collect_args: tuple[str, ...] = ()) -> tuple[str, str]:
    """Collect, autograde, make and release feedback for one student; the student fetches
    it. Returns collect's log and the text of everything the student got back."""
    name = lab.name(short)
    collect = grader(lab, "collect", ASSIGNMENT, "--student", name, "--update", *collect_args,
                     check=False)
    grader(lab, "autograde", ASSIGNMENT, "--student", name, "--create", check=False)
    grader(lab, "generate_feedback", ASSIGNMENT, "--student", name, check=False)
    grader(lab, "release_feedback", ASSIGNMENT, "--student", name, check=False)
    student(lab, short, "fetch_feedback", ASSIGNMENT, "--course", COURSE, check=False)
    back = lab.home(short) / COURSE / ASSIGNMENT / "feedback"
    got = "".join(as_text(p.read_text(errors="replace")) for p in back.rglob("*") if p.is_file())
    return collect.stdout + collect.stderr, got


def submitted(lab: CourseLab, short: str) -> Path:
    return lab.course_dir / "submitted" / lab.name(short) / ASSIGNMENT / f"{NOTEBOOK}.ipynb"


@pytest.fixture(scope="module")
def released():
    """The course released; sam (honest) submitted, was graded and has feedback; every
    attacker fetched the assignment."""
    users = {"ina": ["instructors", f"formgrade-{COURSE}"], "sam": ENROLLED, "sue": ENROLLED}
    users.update({a: ENROLLED for a in ATTACKERS})
    with course_lab(users) as lab:
        grader(lab, "generate_assignment", ASSIGNMENT, "--force")
        grader(lab, "release_assignment", ASSIGNMENT, "--force")
        for short in ("sam", "sue", *ATTACKERS):
            student(lab, short, "fetch_assignment", ASSIGNMENT, "--course", COURSE)
        solved(lab.fetched("sam"), lab.source_notebook(), mark=SAMS_MARK)
        lab.sams_submission = submit(lab, "sam")
        log, feedback = grade(lab, "sam")
        assert SAMS_MARK in feedback, f"sam's honest cycle failed:\n{log}"
        yield lab


def test_symlink_to_the_instructors_source_is_refused(released):
    """mal's notebook is a symlink to the source notebook, plus a link to the gradebook."""
    lab = released
    folder = submit(lab, "mal")
    sh(lab, "mal", f"""
        rm '{folder}/{NOTEBOOK}.ipynb'
        ln -s '{lab.source_notebook()}' '{folder}/{NOTEBOOK}.ipynb'
        mkdir '{folder}/data'
        ln -s '{lab.course_dir}/gradebook.db' '{folder}/data/gradebook.db'
    """)
    log, feedback = grade(lab, "mal")
    leaked = [s for s in SOURCE_ONLY if s in feedback]
    assert not leaked, f"the instructor's source came back in mal's feedback: {leaked}"
    assert "Refusing submission" in log and "symbolic link" in log, log
    assert not submitted(lab, "mal").exists()


def test_symlink_to_another_students_collected_work_is_refused(released):
    """max links his notebook to sam's collected one (its path is predictable)."""
    lab = released
    assert submitted(lab, "sam").exists()
    folder = submit(lab, "max")
    sh(lab, "max", f"""
        rm '{folder}/{NOTEBOOK}.ipynb'
        ln -s '{submitted(lab, "sam")}' '{folder}/{NOTEBOOK}.ipynb'
    """)
    log, feedback = grade(lab, "max")
    assert SAMS_MARK not in feedback, "sam's work came back in max's feedback"
    assert "Refusing submission" in log and "symbolic link" in log, log
    assert not submitted(lab, "max").exists()


def test_hard_link_to_someone_elses_file_is_refused(released):
    """sue leaves her notebook world-writable in /tmp; hal hard-links it as his answer
    (the kernel lets him: he may read and write it)."""
    lab = released
    share = Path(tempfile.mkdtemp(prefix="dlclab-share-"))
    try:
        os.chown(share, *_ids(lab.name("sue")))
        os.chmod(share, 0o755)
        sh(lab, "sue", f"cp '{lab.fetched('sue')}' '{share}/notes.ipynb'; chmod 666 '{share}/notes.ipynb'")
        folder = submit(lab, "hal")
        sh(lab, "hal", f"""
            rm '{folder}/{NOTEBOOK}.ipynb'
            ln '{share}/notes.ipynb' '{folder}/{NOTEBOOK}.ipynb'
        """)
        assert os.stat(folder / f"{NOTEBOOK}.ipynb").st_nlink == 2
        log, _ = grade(lab, "hal")
        assert "Refusing submission" in log, log
        assert not submitted(lab, "hal").exists()
    finally:
        shutil.rmtree(share, ignore_errors=True)


@pytest.mark.parametrize("short, make, kind", [
    ("fifi", "mkfifo '{path}'", "named pipe"),
    # a socket's path must be short: bound relative to the folder
    ("soki", ("cd '{path.parent}'; python3 -c \"import socket; "
              "socket.socket(socket.AF_UNIX).bind('{path.name}')\""), "socket"),
], ids=["fifo", "socket"])
def test_special_file_in_a_submission_is_refused(released, short, make, kind):
    """A fifo (which blocks or breaks a copy) or a socket instead of the notebook: collect
    refuses that submission, with a clear message, and carries on."""
    lab = released
    folder = submit(lab, short)
    path = folder / f"{NOTEBOOK}.ipynb"
    sh(lab, short, f"rm '{path}'; " + make.format(path=path))
    proc = grader(lab, "collect", ASSIGNMENT, "--student", lab.name(short), check=False)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"collect broke on a {kind}:\n{log}"
    assert "Refusing submission" in log and kind in log, log
    assert not submitted(lab, short).exists()


@pytest.mark.parametrize("short, race_point", [("flop", "picked"), ("floc", "checked")])
def test_folder_swapped_for_a_symlink_during_collect(released, short, race_point):
    """The student swaps their submission's folder for a symlink to the instructor's
    source folder exactly when collect has checked it and not yet copied it."""
    lab = released
    mark(lab.fetched(short), f"work-of-{short}")
    folder = submit(lab, short)
    handshake = Path(tempfile.mkdtemp(prefix="dlclab-race-"))
    os.chown(handshake, *_ids(lab.course.grader_user))
    try:
        # the grader's nbgrader with the pausing collect (importable from the checkout)
        cmd = user_command(lab.course.grader_user, [
            "nbgrader", "collect", ASSIGNMENT, "--student", lab.name(short),
            "--ExchangeFactory.collect=tests.security.course_race.PausingCollect",
            f"--PausingCollect.handshake_dir={handshake}",
            f"--PausingCollect.race_point={race_point}",
        ], env={"PYTHONPATH": str(config.PROJECT_ROOT)})
        collect = subprocess.Popen(cmd, cwd=lab.course_dir, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 120
        while not (handshake / "ready").exists() and collect.poll() is None:
            assert time.monotonic() < deadline, "collect never reached the race point"
            time.sleep(0.05)
        reached = (handshake / "ready").exists()
        if reached:   # the student's move, as the student
            sh(lab, short, f"""
                mv '{folder}' '{folder.parent}/kept-{short}'
                ln -s '{lab.course_dir}/source/{ASSIGNMENT}' '{folder}'
            """)
            (handshake / "go").write_text("go\n")
        log = collect.communicate(timeout=300)[0]
    finally:
        shutil.rmtree(handshake, ignore_errors=True)
    assert reached, f"collect never reached the race point {race_point!r}:\n{log}"
    _, feedback = grade(lab, short)
    leaked = [s for s in SOURCE_ONLY if s in feedback]
    assert not leaked, f"the instructor's source came back in {short}'s feedback: {leaked}"
    if submitted(lab, short).exists():
        # the folder was opened before the swap: what was checked is what was copied
        got = submitted(lab, short).read_text()
        assert not [s for s in SOURCE_ONLY if s in got], \
            f"the instructor's source was collected as {short}'s submission"
        assert f"work-of-{short}" in got
    else:
        assert "Refusing submission" in log and "symbolic link" in log, log


#: Run by autograde in exe's answer cell: everything the grader account could hand back.
EXE_PROBE = """
import glob, os
got, refused = 'LE' + 'AKED', 'REF' + 'USED'   # so that only outputs spell them
for path in [{source!r}, {gradebook!r}, *glob.glob({submitted!r})]:
    try:
        print(got, path, open(path).read()[:4000])
    except OSError as exc:
        print(refused, path, type(exc).__name__)
for name in ('JUPYTERHUB_API_TOKEN', 'JPY_API_TOKEN'):
    print(got if os.environ.get(name) else 'no', name)
open('left-behind.txt', 'w').write('written by exe')
"""


def test_code_run_by_autograde_cannot_read_the_course(released):
    """exe's answer cell, run by autograde, prints the instructor's source notebook, the
    gradebook and the other students' collected work, and the grader's hub token: all
    would come back in his feedback. In the sandbox none of them exists."""
    lab = released
    nb = nbformat.read(lab.fetched("exe"), 4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")
                and c.cell_type == "code")
    probe = EXE_PROBE.format(source=str(lab.source_notebook()),
                             gradebook=str(lab.course_dir / "gradebook.db"),
                             submitted=str(lab.course_dir / "submitted" / "*" / ASSIGNMENT / "*"))
    cell.source = probe + cell.source
    nbformat.write(nb, lab.fetched("exe"))
    submit(lab, "exe")
    log, feedback = grade(lab, "exe")
    assert "REFUSED" in feedback or "LEAKED" in feedback, f"exe's probe did not run in autograde:\n{log}\n{feedback[:2000]}"
    leaked = [s for s in (*SOURCE_ONLY, SAMS_MARK, "LEAKED") if s in feedback]
    assert not leaked, f"autograde handed exe what the grader can read: {leaked}"
    # what his code wrote went into a throw-away copy, not into the collected submission
    assert not (submitted(lab, "exe").parent / "left-behind.txt").exists()


def test_another_student_cannot_read_a_submission_even_knowing_its_name(released):
    """sue knows the name of sam's submission folder (it leaked): she still cannot read his
    notebook nor the secret that names his feedback, nor list submissions or feedback."""
    lab = released
    sue, folder = lab.name("sue"), lab.sams_submission
    for path in (folder / f"{NOTEBOOK}.ipynb", folder / "submission_secret.txt"):
        proc = run_as(sue, ["cat", str(path)], check=False)
        assert proc.returncode != 0 and "Permission denied" in proc.stderr, path
    for listing in (lab.inbound, lab.layout.exchange / COURSE / "feedback"):
        proc = run_as(sue, ["ls", str(listing)], check=False)
        assert proc.returncode != 0 and "Permission denied" in proc.stderr, listing
    # sam's feedback exists; its name is derived from his secret
    feedback = [p for p in (lab.layout.exchange / COURSE / "feedback").iterdir()
                if p.suffix == ".html"]
    assert feedback


def test_another_student_cannot_move_or_replace_a_submission(released):
    """sue, knowing the name of sam's submission folder, tries to move it away (to put her
    own or a symlink in its place): the inbound is sticky, so she cannot."""
    lab = released
    folder = lab.sams_submission
    proc = run_as(lab.name("sue"), ["mv", str(folder), str(lab.inbound / "sue-was-here")],
                  check=False)
    assert proc.returncode != 0 and "not permitted" in proc.stderr, proc.stderr
    assert folder.is_dir() and not folder.is_symlink()


def test_precreated_course_exchange_is_taken_back_and_release_works():
    """Before the course is provisioned on a machine whose exchange was world-writable
    (the earlier layout, 1777), a student pre-creates the course's exchange folders with a
    fake release. Provisioning takes the folders back, releases are the grader's, and the
    exchange no longer lets students create anything."""
    root = Path(tempfile.mkdtemp(prefix="dlclab-courses-"))
    os.chmod(root, 0o755)
    (root / "exchange").mkdir()
    os.chmod(root / "exchange", 0o1777)
    squatter = unique_user("sq")
    create_user(squatter)
    course_x = root / "exchange" / COURSE
    try:
        run_as(squatter, ["sh", "-ec", f"""
            mkdir -p '{course_x}/outbound/{ASSIGNMENT}' '{course_x}/inbound' '{course_x}/feedback'
            echo '{{"fake": "release"}}' > '{course_x}/outbound/{ASSIGNMENT}/{NOTEBOOK}.ipynb'
            chmod -R 777 '{course_x}'
        """])
        users = {"ina": ["instructors", f"formgrade-{COURSE}"], "sue": ENROLLED}
        with course_lab(users, root=root) as lab:
            grader_uid = _ids(lab.course.grader_user)[0]
            sue = lab.name("sue")
            # nothing of the student's is left where nbgrader looks
            for path in (course_x, course_x / "outbound", course_x / "inbound", course_x / "feedback"):
                assert os.stat(path, follow_symlinks=False).st_uid == grader_uid, path
            assert any(p.name.startswith(f".untrusted-{COURSE}-") for p in (root / "exchange").iterdir())
            # and students can no longer create anything there
            for path in (root / "exchange" / "next-course", course_x / "outbound" / "01-x",
                         course_x / "feedback" / "x.html"):
                proc = run_as(sue, ["mkdir", str(path)], check=False)
                assert proc.returncode != 0 and "Permission denied" in proc.stderr, path
            grader(lab, "generate_assignment", ASSIGNMENT, "--force")
            proc = grader(lab, "release_assignment", ASSIGNMENT, "--force", check=False)
            assert proc.returncode == 0, proc.stdout + proc.stderr
            out = course_x / "outbound" / ASSIGNMENT
            assert all(os.stat(p, follow_symlinks=False).st_uid == grader_uid
                       for p in [out, *out.rglob("*")])
            student(lab, "sue", "fetch_assignment", ASSIGNMENT, "--course", COURSE)
            assert "raise NotImplementedError()" in lab.fetched("sue").read_text()
            modes = {p: stat.S_IMODE(os.stat(p).st_mode) for p in
                     (root / "exchange", course_x / "inbound", course_x / "feedback")}
            assert list(modes.values()) == [0o755, 0o3733, 0o711], modes
    finally:
        delete_user(squatter)
        shutil.rmtree(root, ignore_errors=True)


def test_provisioning_does_not_follow_the_graders_symlinks():
    """The grader account runs students' code (autograde), so what it can write is
    student-controlled. It plants symlinks to root's files in the course folder; the next
    provisioning (every hub start, as root) must neither chown nor write through them."""
    from dlclab.courses.provision import CourseLayout, provision_course
    from dlclab.courses.registry import load_courses

    if os.geteuid() != 0:
        pytest.fail("provisioning as root is what is attacked here")
    course = next(c for c in load_courses(config.PROJECT_ROOT / "courses" / "courses.yaml")
                  if c.id == COURSE)
    base = Path(tempfile.mkdtemp(prefix="dlclab-provision-"))  # reachable by the grader
    root, secrets_dir = base / "courses-root", base / "root-only"
    root.mkdir()
    secrets_dir.mkdir()
    os.chmod(base, 0o755)
    os.chmod(root, 0o755)
    os.chmod(secrets_dir, 0o755)
    owned, written = secrets_dir / "owned-by-root", secrets_dir / "written-by-root"
    owned.write_text("root's\n")
    written.write_text("root's\n")
    layout = CourseLayout(root)
    try:
        course_dir = provision_course(layout, course, as_root=True)
        run_as(course.grader_user, ["sh", "-ec", f"""
            ln -s '{owned}' '{course_dir}/evil'
            ln -s '{written}' '{course_dir}/nbgrader_config.py.tmp'
            rm '{course_dir}/nbgrader_config.py'
            ln -s '{written}' '{course_dir}/nbgrader_config.py'
        """], cwd=course_dir)
        provision_course(layout, course, as_root=True)
        for target in (owned, written):
            st = os.stat(target)
            assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (0, 0o644), target
            assert target.read_text() == "root's\n", target
        assert not (course_dir / "nbgrader_config.py").is_symlink()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _ids(user: str) -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid
