"""``dlclab convert``: raw TAIGA files or KCDC exports -> an analysis-ready release."""
from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

EPILOG = """\
SOURCE is a raw TAIGA file, a folder of them (searched for *.NNN), or a KCDC export
(an ASCII export folder with general.txt, events.h5 or events.root). The experiment
follows from the sources. Releases are immutable: converting the same sources into the
same release again does nothing; anything else into an existing release is refused.
The Intake catalogues below DATA_ROOT/catalogs are refreshed afterwards.

examples:
  dlclab convert data/raw/kcdc/OCEANUS/KASCADE_SmallDataSample_wA_runs_0877-7417_HDF5 \\
      --release OCEANUS --version 5 --out data
  dlclab convert data/raw/taiga --release T2020.1 --out data        # collaboration:taiga
  dlclab convert ../shared/fixtures/taiga/t133.001 --date 2019-12-20 --release T2019.real
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "convert", help="raw TAIGA files / KCDC exports -> analysis-ready release",
        description="Convert raw TAIGA files or KCDC exports into an immutable, versioned "
        "release of the analysis-ready store (Parquet event tables, IACT images in Zarr, "
        "manifest with sha256 of every file).", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sources", nargs="+", metavar="SOURCE", type=Path)
    p.add_argument("--release", required=True, help="release name (KCDC style: OCEANUS; TAIGA: T2020.1)")
    p.add_argument("--out", type=Path, default=None, metavar="DATA_ROOT",
                   help="data root (default: DLCLAB_DATA_ROOT or the checkout's data/)")
    p.add_argument("--version", default="1", help="release number within the experiment (default 1)")
    p.add_argument("--kind", choices=("measured", "simulation"), default=None,
                   help="default: simulation when the sources carry truth, else measured")
    p.add_argument("--access", default=None,
                   help="public or collaboration:<group> (default: public for KASCADE, "
                   "collaboration:taiga for TAIGA)")
    p.add_argument("--licence", default=None, help="SPDX licence (default CC-BY-4.0)")
    p.add_argument("--doi", default=None, help="DOI of the release, if it has one")
    p.add_argument("--title", default="", help="title of the release")
    p.add_argument("--date", type=dt.date.fromisoformat, default=None,
                   help="night (YYYY-MM-DD) of raw TAIGA files kept outside a date folder")
    p.add_argument("--no-catalogs", action="store_true", help="do not refresh the Intake catalogues")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dlclab import config
    from dlclab.errors import ParameterError
    from dlclab.store.convert import (
        convert_kcdc_exports,
        convert_taiga_raw,
        find_raw_files,
        is_kcdc_export,
        refresh_catalogs,
    )
    from dlclab.store.access import restrict_new_data
    from dlclab.store.manifest import ReleaseInfo

    root = (args.out or config.data_root()).resolve()
    kinds = {is_kcdc_export(s) for s in args.sources}
    if len(kinds) != 1:
        raise ParameterError("sources mix KCDC exports and raw TAIGA files; convert them separately")
    kcdc = kinds.pop()
    experiment = "kascade" if kcdc else "taiga"
    kind = args.kind or ("simulation" if _has_truth(args.sources, kcdc) else "measured")
    info = ReleaseInfo(
        experiment=experiment, release=args.release, version=args.version, kind=kind,
        title=args.title, licence=args.licence or "CC-BY-4.0", doi=args.doi,
        access=args.access or ("public" if kcdc else "collaboration:taiga"))
    progress = not args.no_progress
    if kcdc:
        result = convert_kcdc_exports(args.sources, root, info, progress=progress)
    else:
        if not find_raw_files(args.sources):
            raise ParameterError("no raw TAIGA files (*.NNN) and no KCDC export among the sources")
        result = convert_taiga_raw(args.sources, root, info, date=args.date, progress=progress)
    n = sum(d.get("n_events", 0) for d in result.manifest.datasets.values())
    verb = "unchanged" if result.status == "unchanged" else "built"
    print(f"{verb}: {result.release_dir} ({experiment}/{args.release}, {kind}, {n} events, "
          f"{len(result.manifest.files)} files, access {info.access})")
    if not args.no_catalogs:
        for path in refresh_catalogs(root):
            print(f"catalogue: {path}")
    restrict_new_data(root)  # collaboration data closed at once, not at the next lab start
    return 0


def _has_truth(sources: list[Path], kcdc: bool) -> bool:
    """Simulated sources: a KCDC export whose Info says simulation, or raw files beside a
    night's truth.parquet."""
    from dlclab.store.convert import find_raw_files

    if kcdc:
        from dlclab.formats.kcdc import read_export

        return any(bool(getattr(getattr(read_export(s, components=["general"]), "info", None),
                                "simulation", False))
                   for s in sources)
    return any((p.parent / "truth.parquet").is_file() for p in find_raw_files(sources))
