"""`dlclab lab` (what `make lab` runs): serves, prints the admin login (its password
once, and only where nobody else reads it), stops everything on Ctrl-C, and a second run
reuses the state."""
from __future__ import annotations

import json
import os
import pty
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from dlclab.hub.runner import private_stream
from dlclab.hub.services import free_port

pytestmark = pytest.mark.hub


def _lines(fd: int):
    """Lines written to the terminal whose master end is ``fd``, until it closes."""
    buffer = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the last writer closed the terminal
            chunk = b""
        if not chunk:
            break
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        yield from (line.decode(errors="replace") for line in lines)


def run_lab_once(state_dir: Path, data_root: Path, ports: dict[str, int]) -> str:
    """Start `dlclab lab` on a terminal, log in as admin with the password from the state
    directory, Ctrl-C it; return what the banner showed as the admin's password."""
    cmd = [str(Path(sys.executable).parent / "dlclab"), "lab", "--data-root", str(data_root),
           "--state-dir", str(state_dir), "--port", str(ports["port"]),
           "--hub-port", str(ports["hub"]), "--proxy-api-port", str(ports["api"]),
           "--gateway-port", str(ports["gw"]), "--scheduler-port", str(ports["sched"])]
    master, slave = pty.openpty()  # as in a terminal: the one place a secret may be shown
    proc = subprocess.Popen(cmd, stdout=slave, stderr=slave, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    os.close(slave)
    lines = _lines(master)
    children: set[int] = set()
    try:
        shown = None
        for line in lines:  # the hub's log, then the banner
            match = re.search(r"log in as 'admin' with password: (.+?)\s*$", line)
            if match:
                shown = match.group(1)
                break
        assert shown, "no admin login printed"
        children = {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}
        assert len(children) >= 4  # hub, proxy, gateway (+ its proxy), culler
        password = json.loads((state_dir / "accounts.json").read_text())["admin"]
        base = f"http://127.0.0.1:{ports['port']}"
        with httpx.Client(base_url=base) as http:
            http.get("/hub/login")
            resp = http.post("/hub/login", data={"username": "admin", "password": password,
                                                 "_xsrf": http.cookies.get("_xsrf")})
            assert http.get("/hub/api/user").json()["admin"] is True, resp.text[:200]
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        for _ in lines:
            pass
        os.close(master)
        proc.wait(timeout=90)
    assert proc.returncode in (0, 130)
    left = [pid for pid in children if psutil.pid_exists(pid)
            and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert not left, f"processes left after Ctrl-C: {left}"
    listening = {c.laddr.port for c in psutil.net_connections("tcp")
                 if c.status == psutil.CONN_LISTEN}
    assert not listening & set(ports.values()), "ports still listening after Ctrl-C"
    return shown


def test_ctrl_c_stops_everything_and_a_rerun_reuses_the_state(tmp_path: Path, lab_data_root):
    ports = {name: free_port() for name in ("port", "hub", "api", "gw", "sched")}
    state = tmp_path / "state"
    first = run_lab_once(state, lab_data_root, ports)
    assert (state / "jupyterhub.sqlite").exists()
    assert oct((state / "accounts.json").stat().st_mode & 0o777) == "0o600"
    assert first == json.loads((state / "accounts.json").read_text())["admin"]
    # the second start reuses the account (the login above used accounts.json) and
    # does not print its password again
    assert run_lab_once(state, lab_data_root, ports) == "(not shown)"


def test_secrets_are_shown_only_on_private_output(tmp_path: Path):
    shared, private = tmp_path / "shared.log", tmp_path / "private.log"
    with open(shared, "w") as f:
        os.chmod(shared, 0o644)
        assert not private_stream(f)
    with open(private, "w") as f:
        os.chmod(private, 0o600)
        assert private_stream(f)
    read, write = os.pipe()
    with os.fdopen(write, "w") as f:  # `dlclab lab | tee lab.log`
        assert not private_stream(f)
    os.close(read)
