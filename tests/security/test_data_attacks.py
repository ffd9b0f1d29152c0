"""Attacks on the data policy by real lab users (system users of a real lab hub), each of
which must fail:

* a student reads the meta-data catalogue (collaboration-internal file rows, internal
  release titles, every user's export requests) directly: ``os.open``, ``sqlite3``, ``cp``;
  the aggregation service, which owns it, still answers them and the collaboration;
* a KASCADE member opens the lab's Intake catalogue and looks for internal TAIGA
  releases, or reads the TAIGA collaboration's catalogue file;
* someone outside TAIGA reads a TAIGA release while it is being published (the
  publication is paused deterministically inside the build).

Nothing here sets a permission before checking it: the lab (``make data``, the hub's start,
the release builder) does, and the users attack what it did.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from dlclab import config
from dlclab.store import ReleaseInfo, build_release
from tests.hub_harness import LabHub

pytestmark = pytest.mark.hub

USERS = {"kim": ["kascade"], "tom": ["taiga"], "sam": ["students"]}
#: the internal TAIGA release of the sample (not its public teaching release T2020.1-EDU)
INTERNAL = re.compile(r"T2020\.1(?!-EDU)")


@pytest.fixture(scope="module")
def data_root() -> Path:
    root = config.data_root().resolve()
    assert (root / "metadata" / "catalogue.sqlite").exists(), f"run `make data` ({root})"
    return root


@pytest.fixture(scope="module")
def hub(data_root: Path) -> Iterator[LabHub]:
    lab = LabHub(users=USERS, data_root=data_root)
    with lab:
        for name in USERS:  # servers: the users' Unix groups are synced when they start
            lab.admin.start_server(lab.user(name).name)
        for name in USERS:
            lab.admin.wait(lambda n=name: lab.admin.server_ready(lab.user(n).name),
                           f"{name}'s server", timeout_s=150)
        yield lab
        lab.remember_processes()
    lab.assert_nothing_left()


@pytest.fixture(scope="module")
def service_url(hub: LabHub) -> str:
    """The aggregation service (hub/services.d) behind the proxy, once it answers."""
    url = f"{hub.url}/services/data-aggregation"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/whoami", timeout=5).status_code == 401:
                return url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the aggregation service did not come up: see {hub.log_file}")


def get(url: str, token: str, **kw) -> httpx.Response:
    return httpx.get(url, headers={"Authorization": f"token {token}"}, timeout=30, **kw)


# ---- 1. the meta-data catalogue -------------------------------------------------------
_READ_CATALOGUE = """
import os, sqlite3
db = {db!r}
for how in ("os.open", "sqlite3"):
    try:
        if how == "os.open":
            os.close(os.open(db, os.O_RDONLY))
        else:
            con = sqlite3.connect(f"file:{{db}}?mode=ro", uri=True)
            print(con.execute("SELECT name FROM release").fetchall())
        print(how, "READ")
    except (PermissionError, sqlite3.OperationalError) as exc:
        print(how, "refused:", exc)
"""


def test_a_student_cannot_read_the_metadata_catalogue(hub: LabHub, data_root: Path):
    db = data_root / "metadata" / "catalogue.sqlite"
    with hub.kernel("sam") as kernel:
        out = kernel.execute(_READ_CATALOGUE.format(db=str(db)))
    assert "READ" not in out and out.count("refused") == 2, out
    for argv in (["cp", str(db), "/dev/null"], ["cat", str(db)],
                 ["ls", str(db.parent)], ["cat", f"{db}-wal"]):
        done = hub.run_as("sam", argv)
        assert done.returncode != 0 and "Permission denied" in done.stderr, (argv, done)
    # collaboration members are lab users too: the catalogue is the service's alone
    done = hub.run_as("tom", ["cp", str(db), "/dev/null"])
    assert done.returncode != 0 and "Permission denied" in done.stderr


def test_the_service_owns_the_catalogue_and_still_answers(hub: LabHub, data_root: Path,
                                                         service_url: str):
    """The aggregation service runs as its own account (not root) and serves what each
    user may see: the collaboration's raw files to a member (read through the account's
    group membership), nothing internal to others."""
    exports = str(data_root / "metadata" / "exports")
    procs = [p for p in psutil.process_iter(["username", "cmdline"])
             if "dlclab.service" in (p.info["cmdline"] or []) and exports in (p.info["cmdline"] or [])]
    assert procs and {p.info["username"] for p in procs} == {"dlclab-service"}, procs
    tom, kim = hub.token("tom"), hub.token("kim")
    releases = {r["name"] for r in get(f"{service_url}/api/releases", kim).json()}
    assert "OCEANUS" in releases and not any(INTERNAL.fullmatch(r) for r in releases)
    assert get(f"{service_url}/api/files", kim, params={"release": "T2020.1"}).status_code == 403
    internal = get(f"{service_url}/api/files", tom, params={"release": "T2020.1"})
    assert internal.status_code == 200 and internal.json()["files"]
    raw = get(f"{service_url}/api/files", tom, params={"storage": "taiga"}).json()["files"][0]
    data = get(f"{hub.url}{raw['data_url']}", tom)
    assert data.status_code == 200 and len(data.content) > 0


# ---- 2. the Intake catalogue ------------------------------------------------------------
_OPEN_CATALOGUE = """
import dlclab
taiga = dlclab.catalog().taiga.read()
print("options", sorted(taiga.user_parameters["release"].options))
print("listed", sorted(taiga.metadata["releases"]))
"""


def test_a_kascade_member_sees_no_internal_taiga_release(hub: LabHub, data_root: Path):
    with hub.kernel("kim") as kernel:
        out = kernel.execute(_OPEN_CATALOGUE)
    assert "T2020.1-EDU" in out and not INTERNAL.search(out), out
    # every catalogue file kim can read names no internal release; the collaboration's
    # own file is refused
    for path in sorted((data_root / "catalogs").rglob("*.yaml")):
        done = hub.run_as("kim", ["cat", str(path)])
        if "collaborations/taiga" in str(path):
            assert done.returncode != 0 and "Permission denied" in done.stderr, path
        else:
            assert done.returncode == 0 and not INTERNAL.search(done.stdout), path
    done = hub.run_as("kim", ["ls", str(data_root / "catalogs" / "collaborations" / "taiga")])
    assert done.returncode != 0 and "Permission denied" in done.stderr


def test_a_taiga_member_sees_the_internal_releases(hub: LabHub):
    with hub.kernel("tom") as kernel:
        out = kernel.execute(_OPEN_CATALOGUE
                             + "print(len(dlclab.catalog().taiga(release='T2020.1')"
                               "['datasets'].read()))\n")
    options = next(line for line in out.splitlines() if line.startswith("options"))
    assert "'T2020.1'" in options and "'T2020.1-EDU'" in options, out
    assert int(out.strip().splitlines()[-1]) > 0


# ---- 3. a release being published -------------------------------------------------------
@pytest.fixture
def open_data_root() -> Iterator[Path]:
    """A fresh data root where the lab's is: below folders every user may traverse."""
    root = Path(tempfile.mkdtemp(prefix="dlclab-publish-"))
    os.chmod(root, 0o755)  # as a data root is (the policy makes it so); not what is tested
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _written(payload: bytes):
    def write(tmp: Path) -> dict:
        (tmp / "events").mkdir()
        (tmp / "events" / "part.bin").write_bytes(payload)
        return {"d": {"n_events": 1, "exposure": {"live_time_s": 1.0}}}
    return write


def _attack(hub: LabHub, root: Path, staged: Path) -> list[str]:
    """What sam (not in TAIGA) gets out of a release being published: every file under
    the data root they can find and read, and the staged file itself (path given)."""
    stolen = []
    found = hub.run_as("sam", ["find", str(root), "-type", "f"]).stdout.split()
    for path in [*found, str(staged / "events" / "part.bin"), str(staged / "manifest.json")]:
        done = hub.run_as("sam", ["cat", path])
        if done.returncode == 0 and "secret" in done.stdout:
            stolen.append(path)
    return stolen


def test_a_release_being_written_is_not_readable_by_others(hub: LabHub, open_data_root: Path):
    root = open_data_root
    # a public TAIGA release is there already: releases/taiga is listable, as in the lab
    build_release(root, ReleaseInfo("taiga", "TPUB", "1"), [], _written(b"public"))
    stolen: list[str] = []

    def write(tmp: Path) -> dict:
        datasets = _written(b"secret internal events")(tmp)
        stolen.extend(_attack(hub, root, tmp))  # the build is paused here meanwhile
        return datasets

    info = ReleaseInfo("taiga", "TINT", "1", access="collaboration:taiga")
    result = build_release(root, info, [], write)
    assert stolen == [], f"read by a non-member during the publication: {stolen}"
    part = result.release_dir / "events" / "part.bin"
    assert hub.run_as("sam", ["cat", str(part)]).returncode != 0
    assert hub.run_as("tom", ["cat", str(part)]).stdout == "secret internal events"


def test_a_release_about_to_be_renamed_is_not_readable_by_others(hub: LabHub,
                                                                 open_data_root: Path):
    """Paused after the tree has its final group and modes, just before the rename."""
    root = open_data_root
    build_release(root, ReleaseInfo("taiga", "TPUB", "1"), [], _written(b"public"))
    stolen: list[str] = []
    member_reads: list[str] = []

    def before_commit(tmp: Path) -> None:
        stolen.extend(_attack(hub, root, tmp))
        # not even a member reaches it before it is published (the staging folder is root's)
        member_reads.append(hub.run_as("tom", ["cat", str(tmp / "events" / "part.bin")]).stdout)

    info = ReleaseInfo("taiga", "TINT", "1", access="collaboration:taiga")
    build_release(root, info, [], _written(b"secret internal events"), before_commit=before_commit)
    assert stolen == [] and member_reads == [""]
    assert list((root / "releases" / ".staging").iterdir()) == []
