"""``dlclab lab``: serve the lab (JupyterHub, dask-gateway, services) in the foreground."""
from __future__ import annotations

import argparse
from pathlib import Path

EXAMPLES = """\
examples:
  dlclab lab --data-root data              # http://127.0.0.1:8000, admin password printed once
  dlclab lab --data-root data --demo       # also demo users in each group
  dlclab lab --data-root data --port 8080 --state-dir /tmp/lab

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
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dlclab.hub.runner import LabRunner, private_stream
    from dlclab.hub.settings import LabSettings

    settings = LabSettings(port=args.port, ip=args.ip, log_level=args.log_level,
                           hub_port=args.hub_port, proxy_api_port=args.proxy_api_port,
                           gateway_port=args.gateway_port,
                           gateway_scheduler_port=args.scheduler_port)
    if args.data_root:
        settings.data_root = args.data_root.resolve()
    if args.state_dir:
        settings.state_dir = args.state_dir.resolve()
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
