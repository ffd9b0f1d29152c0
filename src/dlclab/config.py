"""Where the lab's files live. The one place that reads the lab's environment variables.

``DLCLAB_DATA_ROOT``  root of releases and raw data (default: ``<project>/data``, or
                      ``/srv/dlclab/data`` when the package is installed outside a checkout).
``DLCLAB_CATALOG``    the top Intake catalogue (default: ``<data root>/catalogs/dlc.yaml``
                      if it exists, else the checkout's ``catalogs/dlc.yaml``).
``DLCLAB_RUN_OUTPUT`` set by ``dlclab run`` for the notebook it executes: where the
                      notebook writes its results (default: ``./results``).
``JUPYTERHUB_API_URL``, ``JUPYTERHUB_API_TOKEN``  set by JupyterHub in a user's server:
                      the hub's API and the server's token (:func:`hub_api`).
"""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
#: The checkout this package was installed from in editable mode, or None in an image.
PROJECT_ROOT: Path | None = (
    PACKAGE_DIR.parents[1] if (PACKAGE_DIR.parents[1] / "pyproject.toml").exists() else None
)
INSTALLED_DATA_ROOT = Path("/srv/dlclab/data")


def data_root() -> Path:
    """The data root: releases, raw files and generated catalogues below it."""
    env = os.environ.get("DLCLAB_DATA_ROOT")
    if env:
        return Path(env)
    if PROJECT_ROOT is not None:
        return PROJECT_ROOT / "data"
    return INSTALLED_DATA_ROOT


def catalog_path() -> Path:
    """The top catalogue file that :func:`dlclab.catalog` opens."""
    env = os.environ.get("DLCLAB_CATALOG")
    if env:
        return Path(env)
    generated = data_root() / "catalogs" / "dlc.yaml"
    if generated.exists() or PROJECT_ROOT is None:
        return generated
    return PROJECT_ROOT / "catalogs" / "dlc.yaml"


def shared_fixtures() -> Path | None:
    """``../shared/fixtures`` beside the checkout (real TAIGA files), if present."""
    if PROJECT_ROOT is None:
        return None
    path = PROJECT_ROOT.parent / "shared" / "fixtures"
    return path if path.is_dir() else None


RUN_OUTPUT_ENV = "DLCLAB_RUN_OUTPUT"


def run_output_dir() -> Path:
    """Where an analysis notebook writes its results: the folder of the ``dlclab run``
    executing it, else ``./results``."""
    return Path(os.environ.get(RUN_OUTPUT_ENV, "results"))


def hub_api() -> tuple[str, str] | None:
    """(hub API URL, token) inside a hub user's server, None elsewhere."""
    api, token = os.environ.get("JUPYTERHUB_API_URL"), os.environ.get("JUPYTERHUB_API_TOKEN")
    return (api, token) if api and token else None
