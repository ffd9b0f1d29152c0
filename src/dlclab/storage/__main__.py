"""Run the lab's storage servers (a hub-managed service, hub/services.d/storage.yaml).

    python -m dlclab.storage --data-root data --state-dir /tmp/storage --port 10200

Starts every instance of the configuration (``src/dlclab/storage/instances.yaml``), waits
until each server answers an ``xrdfs query``, then serves a JSON status of the servers on
``--port`` (the hub's route ``/services/storage/``; from a child process as ``nobody``)
until SIGTERM or Ctrl-C, when it stops them all.
"""
from __future__ import annotations

import argparse
import ctypes
import hashlib
import json
import os
import pwd
import shutil
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

#: where the servers' files go when the state folder is closed to the server account
RUN_BASE = Path("/run/dlclab-storage")


def main(argv: list[str] | None = None) -> None:
    from dlclab.errors import DlclabError
    from dlclab.storage.config import DEFAULT_CONFIG, load_instances
    from dlclab.storage.lab import StorageLab

    p = argparse.ArgumentParser(prog="python -m dlclab.storage", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-root", type=Path, required=True, help="the lab's data root")
    p.add_argument("--state-dir", type=Path, required=True,
                   help="servers' configs, keys and logs (one folder per server)")
    p.add_argument("--run-dir", type=Path, default=None,
                   help="the servers' own files (configs, server keytab, logs); default: "
                   "--state-dir if the server account can reach it, else a folder below "
                   f"{RUN_BASE}")
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="the instances")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="status page port (0: none)")
    args = p.parse_args(argv)

    def on_term(signum: int, frame: object) -> None:
        raise SystemExit(0)  # unwinds through the finally below: servers stopped

    signal.signal(signal.SIGTERM, on_term)
    state_dir = args.state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    run_root = args.run_dir or default_run_dir(state_dir)
    lab = StorageLab(load_instances(args.data_root.resolve(), args.config), state_dir,
                     run_root=run_root)
    status_pid: int | None = None
    try:
        # not strict: a server that cannot start is reported (status page, servers.json)
        # and the others serve; exiting would make the hub restart the service at once
        try:
            lab.start(strict=False)
        except (DlclabError, OSError) as exc:  # e.g. no xrootd installed: say so, stay up
            for server in lab.servers:
                lab.errors.setdefault(server.name, f"not started: {exc}")
            lab.publish()
        for server in lab.servers:
            print(f"storage server {server.name} {server.url}: "
                  f"{lab.errors.get(server.name, 'ready')}", flush=True)
        status_pid = _serve_status(lab.status(), args.host, args.port) if args.port else None
        while True:  # until SIGTERM (SystemExit) or SIGINT (KeyboardInterrupt)
            signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        if status_pid is not None:
            os.kill(status_pid, signal.SIGTERM)
            os.waitpid(status_pid, 0)
        lab.stop()
        if run_root.is_relative_to(RUN_BASE):  # ours alone: the server keytab goes too
            shutil.rmtree(run_root, ignore_errors=True)


def default_run_dir(state_dir: Path) -> Path:
    """``state_dir`` if the server account can traverse to it; else a folder of its own
    below /run (the hub's state folder is private to root: never opened for this)."""
    from dlclab.hub.unix import closed_ancestors

    if os.geteuid() != 0 or not closed_ancestors(state_dir / "x"):
        return state_dir
    digest = hashlib.sha256(str(state_dir).encode()).hexdigest()[:12]
    return RUN_BASE / digest


def _serve_status(snapshot: list[dict], host: str, port: int) -> int:
    """Serve the servers' status from a child process as ``nobody``: the page is reachable
    through the hub's proxy, and this manager is root (it starts the servers as
    ``xrootd``). The child reports each server running while its process lives, and dies
    with the manager. Returns the child's pid."""
    manager = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
        # after the credential change, which clears it; a manager already gone: exit
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() != manager:
            os._exit(0)

        class Status(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                servers = [dict(s, running=bool(s["running"] and s["pid"]
                                                and _alive(s["pid"]))) for s in snapshot]
                body = json.dumps({"servers": servers}, indent=1).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        ThreadingHTTPServer((host, port), Status).serve_forever()
    finally:
        os._exit(1)  # never the manager's cleanup in the child


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


if __name__ == "__main__":
    main(sys.argv[1:])
