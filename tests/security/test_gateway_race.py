"""Attack on the one-machine lab's dask-gateway (root): a user swaps entries of their
cluster's working directory for symlinks to a root-only target while root sets it up.

The gateway's test-only ``gateway_handover_hook`` makes the race deterministic: it runs
the attacker's script as the cluster's owner at the worst moment (right after root hands
the owner the working directory, before root's remaining actions on it: chowns, the TLS
files, the log files it opens for the scheduler and every worker, and the removal of the
directory when the cluster stops). The attack succeeds if any of root's actions follows a
symlink into the target: the target is then chowned to the attacker, or gains files.
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import sys
import tempfile
from pathlib import Path

import pytest

from dlclab.hub.settings import running_as_root
from tests.hub_harness import LabHub

pytestmark = [pytest.mark.hub, pytest.mark.slow,
              pytest.mark.skipif(not running_as_root(), reason="LocalBackend needs root")]

#: run as the cluster's owner with: target directory, armed flag, working directory
ATTACK = r'''
import os, sys
target, armed, workdir = sys.argv[1:4]
if not os.path.exists(armed):
    sys.exit(0)
try:
    names = set(os.listdir(workdir))
except OSError as exc:
    print("could not list", workdir, exc)
    names = set()
for name in sorted(names | {"logs", ".certs", "scratch"}):  # and the names upstream uses
    path = os.path.join(workdir, name)
    try:
        os.rename(path, path + ".moved")
        os.symlink(target, path)
        print("swapped", name)
    except OSError as exc:
        print("could not swap", name, exc)
    if os.path.isdir(path + ".moved"):  # the old entry, if it moved: plant links inside
        try:
            os.symlink(target, os.path.join(path + ".moved", "escape"))
        except OSError as exc:
            print("could not plant in", name, exc)
for name in ("escape", "logs/escape", ".certs/escape", "scratch/escape",
             "logs/scheduler.log"):
    try:
        os.symlink(target, os.path.join(workdir, name))
        print("planted", name)
    except OSError as exc:
        print("could not plant", name, exc)
'''

WORKS = (
    "import os\n"
    "from dask_gateway import Gateway\n"
    "cluster = Gateway().new_cluster()\n"
    "cluster.scale(1)\n"
    "client = cluster.get_client()\n"
    "client.wait_for_workers(1, timeout=120)\n"
    "print(client.submit(lambda x: x + 1, 41).result(),\n"
    "      sorted(set(client.run(os.getuid).values())) == [os.getuid()])\n"
    "client.close()\ncluster.shutdown()\n"
)


def snapshot(target: Path) -> dict[str, tuple[int, int, int, bytes | None]]:
    """Owner, group, mode and content of the target and everything in it."""
    out = {}
    for path in [target, *sorted(target.rglob("*"))]:
        st = path.lstat()
        content = path.read_bytes() if stat.S_ISREG(st.st_mode) else None
        out[str(path.relative_to(target))] = (st.st_uid, st.st_gid, st.st_mode, content)
    return out


@pytest.fixture(scope="module")
def attack_files():
    """The root-only target, the attack script and its flag (a root-owned 0755 dir)."""
    base = Path(tempfile.mkdtemp(prefix="dlclab-race-"))
    os.chmod(base, 0o755)
    target = base / "root-only"
    target.mkdir(mode=0o700)
    (target / "secret").write_text("root's\n")
    os.chmod(target / "secret", 0o600)
    script = base / "attack.py"
    script.write_text(ATTACK)
    os.chmod(script, 0o644)
    yield target, script, base / "armed"
    shutil.rmtree(base)


@pytest.fixture(scope="module")
def race_hub(attack_files, sample_data_root):
    target, script, armed = attack_files
    hook = [sys.executable, str(script), str(target), str(armed)]
    with LabHub(users={"mallory": []}, data_root=sample_data_root,
                settings={"gateway_handover_hook": hook}) as hub:
        hub.start_server("mallory")
        yield hub
        hub.remember_processes()
    hub.assert_nothing_left()


def test_root_follows_no_symlink_of_the_clusters_owner(race_hub: LabHub, attack_files):
    target, _, armed = attack_files
    before = snapshot(target)
    armed.touch()
    try:
        with race_hub.kernel("mallory") as kernel:
            try:  # the attacked cluster: it may or may not start, the target counts
                kernel.execute(WORKS)
            except Exception as exc:  # noqa: BLE001
                print("attacked cluster:", exc)
            attacked = re.findall(r"handover hook \(tests only\) for (\S+):",
                                  race_hub.log_file.read_text())
            assert attacked, "the attack never ran: the gateway did not call its handover hook"
            after_attack = snapshot(target)
            armed.unlink()
            # a normal cluster of the same user still starts, computes and runs as them
            assert kernel.execute(WORKS).split() == ["42", "True"]
    finally:
        armed.unlink(missing_ok=True)
    # the attacked cluster is gone (its working directory removed by root)
    race_hub.admin.wait(lambda: not any(os.path.lexists(w) for w in attacked),
                        "the attacked clusters' working directories removed", timeout_s=60)
    # root chowned nothing in the target, created nothing in it, removed nothing from it
    # (also when it removed the attacked cluster's working directory)
    assert after_attack == before
    assert snapshot(target) == before
