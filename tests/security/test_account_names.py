"""Attack: become an existing system account by choosing its name as a hub user.

On one machine each hub user's server runs as the system account *of the same name*
(created if missing). Signing up as ``root`` or as a course's ``grader-<course>`` and
getting approved by an admin who does not notice would give the attacker that account.
The lab refuses such names at sign-up, at creation through the REST API and at log-in.
"""
from __future__ import annotations

import pwd
import subprocess

import httpx
import pytest

from dlclab.courses.registry import load_courses
from dlclab.hub import unix
from dlclab.hub.settings import default_courses_file, running_as_root
from dlclab.hub.usernames import LAB_USER_COMMENT
from tests.hub_harness import LabHub

pytestmark = [pytest.mark.hub, pytest.mark.skipif(
    not running_as_root(), reason="hub users are system accounts only when the lab runs as root")]

PASSWORD = "S3cret-pass-for-the-test!"


@pytest.fixture(scope="module")
def hub():
    with LabHub(users={"alice": ["students"]}) as lab:
        yield lab


def grader_account() -> str:
    """The grader account of the lab's first course (provisioned when the hub started)."""
    course = load_courses(default_courses_file())[0]
    assert pwd.getpwnam(course.grader_user), "the course's grader account should exist"
    return course.grader_user


def sign_up(hub: LabHub, name: str) -> str:
    with httpx.Client(base_url=hub.url) as http:
        http.get("/hub/signup")
        resp = http.post("/hub/signup", data={
            "username": name, "signup_password": PASSWORD,
            "signup_password_confirmation": PASSWORD, "_xsrf": http.cookies.get("_xsrf")})
        return resp.text


def approve(hub: LabHub, name: str) -> None:
    """What an inattentive admin does on /hub/authorize."""
    hub.admin.http.get(f"{hub.url}/hub/authorize/{name}")


@pytest.mark.parametrize("target", ["root", "daemon", "grader"])
def test_signing_up_as_a_system_account_is_refused(hub: LabHub, target: str):
    name = grader_account() if target == "grader" else target
    page = sign_up(hub, name)
    assert "sent to the admin" not in page, f"sign-up as {name!r} was accepted"
    approve(hub, name)
    with httpx.Client(base_url=hub.url) as http:
        http.get("/hub/login")
        http.post("/hub/login", data={"username": name, "password": PASSWORD,
                                      "_xsrf": http.cookies.get("_xsrf")})
        assert http.get("/hub/api/user").status_code in (401, 403), f"logged in as {name!r}"


@pytest.mark.parametrize("target", ["root", "grader"])
def test_an_admin_cannot_create_a_hub_user_named_like_a_system_account(hub: LabHub, target):
    name = grader_account() if target == "grader" else target
    resp = hub.admin.http.post(f"{hub.url}/hub/api/users/{name}")
    assert resp.status_code == 400, (resp.status_code, resp.text[:200])
    assert hub.admin.http.get(f"{hub.url}/hub/api/users/{name}").status_code == 404


def test_a_local_account_the_lab_did_not_create_cannot_be_taken_over(hub: LabHub):
    """A person's own login on the machine (uid >= 1000, not made by the lab)."""
    name = f"{hub.prefix}-local"
    subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", name], check=True)
    try:
        resp = hub.admin.http.post(f"{hub.url}/hub/api/users/{name}")
        assert resp.status_code == 400, (resp.status_code, resp.text[:200])
    finally:
        unix.delete_system_user(name)


def test_lab_users_are_marked_as_created_by_the_lab(hub: LabHub):
    """The positive side: users the lab creates get the marker and keep working."""
    account = pwd.getpwnam(hub.user("alice").name)
    assert account.pw_gecos.split(",")[0] == LAB_USER_COMMENT
    hub.start_server("alice")
    with hub.kernel("alice") as k:
        assert k.execute("import os, pwd; print(pwd.getpwuid(os.getuid()).pw_name)").strip() \
            == hub.user("alice").name
