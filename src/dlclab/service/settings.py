"""Configuration of the Data Aggregation Service: one pydantic object.

The hub-related values default to what JupyterHub passes to a managed service
(``JUPYTERHUB_SERVICE_PREFIX``, ``JUPYTERHUB_API_URL``, ...); jupyterhub's own
``HubOAuth`` reads those, the service reads them here only to know its URL prefix.
Each field's description is its help text (``python -m dlclab.service --help`` shows it).
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator

GIB = 1 << 30


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
    export_quota_count: int = Field(
        default=20, ge=1,
        description="live exports (queued, running or done, not yet expired) one user may "
        "hold; a new request above it is refused with 429 until the user deletes one or one "
        "expires")
    export_quota_bytes: int = Field(
        default=5 * GIB, ge=1,
        description="total size in bytes of one user's finished exports; a new request is "
        "refused with 429 once it is reached, and an export that would pass it fails "
        "(its file is removed)")
    public_url: str | None = Field(
        default=None,
        description="the lab's public URL as browsers see it (scheme://host[:port], e.g. "
        "https://lab.example.org); a state-changing request authenticated by the login "
        "cookie must come from this origin (Origin or Referer header). Default: the "
        "request's own Host header (same origin behind the hub's proxy)")
    oai_page_size: int = Field(
        default=100, ge=1, le=10_000,
        description="records (ListRecords) or headers (ListIdentifiers) per OAI-PMH "
        "response; a longer list ends its page with a resumption token for the rest")
    oai_token_ttl_s: float = Field(
        default=86400, gt=0,
        description="seconds an OAI-PMH resumption token stays valid after its list "
        "started; an older one is answered with badResumptionToken (harvest again)")
    oai_admin_email: str = Field(
        default="dlclab-admin@localhost.localdomain", pattern=r"^\S+@(\S+\.)+\S+$",
        description="the contact address OAI-PMH Identify gives to harvesting registries")
    storage_keytab: Path | None = Field(
        default=None,
        description="the XRootD sss keytab the service reads root:// storages with (the "
        "storage service makes it: <state>/storage/keys/dlclab-service.keytab); none: "
        "root:// storages see an unauthenticated client")
    #: the hub's API (defaults to JupyterHub's environment when run as a service)
    hub_api_url: str | None = None

    @field_validator("public_url")
    @classmethod
    def _origin_only(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"public_url={value!r}: expected http(s)://host[:port]")
        return value

    @property
    def norm_prefix(self) -> str:
        prefix = "/" + self.prefix.strip("/")
        return "" if prefix == "/" else prefix

    @property
    def secure_cookies(self) -> bool:
        """Cookies get the Secure flag when browsers reach the lab over HTTPS."""
        return bool(self.public_url and self.public_url.startswith("https:"))
