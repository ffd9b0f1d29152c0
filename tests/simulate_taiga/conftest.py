"""The TAIGA sample, simulated once per test session into a temporary folder."""
from __future__ import annotations

from pathlib import Path

import pytest

from dlclab.simulate.taiga import simulate_taiga_sample


@pytest.fixture(scope="session")
def taiga_sample(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("taiga_sample")
    return out, simulate_taiga_sample(out, seed=1)


@pytest.fixture(scope="session")
def taiga_raw(taiga_sample) -> Path:
    return taiga_sample[0] / "raw" / "taiga"
