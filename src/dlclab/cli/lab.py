"""``dlclab lab``: serve the lab (JupyterHub, dask-gateway, services) in the foreground."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from dlclab.errors import DlclabError

if TYPE_CHECKING:
    from dlclab.batch.localslurm import LocalSlurm
    from dlclab.hub.settings import LabSettings

EXAMPLES = """\
examples:
  dlclab lab --data-root data              # http://127.0.0.1:8000, admin password printed once
  dlclab lab --data-root data --demo       # also demo users in each group
  dlclab lab --data-root data --port 8080 --state-dir /tmp/lab
  dlclab lab --data-root data --batch slurm  # servers and dask clusters as Slurm jobs
  dlclab lab --batch slurm --slurm-conf /etc/slurm/slurm.conf --slurm-partition jupyter

As root every hub user is a system user with a private home and the collaboration data
under the data root is restricted to its Unix group; otherwise all users share your OS
user (a loud warning says so). State (database, cookie secret, passwords, admin token)
lives in --state-dir: /srv/dlclab/hub as root, <checkout>/.lab/hub otherwise. Rerunning
reuses it. Ctrl-C stops everything the lab started. Should the hub die (a crash, the
OOM killer, kill -9), everything it started is stopped too, users' servers included,
and dlclab lab says so and exits non-zero: it does not restart the hub.
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "lab", help="serve the multi-user lab (JupyterHub + dask-gateway) in the foreground",
        description=__doc__, epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-root", type=Path, help="data root (default: dlclab.config.data_root())")
    p.add_argument("--state-dir", type=Path, help="hub state directory (see above)")
    p.add_argument("--port", type=int, default=8000, help="public port (default 8000)")
    p.add_argument("--ip", default="127.0.0.1", help="public address (default 127.0.0.1)")
    internal = p.add_argument_group("internal ports (change them to run two labs on one machine)")
    internal.add_argument("--hub-port", type=int, default=8081, help="hub API (default 8081)")
    internal.add_argument("--proxy-api-port", type=int, default=8001, help="proxy API (8001)")
    internal.add_argument("--gateway-port", type=int, default=8788, help="dask-gateway HTTP (8788)")
    internal.add_argument("--scheduler-port", type=int, default=8786,
                          help="dask-gateway scheduler traffic (8786)")
    p.add_argument("--demo", action="store_true", help="create demo users (and demo course)")
    batch = p.add_argument_group("batch cluster (docs/batch.md)")
    batch.add_argument("--batch", choices=["slurm"], help=(
        "run users' servers and dask clusters as Slurm jobs; without --slurm-conf a local "
        "test Slurm cluster (munged, slurmctld, slurmd) is started first and stopped last"))
    batch.add_argument("--slurm-conf", type=Path,
                       help="an existing cluster's slurm.conf (a site's; default: a local one)")
    batch.add_argument("--slurm-state-dir", type=Path, help=(
        "the local test cluster's configuration, munge key and state (default "
        "/srv/dlclab/slurm)"))
    batch.add_argument("--slurm-partition", default="", help="partition of all jobs")
    batch.add_argument("--slurm-account", default="", help="account of all jobs")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dlclab.hub.settings import LabSettings

    settings = LabSettings(port=args.port, ip=args.ip, log_level=args.log_level,
                           hub_port=args.hub_port, proxy_api_port=args.proxy_api_port,
                           gateway_port=args.gateway_port,
                           gateway_scheduler_port=args.scheduler_port)
    if args.data_root:
        settings.data_root = args.data_root.resolve()
    if args.state_dir:
        settings.state_dir = args.state_dir.resolve()
    cluster = None
    if args.batch == "slurm":
        cluster = _batch_cluster(args, settings)
    try:
        return _serve(args, settings)
    finally:
        if cluster is not None:
            print("dlclab lab: stopping the local Slurm cluster ...", flush=True)
            cluster.stop()


def _batch_cluster(args: argparse.Namespace, settings: LabSettings) -> LocalSlurm | None:
    """Point ``settings`` at the Slurm cluster; start a local one if none is given.
    Returns the started local cluster (to stop at the end), or None."""
    if not settings.isolated:
        raise DlclabError("--batch slurm runs users' jobs as their own system users: run "
                          "the lab as root (on a site: on the login node, as root)")
    settings.batch = "slurm"
    settings.slurm_partition = args.slurm_partition
    settings.slurm_account = args.slurm_account
    if args.slurm_conf:
        settings.slurm_conf = args.slurm_conf.resolve()
        settings.slurm_job_host = "0.0.0.0"  # jobs run on other hosts
        return None
    from dlclab.batch.localslurm import LocalSlurm, LocalSlurmConfig, default_state_dir

    state = args.slurm_state_dir.resolve() if args.slurm_state_dir else default_state_dir()
    cluster = LocalSlurm(LocalSlurmConfig(state_dir=state))
    print(f"dlclab lab: starting a local Slurm cluster in {cluster.state_dir} ...", flush=True)
    cluster.start()
    for name, value in cluster.lab_settings().items():
        setattr(settings, name, value)
    settings.slurm_partition = args.slurm_partition or cluster.config.partition
    print(f"dlclab lab: Slurm nodes {', '.join(cluster.config.node_names)} idle; "
          f"SLURM_CONF={cluster.conf_path}", flush=True)
    return cluster


def _serve(args: argparse.Namespace, settings: LabSettings) -> int:
    from dlclab.hub.runner import LabRunner, private_stream

    lab = LabRunner(settings)
    changes = lab.prepare(demo=args.demo)
    if changes:
        print(f"dlclab lab: data policy applied to {settings.data_root} ({len(changes)} changes)")
    lab.start()
    try:
        if args.demo:
            lab.setup_demo()
        print(lab.banner(args.demo, show_secrets=private_stream()), flush=True)
    except BaseException:
        lab.stop()
        raise
    return lab.wait()
