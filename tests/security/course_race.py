"""A collect that stops at a chosen point and lets a student act, to make races exact.

Run by the grader account (``--ExchangeFactory.collect=tests.security.course_race.PausingCollect``
with the checkout on ``PYTHONPATH``). At the race point it writes ``ready`` into
``handshake_dir`` and waits until the test, having done the student's move, writes ``go``:
no timing is involved, the student's step happens exactly between check and copy.

Race points:
- ``picked``: collect chose the submissions and checked their owner (the check nbgrader
  and the previous lab code made before copying by path), nothing copied yet;
- ``checked``: the lab's collect opened the submission's folder and checked it on its
  descriptor (``OwnerCheckedCollect.after_check``), nothing read from it yet.
"""
from __future__ import annotations

import time
from pathlib import Path

from traitlets import Enum, Unicode

from dlclab.courses.exchange import OwnerCheckedCollect

WAIT_S = 120.0


def pause(handshake_dir: str) -> None:
    """Tell the test the race point is reached; wait for its ``go``."""
    folder = Path(handshake_dir)
    (folder / "ready").write_text("ready\n")
    deadline = time.monotonic() + WAIT_S
    while not (folder / "go").exists():  # a condition, not a delay: the test writes it
        if time.monotonic() > deadline:
            raise TimeoutError(f"no 'go' in {folder} within {WAIT_S:g} s")
        time.sleep(0.05)


class PausingCollect(OwnerCheckedCollect):
    """The lab's collect, pausing once at ``race_point`` for the student's move."""

    handshake_dir = Unicode(help="Folder for the ready/go handshake with the test").tag(config=True)
    race_point = Enum(["picked", "checked"], "checked",
                      help="Where to pause (see the module docstring)").tag(config=True)

    _paused = False

    def _pause_once(self) -> None:
        if not self._paused:
            self._paused = True
            pause(self.handshake_dir)

    def init_src(self) -> None:
        super().init_src()
        if self.race_point == "picked":
            self._pause_once()

    def after_check(self, record: dict) -> None:
        super().after_check(record)
        if self.race_point == "checked":
            self._pause_once()
