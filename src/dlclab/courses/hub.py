"""What the hub needs to host the registry's courses: services, roles, groups, environment.

Each course gets
- a formgrader: ``jupyterhub-singleuser`` run by the hub as the course's grader account in
  the 0700 course folder, reachable at ``/services/formgrader-<id>/`` only by the course's
  instructors (hub group ``formgrade-<id>``);
- the hub groups ``nbgrader-<id>`` (students) and ``formgrade-<id>`` (instructors), which
  nbgrader's JupyterHubAuthPlugin reads to decide who may fetch and submit.
Every user's server gets the students' nbgrader configuration on its config path, and a
token that may read its own groups (the plugin needs it, nothing more).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from dlclab.courses.provision import CourseLayout
from dlclab.courses.registry import Course

#: Added to every user server's token so nbgrader can read the user's own course groups.
SERVER_TOKEN_SCOPES = ("read:users:groups!user",)


def formgrader_service(course: Course, layout: CourseLayout, venv_bin: Path | None = None,
                       port: int | None = None) -> dict:
    """A managed hub service running the course's formgrader as its grader account."""
    venv_bin = venv_bin or Path(sys.executable).parent
    service = {
        "name": course.service_name,
        "display": True,
        "oauth_no_confirm": True,
        "user": course.grader_user,
        "cwd": str(layout.course_dir(course)),
        "command": [
            str(venv_bin / "jupyterhub-singleuser"),
            "--ServerApp.default_url=/formgrader",
            "--ServerApp.root_dir=" + str(layout.course_dir(course)),
        ],
        "environment": {
            "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
        },
        # list its students' groups and names: what the formgrader's JupyterHubAuthPlugin reads
        "oauth_client_allowed_scopes": [f"access:services!service={course.service_name}"],
    }
    if port is not None:
        service["url"] = f"http://127.0.0.1:{port}"
    return service


def course_roles(course: Course) -> list[dict]:
    """Roles: instructors reach the formgrader; the formgrader reads and edits course groups."""
    return [
        {
            "name": f"{course.service_name}-instructors",
            "description": f"Instructors of {course.id}: open its formgrader",
            "scopes": [f"access:services!service={course.service_name}"],
            "groups": [course.instructor_group],
        },
        {
            "name": f"{course.service_name}-service",
            "description": f"The formgrader of {course.id}: its course groups, nothing else",
            "scopes": [
                f"read:groups!group={course.student_group}",
                f"groups!group={course.student_group}",
                "list:groups",
                "read:users:groups",
                "read:users:name",
            ],
            "services": [course.service_name],
        },
    ]


def course_groups(course: Course) -> dict[str, dict]:
    """Hub groups (``c.JupyterHub.load_groups`` form) for the course's people."""
    return {
        course.student_group: {"users": list(course.students)},
        course.instructor_group: {"users": list(course.instructors)},
    }


def configure_courses(c, courses: list[Course], layout: CourseLayout, *, venv_bin: Path,
                      free_port) -> list[str]:
    """Add the courses to a JupyterHub config ``c`` already filled by dlclab.hub.config.

    Returns the service access scopes the users' servers may carry. Provisioning (folders,
    grader accounts) happens before the hub starts, in :func:`provision_course`.
    """
    services = list(c.JupyterHub.services)
    roles = list(c.JupyterHub.load_roles)
    groups = dict(c.JupyterHub.load_groups)
    for course in courses:
        services.append(formgrader_service(course, layout, venv_bin, port=free_port()))
        roles += course_roles(course)
        for name, members in course_groups(course).items():
            groups.setdefault(name, {"users": []})
            groups[name]["users"] = sorted(set(groups[name]["users"]) | set(members["users"]))
    c.JupyterHub.services = services
    c.JupyterHub.load_roles = roles
    c.JupyterHub.load_groups = groups
    c.Spawner.server_token_scopes = [*c.Spawner.server_token_scopes, *SERVER_TOKEN_SCOPES]
    env = dict(c.Spawner.environment)
    # students' nbgrader settings and JupyterLab page config (instructor tools disabled)
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
        p for p in (str(layout.student_config), env.get("JUPYTER_CONFIG_PATH")) if p)
    c.Spawner.environment = env
    return [f"access:services!service={course.service_name}" for course in courses]
