"""The lab's dask-gateway backend as root: :class:`LabLocalBackend`.

Each cluster runs as its owner's system user with the owner's Unix groups (the data
policy applies to schedulers and workers too), like dask-gateway-server's
``LocalBackend``, with two differences:

* **Root never acts on a path the owner can change.** Upstream creates the cluster's
  working directory, hands all of it to the owner, and afterwards (as root) chowns paths
  in it by name, opens the scheduler's and every worker's log file in it and removes it:
  each of those follows a symlink the owner has put there (into ``/etc``, the hub's
  state...). Here the working directory and its ``logs`` stay root's; the owner gets only
  ``.certs`` (the cluster's TLS files, filled before it is handed over) and ``scratch``
  (dask's temporary directory), both through directory file descriptors, children
  before their parent. Log files are created with ``O_NOFOLLOW | O_EXCL`` relative to
  descriptors opened with ``O_NOFOLLOW``; removal uses the fd-based ``shutil.rmtree``.
* **Dashboards only for the owner** (dask/dask-gateway#570). Upstream routes
  ``/services/dask-gateway/clusters/<name>/`` of the gateway's proxy to the dashboard
  without any check, so anyone who knows (or lists) a cluster name sees it. Here the
  proxy gets no dashboard route; the cluster's dashboard link leads through the owner's
  own server (``/user/<owner>/proxy/<port>/status``, jupyter-server-proxy), which the
  hub lets only the owner (and admins) reach. Users' clients build the link from
  ``DASK_GATEWAY__PUBLIC_ADDRESS``, the hub's public URL (:mod:`dlclab.hub.config`).
"""
from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import tempfile
from urllib.parse import urlsplit

from dask_gateway_server import models
from dask_gateway_server.backends.local import LocalBackend, UnsafeLocalBackend
from traitlets import List, Unicode

#: opening a directory of a working directory: never through a symlink
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
#: creating a file in one: a new file, never through a symlink
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC

CERTS, LOGS, SCRATCH = ".certs", "logs", "scratch"


def dashboard_route(username: str, dashboard_address: str) -> str:
    """The owner's way to a dashboard at ``http://127.0.0.1:<port>``: through their own
    server's jupyter-server-proxy (relative to the hub's public URL)."""
    port = urlsplit(dashboard_address).port
    if port is None:
        raise ValueError(f"dask dashboard address {dashboard_address!r}: expected "
                         "http://<host>:<port>")
    return f"/user/{username}/proxy/{port}/status"


class OwnerDashboardCluster(models.Cluster):
    """The cluster as the gateway's API reports it, with the dashboard route of
    :func:`dashboard_route` instead of the gateway proxy's open one."""

    def to_dict(self, full: bool = True) -> dict:
        out = super().to_dict(full=full)
        if out.get("dashboard_route"):
            out["dashboard_route"] = dashboard_route(self.username, self.dashboard_address)
        return out


def _owner_model(model: models.Cluster) -> OwnerDashboardCluster:
    return OwnerDashboardCluster(**vars(model))  # same fields, only to_dict differs


class OwnerDashboards:
    """Backend mixin: no dashboard route on the gateway's proxy; the API reports each
    dashboard as :func:`dashboard_route` (the owner's server)."""

    async def _check_cluster_proxied(self, cluster) -> None:
        # Only the scheduler's TLS route (its certificate is the owner's); no dashboard
        # route: the gateway's proxy would serve it to anyone (dask/dask-gateway#570).
        if not cluster.added_to_proxies:
            await self.proxy.add_route(kind="SNI", sni=cluster.name,
                                       target=cluster.scheduler_address)
            cluster.added_to_proxies = True

    async def get_cluster(self, cluster_name, wait=False):
        model = await super().get_cluster(cluster_name, wait=wait)
        return None if model is None else _owner_model(model)

    async def list_clusters(self, username=None, statuses=None):
        return [_owner_model(m) for m in await super().list_clusters(username, statuses)]


class LabLocalBackend(OwnerDashboards, LocalBackend):
    """``LocalBackend`` whose root never acts on a path the owner can change and whose
    dashboards are the owner's only (see the module docstring)."""

    handover_hook = List(Unicode(), config=True, help=(
        "Tests only (off by default): a command run as the cluster's owner, with the "
        "cluster's working directory appended, right after the owner is handed their "
        "parts of it and before root's remaining actions on it (the scheduler's log file, "
        "the workers' log files, removal). Security tests put an attack there to make "
        "the race with root deterministic."))

    # ---- the working directory
    def setup_working_directory(self, cluster) -> str:
        """Create the cluster's working directory (see the module docstring) and return
        its path. Everything in it is created relative to directory descriptors."""
        owner = pwd.getpwnam(cluster.username)
        # mkdtemp: a new directory, root's, 0700, under a name nobody chose before us
        workdir = tempfile.mkdtemp(prefix="dask-", suffix=f"-{cluster.name}",
                                   dir=self.clusters_directory or None)
        top = os.open(workdir, _DIR_FLAGS)
        try:
            self._owned_directory(top, CERTS, owner, files={
                "dask.crt": cluster.tls_cert, "dask.pem": cluster.tls_key})
            self._owned_directory(top, SCRATCH, owner, files={})
            # root's: only root creates files in it (each given to the owner, see start_process)
            os.mkdir(LOGS, 0o711, dir_fd=top)
            # root's; the owner's processes only need to traverse it (chdir, .certs, scratch)
            os.fchmod(top, 0o711)
        finally:
            os.close(top)
        self.log.debug("Working directory %s for cluster %s created", workdir, cluster.name)
        return workdir

    @staticmethod
    def _owned_directory(parent: int, name: str, owner: pwd.struct_passwd,
                         files: dict[str, bytes]) -> None:
        """``name`` in ``parent`` (a descriptor) with ``files`` in it, all the owner's
        (mode 0700/0600). The directory is handed over last: until then it is root's."""
        os.mkdir(name, 0o700, dir_fd=parent)
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
        try:
            for filename, data in files.items():
                with os.fdopen(os.open(filename, _NEW_FILE_FLAGS, 0o600, dir_fd=fd), "wb") as f:
                    f.write(data)
                    os.fchown(f.fileno(), owner.pw_uid, owner.pw_gid)
            os.fchown(fd, owner.pw_uid, owner.pw_gid)
        finally:
            os.close(fd)

    def cleanup_working_directory(self, workdir: str) -> None:
        # The owner can change what is inside .certs and scratch: only an rmtree that
        # never follows a symlink (fd-based, Linux) may remove it as root.
        if not shutil.rmtree.avoids_symlink_attacks:
            self.log.error("dlclab: not removing %s: this platform's shutil.rmtree "
                           "follows symlinks", workdir)
            return
        try:
            shutil.rmtree(workdir)
        except FileNotFoundError:
            pass
        except OSError as exc:
            self.log.warning("dlclab: could not remove working directory %s: %s", workdir, exc)

    def get_tls_paths(self, cluster) -> tuple[str, str]:
        certs = os.path.join(cluster.state["workdir"], CERTS)
        return os.path.join(certs, "dask.crt"), os.path.join(certs, "dask.pem")

    def get_env(self, cluster) -> dict[str, str]:
        env = super().get_env(cluster)
        # dask's scratch space (spilled data) in the owner's own directory, not in a
        # /tmp/dask-scratch-space that whoever created it first owns
        env["DASK_TEMPORARY_DIRECTORY"] = os.path.join(cluster.state["workdir"], SCRATCH)
        return env

    def set_file_permissions(self, paths, username):  # pragma: no cover (not called)
        raise NotImplementedError("LabLocalBackend hands over files in setup_working_directory")

    # ---- processes
    def _open_log(self, cluster, name: str) -> int:
        """A new log file ``logs/<name>.log`` for one process, the owner's (0600); root
        opens nothing through a symlink on the way."""
        owner = pwd.getpwnam(cluster.username)
        top = os.open(cluster.state["workdir"], _DIR_FLAGS)
        try:
            logs = os.open(LOGS, _DIR_FLAGS, dir_fd=top)
        finally:
            os.close(top)
        try:
            fd = os.open(f"{name}.log", _NEW_FILE_FLAGS, 0o600, dir_fd=logs)
        finally:
            os.close(logs)
        os.fchown(fd, owner.pw_uid, owner.pw_gid)
        return fd

    async def start_process(self, cluster, cmd, env, name) -> int:
        fd = self._open_log(cluster, name)
        try:
            proc = await asyncio.create_subprocess_exec(
                *cmd, preexec_fn=self.make_preexec_fn(cluster), start_new_session=True,
                env=env, stdout=fd, stderr=asyncio.subprocess.STDOUT)
        finally:
            os.close(fd)
        return proc.pid

    def run_handover_hook(self, cluster, workdir: str) -> None:
        """Run :attr:`handover_hook` (tests only) as the owner and log what it printed."""
        if not self.handover_hook:
            return
        owner = pwd.getpwnam(cluster.username)
        done = subprocess.run([*self.handover_hook, workdir], user=owner.pw_uid,
                              group=owner.pw_gid, extra_groups=[], cwd="/",
                              capture_output=True, text=True, timeout=60)
        self.log.warning("dlclab: handover hook (tests only) for %s: rc %d: %s%s",
                         workdir, done.returncode, done.stdout, done.stderr)

    async def do_start_cluster(self, cluster):
        workdir = self.setup_working_directory(cluster)
        yield {"workdir": workdir}
        self.run_handover_hook(cluster, workdir)
        pid = await self.start_process(cluster, self.get_scheduler_command(cluster),
                                       self.get_scheduler_env(cluster), "scheduler")
        yield {"workdir": workdir, "pid": pid}


class LabUnsafeLocalBackend(OwnerDashboards, UnsafeLocalBackend):
    """Without root (every cluster runs as the hub's OS user, no isolation at all): the
    same dashboard links as :class:`LabLocalBackend`."""
