"""``dlclab sample``: build the sample data root (what ``make data`` runs)."""
from __future__ import annotations

import argparse
from pathlib import Path

EPILOG = """\
Builds, below DATA_ROOT: simulated KCDC exports (ASCII, HDF5, ROOT), simulated TAIGA raw
files with truth, the releases NABOO, OCEANUS, OCEANUS-SIM (KASCADE, public) and
T2020.1 (TAIGA, collaboration:taiga), and the Intake catalogues in DATA_ROOT/catalogs.
A rerun skips what exists and verifies (about a second). See docs/store.md.

examples:
  dlclab sample --data-root data
  DLCLAB_DATA_ROOT=/srv/dlclab/data dlclab sample
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sample", help="build the sample releases and catalogues (make data)",
        description="Build the lab's sample data root: simulated exports and raw files, "
        "analysis-ready releases and Intake catalogues; idempotent.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-root", type=Path, default=None,
                   help="where to build (default: DLCLAB_DATA_ROOT or the checkout's data/)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="multiply the sample's event counts (default 1; tests use less)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import time

    from dlclab import config
    from dlclab.store.sample import build_sample

    root = (args.data_root or config.data_root()).resolve()
    t0 = time.perf_counter()
    report = build_sample(root, scale=args.scale, progress=not args.no_progress)
    for what, status, seconds in report.steps:
        print(f"{status:>9}  {what}  ({seconds:.1f} s)")
    print(f"sample data root {root} ready in {time.perf_counter() - t0:.1f} s; "
          f"catalogue: {root / 'catalogs' / 'dlc.yaml'}")
    return 0
