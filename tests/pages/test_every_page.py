"""Every page of the lab, for every kind of demo user, in Debian's Chromium: no error
cell, no console error, and no request to a host other than loopback.

One hub for the module (the demo users' kinds: a public student enrolled in the course, a
KASCADE member, a TAIGA member, an instructor of the course; their servers started at
once), one browser, one context per user (logged in through the login page). Every
request of every context goes through a route that lets loopback through and aborts,
and records, anything else; the last test fails if anything was blocked. Each page is
kept as ``test-artifacts/pages/<user>/<page>.png``; ``test-artifacts/pages/requests.json``
counts the requests seen and blocked.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import pytest

from tests.courses.lab import ASSIGNMENT, COURSE, CourseLab, course_lab
from tests.hub_harness import ARTIFACTS

pytestmark = [pytest.mark.hub, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
SHOTS = ARTIFACTS / "pages"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
#: generous: a dashboard starts a kernel and runs its notebook; the machine is shared
LOAD_MS = 240_000
#: the demo users' kinds (dlclab.hub.runner.DEMO_USERS and hub/demo.d/20-courses.py)
USERS = {"student": ["students", f"nbgrader-{COURSE}"], "kascade": ["kascade"], "taiga": ["taiga"],
         "instructor": ["instructors", f"formgrade-{COURSE}"]}
DASHBOARDS = ("event_selection", "spectrum_explorer", "iact_event_display")
#: what marks a dashboard as rendered (a figure or a count), or as failed
DASHBOARD_READY = {"event_selection": ".dlc-count .dlc-n", "spectrum_explorer": "img.dlc-plot[src]",
                   "iact_event_display": ".dlc-info .dlc-event"}
VOILA_ERROR_TEXT = "There was an error when executing cell"
#: The one console error not of the pages' making, matched exactly: the hub's proxy (the
#: PyPI port configurable-http-proxy 0.4.0) does not pass the kernel websocket's
#: subprotocol (``v1.kernel.websocket.jupyter.org``) back to the browser, which then
#: refuses the handshake and reconnects with the legacy protocol (which works). Proven
#: without a browser: the user's server answers with the header, the proxy drops it.
#: To be fixed in the hub's proxy; remove this entry then.
PROXY_SUBPROTOCOL_BUG = re.compile(
    r"^WebSocket connection to 'ws://127\.0\.0\.1:\d+/user/[^/]+/api/kernels/[0-9a-f-]+/channels\?"
    r"session_id=[0-9a-f-]+' failed: Error during WebSocket handshake: Sent non-empty "
    r"'Sec-WebSocket-Protocol' header but no response was received$")
ERROR_OUTPUT = ("[data-mime-type='application/vnd.jupyter.stderr'], "
                "[data-mime-type='application/vnd.jupyter.error']")


@dataclass
class Traffic:
    """Every request a browser context made, and the ones aborted for leaving loopback."""

    seen: int = 0
    blocked: list[str] = field(default_factory=list)
    #: kernel websocket handshakes refused because of the proxy (PROXY_SUBPROTOCOL_BUG)
    proxy_ws_refusals: int = 0

    def route(self, route) -> None:
        self.seen += 1
        url = route.request.url
        if urlsplit(url).hostname in LOOPBACK:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")


TRAFFIC = Traffic()


@dataclass
class Session:
    """One user's browser context, logged in."""

    short: str
    context: object


@dataclass
class Site:
    lab: CourseLab
    browser: object
    sessions: dict[str, Session] = field(default_factory=dict)

    @property
    def hub(self):
        return self.lab.hub

    def session(self, short: str) -> Session:
        if short not in self.sessions:
            context = self.browser.new_context(viewport={"width": 1400, "height": 900},
                                               service_workers="block")  # all requests routed
            context.route("**/*", TRAFFIC.route)
            page = context.new_page()
            user = self.hub.user(short)
            page.goto(f"{self.hub.url}/hub/login", timeout=LOAD_MS)
            page.fill("#username_input", user.name)
            page.fill("#password_input", user.password)
            page.click("input[type=submit], button[type=submit]")
            page.wait_for_url(f"**/user/{user.name}/**", timeout=LOAD_MS)
            page.close()
            self.sessions[short] = Session(short, context)
        return self.sessions[short]


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    from playwright.sync_api import sync_playwright

    with course_lab(USERS) as lab:
        hub = lab.hub
        for short in USERS:  # spawn concurrently, then wait for all
            hub.admin.start_server(hub.user(short).name)
        for short in USERS:
            hub.admin.wait(lambda s=short: hub.admin.server_ready(hub.user(s).name),
                           f"{short}'s server", timeout_s=180)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            site = Site(lab, browser)
            try:
                yield site
            finally:
                for session in site.sessions.values():
                    session.context.close()
                browser.close()
        hub.remember_processes()


# ---- the pages: each opens itself and waits for what shows it is complete
def _hub_home(page, site: Site, short: str) -> None:
    page.goto(f"{site.hub.url}/hub/home", timeout=LOAD_MS)
    page.wait_for_selector("#start", timeout=LOAD_MS)


def _lab(page, site: Site, short: str) -> None:
    page.goto(f"{site.hub.server_url(short)}/lab", timeout=LOAD_MS)
    page.wait_for_selector(".jp-LauncherCard", timeout=LOAD_MS)


def _token(page, site: Site, short: str) -> None:
    page.goto(f"{site.hub.url}/hub/token", timeout=LOAD_MS)
    page.wait_for_selector("#request-token-form", timeout=LOAD_MS)


def _aggregation(page, site: Site, short: str) -> None:
    page.goto(f"{site.hub.url}/services/data-aggregation/", timeout=LOAD_MS)
    # filled by the page's script from the service's API: the page works, as this user
    page.wait_for_function("document.querySelector('#whoami') && "
                           "document.querySelector('#whoami').textContent.length > 0", timeout=LOAD_MS)
    assert site.hub.user(short).name in page.inner_text("#whoami")


def _formgrader(page, site: Site, short: str) -> None:
    page.goto(f"{site.hub.url}/services/formgrader-{COURSE}/formgrader", timeout=LOAD_MS)
    # the course's assignments, listed by the page's script from the formgrader's API
    page.locator("#main-table tr", has_text=ASSIGNMENT).first.wait_for(timeout=LOAD_MS)


def _dashboard(name: str) -> Callable:
    def open_dashboard(page, site: Site, short: str) -> None:
        url = f"{site.hub.server_url(short)}/voila/render/dlclab-notebooks/dashboards/{name}.ipynb"
        page.goto(url, timeout=LOAD_MS)
        # rendered, or failed: either ends the wait (a failure is then reported as such)
        page.wait_for_function(
            """([ready, error, text]) => document.querySelector(ready) || document.querySelector(error)
                 || (document.body && document.body.innerText.includes(text))""",
            arg=[DASHBOARD_READY[name], ERROR_OUTPUT, VOILA_ERROR_TEXT], timeout=LOAD_MS)
        assert VOILA_ERROR_TEXT not in page.inner_text("body")
        errors = page.locator(ERROR_OUTPUT)
        assert errors.count() == 0, f"error output in {name}: {errors.first.inner_text()[:2000]}"
        if name != "event_selection":
            page.wait_for_selector("img.dlc-plot[src]", timeout=LOAD_MS)
        CHECKS.get(name, lambda *_: None)(page, short)
    return open_dashboard


def _iact_release_readable(page, short: str) -> None:
    """Issue 16: a KASCADE member got the internal T2020.1 (PermissionError, error cell).
    Each user is shown, and offered, only releases they may read."""
    shown = page.inner_text(".dlc-info .dlc-shown-release")
    assert shown == ("T2020.1" if short == "taiga" else "T2020.1-EDU"), (short, shown)
    options = page.locator(".dlc-release select option").all_inner_texts()
    assert ("T2020.1" in options) == (short == "taiga"), (short, options)
    # a new user has no iact_deep_learning run: said, with the command
    assert "dlclab run iact_deep_learning" in page.inner_text(".dlc-info .dlc-missing")


def _spectrum_says_what_to_run(page, short: str) -> None:
    """A new user has no runs: the page says so, with the commands, and shows the model."""
    hints = page.locator(".dlc-missing").all_inner_texts()
    for notebook in ("kascade_spectrum", "tunka_spectrum", "combined_spectrum"):
        assert any(f"dlclab run {notebook}" in h for h in hints), (notebook, hints)


CHECKS: dict[str, Callable] = {"iact_event_display": _iact_release_readable,
                               "spectrum_explorer": _spectrum_says_what_to_run}


PAGES: dict[str, Callable] = {"hub-home": _hub_home, "lab": _lab, "token": _token,
                              "data-aggregation": _aggregation, "formgrader": _formgrader,
                              **{f"dashboard-{d}": _dashboard(d) for d in DASHBOARDS}}
CASES = [(short, name) for short in USERS for name in PAGES
         if name != "formgrader" or short == "instructor"]


def _kernel_ids(site: Site, short: str) -> set[str]:
    resp = httpx.get(f"{site.hub.server_url(short)}/api/kernels",
                     headers={"Authorization": f"token {site.hub.token(short)}"}, timeout=60)
    resp.raise_for_status()
    return {k["id"] for k in resp.json()}


def _shut_down_kernels(site: Site, short: str, ids: set[str]) -> None:
    for kernel_id in ids:
        httpx.delete(f"{site.hub.server_url(short)}/api/kernels/{kernel_id}",
                     headers={"Authorization": f"token {site.hub.token(short)}"}, timeout=60)


@pytest.mark.parametrize(("short", "name"), CASES, ids=[f"{s}-{n}" for s, n in CASES])
def test_page(site: Site, short: str, name: str) -> None:
    session = site.session(short)
    page = session.context.new_page()
    console_errors: list[str] = []

    def on_console(msg) -> None:
        if msg.type != "error":
            return
        if PROXY_SUBPROTOCOL_BUG.match(msg.text):
            TRAFFIC.proxy_ws_refusals += 1
        else:
            console_errors.append(f"{msg.text} ({msg.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: console_errors.append(f"uncaught: {exc}"))
    blocked_before = len(TRAFFIC.blocked)
    kernels_before = _kernel_ids(site, short)
    try:
        PAGES[name](page, site, short)
    finally:
        (SHOTS / short).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / short / f"{name}.png"), full_page=True)
        page.close()
        # Voilà (as a server extension) keeps a closed page's kernel until the server culls
        # it; twelve dashboards' kernels would only load the machine for the next pages
        _shut_down_kernels(site, short, _kernel_ids(site, short) - kernels_before)
    blocked = TRAFFIC.blocked[blocked_before:]
    assert not blocked, f"{name} as {short} tried to leave loopback: {blocked[:10]}"
    assert not console_errors, f"console errors on {name} as {short}: {console_errors[:10]}"


def test_no_request_left_loopback() -> None:
    """Runs last: the count over every page of every user (kept in requests.json)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    summary = {"requests_seen": TRAFFIC.seen, "blocked_external": len(TRAFFIC.blocked),
               "blocked_urls": TRAFFIC.blocked,
               "known_proxy_websocket_refusals": TRAFFIC.proxy_ws_refusals}
    (SHOTS / "requests.json").write_text(json.dumps(summary, indent=1) + "\n")
    assert TRAFFIC.seen > 0, "no request went through the route: the count would mean nothing"
    assert TRAFFIC.blocked == [], f"{len(TRAFFIC.blocked)} requests to other hosts: {TRAFFIC.blocked[:10]}"
