"""Catalogue fixtures: the sample catalogue (read-only) and a second data root."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def sample_catalog_path(sample_data_root: Path) -> Path:
    return sample_data_root / "catalogs" / "dlc.yaml"


@pytest.fixture(scope="module")
def second_root(sample_data_root: Path, tmp_path_factory) -> Path:
    """A second data root (another mount, say) holding only NABOO, with its own catalogues."""
    from dlclab.catalog import write_catalogs

    root = tmp_path_factory.mktemp("second_root")
    src = sample_data_root / "releases" / "kascade" / "NABOO"
    dst = root / "releases" / "kascade" / "NABOO"
    shutil.copytree(src, dst)
    write_catalogs([dst], root / "catalogs")
    return root
