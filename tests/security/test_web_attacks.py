"""Attacks on the Data Aggregation Service's web side, as real users of a real lab hub.

- Cross-site request forgery: alice logs in on the hub and reaches the service through
  the hub's OAuth (the service sets its login cookie); a page of another origin then
  makes her browser POST an export request (and DELETE one) with that cookie. Refused;
  the service's own page still works (tests/service/test_browser.py, and the control
  requests here).
- Access that outlives a group: carol, a TAIGA member, exports the collaboration's
  internal release, an admin removes her from the ``taiga`` group through the hub's REST
  API, and she downloads the export (and a raw file of the collaboration's storage) with
  the same token, which the service's token cache still knows with her old groups.
  Refused, naming the release and the group.
- Disk exhaustion: dave requests exports until his quota is used up; the refusal says the
  limit, his usage and how to free space; deleting one frees a place.

The service runs from the shipped definition (hub/services.d) with a small quota and the
lab's public URL (the Host-header default is exercised by the browser test's hub).
"""
from __future__ import annotations

import json
import re
import time
from contextlib import closing

import httpx
import pytest

from tests.service.conftest import http_storage, lab, service_spec, wait_for_service  # noqa: F401

pytestmark = pytest.mark.hub

SERVICE = "das-web"
QUOTA_COUNT = 2
#: what this module adds to the shipped command line
SERVICE_ARGS = ["--export-quota-count", str(QUOTA_COUNT), "--public-url", "{public_url}"]
EVIL = "http://evil.example"
COOKIE = "dlclab-das-token"


@pytest.fixture(scope="module")
def hub(lab):  # noqa: F811
    """A lab hub of its own (group changes and quotas must not touch other modules):
    alice and carol in the TAIGA collaboration, dave in none."""
    from tests.hub_harness import LabHub

    spec = service_spec(lab, SERVICE, *SERVICE_ARGS)
    with LabHub(users={"alice": ["taiga"], "carol": ["taiga"], "dave": []},
                extra_services=[spec]) as lab_hub:
        yield lab_hub


@pytest.fixture(scope="module")
def url(hub) -> str:
    return wait_for_service(hub, SERVICE)


def api(token: str) -> dict:
    return {"Authorization": f"token {token}"}


def finished(url: str, token: str, request_id: str) -> dict:
    """The export's status once it is no longer queued or running."""
    for _ in range(1200):
        status = httpx.get(f"{url}/api/exports/{request_id}", headers=api(token), timeout=30)
        assert status.status_code == 200, status.text
        if status.json()["status"] not in ("queued", "running"):
            return status.json()
        time.sleep(0.05)
    raise AssertionError(f"export {request_id} did not finish")


def export(url: str, token: str, query: dict) -> dict:
    reply = httpx.post(f"{url}/api/exports", headers=api(token), timeout=30,
                       json={"format": "HDF5", "query": query, "quantities": ["energy"]})
    assert reply.status_code == 202, reply.text
    done = finished(url, token, reply.json()["id"])
    assert done["status"] == "done", done
    return done


def browser_session(hub, short: str, url: str) -> tuple[httpx.Client, str]:
    """Log ``short`` in on the hub's login page and follow the service's OAuth round trip,
    as a browser does: the client then holds the service's login cookie; also returns the
    XSRF value the service's page carries."""
    user = hub.user(short)
    client = httpx.Client(base_url=hub.url, follow_redirects=True, timeout=60)
    client.get("/hub/login")
    service_path = url.removeprefix(hub.url) + "/"
    page = client.post(f"/hub/login?next={service_path}",
                       data={"username": user.name, "password": user.password,
                             "_xsrf": client.cookies.get("_xsrf")})
    assert page.status_code == 200 and str(page.url) == f"{url}/", (page.url, page.text[:300])
    set_cookies = [r.headers.get("set-cookie", "") for r in page.history]
    cookie = next((c for c in set_cookies if c.startswith(f"{COOKIE}=")), None)
    assert cookie is not None, f"the OAuth flow set no {COOKIE} cookie: {set_cookies}"
    attributes = {a.strip().lower() for a in cookie.split(";")}
    assert "httponly" in attributes and ("samesite=lax" in attributes
                                         or "samesite=strict" in attributes), cookie
    found = re.search(r'<meta name="xsrf-token" content="([0-9a-f]*)">', page.text)
    return client, found.group(1) if found else ""


def test_forged_cross_site_requests_with_the_login_cookie_are_refused(hub, url):
    browser, xsrf = browser_session(hub, "alice", url)
    token = hub.token("alice")
    body = {"format": "HDF5", "query": {"release": "OCEANUS"}, "quantities": ["energy"]}
    with closing(browser):
        assert browser.get(f"{url}/api/whoami").json()["name"] == hub.user("alice").name
        before = httpx.get(f"{url}/api/exports", headers=api(token), timeout=30).json()

        # a page on another origin posts with the victim's cookie
        forged = browser.post(f"{url}/api/exports", json=body, headers={"Origin": EVIL})
        assert forged.status_code == 403, forged.text
        assert "cross-site request refused" in forged.json()["detail"]
        assert EVIL in forged.json()["detail"]
        # the same as a "simple" request (text/plain: no CORS preflight in any browser)
        forged = browser.post(f"{url}/api/exports", content=json.dumps(body),
                              headers={"Origin": EVIL, "Content-Type": "text/plain"})
        assert forged.status_code == 403, forged.text
        # the same from a page whose Referer is elsewhere and that sends no Origin
        forged = browser.post(f"{url}/api/exports", json=body,
                              headers={"Referer": f"{EVIL}/attack.html"})
        assert forged.status_code == 403 and "Referer" in forged.json()["detail"], forged.text
        # no Origin and no Referer at all (a privacy extension strips both)
        forged = browser.post(f"{url}/api/exports", json=body)
        assert forged.status_code == 403, forged.text
        assert "needs an Origin or Referer" in forged.json()["detail"]
        # the right Origin but not the page's XSRF value (a same-site page, not ours)
        forged = browser.post(f"{url}/api/exports", json=body, headers={"Origin": hub.url})
        assert forged.status_code == 403 and "X-XSRF-Token" in forged.json()["detail"], forged.text
        forged = browser.post(f"{url}/api/exports", json=body,
                              headers={"Origin": hub.url, "X-XSRF-Token": "0" * 64})
        assert forged.status_code == 403 and "wrong value" in forged.json()["detail"], forged.text
        after = httpx.get(f"{url}/api/exports", headers=api(token), timeout=30).json()
        assert after == before, "a forged request created an export"

        # what the service's page does: same origin, its XSRF value -> accepted
        assert xsrf, "the page carries no XSRF value"
        mine = browser.post(f"{url}/api/exports", json=body,
                            headers={"Origin": hub.url, "X-XSRF-Token": xsrf})
        assert mine.status_code == 202, mine.text
        request_id = mine.json()["id"]
        # deleting it from another origin is refused too; the page's own delete works
        forged = browser.delete(f"{url}/api/exports/{request_id}", headers={"Origin": EVIL})
        assert forged.status_code == 403, forged.text
        assert finished(url, token, request_id)["status"] == "done"
        deleted = browser.delete(f"{url}/api/exports/{request_id}",
                                 headers={"Origin": hub.url, "X-XSRF-Token": xsrf})
        assert deleted.status_code == 204, deleted.text
    # programs (a token header) are not browsers: no Origin needed
    program = httpx.post(f"{url}/api/exports", headers={**api(token), "Origin": EVIL},
                         json=body, timeout=30)
    assert program.status_code == 202, program.text
    httpx.delete(f"{url}/api/exports/{program.json()['id']}", headers=api(token), timeout=30)


def test_export_refused_after_removal_from_the_group(hub, url):
    carol = hub.user("carol")
    token = hub.token("carol")
    done = export(url, token, {"release": "TSIM1"})  # TAIGA collaboration-internal
    download = f"{hub.url}{done['download_url']}"
    assert httpx.get(download, headers=api(token), timeout=30).status_code == 200
    raw = httpx.get(f"{url}/api/files", headers=api(token), params={"storage": "taiga-raw"},
                    timeout=30).json()["files"][0]
    raw_url = f"{hub.url}{raw['data_url']}"
    assert httpx.get(raw_url, headers=api(token), timeout=30).status_code == 200

    # an admin removes carol from the collaboration, through the hub's REST API
    hub.admin.request("DELETE", "/groups/taiga/users", json={"users": [carol.name]})
    assert "taiga" not in hub.admin.user(carol.name)["groups"]

    reply = httpx.get(download, headers=api(token), timeout=30)
    assert reply.status_code == 403, reply.status_code
    detail = reply.json()["detail"]
    assert "TSIM1" in detail and "'taiga'" in detail, detail
    status = httpx.get(f"{url}/api/exports/{done['id']}", headers=api(token), timeout=30)
    assert status.status_code == 403 and "TSIM1" in status.json()["detail"], status.text
    # a raw file of the collaboration's storage, with the same (still cached) token
    assert httpx.get(raw_url, headers=api(token), timeout=30).status_code == 403


def test_export_quota_refuses_clearly_and_deleting_frees_it(hub, url):
    token = hub.token("dave")
    made = [export(url, token, {"release": "OCEANUS"}) for _ in range(QUOTA_COUNT)]
    body = {"format": "HDF5", "query": {"release": "OCEANUS"}, "quantities": ["energy"]}

    over = httpx.post(f"{url}/api/exports", headers=api(token), json=body, timeout=30)
    assert over.status_code == 429, over.text
    detail = over.json()["detail"]
    assert f"{QUOTA_COUNT} live exports (limit {QUOTA_COUNT})" in detail, detail
    assert "delete" in detail and "/api/exports/" in detail, detail
    assert len(httpx.get(f"{url}/api/exports", headers=api(token), timeout=30).json()) == QUOTA_COUNT

    gone = httpx.delete(f"{url}/api/exports/{made[0]['id']}", headers=api(token), timeout=30)
    assert gone.status_code == 204, gone.text
    assert httpx.get(f"{hub.url}{made[0]['download_url']}", headers=api(token),
                     timeout=30).status_code == 404
    again = httpx.post(f"{url}/api/exports", headers=api(token), json=body, timeout=30)
    assert again.status_code == 202, again.text
    # another user cannot delete dave's exports (nor learn they exist)
    other = httpx.delete(f"{url}/api/exports/{made[1]['id']}", headers=api(hub.token("alice")),
                         timeout=30)
    assert other.status_code == 404, other.text
