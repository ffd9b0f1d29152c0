"""Helpers of the batch tests."""
from __future__ import annotations

import subprocess
import time


def run_as(user: str, argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """``argv`` as ``user`` with the Slurm client environment ``env``."""
    return subprocess.run(["runuser", "-u", user, "--", "env", *[f"{k}={v}" for k, v in env.items()],
                           *argv], check=False, capture_output=True, text=True, timeout=120)


def wait_for(what: str, check, timeout_s: float = 120.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"no {what} within {timeout_s:g} s")
