"""Spawner hooks of the lab.

``pre_spawn_hook``: before a server starts, make sure its owner is a system user, that
the user's Unix lab groups equal its hub groups (the file permissions of the data policy
then apply to the new processes), and re-apply the data policy (data published while the
lab runs is covered before anyone new starts working).

``post_stop_hook``: when a server stops, stop every dask-gateway cluster of its owner, so
clusters never outlive the session that started them (dask/dask-gateway#260). The hub
issues the user a token that can only reach the gateway, valid for a minute, uses it to
list and stop the user's clusters through the gateway's API, and deletes it.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path

from dlclab.hub import unix

log = logging.getLogger(__name__)

GATEWAY_SERVICE = "dask-gateway"
CLEANUP_TOKEN_LIFETIME_S = 60


def sync_system_user(spawner) -> None:
    """Ensure the system user exists and its lab groups match the hub groups."""
    name = spawner.user.name
    authenticator = spawner.authenticator
    if hasattr(authenticator, "system_user_exists") and not authenticator.system_user_exists(
        spawner.user
    ):
        authenticator.add_system_user(spawner.user)
    hub_groups = [g.name for g in spawner.user.groups]
    added, removed = unix.sync_user_groups(name, hub_groups)
    if added or removed:
        spawner.log.info("dlclab: Unix groups of %s: +%s -%s", name, sorted(added), sorted(removed))


NOTEBOOKS_LINK = "dlclab-notebooks"


def link_lab_notebooks(home: Path, notebooks: Path, uid: int, gid: int) -> None:
    """``~/dlclab-notebooks`` -> the lab's analyses and dashboards (read-only for users):
    Voila in the user's server renders only what is under the user's root folder."""
    link = home / NOTEBOOKS_LINK
    if home.is_dir() and not link.exists() and not link.is_symlink():
        link.symlink_to(notebooks, target_is_directory=True)
        os.lchown(link, uid, gid)


def make_pre_spawn_hook(isolated: bool, data_root: Path, notebooks: Path | None = None):
    async def pre_spawn_hook(spawner) -> None:
        if not isolated:
            return
        sync_system_user(spawner)
        if notebooks is not None:
            import pwd

            pw = pwd.getpwnam(spawner.user.name)
            link_lab_notebooks(Path(pw.pw_dir), notebooks, pw.pw_uid, pw.pw_gid)
        # A release published while the lab runs (`make data`, `dlclab sample`) must not be
        # readable by everyone until the next restart: re-apply the (idempotent) policy.
        changes = await asyncio.to_thread(unix.apply_data_policy, data_root)
        if changes:
            spawner.log.info("dlclab: data policy re-applied to %s (%d changes)",
                             data_root, len(changes))

    return pre_spawn_hook


async def stop_user_clusters(user, gateway_url: str) -> list[str]:
    """Stop every dask-gateway cluster of ``user`` (a ``jupyterhub.user.User``).

    ``gateway_url`` is the gateway's HTTP address including the ``/services/dask-gateway``
    prefix. Returns the names of the clusters stopped.
    """
    from jupyterhub import orm
    from tornado.httpclient import AsyncHTTPClient, HTTPRequest

    token = user.new_api_token(
        scopes=[f"access:services!service={GATEWAY_SERVICE}"],
        expires_in=CLEANUP_TOKEN_LIFETIME_S,
        note="dlclab: stop dask clusters after the server stopped",
    )
    client = AsyncHTTPClient()
    headers = {"Authorization": f"jupyterhub {token}"}
    stopped = []
    try:
        resp = await client.fetch(
            HTTPRequest(f"{gateway_url}/api/v1/clusters/", headers=headers, request_timeout=20)
        )
        for name in json.loads(resp.body):
            await client.fetch(
                HTTPRequest(
                    f"{gateway_url}/api/v1/clusters/{name}", method="DELETE", headers=headers,
                    request_timeout=20,
                )
            )
            stopped.append(name)
    finally:
        orm_token = orm.APIToken.find(user.db, token)
        if orm_token is not None:
            user.db.delete(orm_token)
            user.db.commit()
    return stopped


def make_post_stop_hook(gateway_url: str):
    async def post_stop_hook(spawner) -> None:
        if spawner.name:  # named servers share the user's clusters: only the default one
            return
        try:
            stopped = await stop_user_clusters(spawner.user, gateway_url)
        except Exception as exc:  # the gateway may be down during hub shutdown
            spawner.log.warning("dlclab: could not stop dask clusters of %s: %s",
                                spawner.user.name, exc)
            return
        if stopped:
            spawner.log.info("dlclab: stopped dask clusters of %s: %s", spawner.user.name, stopped)

    return post_stop_hook
