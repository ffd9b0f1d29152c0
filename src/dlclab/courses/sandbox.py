"""Autograde runs a student's code in a sandbox that sees nothing of the course.

nbgrader's autograde executes each submitted notebook in a kernel started by the grader
account, which owns the course folder: instructor sources with their solutions, hidden
tests, the gradebook, every student's submission. Code in an answer cell would read them
and print them into its own feedback. Here the kernel runs inside bubblewrap (Debian's
``bubblewrap``, the sandbox of Flatpak), unprivileged, in new user, mount, PID, network,
IPC and UTS namespaces:

* the file system holds the system (``/usr``, ``/etc``), the lab's venv and library and
  the data root, read-only, and a *copy* of the one submission being graded at its usual
  path (writable; changes are thrown away). The course folder, the exchange, homes, the
  hub's state and the real ``/tmp`` are not there at all;
* no network (the kernel talks to nbgrader over Unix sockets, ZeroMQ's ``ipc``
  transport, in a private folder), no environment but ``PATH``, ``HOME`` and ``LANG``
  (the grader's environment may hold a hub token);
* every process the student's code starts dies with the kernel (``--die-with-parent``,
  its own PID namespace).

Without a working bubblewrap autograde refuses to start a kernel, with a message that
says why; :attr:`SandboxedKernelManager.sandbox` turns the sandbox off explicitly.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from nbgrader.converters.autograde import Autograde
from nbgrader.preprocessors import Execute
from traitlets import Bool, List, Unicode

import dlclab
from dlclab import config

#: the system as every sandbox sees it: read-only, Debian's merged /usr
_SYSTEM = ("--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
           "--symlink", "usr/sbin", "/sbin", "--symlink", "usr/lib", "/lib",
           "--symlink", "usr/lib64", "/lib64", "--ro-bind", "/etc", "/etc")
#: namespaces and lifetime: nothing shared with the grader but the bound folders
_ISOLATION = ("--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
              "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp")


class SandboxRefused(RuntimeError):
    """Autograde cannot run a student's code in the sandbox, so it does not run it."""


def library_paths() -> list[str]:
    """What a kernel needs of the lab read-only: the venv (as the kernel command names it
    and as it really is) and the library's own source (installed editable)."""
    paths = {sys.prefix, os.path.realpath(sys.prefix),
             str(Path(dlclab.__file__).resolve().parent.parent)}
    data_root = config.data_root()
    if data_root.is_dir():
        paths.add(str(data_root))
    return sorted(paths)


class SandboxedKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose kernel runs in bubblewrap (module docstring)."""

    sandbox = Bool(True, config=True, help=(
        "Run kernels in the bubblewrap sandbox. Off, students' code runs as the grader "
        "account and can read the course folder (solutions, hidden tests, gradebook)."))
    bwrap = Unicode("/usr/bin/bwrap", config=True, help="The bubblewrap executable.")
    read_only_paths = List(Unicode(), config=True, help=(
        "Folders bound read-only into the sandbox besides the system; default: the venv, "
        "dlclab's source and the data root (see library_paths)."))

    _run_dir: str | None = None

    def _check_sandbox(self) -> None:
        """Refuse clearly rather than let a kernel die at start for a reason nobody sees."""
        if not os.access(self.bwrap, os.X_OK):
            raise SandboxRefused(
                f"autograde runs students' code only in a sandbox, and {self.bwrap} "
                "(bubblewrap) is missing: install Debian's bubblewrap ('make sandbox'), or "
                "set c.SandboxedKernelManager.sandbox = False to run it as the grader "
                "(students' code can then read the course folder)")
        probe = subprocess.run([self.bwrap, *_ISOLATION, *_SYSTEM, "--", "/usr/bin/true"],
                               capture_output=True, text=True, timeout=60)
        if probe.returncode != 0:
            raise SandboxRefused(
                f"autograde runs students' code only in a sandbox, and bubblewrap cannot "
                f"make one here: {probe.stderr.strip() or f'exit code {probe.returncode}'} "
                "(unprivileged user namespaces must be allowed: user.max_user_namespaces > 0, "
                "and in a container a seccomp profile that permits them)")

    async def _async_pre_start_kernel(self, **kw):
        if not self.sandbox:
            self.log.warning("dlclab: the autograde sandbox is off: students' code runs as "
                             "the grader account")
            return await super()._async_pre_start_kernel(**kw)
        self._check_sandbox()
        self._remove_run_dir()  # a restart's kernel gets a fresh one
        self._run_dir = tempfile.mkdtemp(prefix="dlclab-kernel-")
        # Connection file and ZeroMQ sockets in the private folder bound into the sandbox;
        # Unix sockets cross the network namespace, TCP on loopback would not.
        self.transport = "ipc"
        self.connection_file = os.path.join(self._run_dir, "kernel.json")
        self.ip = os.path.join(self._run_dir, "kernel-ipc")
        cwd = os.path.realpath(kw.pop("cwd", None) or os.getcwd())
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        work = os.path.join(self._run_dir, "work")
        # a copy: the student's code may write there, the record of the submission stays
        shutil.copytree(cwd, work, symlinks=True)
        wrapped = [self.bwrap, *_ISOLATION, *_SYSTEM]
        for path in self.read_only_paths or library_paths():
            wrapped += ["--ro-bind", path, path]
        wrapped += ["--bind", self._run_dir, self._run_dir, "--bind", work, cwd,
                    "--chdir", cwd, "--clearenv",
                    "--setenv", "PATH", f"{Path(sys.executable).parent}:/usr/bin:/bin",
                    "--setenv", "HOME", "/tmp", "--setenv", "LANG", "C.UTF-8",
                    "--", *kernel_cmd]
        kw["cwd"] = self._run_dir
        return wrapped, kw

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self._remove_run_dir()

    def _remove_run_dir(self) -> None:
        if self._run_dir:
            shutil.rmtree(self._run_dir, ignore_errors=True)
            self._run_dir = None


class SandboxedExecute(Execute):
    """nbgrader's ``Execute`` with kernels from :class:`SandboxedKernelManager`
    (``Execute`` passes its kernel manager class as an argument, which beats config)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)


def sandboxed_preprocessors() -> list:
    """nbgrader's autograde preprocessors with :class:`SandboxedExecute` for ``Execute``
    (for ``c.Autograde.autograde_preprocessors``)."""
    return [SandboxedExecute if p is Execute else p
            for p in Autograde.class_traits()["autograde_preprocessors"].default()]
