"""Run the Data Aggregation Service (as a JupyterHub-managed service or on its own).

    python -m dlclab.service --db sqlite:///data/metadata/catalogue.sqlite --export-dir /tmp/x

Under JupyterHub, the hub passes the service's URL and prefix in its environment
(``JUPYTERHUB_SERVICE_URL``, ``JUPYTERHUB_SERVICE_PREFIX``); they are the defaults here.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from urllib.parse import urlparse


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    from dlclab.metadata.db import default_url
    from dlclab.service.app import create_app
    from dlclab.service.adapters import configure_xrootd
    from dlclab.service.settings import ServiceSettings

    fields = ServiceSettings.model_fields
    hub_url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10101"))
    p = argparse.ArgumentParser(prog="python -m dlclab.service", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", default=None, help="catalogue URL (default: SQLite below the data root)")
    p.add_argument("--export-dir", type=Path, required=True, help="where exports are written")
    p.add_argument("--prefix", default=os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/"))
    p.add_argument("--host", default=hub_url.hostname or "127.0.0.1")
    p.add_argument("--port", type=int, default=hub_url.port or 10101)
    p.add_argument("--export-ttl", type=float, default=14 * 86400, help="seconds an export lives")
    # the help and defaults of these are the settings' own (declared once, there)
    p.add_argument("--export-quota-count", type=int,
                   default=fields["export_quota_count"].default,
                   help=fields["export_quota_count"].description)
    p.add_argument("--export-quota-bytes", type=int,
                   default=fields["export_quota_bytes"].default,
                   help=fields["export_quota_bytes"].description)
    p.add_argument("--oai-page-size", type=int, default=fields["oai_page_size"].default,
                   help=fields["oai_page_size"].description)
    p.add_argument("--oai-token-ttl", type=float, default=fields["oai_token_ttl_s"].default,
                   help=fields["oai_token_ttl_s"].description)
    p.add_argument("--oai-admin-email", default=fields["oai_admin_email"].default,
                   help=fields["oai_admin_email"].description)
    p.add_argument("--public-url", default=None, help=fields["public_url"].description)
    p.add_argument("--storage-keytab", type=Path, default=None,
                   help=fields["storage_keytab"].description)
    args = p.parse_args(argv)
    settings = ServiceSettings(db_url=args.db or default_url(), export_dir=args.export_dir,
                               prefix=args.prefix, export_ttl_s=args.export_ttl,
                               export_quota_count=args.export_quota_count,
                               export_quota_bytes=args.export_quota_bytes,
                               oai_page_size=args.oai_page_size,
                               oai_token_ttl_s=args.oai_token_ttl,
                               oai_admin_email=args.oai_admin_email,
                               public_url=args.public_url, storage_keytab=args.storage_keytab)
    # before any root:// access: the XRootD client reads its identity once
    configure_xrootd(settings.storage_keytab)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
