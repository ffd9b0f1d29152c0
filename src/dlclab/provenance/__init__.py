"""Reproducible analysis runs: papermill execution with validated parameters, an RO-Crate
provenance record and a findable runs directory.

``run_notebook(path, parameters, output=None)`` is what ``dlclab run`` calls; it is also
usable from a notebook in JupyterLab. ``list_runs()`` is what ``dlclab runs`` prints.
"""
from dlclab.provenance.runner import RunRecord, run_notebook
from dlclab.provenance.runs import default_runs_dir, list_runs

__all__ = ["RunRecord", "run_notebook", "list_runs", "default_runs_dir"]
