"""``dlclab simulate taiga``: TAIGA / Tunka raw files with truth and exposure.

Mounted by ``dlclab simulate`` (``register(subparsers)`` adds the ``taiga`` command to
the ``simulate`` command's sub-parsers). Heavy imports happen in :func:`run`.
"""
from __future__ import annotations

import argparse
from pathlib import Path



class _FacilityChoices:
    """``--facility`` choices: the TAIGA formats' registry plus ``all``, looked up only
    when argparse needs them (so ``dlclab --help`` imports no numpy)."""

    def _names(self) -> list[str]:
        from dlclab.formats.taiga import FORMATS

        return [*FORMATS, "all"]

    def __iter__(self):
        return iter(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._names()


FACILITY_CHOICES = _FacilityChoices()

EPILOG = """\
Each facility group throws N primaries:
  tunka133, tunka_rex, tunka_grande  N showers from H3a (1e15-1e18 eV, zenith < 45 deg) on the
                                     Tunka array; the three see the same showers and share
                                     event numbers (Rex is read out on Tunka-133 triggers)
  taiga_hiscore                      N showers (1e14-1e17 eV) on the 28 HiSCORE stations
  taiga_iact                         N camera images: N/2 gamma rays, N/2 protons
Only triggered events are written; truth.parquet (one row per thrown primary) and
exposure.json (area, live time, zenith range) sit beside the raw files:
  OUT/raw/taiga/<facility>/<YYYY-MM-DD>/<name>.NNN
The live time follows from N and the flux; as many winter moonless nights are used as
it needs (or --nights). Same --seed, same bytes.

examples:
  dlclab simulate taiga --facility all --events 2000 --out data/sim
  dlclab simulate taiga --facility tunka133 --events 1000000 --clusters 1-7 --out /scratch/t133
  dlclab simulate taiga --facility taiga_iact --events 50000 --seed 7 --out data/iact
"""


def _clusters(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        if "-" in part:
            lo, hi = part.split("-", 1)
            out += list(range(int(lo), int(hi) + 1))
        elif part:
            out.append(int(part))
    if not out or min(out) < 1 or max(out) > 25:
        raise argparse.ArgumentTypeError(f"clusters must be numbers 1..25 like '1-3,7', got {text!r}")
    return sorted(set(out))


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``taiga`` to the ``dlclab simulate`` sub-commands."""
    parser = subparsers.add_parser(
        "taiga", help="TAIGA/Tunka raw files (Tunka-133, -Rex, -Grande, HiSCORE, IACT) with truth",
        description="Simulate TAIGA/Tunka detectors and write their raw formats.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--facility", choices=FACILITY_CHOICES, default="all",
                        help="which detector(s) (default: all)")
    parser.add_argument("--events", type=_positive, default=1000,
                        help="primaries thrown per facility group (default: 1000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    parser.add_argument("--out", type=Path, required=True, help="output root (raw/taiga/... below it)")
    parser.add_argument("--nights", type=_positive, default=None,
                        help="spread the events over this many nights (default: as many as needed)")
    parser.add_argument("--clusters", type=_clusters, default=None,
                        help="Tunka-133 clusters, e.g. '1-7' or '1,2,5' (default: all 25)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from dlclab.simulate.taiga import simulate_taiga

    # the bar counts raw records written (cluster/station records, IACT camera events);
    # how many primaries trigger is not known in advance, so it has no total
    with tqdm(unit="rec", desc=f"taiga {args.facility}", disable=args.no_progress) as bar:
        summary = simulate_taiga(args.out, facility=args.facility, events=args.events, seed=args.seed,
                                 n_nights=args.nights, clusters=args.clusters, progress=bar.update)
    raw = [p for p in summary["files"] if p.suffix[1:].isdigit()]
    print(f"wrote {len(raw)} raw files (+{len(summary['files']) - len(raw)} truth/exposure files) "
          f"under {args.out / 'raw' / 'taiga'}")
    for facility, n in sorted(summary["events"].items()):
        print(f"  {facility:14s} {n:>10d} events")
    return 0
