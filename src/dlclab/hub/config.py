"""JupyterHub configuration of the lab, built from one :class:`LabSettings`.

Least privilege, by construction:

* the default ``user`` role is ``self`` plus access to the services open to everyone
  (dask-gateway, and every ``services.d`` entry with ``access: all``); services open to
  some groups get an ``access-<service>`` role bound to those groups;
* a server's own token (``$JUPYTERHUB_API_TOKEN``) carries only ``access:servers!server``
  (its own server), ``users:activity!user`` (activity reports) and the services'
  access scopes, of which JupyterHub keeps the subset the owner holds;
* the idle culler's token can list users, read activity/servers and stop servers.
"""
from __future__ import annotations

import logging

from dlclab import config

from dlclab.hub import gateway as gateway_config
from dlclab.hub.hooks import make_post_stop_hook, make_pre_spawn_hook
from dlclab.hub.services import free_port, load_services, service_roles
from dlclab.hub.settings import LAB_GROUPS, LabSettings, running_as_root

log = logging.getLogger(__name__)

GATEWAY_SCOPE = f"access:services!service={gateway_config.SERVICE_NAME}"
ADMIN_SERVICE = "dlclab-admin"
CULLER_SCOPES = ["list:users", "read:users:activity", "read:servers", "delete:servers"]
SERVER_TOKEN_SCOPES = ["access:servers!server", "users:activity!user"]
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
NOT_ISOLATED_WARNING = (
    "\n" + "!" * 78 + "\n"
    "!! dlclab lab is NOT running as root: every hub user runs as the same OS user.\n"
    "!! Users are NOT isolated from each other (files, processes, tokens) and the\n"
    "!! collaboration data policy is not enforced by file permissions. Fine for a\n"
    "!! single person trying the lab; run as root for a group or a class.\n"
    + "!" * 78
)


def user_environment(settings: LabSettings) -> dict[str, str]:
    """What a user's server (and so every kernel and terminal) finds in its environment."""
    return {
        "PATH": f"{settings.bin}:{SYSTEM_PATH}",
        "DLCLAB_DATA_ROOT": str(settings.data_root),
        "DLCLAB_CATALOG": str(settings.catalog_path),
        # dask-gateway client: Gateway() and Gateway().new_cluster() need no arguments
        "DASK_GATEWAY__ADDRESS": settings.gateway_public_url,
        # dashboard links: <hub>/user/<owner>/proxy/<port>/status (the owner's only, see
        # dlclab.hub.gateway_backend), so relative to the hub, not to the gateway
        "DASK_GATEWAY__PUBLIC_ADDRESS": settings.public_url,
        "DASK_GATEWAY__PROXY_ADDRESS": f"gateway://{settings.ip}:{settings.gateway_scheduler_port}",
        "DASK_GATEWAY__AUTH__TYPE": "jupyterhub",
        # dask dashboards of local clusters, reached through jupyter-server-proxy
        "DASK_DISTRIBUTED__DASHBOARD__LINK": "{JUPYTERHUB_SERVICE_PREFIX}proxy/{port}/status",
        # and answering the user's own connections only (dlclab.hub.dashboard_guard)
        "DASK_DISTRIBUTED__SCHEDULER__PRELOAD": '["dlclab.hub.dashboard_guard"]',
        "DASK_DISTRIBUTED__WORKER__PRELOAD": '["dlclab.hub.dashboard_guard"]',
        "JUPYTERHUB_ACTIVITY_INTERVAL": str(settings.activity_interval_s),
        # hub/jupyter-config: JupyterLab page config of the lab (no news/consent pop-up)
        "JUPYTER_CONFIG_PATH": str(settings.hub_dir / "jupyter-config"),
        # the dashboards' own Voila template (no CDN assets), found under voila/templates
        **({"JUPYTER_PATH": str(config.PROJECT_ROOT / "notebooks" / "dashboards")}
           if config.PROJECT_ROOT else {}),
    }


def builtin_services(settings: LabSettings) -> tuple[list[dict], list[dict]]:
    """The services every lab runs: dask-gateway and the idle culler (entries, roles)."""
    env = {"PATH": f"{settings.bin}:{SYSTEM_PATH}", **settings.to_env()}
    gateway = {
        "name": gateway_config.SERVICE_NAME,
        "url": settings.gateway_url,
        "command": [str(settings.bin / "dask-gateway-server"),
                    "-f", str(settings.hub_dir / "dask_gateway_config.py")],
        "environment": env,
        "cwd": str(settings.state_dir),
        "display": False,
    }
    culler = {
        "name": "idle-culler",
        "command": [str(settings.python), "-m", "dlclab.hub.culler",
                    f"--timeout={settings.culler_timeout_s}",
                    f"--cull-every={settings.culler_every_s}"],
        "environment": {"PATH": env["PATH"]},
        "cwd": str(settings.state_dir),
        "display": False,
    }
    roles = [{"name": "idle-culler", "scopes": CULLER_SCOPES, "services": ["idle-culler"]}]
    entries = [gateway, culler]
    if settings.admin_token_file.exists():
        # `dlclab lab` (demo users, demo course) and the tests administer the hub with it
        entries.append({"name": ADMIN_SERVICE,
                        "api_token": settings.admin_token_file.read_text().strip()})
    return entries, roles


def configure(c, settings: LabSettings) -> None:
    """Fill the JupyterHub config object ``c`` for the lab described by ``settings``."""
    state = settings.state_dir
    state.mkdir(parents=True, exist_ok=True, mode=0o700)

    # ---- network and state
    c.JupyterHub.bind_url = settings.public_url
    c.JupyterHub.hub_bind_url = f"http://{settings.ip}:{settings.hub_port}"
    c.ConfigurableHTTPProxy.command = [str(settings.bin / "configurable-http-proxy")]
    c.ConfigurableHTTPProxy.api_url = f"http://{settings.ip}:{settings.proxy_api_port}"
    c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
    c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
    c.JupyterHub.log_level = settings.log_level
    c.LabHubApp.service_start_timeout = settings.service_start_timeout_s
    c.JupyterHub.cleanup_servers = True  # Ctrl-C stops every user server
    c.JupyterHub.cleanup_proxy = True
    # POST /users/:name/server answers at once (202) instead of holding the request 10 s:
    # concurrent spawns through the API really are concurrent; browsers see the progress page.
    c.JupyterHub.tornado_settings = {"slow_spawn_timeout": 0}

    # ---- authentication: accounts with admin approval, never open access
    auth = "dlclab.hub.auth.LabSystemUserAuthenticator" if settings.isolated else \
        "dlclab.hub.auth.LabAuthenticator"
    c.JupyterHub.authenticator_class = auth
    c.Authenticator.admin_users = {settings.admin_user}
    # Native's own approval is the gate: only approved accounts with a password log in.
    c.Authenticator.allow_all = True
    c.NativeAuthenticator.open_signup = False
    c.NativeAuthenticator.minimum_password_length = 8
    c.NativeAuthenticator.check_common_password = True
    c.NativeAuthenticator.allowed_failed_logins = 5
    c.NativeAuthenticator.seconds_before_next_try = 120
    if settings.accounts_file:
        for cls in ("LabSystemUserAuthenticator", "LabAuthenticator"):
            setattr(getattr(c, cls), "accounts_file", str(settings.accounts_file))
    if settings.isolated:
        c.LocalAuthenticator.create_system_users = True
        from dlclab.hub.auth import ADD_USER_CMD
        c.LocalAuthenticator.add_user_cmd = ADD_USER_CMD

    # ---- spawner
    if settings.isolated:
        c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
    else:
        log.warning(NOT_ISOLATED_WARNING)
        c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
        c.SimpleLocalProcessSpawner.home_dir_template = str(state / "users" / "{username}")
    if settings.batch == "slurm":
        # users' servers are Slurm jobs of their owners (docs/batch.md)
        from dlclab.hub.batch_spawner import configure_batch_spawner

        configure_batch_spawner(c, settings)
    c.Spawner.cmd = [str(settings.bin / "jupyterhub-singleuser")]
    c.Spawner.default_url = "/lab"
    c.Spawner.environment = user_environment(settings)
    c.Spawner.args = [
        "--ServerApp.jpserver_extensions=dlclab.hub.busy_activity=True",
        f"--BusyKernelActivity.interval_s={settings.busy_activity_interval_s}",
        # nothing fetched from the internet at run time: no news feed, no update check
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if not settings.isolated and running_as_root():
        c.Spawner.args.append("--allow-root")  # shared-user mode started by root (benchmarks)
    c.Spawner.start_timeout = 120
    c.Spawner.http_timeout = 90
    notebooks = config.PROJECT_ROOT / "notebooks" if config.PROJECT_ROOT else None
    c.Spawner.pre_spawn_hook = make_pre_spawn_hook(settings.isolated, settings.data_root, notebooks)
    c.Spawner.post_stop_hook = make_post_stop_hook(
        settings.gateway_url + gateway_config.PREFIX)

    # ---- services and roles
    entries, roles = builtin_services(settings)
    specs = load_services(settings)
    entries += [spec.hub_entry for spec in specs]
    extra_roles, everyone_scopes = service_roles(specs)
    roles += extra_roles
    c.JupyterHub.services = entries
    everyone_scopes = [GATEWAY_SCOPE, *everyone_scopes]
    roles.append({"name": "user", "scopes": ["self", *everyone_scopes]})
    roles.append({"name": "admin", "groups": ["admins"], "users": [settings.admin_user],
                  "services": [e["name"] for e in entries if e["name"] == ADMIN_SERVICE]})
    c.JupyterHub.load_roles = roles
    service_scopes = sorted({GATEWAY_SCOPE, *(s.access_scope for s in specs)})
    c.Spawner.server_token_scopes = [*SERVER_TOKEN_SCOPES, *service_scopes]

    # ---- groups (load_groups only adds members, never removes)
    groups: dict[str, dict] = {name: {"users": []} for name in LAB_GROUPS}
    groups["admins"]["users"] = [settings.admin_user]
    c.JupyterHub.load_groups = groups

    # ---- courses: formgrader services, course groups, students' nbgrader config
    if settings.courses_file is not None:
        from dlclab.courses.hub import configure_courses
        from dlclab.courses.provision import CourseLayout
        from dlclab.courses.registry import load_courses

        configure_courses(c, load_courses(settings.courses_file),
                          CourseLayout(settings.courses_root), venv_bin=settings.bin,
                          free_port=lambda: free_port(settings.ip))
