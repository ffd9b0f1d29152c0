"""``dlclab storage copy``: copy a release between storage instances, checksums verified."""
from __future__ import annotations

import argparse
from pathlib import Path

EPILOG = """\
The destination pulls: DEST is the release folder on the destination instance's data root.
Each file's sha256 is checked at the source (the server's checksum) and after the copy;
files already there and intact are skipped, so running it again copies nothing. Exit
status 0 when the destination verifies against the manifest.

example:
  dlclab storage copy root://127.0.0.1:11096//releases/taiga/T2020.1-EDU \\
      /srv/kit/data/releases/taiga/T2020.1-EDU --keytab state/storage/keys/dlclab-service.keytab
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("storage", help="storage instances (XRootD): copy releases",
                              description=__doc__)
    sub = p.add_subparsers(dest="storage_command", metavar="ACTION")
    c = sub.add_parser("copy", help="copy a release from a root:// URL, checksums verified",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("source", help="root://host:port//path/of/the/release")
    c.add_argument("destination", type=Path, help="the release folder to create or complete")
    c.add_argument("--keytab", type=Path, default=None,
                   help="sss keytab to read internal releases with (default: none, public only)")
    c.set_defaults(func=run_copy)


def run_copy(args: argparse.Namespace) -> int:
    from dlclab.storage.transfer import copy_release, report_json

    print(report_json(copy_release(args.source, args.destination, args.keytab)))
    return 0
