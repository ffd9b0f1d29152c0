"""`dlclab lab --batch slurm` (what `make lab BATCH=slurm` runs): starts a local Slurm
cluster, then the lab on it; Ctrl-C stops the lab and the cluster, nothing left."""
from __future__ import annotations

import os
import pty
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
import pytest

from dlclab.hub.services import free_port
from tests.hub.test_cli import _lines

pytestmark = pytest.mark.hub

def test_lab_on_a_local_slurm_cluster_and_ctrl_c_stops_all(tmp_path: Path, sample_data_root):
    slurm_state = Path(tempfile.mkdtemp(prefix="dlclab-slurm-cli-"))
    ports = [free_port() for _ in range(5)]
    cmd = [str(Path(sys.executable).parent / "dlclab"), "lab", "--batch", "slurm",
           "--slurm-state-dir", str(slurm_state), "--data-root", str(sample_data_root),
           "--state-dir", str(tmp_path / "state"), "--port", str(ports[0]),
           "--hub-port", str(ports[1]), "--proxy-api-port", str(ports[2]),
           "--gateway-port", str(ports[3]), "--scheduler-port", str(ports[4])]
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, stdout=slave, stderr=slave, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    os.close(slave)
    lines = _lines(master)
    seen: list[str] = []
    daemons: set[int] = set()
    try:
        for line in lines:
            seen.append(line)
            if "dlclab lab is running" in line:
                break
        assert any("Slurm nodes" in line and "idle" in line for line in seen), seen[-20:]
        assert any("dlclab lab is running" in line for line in seen), seen[-20:]
        daemons = {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}
        names = {psutil.Process(pid).name() for pid in daemons if psutil.pid_exists(pid)}
        assert {"munged", "slurmctld", "slurmd"} <= names, names
        done = subprocess.run(["sinfo", "-h", "-o", "%T"], check=False, capture_output=True, text=True,
                              env={**os.environ, "SLURM_CONF": str(slurm_state / "slurm.conf")})
        assert done.stdout.split() == ["idle"], done
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in the terminal
        seen.extend(lines)
        os.close(master)
        proc.wait(timeout=180)
        shutil.rmtree(slurm_state, ignore_errors=True)
    assert proc.returncode in (0, 130), seen[-20:]
    assert any("stopping the local Slurm cluster" in line for line in seen)
    left = [pid for pid in daemons if psutil.pid_exists(pid)
            and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert not left, f"processes left after Ctrl-C: {left}"
    listening = {c.laddr.port for c in psutil.net_connections("tcp")
                 if c.status == psutil.CONN_LISTEN}
    assert not listening & set(ports), "ports still listening after Ctrl-C"
