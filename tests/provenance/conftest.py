from __future__ import annotations

import pytest

from tests.analysis.runs import session_runs


@pytest.fixture(scope="session")
def analysis_runs(tmp_path_factory, sample_data_root):
    """Every analysis executed once on the sample release (shared with tests/analysis)."""
    return session_runs(tmp_path_factory.getbasetemp())
