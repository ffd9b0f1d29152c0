"""``dlclab extract``: the extractor of a storage instance's ingest pipeline."""
from __future__ import annotations

import argparse
from pathlib import Path

EPILOG = """\
STORAGE is a directory, optionally named: NAME=PATH. Every file some facility mapping
claims (src/dlclab/metadata/facilities/*.yaml) becomes a digital object in the catalogue;
unchanged files are skipped, changed ones get a new version (E2), corrupt ones are
recorded with their error. Re-running is safe, also after a kill.

examples:
  dlclab extract data/raw/taiga                       # raw TAIGA files, group taiga
  dlclab extract releases=data/releases --access public
  dlclab extract s1=/srv/taiga --url http://storage1:8080/ --db postgresql+psycopg://cat@db/cat
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "extract", help="extract meta-data of storage instances into the catalogue",
        description="Extract meta-data (facility, date, sequence number, events, time range, "
        "cluster/station, sha256, ...) of every file of one or more storages into the "
        "meta-data catalogue.", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("storages", nargs="+", metavar="STORAGE", help="PATH or NAME=PATH")
    p.add_argument("--db", default=None, help="catalogue URL (default: SQLite below the data root)")
    p.add_argument("--experiment", default=None,
                   help="experiment of the storages (default: taiga if the path has 'taiga', "
                   "kascade if 'kcdc', else the folder name)")
    p.add_argument("--access", default=None,
                   help="access group of the storages: public or a collaboration "
                   "(default: taiga for raw TAIGA data, else public)")
    p.add_argument("--url", default=None, help="URL the aggregation service reads the storage at")
    p.add_argument("--verify", action="store_true",
                   help="hash every file, also when size and mtime are unchanged")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def storage_spec(text: str, experiment: str | None, access: str | None, url: str | None):
    """NAME=PATH or PATH -> a StorageSpec; experiment and access default to what the
    facility mappings that claim the storage's files say (raw TAIGA: group taiga)."""
    from dlclab.errors import ParameterError
    from dlclab.metadata.extractor import StorageSpec
    from dlclab.metadata.mapping import load_mappings

    name, sep, path = text.partition("=")
    root = Path(path if sep else name).expanduser().resolve()
    if not root.is_dir():
        raise ParameterError(f"storage {text!r}: {root} is not a directory")
    if not sep:
        name = root.name
    if experiment is None or access is None:
        probe = StorageSpec(name=name, root=root, experiment="?")
        claimed = _claiming_mappings(probe, load_mappings())
        experiments = {m.experiment for m in claimed if "{" not in m.experiment}
        accesses = {m.access for m in claimed if m.access not in ("manifest", "public")}
        experiment = experiment or (experiments.pop() if len(experiments) == 1 else root.name)
        access = access or (accesses.pop() if len(accesses) == 1 else "public")
    return StorageSpec(name=name, root=root, experiment=experiment, access=access, url=url)


def _claiming_mappings(spec, mappings):
    import os

    found = set()
    for directory, _dirs, files in os.walk(spec.root):
        for file_name in files:
            rel = (Path(directory) / file_name).relative_to(spec.root).as_posix()
            for mapping in mappings:
                if mapping.match(rel) is not None:
                    found.add(mapping)
                    break
        if len(found) == len(mappings):
            break
    return found


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from dlclab.metadata.db import default_url, open_catalogue
    from dlclab.metadata.extractor import Extractor

    engine = open_catalogue(args.db or default_url())
    errors = 0
    for text in args.storages:
        spec = storage_spec(text, args.experiment, args.access, args.url)
        extractor = Extractor(engine, spec, verify=args.verify)
        candidates, unrecognised = extractor.candidates()
        total = sum(c.size_bytes for c in candidates)
        with tqdm(total=total, unit="B", unit_scale=True, desc=spec.name,
                  disable=args.no_progress) as bar:
            summary = extractor.run(progress=lambda c: bar.update(c.size_bytes),
                                    candidates=candidates)
        summary.unrecognised = unrecognised
        print(f"{spec.name} ({spec.root}, access {spec.access}): {summary.text()}")
        errors += summary.errors
    engine.dispose()
    # corrupt files are recorded, not fatal: exit 0, but say how many there were
    return 0
