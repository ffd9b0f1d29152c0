"""``dlclab export``: a DataShop-like selection from a KCDC export into a new export."""
from __future__ import annotations

import argparse
from pathlib import Path

EPILOG = """\
Like the KCDC DataShop: choose components and quantities, cut on quantity ranges, get
the selection in one of the three export formats. SOURCE is a KCDC export: an ASCII
export folder (Info.txt + component tables), an events.h5 or an events.root (or the
folder holding it). The general component's identity columns (Gt, Mt, R, Ev, UUID)
are always kept, so every row still names its event.

Cuts (values in the quantity's unit, always linear: E in eV, Ze in deg, Xc in m):
  "E>1e15"  "Ze<18"  "1e15<=E<1e16"  "Nmu>=1e4"  "E>=10^15.7"  "grande.Ze<30"
An unqualified name means the array component's quantity (E, Xc, Yc, Ze, Az, Ne, Nmu,
Age); general: T P Gt Mt R Ev; grande: Xc Yc Ze Az Nch Nmu Age; calorimeter: Nhad
Ehad; truth (simulations): E_true Ze_true ... PrimaryId A.

examples:
  dlclab export --format root --cut "E>1e15" --cut "Ze<18" --out sel data/sim/X_HDF5
  dlclab export --format ascii --component array,general --quantities E,Ze,Nmu \\
      --out sel_ascii data/sim/X_ROOT/events.root
  dlclab export --format hdf5 --cut "1e15<=E<1e16" --log10 --out sel_h5 data/sim/X_ASCII
"""


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export", help="select events from a KCDC export by cuts, write ASCII/HDF5/ROOT",
        description="Select events, components and quantities from a KCDC export and write "
        "them as a KCDC export (ASCII folder, events.h5 or events.root).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", type=Path, metavar="SOURCE", help="a KCDC export (any of the three)")
    p.add_argument("--format", required=True, choices=("ascii", "hdf5", "root"))
    p.add_argument("--cut", action="append", default=[], metavar="CUT",
                   help='a cut like "E>1e15"; repeat for several (all must hold)')
    p.add_argument("--component", type=_csv, default=None, metavar="LIST",
                   help="comma list of components (default: all in SOURCE)")
    p.add_argument("--quantities", type=_csv, default=None, metavar="LIST",
                   help="comma list of quantities, e.g. E,Ze,grande.Nch (default: all)")
    p.add_argument("--log10", action="store_true", help="store E, Ne, Nmu ... as log10")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dlclab.cuts import parse_cuts
    from dlclab.formats.kcdc import export_selection, read_export
    from dlclab.formats.kcdc.model import LOG10_CANDIDATES

    cuts = parse_cuts(args.cut)  # bad cuts fail before anything is read
    source = read_export(args.source)
    source.info.source = str(args.source)
    target = export_selection(source, cuts, args.component, args.quantities, args.format, args.out,
                              log10=list(LOG10_CANDIDATES) if args.log10 else [])
    selected = read_export(target, components=["general"])
    print(f"{len(selected)} of {len(source)} events -> {target}")
    return 0
