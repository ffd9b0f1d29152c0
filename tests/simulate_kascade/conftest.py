"""Shared simulated samples (session-scoped: simulated once for all tests here)."""
from __future__ import annotations

import pytest

from dlclab.simulate.kascade import simulate_kascade


@pytest.fixture(scope="session")
def big_sim():
    """200 000 recorded events without arrays: enough statistics for physics checks."""
    return simulate_kascade(200_000, seed=11)


@pytest.fixture(scope="session")
def array_sim():
    """A small sample with per-station arrays."""
    return simulate_kascade(1500, seed=12, with_arrays=True)
