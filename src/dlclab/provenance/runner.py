"""Execute an analysis notebook with papermill and record its provenance.

Order of work: resolve the notebook, validate the parameters against its declared
schema (nothing runs on a bad value), execute into the run directory, then write
``run.json`` and the RO-Crate, also for failed runs (status ``failed``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from dlclab import config
from dlclab.analysis.parameters import declared_parameters, validate
from dlclab.analysis.results import RESULTS_JSON
from dlclab.errors import DlclabError, ParameterError
from dlclab.provenance.crate import write_crate
from dlclab.provenance.environment import environment
from dlclab.provenance.ledger import LEDGER
from dlclab.provenance.runs import RUN_RECORD, default_runs_dir
from dlclab.store.manifest import sha256_file

#: Injected by the runner; notebooks declare it but users do not set it with -p.
OUTPUT_PARAMETER = "output_dir"


class RunFailed(DlclabError):
    """The notebook raised during execution; the executed copy shows where."""


@dataclass
class RunRecord:
    run_dir: Path
    record: dict

    @property
    def results(self) -> dict:
        return json.loads((self.run_dir / RESULTS_JSON).read_text())


def analyses_dir() -> Path | None:
    return config.PROJECT_ROOT / "notebooks" / "analyses" if config.PROJECT_ROOT else None


def resolve_notebook(name: str | Path) -> Path:
    """A path, or the name of a notebook in ``notebooks/analyses`` (with or without .ipynb)."""
    p = Path(name)
    if p.exists():
        return p.resolve()
    base = analyses_dir()
    if base is not None:
        for cand in (base / p, base / f"{p}.ipynb"):
            if cand.exists():
                return cand.resolve()
    known = sorted(x.stem for x in base.glob("*.ipynb")) if base else []
    raise ParameterError(f"notebook {str(name)!r} not found (analyses: {', '.join(known)})")


def _run_id(notebook_sha: str, params: dict) -> str:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    key = hashlib.sha256((notebook_sha + json.dumps(params, sort_keys=True)).encode()).hexdigest()[:8]
    return f"{stamp}-{key}"


def run_notebook(notebook: str | Path, parameters: dict | None = None, output: str | Path | None = None,
                 runs_dir: str | Path | None = None, kernel_name: str = "python3",
                 progress: bool = False) -> RunRecord:
    """Validate, execute and record one run. Returns the run directory and its record.

    ``output`` is the run directory (must be empty or absent); by default a new folder
    ``<runs dir>/<notebook>/<run id>`` is made so that past runs stay findable.
    """
    import papermill

    src = resolve_notebook(notebook)
    params = dict(parameters or {})
    if OUTPUT_PARAMETER in params:
        raise ParameterError(f"{OUTPUT_PARAMETER!r} is set by the runner; use --output DIR instead")
    typed = validate(src, params)
    specs = declared_parameters(src)
    if OUTPUT_PARAMETER not in specs:
        raise ParameterError(f"{src.name} declares no {OUTPUT_PARAMETER!r} parameter; the runner cannot place results")
    effective = {name: spec.default for name, spec in specs.items() if name != OUTPUT_PARAMETER}
    effective.update(typed)

    nb_sha = sha256_file(src)
    run_id = _run_id(nb_sha, effective)
    run_dir = Path(output) if output else (Path(runs_dir) if runs_dir else default_runs_dir()) / src.stem / run_id
    run_dir = run_dir.resolve()
    if run_dir.exists() and any(run_dir.iterdir()):
        raise ParameterError(f"output directory {run_dir} is not empty; choose a new one")
    run_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, run_dir / "source.ipynb")
    executed = run_dir / src.name

    started = dt.datetime.now(dt.timezone.utc).isoformat()
    status, error = "completed", None
    try:
        papermill.execute_notebook(str(src), str(executed), parameters={**typed, OUTPUT_PARAMETER: str(run_dir)},
                                   kernel_name=kernel_name, cwd=str(src.parent), progress_bar=progress,
                                   log_output=False, report_mode=False)
    except papermill.PapermillExecutionError as exc:
        status, error = "failed", f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
    finished = dt.datetime.now(dt.timezone.utc).isoformat()

    ledger = run_dir / LEDGER
    inputs = json.loads(ledger.read_text())["inputs"] if ledger.exists() else []
    skip = {RUN_RECORD, "ro-crate-metadata.json", "source.ipynb"}
    outputs = sorted(str(p.relative_to(run_dir)) for p in run_dir.rglob("*") if p.is_file() and p.name not in skip)
    results = {}
    if (run_dir / RESULTS_JSON).exists():
        results = json.loads((run_dir / RESULTS_JSON).read_text()).get("results", {})
    record = {
        "run_id": run_id, "notebook": str(src), "notebook_name": src.name, "notebook_sha256": nb_sha,
        "parameters": effective, "user_parameters": typed, "status": status, "error": error,
        "started": started, "finished": finished, "inputs": inputs, "outputs": outputs,
        "output_sha256": {o: sha256_file(run_dir / o) for o in outputs},
        "environment": environment(), "results": results,
    }
    (run_dir / RUN_RECORD).write_text(json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
    write_crate(run_dir, record)
    if status != "completed":
        raise RunFailed(f"{src.name} failed at {error}; executed notebook: {executed}")
    return RunRecord(run_dir, record)
