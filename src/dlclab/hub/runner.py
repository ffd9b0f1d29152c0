"""Start, administer and stop the lab's JupyterHub process (``dlclab lab``, tests).

:class:`LabRunner` prepares the state directory (accounts, admin API token, data policy),
starts the hub (:mod:`dlclab.hub.app`, JupyterHub with a longer wait for its managed
services) with ``-f hub/jupyterhub_config.py`` under a keeper (:mod:`dlclab.hub.reaper`,
in a session of its own), waits until it answers, and stops it in order: JupyterHub then
stops every user server (whose post-stop hook stops their dask clusters), its services
(dask-gateway stops all clusters) and its proxy. However the hub ends (also SIGKILL, a
crash, a failed start, this runner dying), the keeper then stops every process the hub
had started that is still there, and :attr:`LabRunner.ending` says what it stopped.

Demo content is pluggable: every ``hub/demo.d/*.py`` with a ``setup_demo(lab)`` function
is called (sorted by file name) after the hub is up when ``--demo`` is given; ``lab`` is
the :class:`LabRunner` (``lab.client`` is an admin :class:`HubClient`,
``lab.add_account(name)`` gives a user a password).
"""
from __future__ import annotations

import importlib.util
import json
import logging
import os
import secrets
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx

from dlclab.errors import DlclabError
from dlclab.hub import unix
from dlclab.hub.client import HubClient
from dlclab.hub.reaper import Ending, Keeper
from dlclab.hub.settings import LAB_GROUPS, LabSettings

log = logging.getLogger(__name__)

#: demo user -> its groups (``--demo``)
DEMO_USERS: dict[str, list[str]] = {
    "demo-kascade": ["kascade"],
    "demo-taiga": ["taiga"],
    "demo-student": ["students"],
    "demo-instructor": ["instructors"],
}


#: what ``dlclab lab`` does when its hub ends by itself (printed then, and in the banner)
HUB_DIED_POLICY = ("not restarting: everything the hub had started was stopped, users' "
                   "servers and dask clusters included; run `dlclab lab` again (under "
                   "systemd, Restart=on-failure does that).")


def new_password() -> str:
    return secrets.token_urlsafe(12)


def private_stream(stream=None) -> bool:  # noqa: ANN001 - a text stream
    """Whether a secret written to ``stream`` (default stdout) stays with whoever started
    the lab: a terminal, or a regular file nobody else can read. A pipe (``| tee log``)
    is not: its reader decides where the secret ends up."""
    stream = stream if stream is not None else sys.stdout
    try:
        if stream.isatty():
            return True
        st = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return stat.S_ISREG(st.st_mode) and not st.st_mode & 0o077


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


class LabRunner:
    """One lab hub: its state, its process and an admin client."""

    def __init__(self, settings: LabSettings, log_file: Path | None = None):
        if settings.accounts_file is None:
            settings.accounts_file = settings.default_accounts_file
        self.settings = settings
        self.log_file = log_file
        self.process: subprocess.Popen | None = None
        self.client: HubClient | None = None
        self._log_handle = None
        #: the hub's keeper (dlclab.hub.reaper); cgroup v2 where the machine allows
        self.keeper: Keeper | None = None
        self.use_cgroup = True
        #: how the last hub ended (None while it runs)
        self.ending: Ending | None = None
        #: accounts given a password by this run: the only passwords the banner may show
        self.new_accounts: set[str] = set()

    # ---- state
    @property
    def accounts(self) -> dict[str, str]:
        path = self.settings.accounts_file
        return json.loads(path.read_text()) if path and path.exists() else {}

    def add_account(self, name: str, password: str | None = None) -> str:
        """Record an approved account (created when the hub starts); return its password.

        An account already recorded keeps its password."""
        accounts = self.accounts
        if name not in accounts:
            accounts[name] = password or new_password()
            _write_private(self.settings.accounts_file, json.dumps(accounts, indent=1))
            self.new_accounts.add(name)
        return accounts[name]

    def prepare(self, demo: bool = False) -> list[str]:
        """Create the state dir, the admin account and token, apply the data policy.

        Idempotent: a second run reuses the passwords, token and database. Returns the
        data-policy changes made."""
        s = self.settings
        s.state_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(s.state_dir, 0o700)
        if not s.admin_token_file.exists():
            _write_private(s.admin_token_file, secrets.token_hex(32))
        self.add_account(s.admin_user)
        if demo:
            for name in DEMO_USERS:
                self.add_account(name)
        changes: list[str] = []
        if s.isolated:
            from dlclab.hub.services import load_services, prepare_accounts

            unix.ensure_groups(LAB_GROUPS)
            unix.require_reachable(s.data_root)
            changes = unix.apply_data_policy(s.data_root)
            # services' system accounts and their private folders (the meta-data catalogue)
            changes += prepare_accounts(load_services(s))
        self.provision_courses()
        return changes

    def provision_courses(self) -> None:
        """Course folders, grader accounts and the exchange of every registered course."""
        from dlclab.courses.provision import CourseLayout, provision_course
        from dlclab.courses.registry import load_courses

        s = self.settings
        if s.courses_file is None:
            return
        for course in load_courses(s.courses_file):
            provision_course(CourseLayout(s.courses_root), course, as_root=s.isolated)

    # ---- process
    def start(self, timeout_s: float = 300.0) -> None:
        """Start the hub; wait (while it runs) until it answers, at most ``timeout_s``.

        Services' ``{port}`` is a free port chosen when the hub loads its configuration;
        another process may take it before the service binds it. A start that fails that
        way is retried once: the new hub process chooses new ports."""
        try:
            self._start_once(timeout_s)
        except DlclabError:
            if not self._lost_a_port_race():
                raise
            log.warning("dlclab: a service's port was taken before it bound it; "
                        "starting the hub again with new ports")
            if self._log_handle is not None:
                self._log_handle.close()
            self._start_once(timeout_s)

    def _lost_a_port_race(self) -> bool:
        if self.log_file is None or not self.log_file.exists():
            return False
        return "address already in use" in self.log_file.read_text(errors="replace")

    def _start_once(self, timeout_s: float) -> None:
        s = self.settings
        env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTERHUB_")}
        env.update(s.to_env())
        env["PATH"] = f"{s.bin}:{env.get('PATH', '/usr/bin:/bin')}"
        out = None
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            self._log_handle = open(self.log_file, "ab")
            out = self._log_handle
        self.ending = None
        # the hub runs under a keeper that stops everything it started when it ends
        self.keeper = Keeper(use_cgroup=self.use_cgroup)
        self.process = self.keeper.start(
            [str(s.python), "-m", "dlclab.hub.app", "-f", str(s.hub_dir / "jupyterhub_config.py")],
            s.python, cwd=s.state_dir, env=env, stdout=out,
            stderr=subprocess.STDOUT if out else None)
        self.wait_up(timeout_s)
        self.client = HubClient(s.public_url, s.admin_token_file.read_text().strip())

    @property
    def hub_pid(self) -> int | None:
        """The pid of the JupyterHub process (a child of :attr:`process`, its keeper)."""
        return self.keeper.hub_pid if self.keeper is not None else None

    def wait_up(self, timeout_s: float) -> None:
        url = f"{self.settings.public_url}/hub/health"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                ending = self._finish()
                raise DlclabError(f"jupyterhub did not start: {ending.describe()}"
                                  + self._log_excerpt())
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise DlclabError(f"JupyterHub did not answer at {url} within {timeout_s:g} s")

    def _finish(self) -> Ending:
        """Once the keeper has exited: how the hub ended (kept as :attr:`ending`)."""
        if self.ending is None:
            self.ending = self.keeper.finish()
            if self.ending.left:
                log.error("dlclab: %s", self.ending.describe())
        return self.ending

    def _log_excerpt(self, lines: int = 15) -> str:
        """The end of the hub's log, for an error message (the log may not outlive it)."""
        if self.log_file is None or not self.log_file.exists():
            return ""
        if self._log_handle is not None:
            self._log_handle.flush()
        log_lines = self.log_file.read_text(errors="replace").splitlines()
        critical = [line for line in log_lines if line.startswith("[C ")]
        excerpt = f"; see {self.log_file}"
        if critical:
            excerpt += ":\n  " + "\n  ".join(critical)
        return excerpt + "\n  ... its last lines:\n  " + "\n  ".join(log_lines[-lines:])

    def stop(self, timeout_s: float = 90.0) -> int | None:
        """Stop the hub in order (JupyterHub stops servers, services, proxy), then its
        keeper stops whatever is left; wait for both. Returns the hub's exit status."""
        if self.client is not None:
            self.client.close()
            self.client = None
        proc = self.process
        if proc is None:
            return None
        if proc.poll() is None:
            self.keeper.interrupt()
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                log.warning("jupyterhub did not stop within %g s: killing it and all it "
                            "started", timeout_s)
                self.keeper.interrupt()  # a second time: at once
                try:
                    proc.wait(timeout_s)
                except subprocess.TimeoutExpired:
                    proc.kill()  # the keeper itself; its cgroup goes in _finish
                    proc.wait()
        ending = self._finish()
        if self._log_handle is not None:
            self._log_handle.close()
        return ending.hub_exit

    def wait(self) -> int:
        """Wait in the foreground until the hub exits; Ctrl-C (or SIGTERM, SIGHUP) stops
        it cleanly. If the hub ends by itself (a crash, SIGKILL, the OOM killer) its keeper
        has stopped everything it had started, users' servers included; ``dlclab lab``
        says so and exits (it does not restart the hub). Returns the exit code."""

        def interrupt(signum, frame):  # noqa: ARG001
            raise KeyboardInterrupt

        # SIGINT too: a shell that starts us in the background makes Python ignore it
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, interrupt)
        try:
            self.process.wait()
        except KeyboardInterrupt:
            print("\ndlclab lab: stopping the hub, its user servers, services and clusters ...",
                  flush=True)
            return self.stop() or 0
        self.stop()  # the keeper has exited: collect its report
        ending = self.ending
        print(f"\ndlclab lab: {ending.describe()}.\n"
              f"dlclab lab: {HUB_DIED_POLICY}", flush=True)
        return 1 if ending.hub_exit is None or ending.hub_exit < 0 else ending.hub_exit

    # ---- demo
    def setup_demo(self) -> None:
        """Create the demo users in their groups, then run every ``hub/demo.d`` step."""
        self.client.create_users(list(DEMO_USERS))
        for name, groups in DEMO_USERS.items():
            for group in groups:
                self.client.add_to_group(group, [name])
        folder = self.settings.hub_dir / "demo.d"
        for path in sorted(folder.glob("*.py")) if folder.is_dir() else []:
            spec = importlib.util.spec_from_file_location(f"dlclab_demo_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            if not hasattr(module, "setup_demo"):
                raise DlclabError(f"{path}: expected a function setup_demo(lab)")
            module.setup_demo(self)

    def banner(self, demo: bool, show_secrets: bool = False) -> str:
        """What ``dlclab lab`` prints once the hub is up.

        Passwords appear only if ``show_secrets`` (the caller checked that its output is
        private, :func:`private_stream`) and only for accounts created by this run: a
        secret is printed once, never again at later starts and never into a shared log."""
        s = self.settings
        accounts = self.accounts

        def password(name: str) -> str:
            if show_secrets and name in self.new_accounts:
                return accounts[name]
            return "(not shown)"

        lines = [
            "",
            "=" * 72,
            f"  dlclab lab is running on {s.public_url}",
            f"  log in as '{s.admin_user}' with password: {password(s.admin_user)}",
            f"  (passwords are kept in {s.accounts_file}, readable by root only:",
            f"   sudo cat {s.accounts_file}; new users sign up at /hub/signup and the",
            "   admin approves them at /hub/authorize)",
        ]
        if demo:
            lines.append("  demo users:")
            for name, groups in DEMO_USERS.items():
                lines.append(f"    {name:18s} {password(name):20s} groups: {', '.join(groups)}")
        if not s.isolated:
            lines.append("  WARNING: not root: users are NOT isolated (one shared OS user)")
        lines += ["  Ctrl-C stops the hub, every user server, service and dask cluster.",
                  "  Should the hub die, dlclab lab stops all the rest too and exits",
                  "  (no restart).",
                  "=" * 72, ""]
        return "\n".join(lines)
