"""Security of the service against a REAL JupyterHub: tokens, scopes, groups, isolation."""
from __future__ import annotations

import time

import httpx
import pytest

pytestmark = pytest.mark.hub


def get(url: str, token: str | None = None, **kw) -> httpx.Response:
    headers = {"Authorization": f"token {token}"} if token else {}
    return httpx.get(url, headers=headers, timeout=30, **kw)


def test_no_or_bad_token_is_401(service_url):
    for path in ("/api/files", "/api/releases", "/api/exports", "/api/terms", "/openapi.json"):
        assert get(service_url + path).status_code == 401, path
    reply = get(service_url + "/api/files", token="not-a-hub-token")
    assert reply.status_code == 401 and "token" in reply.json()["detail"]


#: the routes open without a hub identity, and why
OPEN = {"/oai": "OAI-PMH: anonymous harvesters get the public records",
        "/": "the page: redirects to the hub's login", "/oauth_callback": "the OAuth round trip"}


def app_routes(app) -> list[tuple[str, set[str]]]:
    """(path, methods) of every API route of ``app``. FastAPI 0.165 keeps an included
    router as one entry (``_IncludedRouter``: its prefix and the router); older versions
    copy the routes."""
    from fastapi.routing import APIRoute

    found = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            found.append((route.path, route.methods))
        elif hasattr(route, "original_router"):
            prefix = route.include_context.prefix
            found += [(prefix + r.path, r.methods) for r in route.original_router.routes]
    return found


def test_every_route_but_oai_needs_an_identity(lab, service_url):
    """Each route of the app (enumerated, so a route added later is covered), asked with
    no credential: 401, except the few in OPEN."""
    from dlclab.service import ServiceSettings, create_app

    app = create_app(ServiceSettings(db_url=lab["db_url"], export_dir=lab["export_dir"]))
    checked = 0
    for template, methods in app_routes(app):
        path = template.replace("{file_uuid}", "00000000-0000-4000-8000-000000000000")
        path = path.replace("{request_id}", "nope")
        assert "{" not in path, f"give {template} a sample value"
        for method in methods - {"HEAD"}:
            reply = httpx.request(method, service_url + path, timeout=30, follow_redirects=False)
            if template in OPEN:
                assert reply.status_code != 401, (method, template)
            else:
                assert reply.status_code == 401, (method, template, reply.status_code)
                checked += 1
    assert checked >= 12  # 7 files, 5 exports, openapi.json
    reply = get(service_url + "/oai", params={"verb": "Identify"})
    assert reply.status_code == 200 and b"<Identify>" in reply.content


def test_token_without_the_service_scope_is_403(hub, service_url):
    token = hub.token("alice", scopes=["read:users:name!user"])
    reply = get(service_url + "/api/files", token)
    assert reply.status_code == 403 and "access:services" in reply.json()["detail"]


def test_groups_come_from_the_hub(hub, service_url):
    alice = get(service_url + "/api/whoami", hub.token("alice")).json()
    bob = get(service_url + "/api/whoami", hub.token("bob")).json()
    assert alice == {"name": hub.user("alice").name, "groups": ["taiga"]}
    assert bob == {"name": hub.user("bob").name, "groups": []}


def test_collaboration_data_refused_to_other_groups(hub, service_url):
    alice, bob = hub.token("alice"), hub.token("bob")
    assert get(service_url + "/api/files", alice, params={"release": "TSIM1"}).json()["files"]
    assert get(service_url + "/api/files", bob, params={"release": "TSIM1"}).status_code == 403
    assert get(service_url + "/api/files", bob, params={"storage": "taiga-raw"}).status_code == 403
    raw = get(service_url + "/api/files", alice, params={"storage": "taiga-raw"}).json()["files"][0]
    assert get(f"{hub.url}{raw['data_url']}", alice).status_code == 200
    assert get(f"{hub.url}{raw['data_url']}", bob).status_code == 403
    reply = httpx.post(service_url + "/api/exports", headers={"Authorization": f"token {bob}"},
                       json={"format": "HDF5", "query": {"release": "TSIM1"}}, timeout=30)
    assert reply.status_code == 403
    oai = get(service_url + "/oai", bob, params={"verb": "ListIdentifiers",
                                                 "metadataPrefix": "oai_dc"}).text
    assert oai.count("<identifier>") == 1  # OCEANUS only, not the collaboration release


def test_other_users_requests_are_invisible(hub, service_url):
    alice, bob = hub.token("alice"), hub.token("bob")
    reply = httpx.post(service_url + "/api/exports", headers={"Authorization": f"token {alice}"},
                       json={"format": "ASCII", "query": {"release": "OCEANUS"},
                             "quantities": ["energy"]}, timeout=30)
    assert reply.status_code == 202
    request_id = reply.json()["id"]
    for _ in range(600):
        status = get(f"{service_url}/api/exports/{request_id}", alice).json()
        if status["status"] not in ("queued", "running"):
            break
        time.sleep(0.05)
    assert status["status"] == "done"
    assert get(f"{hub.url}{status['download_url']}", alice).status_code == 200
    assert get(f"{service_url}/api/exports/{request_id}", bob).status_code == 404
    assert get(f"{hub.url}{status['download_url']}", bob).status_code == 404
    assert request_id not in [r["id"] for r in get(service_url + "/api/exports", bob).json()]
