"""Hub services as configuration: one YAML file per service in ``hub/services.d/``.

Format (all keys but ``name`` optional; see docs/hub.md)::

    name: data-aggregation            # URL: /services/data-aggregation/
    command: ["{python}", "-m", "dlclab.service"]   # omit for an external service
    url: "http://127.0.0.1:{port}"    # {port}: a free port chosen at hub start
    environment: {KEY: value}         # placeholders allowed in values
    access: all                       # who may use it: all | [group, ...] | []
    scopes: [read:users]              # what the service's own token may do
    oauth_no_confirm: true            # skip the "authorize access" page (default true)
    display: true                     # listed on the hub's home page
    user: dlclab-service              # run as this system account (root hub only): the
                                      # hub creates it (no login, no home) at start
    groups: [kascade, taiga]          # the account's supplementary Unix groups
    owns: ["{data_root}/metadata"]    # its private folders (0700, given to it at start)
    cwd: "{state_dir}"

Placeholders: ``{python}``, ``{bin}`` (the venv's bin), ``{port}``, ``{data_root}``,
``{state_dir}``, ``{hub_dir}``, ``{public_url}``, ``{catalog}``.

Loading turns each file into a JupyterHub service entry and, when ``access`` is given,
a role ``access-<name>`` granting ``access:services!service=<name>`` to those groups (or
adding the scope to the default ``user`` role for ``all``). Servers' tokens may carry
the scope (JupyterHub gives each token only the subset its owner holds).

A hub not running as root has no other accounts: ``user``, ``groups`` and ``owns`` are
then ignored (the service runs as the hub's user). As root, :func:`prepare_accounts`
creates each ``user`` with its ``groups`` and hands it its ``owns`` folders before the
hub starts.
"""
from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dlclab.errors import DlclabError
from dlclab.hub.settings import LabSettings

KNOWN_KEYS = {"name", "command", "url", "environment", "access", "scopes",
              "oauth_no_confirm", "display", "user", "groups", "owns", "cwd", "info"}


def free_port(ip: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


@dataclass
class ServiceSpec:
    """One service: its JupyterHub entry and who may access it."""

    name: str
    hub_entry: dict[str, Any]
    #: "all", or the groups allowed (empty: nobody but admins)
    access: str | list[str] = field(default_factory=list)
    scopes: list[str] = field(default_factory=list)
    source: Path | None = None
    #: the system account it runs as (None: the hub's user), its groups, its folders
    account: str | None = None
    account_groups: list[str] = field(default_factory=list)
    owns: list[Path] = field(default_factory=list)

    @property
    def access_scope(self) -> str:
        return f"access:services!service={self.name}"


def _expand(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        try:
            return value.format(**values)
        except (KeyError, IndexError) as exc:
            raise DlclabError(f"unknown placeholder {exc} in {value!r}; known: "
                              f"{', '.join('{' + k + '}' for k in sorted(values))}") from exc
    if isinstance(value, list):
        return [_expand(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _expand(v, values) for k, v in value.items()}
    return value


def placeholders(settings: LabSettings) -> dict[str, str]:
    return {
        "python": str(settings.python),
        "bin": str(settings.bin),
        "data_root": str(settings.data_root),
        "state_dir": str(settings.state_dir),
        "hub_dir": str(settings.hub_dir),
        "public_url": settings.public_url,
        "catalog": str(settings.catalog_path),
    }


def parse_service(raw: dict[str, Any], settings: LabSettings, source: Path | None = None,
                  port: int | None = None) -> ServiceSpec:
    """Turn one service definition (a YAML mapping) into a :class:`ServiceSpec`."""
    where = source or "<service>"
    if not isinstance(raw, dict) or not raw.get("name"):
        raise DlclabError(f"{where}: expected a mapping with at least 'name'")
    unknown = set(raw) - KNOWN_KEYS
    if unknown:
        raise DlclabError(f"{where}: unknown keys {sorted(unknown)}; expected some of "
                          f"{sorted(KNOWN_KEYS)}")
    values = placeholders(settings)
    values["port"] = str(port if port is not None else free_port(settings.ip))
    name = str(raw["name"])
    entry: dict[str, Any] = {"name": name, "oauth_no_confirm": raw.get("oauth_no_confirm", True)}
    for key in ("command", "url", "environment", "display", "cwd", "info"):
        if key in raw:
            entry[key] = _expand(raw[key], values)
    account, account_groups, owns = _account(raw, values, where)
    if account is not None and settings.isolated:
        entry["user"] = account
    else:
        account, account_groups, owns = None, [], []
    if "command" in entry and not isinstance(entry["command"], list):
        raise DlclabError(f"{where}: 'command' must be a list of arguments")
    if "command" in entry and "url" not in entry:
        raise DlclabError(f"{where}: a managed service ('command') needs a 'url'")
    access = raw.get("access", [])
    if not (access == "all" or (isinstance(access, list) and all(isinstance(g, str) for g in access))):
        raise DlclabError(f"{where}: 'access' must be 'all' or a list of group names, got {access!r}")
    scopes = raw.get("scopes", [])
    if not isinstance(scopes, list):
        raise DlclabError(f"{where}: 'scopes' must be a list of JupyterHub scopes")
    return ServiceSpec(name=name, hub_entry=entry, access=access, scopes=list(scopes), source=source,
                       account=account, account_groups=account_groups, owns=owns)


def _account(raw: dict[str, Any], values: dict[str, str],
             where: Any) -> tuple[str | None, list[str], list[Path]]:
    """``user``, ``groups`` and ``owns`` of a definition, checked."""
    from dlclab.hub.settings import LAB_GROUPS

    user = raw.get("user")
    if user is not None and not (isinstance(user, str) and user and user != "root"):
        raise DlclabError(f"{where}: 'user' must be the name of a system account other than "
                          f"root, got {user!r}")
    groups = raw.get("groups", [])
    if not (isinstance(groups, list) and all(g in LAB_GROUPS for g in groups)):
        raise DlclabError(f"{where}: 'groups' must be a list of lab groups "
                          f"({', '.join(LAB_GROUPS)}), got {groups!r}")
    owns = raw.get("owns", [])
    if not (isinstance(owns, list) and all(isinstance(o, str) for o in owns)):
        raise DlclabError(f"{where}: 'owns' must be a list of folders, got {owns!r}")
    if (groups or owns) and user is None:
        raise DlclabError(f"{where}: 'groups' and 'owns' belong to a service account: add 'user'")
    folders = [Path(_expand(o, values)) for o in owns]
    for folder in folders:
        if not folder.is_absolute():
            raise DlclabError(f"{where}: 'owns' entry {str(folder)!r} must be an absolute path")
    return user, list(groups), folders


def prepare_accounts(specs: list[ServiceSpec]) -> list[str]:
    """As root, before the hub starts: every service account with its groups and its
    private folders (:mod:`dlclab.hub.unix`). Returns what changed."""
    from dlclab.hub import unix

    changes: list[str] = []
    for spec in specs:
        if spec.account is None:
            continue
        changes += unix.ensure_service_account(spec.account, spec.account_groups)
        for folder in spec.owns:
            changes += unix.hand_over_private_dir(folder, spec.account)
    return changes


def load_services(settings: LabSettings) -> list[ServiceSpec]:
    """Every ``*.yaml`` of the settings' services directories, sorted by file name."""
    specs: dict[str, ServiceSpec] = {}
    for folder in settings.services_dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.y*ml")):
            try:
                raw = yaml.safe_load(path.read_text())
            except yaml.YAMLError as exc:
                raise DlclabError(f"{path}: not valid YAML ({exc})") from exc
            spec = parse_service(raw, settings, source=path)
            if spec.name in specs:
                raise DlclabError(f"{path}: service {spec.name!r} already defined in "
                                  f"{specs[spec.name].source}")
            specs[spec.name] = spec
    return list(specs.values())


def service_roles(specs: list[ServiceSpec]) -> tuple[list[dict], list[str]]:
    """Roles for the services: ``(roles, scopes to add to the default user role)``."""
    roles: list[dict] = []
    user_scopes: list[str] = []
    for spec in specs:
        if spec.scopes:
            roles.append({"name": f"service-{spec.name}", "scopes": spec.scopes,
                          "services": [spec.name]})
        if spec.access == "all":
            user_scopes.append(spec.access_scope)
        elif spec.access:
            roles.append({"name": f"access-{spec.name}", "scopes": [spec.access_scope],
                          "groups": list(spec.access)})
    return roles, user_scopes
