"""Configuration of the Data Aggregation Service: one pydantic object.

The hub-related values default to what JupyterHub passes to a managed service
(``JUPYTERHUB_SERVICE_PREFIX``, ``JUPYTERHUB_API_URL``, ...); jupyterhub's own
``HubOAuth`` reads those, the service reads them here only to know its URL prefix.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class ServiceSettings(BaseModel):
    #: catalogue URL (SQLite file or PostgreSQL)
    db_url: str
    #: where finished exports are written (one file per request)
    export_dir: Path
    #: URL prefix the proxy routes to the service, e.g. ``/services/data-aggregation/``
    prefix: str = "/"
    #: service name in the hub (scope ``access:services!service=<name>``)
    service_name: str = "data-aggregation"
    #: how long a finished export stays downloadable (KCDC: about two weeks)
    export_ttl_s: float = Field(default=14 * 86400, gt=0)
    #: worker threads running exports
    export_workers: int = Field(default=2, ge=1, le=16)
    #: largest export, in events (a request above it fails with a clear message)
    export_max_events: int = Field(default=5_000_000, ge=1)
    #: the hub's API (defaults to JupyterHub's environment when run as a service)
    hub_api_url: str | None = None

    @property
    def norm_prefix(self) -> str:
        prefix = "/" + self.prefix.strip("/")
        return "" if prefix == "/" else prefix
