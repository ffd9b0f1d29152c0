"""The hub's configuration, in one object.

``dlclab lab`` (or the test harness) builds a :class:`LabSettings`, hands it to the hub
process and the services it starts as one JSON environment variable, and every config
file (``hub/jupyterhub_config.py``, ``hub/dask_gateway_config.py``) reads it back with
:meth:`LabSettings.from_env`.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from dlclab import config

SETTINGS_ENV = "DLCLAB_LAB_SETTINGS"

#: Hub groups. Collaboration groups are also Unix groups guarding collaboration data.
COLLABORATION_GROUPS = ("kascade", "taiga")
LAB_GROUPS = (*COLLABORATION_GROUPS, "students", "instructors", "admins")


def running_as_root() -> bool:
    return os.geteuid() == 0


def default_state_dir() -> Path:
    """``/srv/dlclab/hub`` as root (a machine-wide lab), else ``<checkout>/.lab/hub``."""
    if running_as_root():
        return Path("/srv/dlclab/hub")
    base = config.PROJECT_ROOT if config.PROJECT_ROOT is not None else Path.home()
    return base / ".lab" / "hub"


def default_courses_file() -> Path | None:
    """The checkout's ``courses/courses.yaml`` (nbgrader courses), if there is one."""
    if config.PROJECT_ROOT is not None and (config.PROJECT_ROOT / "courses" / "courses.yaml").exists():
        return config.PROJECT_ROOT / "courses" / "courses.yaml"
    return None


def default_courses_root() -> Path:
    """``/srv/nbgrader`` as root, else ``<checkout>/.lab/nbgrader``: course folders, exchange."""
    if running_as_root():
        return Path("/srv/nbgrader")
    base = config.PROJECT_ROOT if config.PROJECT_ROOT is not None else Path.home()
    return base / ".lab" / "nbgrader"


def default_hub_dir() -> Path:
    """The checkout's ``hub/`` (config files, ``services.d``, ``demo.d``)."""
    if config.PROJECT_ROOT is not None:
        return config.PROJECT_ROOT / "hub"
    return Path(sys.prefix) / "share" / "dlclab" / "hub"


@dataclass
class LabSettings:
    """Everything the hub, its proxy, its services and the users' servers need to agree on.

    Times are in seconds (``*_s``), memory in GiB (``*_gib``).
    """

    data_root: Path = field(default_factory=config.data_root)
    state_dir: Path = field(default_factory=default_state_dir)
    hub_dir: Path = field(default_factory=default_hub_dir)
    #: the venv every process runs from (its ``bin`` holds jupyterhub, the proxy, dask)
    venv: Path = field(default_factory=lambda: Path(sys.prefix))
    ip: str = "127.0.0.1"
    port: int = 8000
    hub_port: int = 8081
    proxy_api_port: int = 8001
    gateway_port: int = 8788
    gateway_scheduler_port: int = 8786
    #: system users + LocalProcessSpawner + LocalBackend (root), or one shared OS user
    isolated: bool = field(default_factory=running_as_root)
    #: extra directories of service definitions (tests add theirs)
    extra_services_dirs: list[Path] = field(default_factory=list)
    #: idle culler: servers without activity for this long are stopped
    culler_timeout_s: int = 3600
    culler_every_s: int = 300
    #: how often a server reports its activity to the hub (JUPYTERHUB_ACTIVITY_INTERVAL)
    activity_interval_s: int = 300
    #: how often a busy kernel refreshes its server's activity
    busy_activity_interval_s: float = 60.0
    #: dask-gateway: clusters idle this long are stopped; per-worker caps; per-cluster caps
    cluster_idle_timeout_s: float = 1800.0
    worker_cores_max: int = 2
    worker_memory_max_gib: float = 4.0
    cluster_max_workers: int = 4
    #: tests only (security tests make the working-directory race deterministic): a
    #: command the gateway runs as a cluster's owner, with the cluster's working directory
    #: appended, right after handing the owner (part of) that directory. Empty: none.
    gateway_handover_hook: list[str] = field(default_factory=list)
    #: accounts created/ensured at hub start: ``{name: password}`` file (0600)
    accounts_file: Path | None = None
    admin_user: str = "admin"
    #: nbgrader courses hosted by the hub (None: none) and where their folders live
    courses_file: Path | None = field(default_factory=default_courses_file)
    courses_root: Path = field(default_factory=default_courses_root)
    log_level: str = "INFO"
    #: where users' servers and dask clusters run: "" (this machine, processes started by
    #: the hub and the gateway) or "slurm" (Slurm jobs of their owners, docs/batch.md)
    batch: str = ""
    #: the slurm.conf every Slurm command and job uses (None: Slurm's default,
    #: /etc/slurm/slurm.conf); `dlclab lab --batch slurm` sets its local test cluster's
    slurm_conf: Path | None = None
    #: Slurm partition, account and QOS of users' servers and dask clusters ("": the
    #: cluster's defaults)
    slurm_partition: str = ""
    slurm_account: str = ""
    slurm_qos: str = ""
    #: the address users' servers, schedulers and workers listen on inside their jobs:
    #: loopback on a one-machine test cluster; 0.0.0.0 where jobs run on compute nodes
    slurm_job_host: str = "127.0.0.1"
    #: compute node name (squeue's %B) -> the address the hub and gateway reach it at (a test
    #: cluster's nodes are this host: 127.0.0.1); hosts not listed are used as they are
    slurm_node_addresses: dict[str, str] = field(default_factory=dict)
    #: memory of a cluster's scheduler job
    slurm_scheduler_memory_gib: float = 1.0
    #: a user's server job: cores, memory, longest run (Slurm --time, minutes)
    slurm_server_cores: int = 1
    slurm_server_memory_gib: float = 2.0
    slurm_server_time_min: int = 8 * 60
    #: how long a server job may wait in the queue and start before the hub gives up
    slurm_server_start_timeout_s: int = 300
    #: how often the hub asks Slurm whether a server's job still runs (squeue per user)
    slurm_poll_interval_s: int = 30
    #: how long the hub waits at start for each managed service to answer (JupyterHub
    #: alone gives up after ~10 s, too short for a formgrader on a loaded machine)
    service_start_timeout_s: float = 120.0

    # ---- derived paths
    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    @property
    def public_url(self) -> str:
        return f"http://{self.ip}:{self.port}"

    @property
    def hub_api_url(self) -> str:
        return f"http://{self.ip}:{self.hub_port}/hub/api"

    @property
    def gateway_url(self) -> str:
        """The gateway's own HTTP address (what the hub proxy forwards to)."""
        return f"http://{self.ip}:{self.gateway_port}"

    @property
    def gateway_public_url(self) -> str:
        return f"{self.public_url}/services/dask-gateway"

    @property
    def catalog_path(self) -> Path:
        return self.data_root / "catalogs" / "dlc.yaml"

    @property
    def services_dirs(self) -> list[Path]:
        return [self.hub_dir / "services.d", *self.extra_services_dirs]

    @property
    def admin_token_file(self) -> Path:
        """Token of the ``dlclab-admin`` service (``dlclab lab`` and tests use it), 0600."""
        return self.state_dir / "admin-api-token"

    @property
    def default_accounts_file(self) -> Path:
        return self.state_dir / "accounts.json"

    # ---- round trip through the environment
    def to_json(self) -> str:
        def encode(value):
            if isinstance(value, Path):
                return str(value)
            if isinstance(value, list):
                return [encode(v) for v in value]
            return value

        return json.dumps({f.name: encode(getattr(self, f.name)) for f in dataclasses.fields(self)})

    @classmethod
    def from_json(cls, text: str) -> "LabSettings":
        raw = json.loads(text)
        kwargs = {}
        for f in dataclasses.fields(cls):
            if f.name not in raw:
                continue
            value = raw[f.name]
            if f.name in {"data_root", "state_dir", "hub_dir", "venv", "courses_root"}:
                value = Path(value)
            elif f.name in {"accounts_file", "courses_file", "slurm_conf"}:
                value = Path(value) if value else None
            elif f.name == "extra_services_dirs":
                value = [Path(v) for v in value]
            kwargs[f.name] = value
        return cls(**kwargs)

    def to_env(self) -> dict[str, str]:
        return {SETTINGS_ENV: self.to_json()}

    @classmethod
    def from_env(cls) -> "LabSettings":
        text = os.environ.get(SETTINGS_ENV)
        return cls.from_json(text) if text else cls()
