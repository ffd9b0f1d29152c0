"""`dlclab lab` (what `make lab` runs): serves, prints the admin login, stops everything
on Ctrl-C, and a second run reuses the state."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from dlclab.hub.services import free_port

pytestmark = pytest.mark.hub


def run_lab_once(state_dir: Path, data_root: Path, ports: dict[str, int]) -> str:
    """Start `dlclab lab`, log in as admin with the printed password, Ctrl-C it."""
    cmd = [str(Path(sys.executable).parent / "dlclab"), "lab", "--data-root", str(data_root),
           "--state-dir", str(state_dir), "--port", str(ports["port"]),
           "--hub-port", str(ports["hub"]), "--proxy-api-port", str(ports["api"]),
           "--gateway-port", str(ports["gw"]), "--scheduler-port", str(ports["sched"])]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    children: set[int] = set()
    try:
        password = None
        for line in proc.stdout:  # the hub's log, then the banner
            match = re.search(r"log in as 'admin' with password: (\S+)", line)
            if match:
                password = match.group(1)
                break
        assert password, "no admin password printed"
        children = {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}
        assert len(children) >= 4  # hub, proxy, gateway (+ its proxy), culler
        base = f"http://127.0.0.1:{ports['port']}"
        with httpx.Client(base_url=base) as http:
            http.get("/hub/login")
            resp = http.post("/hub/login", data={"username": "admin", "password": password,
                                                 "_xsrf": http.cookies.get("_xsrf")})
            assert http.get("/hub/api/user").json()["admin"] is True, resp.text[:200]
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        proc.stdout.read()
        proc.wait(timeout=90)
    assert proc.returncode in (0, 130)
    left = [pid for pid in children if psutil.pid_exists(pid)
            and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert not left, f"processes left after Ctrl-C: {left}"
    listening = {c.laddr.port for c in psutil.net_connections("tcp")
                 if c.status == psutil.CONN_LISTEN}
    assert not listening & set(ports.values()), "ports still listening after Ctrl-C"
    return password


def test_ctrl_c_stops_everything_and_a_rerun_reuses_the_state(tmp_path: Path, lab_data_root):
    ports = {name: free_port() for name in ("port", "hub", "api", "gw", "sched")}
    state = tmp_path / "state"
    first = run_lab_once(state, lab_data_root, ports)
    assert (state / "jupyterhub.sqlite").exists()
    assert oct((state / "accounts.json").stat().st_mode & 0o777) == "0o600"
    assert run_lab_once(state, lab_data_root, ports) == first
