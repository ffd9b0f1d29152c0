"""`dlclab run`: parameters validated before executing, RO-Crate provenance, identical
results for identical inputs, past runs listed with their parameters."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from dlclab.cli import main
from dlclab.errors import ParameterError
from dlclab.provenance import list_runs, run_notebook
from dlclab.provenance.runner import RunFailed


@pytest.mark.parametrize("params, words", [
    ({"zenith_max_deg": 90}, ["zenith_max_deg", "90", "maximum"]),
    ({"zenith_max_deg": "steep"}, ["zenith_max_deg", "steep", "number"]),
    ({"systematics": "maybe"}, ["systematics", "maybe", "boolean"]),
    ({"zenit_max_deg": 20}, ["unknown parameter", "zenit_max_deg", "zenith_max_deg"]),
    ({"output_dir": "/tmp/x"}, ["output_dir", "--output"]),
])
def test_a_wrong_parameter_is_refused_before_anything_runs(tmp_path, params, words):
    out = tmp_path / "run"
    with pytest.raises(ParameterError) as err:
        run_notebook("kascade_spectrum", params, output=out)
    for w in words:
        assert w in str(err.value)
    assert not out.exists(), "a refused run must not create its folder or start a kernel"


def test_cli_refuses_with_one_clear_line(tmp_path, capsys):
    rc = main(["run", "iact_deep_learning", "-p", "n_epochs", "0", "--output", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and "\n" not in err
    assert "n_epochs" in err and "minimum" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


def test_every_analysis_declares_typed_documented_parameters(project_root):
    from dlclab.analysis.parameters import declared_parameters

    notebooks = sorted((project_root / "notebooks" / "analyses").glob("*.ipynb"))
    assert len(notebooks) == 5
    for nb in notebooks:
        specs = declared_parameters(nb)
        assert "output_dir" in specs
        for spec in specs.values():
            assert spec.schema.get("type") and spec.schema.get("description"), (nb.name, spec.name)


def test_cli_lists_parameters_with_ranges(capsys):
    assert main(["run", "kascade_spectrum", "--list-parameters"]) == 0
    out = capsys.readouterr().out
    assert "zenith_max_deg (number in [5, 40], default 30.0)" in out


def test_the_rocrate_records_inputs_parameters_environment_and_outputs(analysis_runs, project_root):
    from rocrate.rocrate import ROCrate

    rec = analysis_runs["kascade_spectrum"]
    crate = ROCrate(rec.run_dir)
    action = crate.get("#run")
    assert action.type == "CreateAction"
    assert action["instrument"].id == "source.ipynb"
    objects = {o.id: o for o in action["object"]}
    params = {o["name"]: json.loads(o["value"]) for o in objects.values() if o.type == "PropertyValue"}
    assert params["zenith_max_deg"] == 30.0 and "output_dir" not in params
    inputs = [o for o in objects.values() if o.type == "Dataset"]
    measured = next(o for o in inputs if o["name"] == "kascade_measured")
    assert measured["catalog_entry"] == "kcdc.events" and measured["release"] == "OCEANUS"
    assert len(measured["uuid_sha256"]) == 64 and measured["n_events"] > 1000
    parts = measured["hasPart"]
    parts = parts if isinstance(parts, list) else [parts]
    assert parts and all(len(p["sha256"]) == 64 for p in parts)
    # the digest is that of the selected events' UUIDs, recomputable from the catalogue
    from dlclab.analysis import inputs as analysis_inputs
    sample = analysis_inputs.kascade_measured("OCEANUS")
    assert measured["uuid_sha256"] == analysis_inputs.uuid_digest(sample.events["uuid"])
    env = crate.get("#environment")
    lock = project_root / "requirements" / "lab.lock"
    assert env["lockSha256"] == hashlib.sha256(lock.read_bytes()).hexdigest()
    assert json.loads(env["softwareRequirements"])["numpy"]
    results = {r.id: r for r in action["result"]}
    for name in ("results.json", "spectrum.csv", "kascade_spectrum.ipynb"):
        assert results[name]["sha256"] == hashlib.sha256((rec.run_dir / name).read_bytes()).hexdigest()


def _tables(run_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(run_dir.glob("*.csv"))} | {
        "results.json": (run_dir / "results.json").read_bytes()}


def test_the_same_inputs_give_identical_result_tables(analysis_runs, tmp_path):
    """Seeded split, forests and CNNs with deterministic algorithms: a rerun with the same
    inputs reproduces every result table byte for byte (the IACT analysis is the hardest
    case: random split, random forests and PyTorch training)."""
    a = analysis_runs["iact_deep_learning"]
    b = run_notebook("iact_deep_learning", a.record["user_parameters"], output=tmp_path / "again")
    assert set(_tables(a.run_dir)) == {"separation.csv", "energy_performance.csv", "test_events.csv", "results.json"}
    assert _tables(a.run_dir) == _tables(b.run_dir)
    assert a.record["inputs"][0]["uuid_sha256"] == b.record["inputs"][0]["uuid_sha256"]
    events = pd.read_csv(a.run_dir / "test_events.csv")
    assert events["cnn_gammaness"].nunique() > 10  # a trained network, not a constant


def test_past_runs_are_listed_with_parameters_and_results(analysis_runs, capsys):
    runs_dir = analysis_runs["kascade_spectrum"].run_dir.parents[1]
    records = list_runs(runs_dir)
    names = {r["notebook_name"] for r in records}
    assert {"kascade_spectrum.ipynb", "iact_deep_learning.ipynb", "combined_spectrum.ipynb"} <= names
    iact_run = next(r for r in records if r["notebook_name"] == "iact_deep_learning.ipynb")
    assert iact_run["user_parameters"]["n_epochs"] == 5 and iact_run["results"]["roc_auc_cnn"]["value"] > 0.6
    assert main(["runs", "iact_deep_learning", "--runs-dir", str(runs_dir)]) == 0
    out = capsys.readouterr().out
    assert "completed" in out and "n_epochs=5" in out and "roc_auc_cnn=" in out


def test_a_failing_notebook_is_recorded_as_failed(tmp_path):
    empty = tmp_path / "no-runs"
    empty.mkdir()
    with pytest.raises(RunFailed) as err:
        run_notebook("combined_spectrum", {"runs_dir": str(empty)}, output=tmp_path / "failed")
    assert "FileNotFoundError" in str(err.value) and "no completed kascade_spectrum run" in str(err.value)
    record = json.loads((tmp_path / "failed" / "run.json").read_text())
    assert record["status"] == "failed" and "FileNotFoundError" in record["error"]
    assert (tmp_path / "failed" / "ro-crate-metadata.json").exists()
