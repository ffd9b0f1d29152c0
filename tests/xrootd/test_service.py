"""``python -m dlclab.storage`` (the hub's ``storage`` service): starts every configured
server, answers only when all are ready, and leaves nothing running after SIGTERM, or
after being killed (the servers get their manager's death signal)."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from dlclab.hub.services import free_port
from tests.xrootd.conftest import xrdfs

PROJECT = Path(__file__).resolve().parents[2]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def children(pid: int) -> list[int]:
    """Every process whose parent is ``pid`` (the servers and the status page's child)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, IndexError):
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def wait_for(condition, what: str, timeout_s: float = 180.0):
    # a deadline for an event, not a timing assertion: generous for a loaded machine
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout_s} s")


def start_service(storage_base: Path, lab_config: Path, name: str):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "dlclab.storage", "--data-root",
                             str(storage_base / "data"), "--state-dir", str(storage_base / name),
                             "--config", str(lab_config), "--port", str(port)], cwd=PROJECT)

    def status():
        if proc.poll() is not None:
            raise AssertionError(f"the storage service exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as r:
                return json.load(r)
        except OSError:
            return None

    return proc, wait_for(status, "the storage service answers")


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_service_starts_all_servers_and_leaves_nothing_running(storage_base, lab_config, how):
    proc, status = start_service(storage_base, lab_config, f"service-{how}")
    try:
        servers = {s["name"]: s for s in status["servers"]}
        assert set(servers) == {"kit-kascade", "kit-kascade-public", "isu-taiga",
                                "isu-taiga-public"}
        assert all(s["running"] for s in servers.values())
        # ready means answering: a read works at once, no waiting
        r = xrdfs(servers["kit-kascade-public"]["url"], "cat", "/raw/kcdc/NABOO/x.txt")
        assert r.stdout == "kcdc export\n", r.stderr
        published = json.loads((storage_base / f"service-{how}" / "servers.json").read_text())
        assert published["servers"] == status["servers"]
        pids = [s["pid"] for s in servers.values()]
        assert all(alive(pid) for pid in pids)
        pids = children(proc.pid)  # the servers and the status page (run as nobody)
        assert len(pids) == len(servers) + 1, pids
        proc.send_signal(signal.SIGTERM if how == "sigterm" else signal.SIGKILL)
        proc.wait(timeout=120)
        wait_for(lambda: not any(alive(pid) for pid in pids), "every xrootd has exited")
        if how == "sigterm":
            assert proc.returncode == 0
            assert not (storage_base / f"service-{how}" / "servers.json").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_server_that_cannot_start_is_reported_and_the_others_serve(storage_base, lab_config):
    import socket

    config = yaml.safe_load(lab_config.read_text())
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config["instances"][1]["port"] = taken.getsockname()[1]  # isu-taiga's sss server
        path = storage_base / "instances-taken.yaml"
        path.write_text(yaml.safe_dump(config))
        proc, status = start_service(storage_base, path, "service-taken")
        try:
            servers = {s["name"]: s for s in status["servers"]}
            assert not servers["isu-taiga"]["running"]
            assert "isu-taiga" in servers["isu-taiga"]["error"], servers["isu-taiga"]
            assert all(s["running"] for n, s in servers.items() if n != "isu-taiga")
            r = xrdfs(servers["kit-kascade-public"]["url"], "cat", "/raw/kcdc/NABOO/x.txt")
            assert r.stdout == "kcdc export\n", r.stderr
        finally:
            proc.terminate()
            proc.wait(timeout=120)
    assert proc.returncode == 0
