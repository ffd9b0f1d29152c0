"""The hub and gateway configuration built from LabSettings (no processes started)."""
from __future__ import annotations

import logging
from pathlib import Path

from traitlets.config import Config

from dlclab.hub.config import configure
from dlclab.hub.gateway import configure_gateway
from dlclab.hub.settings import LabSettings


def settings_for(tmp_path: Path, isolated: bool) -> LabSettings:
    return LabSettings(state_dir=tmp_path / "state", isolated=isolated,
                       hub_dir=tmp_path / "hub")


def test_isolated_lab_uses_system_users_and_the_local_backend(tmp_path: Path):
    s = settings_for(tmp_path, isolated=True)
    c, g = Config(), Config()
    configure(c, s)
    configure_gateway(g, s)
    assert c.JupyterHub.spawner_class == "jupyterhub.spawner.LocalProcessSpawner"
    assert c.LocalAuthenticator.create_system_users is True
    assert "HOME_MODE=0700" in c.LocalAuthenticator.add_user_cmd
    assert g.DaskGateway.backend_class.__name__ == "LabLocalBackend"
    guard = ["--preload", "dlclab.hub.dashboard_guard"]  # dashboards: the owner's only
    assert g.ClusterConfig.scheduler_cmd == [str(s.bin / "dask"), "scheduler", *guard]
    assert g.ClusterConfig.worker_cmd == [str(s.bin / "dask"), "worker", *guard]
    assert g.JupyterHubAuthenticator.jupyterhub_service_name == "dask-gateway"
    assert c.Spawner.environment["DASK_GATEWAY__AUTH__TYPE"] == "jupyterhub"
    assert c.Spawner.environment["DLCLAB_CATALOG"] == str(s.catalog_path)
    assert "access:services!service=dask-gateway" in c.Spawner.server_token_scopes


def test_shared_user_fallback_warns_loudly(tmp_path: Path, caplog):
    s = settings_for(tmp_path, isolated=False)
    c, g = Config(), Config()
    with caplog.at_level(logging.WARNING):
        configure(c, s)
        configure_gateway(g, s)
    assert c.JupyterHub.spawner_class == "jupyterhub.spawner.SimpleLocalProcessSpawner"
    assert c.JupyterHub.authenticator_class == "dlclab.hub.auth.LabAuthenticator"
    assert g.DaskGateway.backend_class.endswith("UnsafeLocalBackend")
    assert "NOT isolated" in caplog.text and "NOT running as root" in caplog.text


def test_settings_round_trip_through_the_environment(tmp_path: Path, monkeypatch):
    s = settings_for(tmp_path, isolated=True)
    s.extra_services_dirs = [tmp_path / "x"]
    s.culler_timeout_s = 42
    monkeypatch.setenv(*next(iter(s.to_env().items())))
    assert LabSettings.from_env() == s
