"""Suite-wide fixtures. Area-specific fixtures live in each tests/<area>/conftest.py."""
from __future__ import annotations

from pathlib import Path

import pytest

from dlclab import config

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT


@pytest.fixture(scope="session")
def taiga_fixtures() -> Path:
    """The real TAIGA raw files in ../shared/fixtures/taiga (required: CI has them)."""
    root = config.shared_fixtures()
    assert root is not None and (root / "taiga" / "t133.001").exists(), (
        "../shared/fixtures/taiga is missing beside the checkout")
    return root / "taiga"


@pytest.fixture(scope="session")
def sample_data_root() -> Path:
    """The sample release built by `make data` (read-only for tests: copy before changing)."""
    root = config.data_root()
    assert (root / "catalogs" / "dlc.yaml").exists(), f"no sample release under {root}: run `make data`"
    return root
