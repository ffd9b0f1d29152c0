"""Running commands as the lab's system users, as their servers would."""
from __future__ import annotations

import os
import pwd
import subprocess
import sys
import uuid
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


def unique_user(prefix: str) -> str:
    """A fresh system-user name for one test session (removed at teardown)."""
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def create_user(name: str) -> None:
    subprocess.run(["useradd", "-m", "-K", "HOME_MODE=0700", "-s", "/bin/bash", name],
                   check=True, capture_output=True)


def delete_user(name: str) -> None:
    subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
    subprocess.run(["userdel", "-r", "-f", name], capture_output=True)


def user_command(user: str, args: list[str], env: dict[str, str] | None = None) -> list[str]:
    """The argv running ``args`` as ``user`` with a clean environment (the venv on PATH, as
    in a server), plus ``env``."""
    home = pwd.getpwnam(user).pw_dir
    base = {"HOME": home, "USER": user, "LOGNAME": user,
            "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    for key in ("DLCLAB_DATA_ROOT", "DLCLAB_CATALOG"):
        if key in os.environ:
            base[key] = os.environ[key]
    base.update(env or {})
    return ["runuser", "-u", user, "--", "env", "-i", *[f"{k}={v}" for k, v in base.items()], *args]


def run_as(user: str, args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
           check: bool = True, timeout_s: float = 600.0) -> subprocess.CompletedProcess:
    """Run ``args`` as ``user`` (see :func:`user_command`); output captured as text."""
    home = pwd.getpwnam(user).pw_dir
    proc = subprocess.run(user_command(user, args, env), cwd=cwd or home, capture_output=True,
                          text=True, timeout=timeout_s, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} as {user} failed ({proc.returncode}):\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc
