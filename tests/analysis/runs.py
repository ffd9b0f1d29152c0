"""Execute every analysis notebook once per test session, on the sample release, with
small test parameters; shared by tests/analysis, tests/dashboards and tests/provenance.

The runs go into one runs folder under the session's temporary directory, exactly as
``dlclab run`` places them, so the dashboards find them as a user would (``~/dlclab-runs``
of a HOME pointing there).
"""
from __future__ import annotations

import threading
from pathlib import Path

from dlclab.provenance import RunRecord, run_notebook

#: test parameters: small enough for the suite's time budget, large enough for sane physics
TEST_PARAMETERS: dict[str, dict] = {
    "kascade_spectrum": {},
    "tunka_spectrum": {},
    "iact_deep_learning": {"max_events": 1000, "n_epochs": 5, "cnn_width": 8, "n_trees": 40},
    # KASCADE above 1 PeV keeps the test quick (the full sample is ~2e5 events)
    "arrival_directions": {"kascade_energy_min_eV": 1e15, "n_scrambles": 50},
}
_lock = threading.Lock()
_cache: dict[Path, dict[str, RunRecord]] = {}


def session_runs(base: Path) -> dict[str, RunRecord]:
    """Run (once) every analysis into ``base / 'dlclab-runs'``; returns the run records."""
    runs_dir = base / "dlclab-runs"
    with _lock:
        if runs_dir in _cache:
            return _cache[runs_dir]
        out = {}
        for name, params in TEST_PARAMETERS.items():
            out[name] = run_notebook(name, params, runs_dir=runs_dir)
        out["combined_spectrum"] = run_notebook("combined_spectrum", {"runs_dir": str(runs_dir), "overlap_low_eV": 3e15},
                                                runs_dir=runs_dir)
        _cache[runs_dir] = out
        return out
