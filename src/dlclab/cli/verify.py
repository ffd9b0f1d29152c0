"""``dlclab verify``: check releases against their manifests (sha256 and size of every file)."""
from __future__ import annotations

import argparse
from pathlib import Path

EPILOG = """\
Without RELEASE_DIR, every release below the data root is checked. Exit status 0 when
every file matches its manifest; 1 when any file changed, is missing or is not listed,
with one line per problem naming the file.

examples:
  dlclab verify                                        # all releases below the data root
  dlclab verify data/releases/kascade/OCEANUS          # one release
  dlclab verify --data-root /srv/dlclab/data --json
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "verify", help="check releases against their manifests (sha256 of every file)",
        description="Recompute the sha256 and size of every file of one or more releases and "
        "compare them with the release's manifest.json.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("releases", nargs="*", metavar="RELEASE_DIR", type=Path,
                   help="release directories (default: all below the data root)")
    p.add_argument("--data-root", type=Path, default=None,
                   help="data root to search when no RELEASE_DIR is given (default: DLCLAB_DATA_ROOT "
                   "or the checkout's data/)")
    p.add_argument("--json", action="store_true", help="one JSON object with the result of each release")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from dlclab import config
    from dlclab.errors import ParameterError
    from dlclab.store import DataRoot, IntegrityError, verify_release

    releases = list(args.releases)
    if not releases:
        root = args.data_root or config.data_root()
        releases = DataRoot(root).release_dirs()
        if not releases:
            raise ParameterError(f"no releases below {root}/releases (run `make data` or dlclab convert)")
    results = []
    for release_dir in releases:
        try:
            manifest = verify_release(release_dir, progress=not args.no_progress and not args.json)
        except IntegrityError as exc:
            results.append({"release": str(release_dir), "ok": False, "problems": exc.problems})
            if not args.json:
                for problem in exc.problems:
                    print(f"FAILED {release_dir}: {problem}", file=sys.stderr)
            continue
        results.append({"release": str(release_dir), "ok": True, "experiment": manifest.experiment,
                         "name": manifest.release, "files": len(manifest.files)})
        if not args.json:
            print(f"ok     {release_dir} ({manifest.experiment}/{manifest.release}, "
                  f"{len(manifest.files)} files)")
    if args.json:
        print(json.dumps({"ok": all(r["ok"] for r in results), "releases": results}, indent=1))
    return 0 if all(r["ok"] for r in results) else 1
