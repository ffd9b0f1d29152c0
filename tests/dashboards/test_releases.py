"""dlclab.dashboards.releases as a user who may not read every release (issue 16: a
KASCADE member's IACT display picked the internal T2020.1 and failed on its files)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

SUMMARIES = {"T2020.1": {"version": "2020.1", "datasets": {"taiga_iact": {}, "tunka133": {}}},
             "T2020.1-EDU": {"version": "2020.1", "datasets": {"taiga_iact": {}}}}
CHOOSE = """
import json, sys
from pathlib import Path
from dlclab.dashboards.releases import choose_release
c = choose_release("taiga", "iact_images", facility="taiga_iact",
                   summaries=json.loads(sys.argv[1]), data_root=Path(sys.argv[2]))
print(json.dumps({"release": c.release, "readable": list(c.readable), "refused": c.refused,
                  "missing": c.missing()}))
"""


@pytest.fixture
def data_root():
    """Both releases with IACT images; the internal one closed to others (as the data
    policy leaves it for non-members). In /tmp, traversable: another user reads it."""
    root = Path(tempfile.mkdtemp(prefix="dlclab-releases-"))
    os.chmod(root, 0o755)
    for release in SUMMARIES:
        (root / "releases" / "taiga" / release / "iact_images.zarr").mkdir(parents=True)
    for folder in (root / "releases", root / "releases" / "taiga", *(root / "releases" / "taiga").iterdir()):
        os.chmod(folder, 0o755)
    os.chmod(root / "releases" / "taiga" / "T2020.1", 0o700)
    yield root
    shutil.rmtree(root)


def choose_as(user: str | None, summaries: dict, root: Path) -> dict:
    argv = [sys.executable, "-c", CHOOSE, json.dumps(summaries), str(root)]
    if user:
        argv = ["runuser", "-u", user, "--", *argv]
    done = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, HOME="/tmp"))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_non_member_gets_the_public_release_and_is_told_why(data_root):
    if os.geteuid() != 0:
        pytest.fail("needs root: the other user is the OS user 'nobody'")
    got = choose_as("nobody", SUMMARIES, data_root)
    assert got["release"] == "T2020.1-EDU" and got["readable"] == ["T2020.1-EDU"]
    assert got["refused"] == ["T2020.1"]
    # nothing readable at all: said in words, with what to do
    only_internal = {"T2020.1": SUMMARIES["T2020.1"]}
    none = choose_as("nobody", only_internal, data_root)
    assert none["release"] is None and none["refused"] == ["T2020.1"]
    assert "collaboration-internal" in none["missing"] and "`make data`" in none["missing"]


def test_a_reader_of_both_gets_the_fuller_release(data_root):
    got = choose_as(None, SUMMARIES, data_root)  # the owner reads both
    assert got["release"] == "T2020.1" and sorted(got["readable"]) == ["T2020.1", "T2020.1-EDU"]
    assert got["refused"] == []


def test_an_empty_catalogue_says_how_to_build_one(data_root):
    got = choose_as(None, {}, data_root)
    assert got["release"] is None and "`make data`" in got["missing"]
