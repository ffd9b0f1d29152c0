"""The Data Aggregation Service: FastAPI app (REST + OpenAPI, OAI-PMH, a small web page).

This module only wires: the catalogue engine and the export manager live for the app's
lifetime; the routes are in :mod:`dlclab.service.routers`, what they depend on (settings,
identity, a catalogue session) in :mod:`dlclab.service.dependencies`. Every route but the
static assets and ``/oai`` (where anonymous harvesters get the public records) needs a hub
identity (:mod:`dlclab.service.auth`); what a user sees follows their hub groups (:func:`dlclab.metadata.query.visibility`). State-changing requests a
browser's login cookie authenticates pass the cross-site guard (:mod:`dlclab.service.xsrf`).
"""
from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from dlclab.errors import DlclabError
from dlclab.metadata.db import open_catalogue
from dlclab.metadata.thesaurus import default_thesaurus
from dlclab.service.auth import HubIdentity
from dlclab.service.exports import ExportManager
from dlclab.service.oai import OaiRepository
from dlclab.service.quota import Quota
from dlclab.service.routers import exports, files, oai, web
from dlclab.service.settings import ServiceSettings
from dlclab.service.xsrf import XsrfGuard


def create_app(settings: ServiceSettings, identity: HubIdentity | None = None) -> FastAPI:
    prefix = settings.norm_prefix

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.engine = open_catalogue(settings.db_url)
        app.state.exports = ExportManager(app.state.engine, settings.export_dir,
                                          timedelta(seconds=settings.export_ttl_s),
                                          settings.export_workers, settings.export_max_events,
                                          Quota(settings.export_quota_count,
                                                settings.export_quota_bytes))
        yield
        app.state.exports.shutdown()
        app.state.engine.dispose()

    app = FastAPI(title="dlclab Data Aggregation Service",
                  description="Queries across the lab's storage instances (TAIGA, KASCADE), "
                  "KCDC-style export requests and OAI-PMH records of the releases. "
                  "Authenticate with a JupyterHub token: `Authorization: token <token>`.",
                  version="1.0", lifespan=lifespan,
                  # the OpenAPI document is served by the web router, behind authentication;
                  # no Swagger UI: it would load its assets from a CDN
                  openapi_url=None, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.identity = identity or HubIdentity(settings.hub_api_url)
    app.state.oai = OaiRepository(base_url=f"{prefix}/", page_size=settings.oai_page_size,
                                  token_ttl=timedelta(seconds=settings.oai_token_ttl_s),
                                  admin_email=settings.oai_admin_email)
    app.state.thesaurus = default_thesaurus()

    @app.exception_handler(DlclabError)
    async def _dlclab_error(request: Request, exc: DlclabError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    app.add_middleware(XsrfGuard, public_url=settings.public_url)
    app.include_router(files.router, prefix=f"{prefix}/api")
    app.include_router(exports.router, prefix=f"{prefix}/api")
    app.include_router(oai.router, prefix=prefix)
    app.include_router(web.router, prefix=prefix)
    app.mount(f"{prefix}/static", StaticFiles(directory=web.STATIC), name="static")
    return app
