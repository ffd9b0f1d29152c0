"""``dlclab catalogue``: manage and query the meta-data catalogue."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

EPILOG = """\
examples:
  dlclab catalogue upgrade                                # create / migrate (alembic)
  dlclab catalogue upgrade --db postgresql+psycopg://postgres@127.0.0.1/dlclab
  dlclab catalogue query --facility tunka133 --start 2013-01-05 --end 2013-01-06
  dlclab catalogue query --release OCEANUS --cut energy:1e16: --cut Ze::30 --groups taiga
  dlclab catalogue intake --out data/catalogs             # Intake catalogues of the releases
  dlclab catalogue terms                                  # the thesaurus
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "catalogue", help="create, migrate and query the meta-data catalogue",
        description="The meta-data catalogue of the lab's storages (files, runs, events, "
        "releases). SQLite below the data root by default; --db takes any SQLAlchemy URL.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", default=None, help="catalogue URL (default: SQLite below the data root)")
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("upgrade", help="create the catalogue or migrate it to the newest schema")
    q = sub.add_parser("query", help="files matching file- and event-level criteria (JSON lines)")
    q.add_argument("--start", help="UTC, ISO 8601")
    q.add_argument("--end", help="UTC, ISO 8601")
    q.add_argument("--experiment", action="append", default=[])
    q.add_argument("--facility", action="append", default=[])
    q.add_argument("--cluster", type=int)
    q.add_argument("--station", type=int)
    q.add_argument("--release")
    q.add_argument("--storage", action="append", default=[])
    q.add_argument("--cut", action="append", default=[], help="TERM:MIN:MAX (thesaurus terms)")
    q.add_argument("--groups", default="", help="comma-separated groups to query as "
                   "(default: public data only)")
    q.add_argument("--limit", type=int, default=100)
    i = sub.add_parser("intake", help="write the Intake catalogues of the catalogued releases")
    i.add_argument("--out", type=Path, default=None, help="folder (default: <data root>/catalogs)")
    sub.add_parser("terms", help="list the thesaurus terms and their synonyms")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from datetime import datetime

    from sqlalchemy.orm import Session

    from dlclab import config
    from dlclab.errors import ParameterError
    from dlclab.metadata.db import current_revision, default_url, open_catalogue

    engine = open_catalogue(args.db or default_url())
    try:
        if args.action == "upgrade":
            print(f"catalogue {engine.url.render_as_string()} at revision {current_revision(engine)}")
        elif args.action == "terms":
            from dlclab.metadata.thesaurus import default_thesaurus

            for term in default_thesaurus().terms.values():
                names = ", ".join(f"{s.name} [{s.unit}]" for s in term.synonyms)
                print(f"{term.name} [{term.unit}] ({term.level}): {names}")
        elif args.action == "intake":
            from dlclab.metadata.intake import write_intake_catalogs

            for path in write_intake_catalogs(engine, args.out or config.data_root() / "catalogs"):
                print(path)
        else:
            from dlclab.metadata.query import FileQuery, parse_cut, query_files, visibility

            def when(text: str | None):
                try:
                    return datetime.fromisoformat(text) if text else None
                except ValueError:
                    raise ParameterError(f"time {text!r}: expected ISO 8601") from None

            groups = {g for g in args.groups.split(",") if g}
            query = FileQuery(start=when(args.start), end=when(args.end),
                              experiment=args.experiment, facility=args.facility,
                              cluster=args.cluster, station=args.station, release=args.release,
                              storage=args.storage, cuts=[parse_cut(c) for c in args.cut],
                              limit=args.limit)
            with Session(engine) as session:
                rows, more = query_files(session, query, visibility(session, groups))
                for f in rows:
                    print(json.dumps({"uuid": f.uuid, "storage": f.storage.name, "path": f.path,
                                      "facility": f.facility.name, "start_utc": str(f.start_utc),
                                      "end_utc": str(f.end_utc), "n_events": f.n_events}))
            if more:
                print(f"# more than {args.limit} files match: raise --limit or narrow the query")
    finally:
        engine.dispose()
    return 0
