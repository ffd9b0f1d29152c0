"""The runs directory: one folder per run, ``<runs dir>/<notebook>/<run id>/``, each with
``run.json`` (parameters, inputs, outputs, status, key results) and the RO-Crate. The
index is the directory itself, so it cannot drift from what is on disk."""
from __future__ import annotations

import json
from pathlib import Path

RUN_RECORD = "run.json"


def default_runs_dir() -> Path:
    """``~/dlclab-runs``: each user's runs live in their own home, private to them."""
    return Path.home() / "dlclab-runs"


def list_runs(runs_dir: str | Path | None = None, notebook: str | None = None) -> list[dict]:
    """Run records, oldest first; ``notebook`` filters by notebook name (stem)."""
    root = Path(runs_dir) if runs_dir else default_runs_dir()
    records = []
    for path in sorted(root.glob(f"{notebook or '*'}/*/{RUN_RECORD}")):
        try:
            rec = json.loads(path.read_text())
        except ValueError:
            continue
        rec["run_dir"] = str(path.parent)
        records.append(rec)
    return sorted(records, key=lambda r: (r.get("started", ""), r.get("run_id", "")))
