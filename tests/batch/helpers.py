"""Helpers of the batch tests."""
from __future__ import annotations

import subprocess


def run_as(user: str, argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """``argv`` as ``user`` with the Slurm client environment ``env``."""
    return subprocess.run(["runuser", "-u", user, "--", "env", *[f"{k}={v}" for k, v in env.items()],
                           *argv], capture_output=True, text=True, timeout=120)
