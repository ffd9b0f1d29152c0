"""A real lab hub for tests: JupyterHub + proxy + dask-gateway + culler (+ your services)
on free ports with a temporary state directory, real system users (as root), torn down
completely.

Usage (other areas import it: ``from tests.hub_harness import LabHub``)::

    with LabHub(users={"alice": ["kascade"], "bob": ["taiga"]},
                extra_services=[{"name": "data-aggregation",
                                 "command": ["{python}", "-m", "dlclab.service"],
                                 "url": "http://127.0.0.1:{port}", "access": "all"}]) as hub:
        hub.start_server("alice")                    # through the REST API, waits until ready
        with hub.kernel("alice") as k:               # a kernel in alice's server
            assert k.execute("print(1 + 1)") == "2\\n"
        hub.user("alice").name                       # the real (prefixed) user name
        hub.user("alice").password                   # to log in through the login page
        hub.token("alice")                           # an API token of alice (default scopes)
        hub.run_as("alice", ["ls", "/home"])         # a command as alice's OS user
        hub.admin                                    # a dlclab.hub.client.HubClient (admin)
        hub.url                                      # http://127.0.0.1:<port>
    # here: hub stopped, users and homes removed, and LabHub.assert_nothing_left() passed

``extra_services`` entries are ``hub/services.d`` definitions (dicts, or paths of YAML
files); ``settings`` overrides :class:`dlclab.hub.settings.LabSettings` fields
(e.g. ``culler_timeout_s``). Users are created through the hub's REST API with a unique
prefix (``t<6 hex>-alice``); as root each is a system user, deleted at exit.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import uuid
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import yaml

from dlclab import config
from dlclab.errors import DlclabError
from dlclab.hub import unix
from dlclab.hub.client import HubClient
from dlclab.hub.runner import LabRunner
from dlclab.hub.services import free_port
from dlclab.hub.settings import LabSettings, running_as_root

ARTIFACTS = (config.PROJECT_ROOT or Path.cwd()) / "test-artifacts"


class KernelError(AssertionError):
    """Code run in a user's kernel raised: ``ename``, ``evalue`` and the traceback."""

    def __init__(self, ename: str, evalue: str, traceback: list[str]):
        self.ename, self.evalue, self.traceback = ename, evalue, traceback
        super().__init__(f"{ename}: {evalue}")


@dataclass
class LabUser:
    """A test user: short name used in tests, real hub/system name, password, groups."""

    short: str
    name: str
    password: str
    groups: list[str] = field(default_factory=list)
    _token: str | None = None


class Kernel:
    """A kernel in a user's server, driven over the Jupyter server REST API and the
    kernel websocket (the same protocol JupyterLab uses)."""

    def __init__(self, server_url: str, token: str):
        self.server_url = server_url.rstrip("/")
        self.token = token
        self.http = httpx.Client(headers={"Authorization": f"token {token}"}, timeout=60)
        resp = self.http.post(f"{self.server_url}/api/kernels", json={"name": "python3"})
        resp.raise_for_status()
        self.id = resp.json()["id"]
        self.session = uuid.uuid4().hex
        self._ws = None

    def _socket(self):
        import websocket

        if self._ws is None:
            url = self.server_url.replace("http://", "ws://") + f"/api/kernels/{self.id}/channels"
            self._ws = websocket.create_connection(
                url, header=[f"Authorization: token {self.token}"], timeout=300)
        return self._ws

    def send(self, code: str) -> str:
        """Send ``code`` for execution; return the message id (does not wait)."""
        msg_id = uuid.uuid4().hex
        self._socket().send(json.dumps({
            "header": {"msg_id": msg_id, "username": "test", "session": self.session,
                       "msg_type": "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        return msg_id

    def execute(self, code: str, timeout_s: float = 240.0) -> str:
        """Run ``code``; return its stdout (+ the repr of the last expression).

        Raises :class:`KernelError` if the code raised."""
        msg_id = self.send(code)
        ws = self._socket()
        out: list[str] = []
        error = None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            msg = json.loads(ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind == "execute_result":
                out.append(content["data"].get("text/plain", "") + "\n")
            elif kind == "error":
                error = KernelError(content["ename"], content["evalue"], content["traceback"])
            elif kind == "status" and content["execution_state"] == "idle":
                break
        else:
            raise TimeoutError(f"kernel did not finish within {timeout_s:g} s: {code[:80]!r}")
        if error is not None:
            raise error
        return "".join(out)

    def close(self) -> None:
        if self._ws is not None:
            self._ws.close()
            self._ws = None
        try:
            self.http.delete(f"{self.server_url}/api/kernels/{self.id}")
        except httpx.HTTPError:
            pass  # the server may already be gone
        self.http.close()

    def __enter__(self) -> "Kernel":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class LabHub:
    """A complete lab hub for one test session (see the module docstring)."""

    def __init__(self, users: dict[str, list[str]] | None = None,
                 extra_services: list[dict | Path] = (), data_root: Path | None = None,
                 settings: dict[str, Any] | None = None, prefix: str | None = None):
        self.prefix = prefix or f"t{secrets.token_hex(3)}"
        self.workdir = Path(tempfile.mkdtemp(prefix=f"dlclab-hub-{self.prefix}-"))
        os.chmod(self.workdir, 0o700)
        # removed even if this hub is never started or closed
        weakref.finalize(self, shutil.rmtree, str(self.workdir), True)
        services_dir = self.workdir / "services.d"
        services_dir.mkdir()
        for i, spec in enumerate(extra_services):
            if isinstance(spec, dict):
                (services_dir / f"{i:02d}-{spec['name']}.yaml").write_text(yaml.safe_dump(spec))
            else:
                shutil.copy(spec, services_dir / f"{i:02d}-{Path(spec).name}")
        self.settings = LabSettings(
            data_root=(data_root or config.data_root()).resolve(),
            state_dir=self.workdir / "state",
            port=free_port(), hub_port=free_port(), proxy_api_port=free_port(),
            gateway_port=free_port(), gateway_scheduler_port=free_port(),
            extra_services_dirs=[services_dir],
            **(settings or {}),
        )
        self.runner = LabRunner(self.settings, log_file=self.workdir / "jupyterhub.log")
        self._users = {short: LabUser(short, f"{self.prefix}-{short}", "", list(groups))
                       for short, groups in (users or {}).items()}
        self._kernels: list[Kernel] = []
        self._processes: set[int] = set()

    # ---- properties
    @property
    def url(self) -> str:
        return self.settings.public_url

    @property
    def admin(self) -> HubClient:
        return self.runner.client

    @property
    def log_file(self) -> Path:
        return self.workdir / "jupyterhub.log"

    @property
    def kept_log(self) -> Path:
        """Where the hub's log is kept after the hub is gone."""
        return ARTIFACTS / "hub-logs" / f"{self.prefix}.log"

    @property
    def ports(self) -> list[int]:
        s = self.settings
        return [s.port, s.hub_port, s.proxy_api_port, s.gateway_port, s.gateway_scheduler_port]

    def user(self, short: str) -> LabUser:
        return self._users[short]

    @property
    def users(self) -> list[LabUser]:
        return list(self._users.values())

    def server_url(self, short: str) -> str:
        return f"{self.url}/user/{self.user(short).name}"

    # ---- lifecycle
    def __enter__(self) -> "LabHub":
        try:
            self.start()
        except DlclabError as error:
            self.close()
            raise DlclabError(f"{error}\n(the hub's log is kept as {self.kept_log})") from error
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        self.runner.prepare()
        for user in self._users.values():
            user.password = self.runner.add_account(user.name)
        self.runner.start()
        names = [u.name for u in self._users.values()]
        if names:
            self.admin.create_users(names)
        for user in self._users.values():
            for group in user.groups:
                self.admin.add_to_group(group, [user.name])

    def close(self) -> None:
        """Stop the hub (and so everything it started), remove users and state."""
        for kernel in self._kernels:
            try:
                kernel.close()
            except Exception:  # noqa: BLE001 (teardown goes on)
                pass
        self._kernels.clear()
        self.remember_processes()
        self.runner.stop()
        self.wait_processes_gone()
        if running_as_root():
            for user in self._users.values():
                unix.delete_system_user(user.name)
        if self.log_file.exists():  # kept for post-mortems: test-artifacts/hub-logs/
            self.kept_log.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(self.log_file, self.kept_log)
        shutil.rmtree(self.workdir, ignore_errors=True)

    # ---- users, servers, tokens
    def token(self, short: str, scopes: list[str] | None = None) -> str:
        """An API token of the user (default: the user's full permissions)."""
        user = self.user(short)
        if scopes is not None:
            return self.admin.new_token(user.name, scopes=scopes)
        if user._token is None:
            user._token = self.admin.new_token(user.name)
        return user._token

    def start_server(self, short: str, timeout_s: float = 120.0) -> None:
        self.admin.start_and_wait(self.user(short).name, timeout_s)

    def stop_server(self, short: str, timeout_s: float = 60.0) -> None:
        self.admin.stop_and_wait(self.user(short).name, timeout_s)

    def kernel(self, short: str) -> Kernel:
        kernel = Kernel(self.server_url(short), self.token(short))
        self._kernels.append(kernel)
        return kernel

    def run_as(self, short: str, argv: list[str]) -> subprocess.CompletedProcess:
        """Run ``argv`` as the user's OS user (root only); output captured as text."""
        return subprocess.run(["runuser", "-u", self.user(short).name, "--", *argv],
                              capture_output=True, text=True, timeout=60)

    # ---- what is left behind
    def remember_processes(self) -> None:
        """Note every process the hub started so far (checked at teardown)."""
        proc = self.runner.process
        if proc is None or proc.poll() is not None:
            return
        try:
            hub = psutil.Process(proc.pid)
            self._processes |= {p.pid for p in hub.children(recursive=True)} | {hub.pid}
        except psutil.NoSuchProcess:
            pass

    def leftovers(self) -> list[str]:
        """Processes of the hub or its users still alive, ports still listened on."""
        left = []
        for pid in self._processes:
            try:
                p = psutil.Process(pid)
                if p.status() != psutil.STATUS_ZOMBIE:
                    left.append(f"pid {pid} {' '.join(p.cmdline())[:120]}")
            except psutil.NoSuchProcess:
                pass
        names = {u.name for u in self._users.values()}
        for p in psutil.process_iter(["pid", "username", "cmdline"]):
            if p.info["username"] in names:
                left.append(f"pid {p.info['pid']} of {p.info['username']}: "
                            f"{' '.join(p.info['cmdline'] or [])[:120]}")
        listening = {c.laddr.port for c in psutil.net_connections("tcp")
                     if c.status == psutil.CONN_LISTEN}
        left += [f"port {port} still listening" for port in self.ports if port in listening]
        return left

    def wait_processes_gone(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.leftovers() and time.monotonic() < deadline:
            time.sleep(0.2)

    def assert_nothing_left(self) -> None:
        left = self.leftovers()
        assert not left, "left behind after the hub stopped:\n" + "\n".join(left)
