"""The autograde sandbox (:mod:`dlclab.courses.sandbox`) on a notebook, outside a course.

The attack through a real course is ``tests/security/test_course_attacks.py``; here the
sandbox's other promises: what the kernel sees of the machine, that what it leaves
behind (files, processes) goes with it, and a clear refusal where no sandbox can be made.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from dlclab.courses.sandbox import SandboxedExecute, SandboxRefused

PROBE = """
import os, subprocess
print('sees', sorted(os.listdir('/')))
print('home', os.path.exists('/home'), 'srv', os.path.exists('/srv'), 'sibling', os.path.exists({sibling!r}))
print('token', 'SECRET_HUB_TOKEN' in os.environ)
open('written-in-the-sandbox.txt', 'w').write('x')
subprocess.Popen(['sleep', '600'], start_new_session=True)
print('here', sorted(os.listdir('.')))
"""


def run_notebook(folder: Path, code: str, **config) -> str:
    nb = new_notebook(cells=[new_code_cell(code)])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    executor = SandboxedExecute(timeout=120, **config)
    nb, _ = executor.preprocess(nb, {"metadata": {"path": str(folder)}})
    return "".join(o.get("text", "") + o.get("evalue", "") for o in nb.cells[0].outputs)


def sleepers() -> set[int]:
    found = subprocess.run(["pgrep", "-f", "^sleep 600$"], capture_output=True, text=True)
    return {int(p) for p in found.stdout.split()}


def test_the_kernel_sees_its_folder_and_the_system_only(tmp_path: Path, monkeypatch):
    work, sibling = tmp_path / "submission", tmp_path / "gradebook.db"
    work.mkdir()
    (work / "answer.txt").write_text("42")
    sibling.write_text("grades")
    monkeypatch.setenv("SECRET_HUB_TOKEN", "not-for-students")
    before = sleepers()
    out = run_notebook(work, PROBE.format(sibling=str(sibling)))
    assert "home False srv False sibling False" in out, out
    assert "token False" in out, out
    assert "here ['answer.txt', 'written-in-the-sandbox.txt']" in out, out
    # what the kernel wrote was a copy's; the process it left died with it
    assert sorted(os.listdir(work)) == ["answer.txt"]
    assert sleepers() <= before, "a process started in the sandbox outlived its kernel"


def test_no_sandbox_no_kernel(tmp_path: Path):
    """Where bubblewrap is missing, autograde refuses, saying what to install."""
    from traitlets.config import Config

    c = Config()
    c.SandboxedKernelManager.bwrap = str(tmp_path / "no-bwrap")
    with pytest.raises(SandboxRefused, match="bubblewrap.*make sandbox"):
        run_notebook(tmp_path, "print(1)", config=c)
