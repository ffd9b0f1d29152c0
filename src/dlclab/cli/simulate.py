"""``dlclab simulate``: simulated data sets in the experiments' real formats.

Sub-commands: ``kascade`` (here) and, when ``dlclab.simulate.taiga_cli`` exists,
``taiga`` (its ``register(subparsers)`` adds itself). Heavy imports happen inside the
command functions so that ``dlclab --help`` stays instant.
"""
from __future__ import annotations

import argparse
import importlib
from pathlib import Path

EPILOG = """\
examples:
  dlclab simulate kascade --events 100000 --seed 1 --out data/sim
      -> data/sim/KASCADE_SimulationData_nA_runs_0877-7417_{ASCII,HDF5,ROOT}/
  dlclab simulate kascade --events 5000 --with-arrays --format hdf5,root --out data/sim
      per-station arrays (EDeposit, MDeposit, Arrival) in the HDF5 and ROOT exports
  dlclab simulate kascade --events 10000000 --format hdf5 --out /scratch/big
  dlclab simulate taiga --help        (TAIGA/Tunka raw files, when installed)

KASCADE: exactly N recorded events of a KCDC *simulation* data set: H3a primaries
(1e14-1e18 eV, Ze < 60 deg), QGSJet shower sizes with composition, attenuation and
fluctuations, trigger and reconstruction resolutions, GRANDE and CALORIMETER
components, the true primary quantities (truth component) and the exposure (area,
live time, zenith range, thrown spectrum) in the export's Info. Same --seed, same
events. Details: docs/kcdc.md.
"""

KASCADE_EPILOG = """\
The output folder gets one KCDC data set per format, named like KCDC's preselected data
sets: <NAME>_ASCII/ (general.txt, array.txt, grande.txt, calorimeter.txt, truth.txt,
Info.txt), <NAME>_HDF5/events.h5, <NAME>_ROOT/events.root. Values are linear (E in eV);
--log10 stores E, Ne, Nmu (and GRANDE Nch, Nmu, true E, Ne, Nmu) as log10 instead,
as KCDC's database does; every file says which columns hold log10.

examples:
  dlclab simulate kascade --events 20000 --seed 7 --out data/sim
  dlclab simulate kascade --events 2000 --with-arrays --format root --out data/sim
  dlclab simulate kascade --events 1000000 --format ascii --log10 --out /tmp/kcdc
"""


def _positive(text: str) -> int:
    value = int(float(text))
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _formats(text: str) -> list[str]:
    out = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in out if f not in ("ascii", "hdf5", "root")]
    if bad or not out:
        raise argparse.ArgumentTypeError(
            f"formats are a comma list of ascii, hdf5, root; got {text!r}")
    return out


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "simulate", help="simulated KASCADE (KCDC exports) and TAIGA (raw files) data sets",
        description="Simulate data sets in the experiments' real formats, with the true "
        "primary quantities and the exposure needed for absolute fluxes.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="experiment", metavar="EXPERIMENT")
    k = sub.add_parser(
        "kascade", help="KASCADE / KCDC simulation data sets (ASCII, HDF5, ROOT exports)",
        description="Simulate KASCADE events and write them as KCDC exports.",
        epilog=KASCADE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    k.add_argument("--events", type=_positive, required=True,
                   help="number of recorded events (e.g. 100000 or 1e7)")
    k.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    k.add_argument("--out", type=Path, required=True, help="output folder")
    k.add_argument("--with-arrays", action="store_true",
                   help="add per-station arrays (HDF5/ROOT only; about 1 ms per event)")
    k.add_argument("--format", type=_formats, default=["ascii", "hdf5", "root"],
                   help="comma list of ascii, hdf5, root (default: all three)")
    k.add_argument("--release", default="SIMULATION", help="release name written into Info")
    k.add_argument("--name", default=None,
                   help="data set name (default KASCADE_SimulationData_{nA|wA}_runs_0877-7417)")
    k.add_argument("--log10", action="store_true", help="store E, Ne, Nmu ... as log10")
    k.add_argument("--zenith-max", type=float, default=60.0, help="largest zenith angle thrown, deg")
    k.set_defaults(func=run_kascade)
    try:
        taiga = importlib.import_module("dlclab.simulate.taiga_cli")
    except ImportError:
        taiga = None
    if taiga is not None:
        taiga.register(sub)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def run_kascade(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from dlclab.formats.kcdc import FORMATS, write_export
    from dlclab.formats.kcdc.model import LOG10_CANDIDATES
    from dlclab.simulate.kascade import KascadeConfig, default_data_set_name, simulate_kascade

    if not 0 < args.zenith_max <= 60:
        raise SystemExit("dlclab simulate kascade: --zenith-max must lie in (0, 60] deg")
    with tqdm(total=args.events, unit="ev", desc="simulate KASCADE", unit_scale=True) as bar:
        sim = simulate_kascade(args.events, seed=args.seed, with_arrays=args.with_arrays,
                               config=KascadeConfig(zenith_max_deg=args.zenith_max),
                               progress=bar.update)
    name = args.name or default_data_set_name(args.with_arrays)
    export = sim.to_export(release=args.release, data_set=name)
    log10 = list(LOG10_CANDIDATES) if args.log10 else []
    args.out.mkdir(parents=True, exist_ok=True)
    for fmt in tqdm(args.format, desc="write exports", unit="format"):
        target = write_export(export, args.out / f"{name}_{FORMATS[fmt][1]}", fmt, log10=log10)
        print(f"{fmt:5s} {target}")
    e = sim.exposure
    print(f"{len(sim)} events, {e.thrown_events} thrown; exposure: {e.area_m2:.0f} m^2 x "
          f"{e.live_time_s:.4g} s, Ze {e.zenith_min_deg:g}-{e.zenith_max_deg:g} deg "
          f"({e.acceptance_m2_sr:.4g} m^2 sr)")
    return 0
