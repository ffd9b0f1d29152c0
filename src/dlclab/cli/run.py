"""``dlclab run`` and ``dlclab runs``: reproducible analysis runs with provenance."""
from __future__ import annotations

import argparse
import json

RUN_EPILOG = """\
examples:
  dlclab run kascade_spectrum                          # defaults, new folder in ~/dlclab-runs
  dlclab run iact_deep_learning -p n_epochs 3 -p n_train 2000
  dlclab run notebooks/analyses/arrival_directions.ipynb -p experiment tunka --output /tmp/ad
  dlclab run kascade_spectrum --list-parameters        # the declared parameters and ranges

Each run folder holds the executed notebook, its result tables (CSV/JSON with units),
inputs.json (catalogue entries, release, checksums, UUID digest), run.json and an
RO-Crate (ro-crate-metadata.json). Parameters are validated before anything executes.
"""

RUNS_EPILOG = """\
examples:
  dlclab runs                        # every past run: id, notebook, status, parameters
  dlclab runs kascade_spectrum --json
"""


def register(subparsers) -> None:
    p = subparsers.add_parser("run", help="run an analysis notebook with parameters and provenance",
                              description="Execute an analysis notebook with papermill after validating its "
                              "parameters; record an RO-Crate of inputs, parameters, environment and results.",
                              epilog=RUN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("notebook", help="notebook path or name in notebooks/analyses")
    p.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"), default=[],
                   help="set a parameter (repeatable); values are parsed as the declared type")
    p.add_argument("--output", help="run directory (empty or absent); default <runs dir>/<notebook>/<run id>")
    p.add_argument("--runs-dir", help="where runs are kept (default ~/dlclab-runs)")
    p.add_argument("--list-parameters", action="store_true", help="print the declared parameters and exit")
    p.set_defaults(func=_run)

    r = subparsers.add_parser("runs", help="list past analysis runs with parameters and results",
                              epilog=RUNS_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("notebook", nargs="?", help="only runs of this notebook (name without .ipynb)")
    r.add_argument("--runs-dir", help="where runs are kept (default ~/dlclab-runs)")
    r.add_argument("--json", action="store_true", help="full records as JSON")
    r.set_defaults(func=_runs)


def _run(args) -> int:
    from dlclab.analysis.parameters import declared_parameters
    from dlclab.provenance.runner import OUTPUT_PARAMETER, resolve_notebook, run_notebook

    if args.list_parameters:
        for spec in declared_parameters(resolve_notebook(args.notebook)).values():
            if spec.name != OUTPUT_PARAMETER:
                print(spec.describe())
        return 0
    params = dict(args.parameter)
    if len(params) != len(args.parameter):
        from dlclab.errors import ParameterError
        raise ParameterError("a parameter is given twice")
    rec = run_notebook(args.notebook, params, output=args.output, runs_dir=args.runs_dir, progress=True)
    print(f"run {rec.record['run_id']} completed: {rec.run_dir}")
    return 0


def _runs(args) -> int:
    from dlclab.provenance.runs import list_runs

    runs = list_runs(args.runs_dir, args.notebook)
    if args.json:
        print(json.dumps(runs, indent=2, default=str))
        return 0
    if not runs:
        print("no runs")
        return 0
    for r in runs:
        params = " ".join(f"{k}={v}" for k, v in sorted(r.get("user_parameters", {}).items())) or "(defaults)"
        print(f"{r['run_id']}  {r['notebook_name']:<28} {r['status']:<9} {params}")
        print(f"    {r['run_dir']}")
        scalars = [(k, v) for k, v in sorted(r.get("results", {}).items())
                   if isinstance(v, dict) and isinstance(v.get("value"), (int, float))]
        if scalars:
            print("    " + ", ".join(f"{k}={v['value']:.4g}{(' ' + v['unit']) if v.get('unit') else ''}"
                                     for k, v in scalars[:4]))
    return 0
