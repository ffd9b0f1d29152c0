"""A person's path through the lab in Debian's Chromium: log in on the login page, get
JupyterLab, open a notebook, run a cell."""
from __future__ import annotations

import httpx
import pytest

from tests.hub_harness import ARTIFACTS, LabHub

pytestmark = [pytest.mark.hub, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture
def browser_page(tmp_path, request):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 900})
        page = context.new_page()
        try:
            yield page
        finally:
            # the last page, always (on failure it shows what went wrong)
            report = getattr(request.node, "rep_call", None)
            outcome = "failed" if report is None or report.failed else "passed"
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{outcome}.png"))
            context.close()


def notebook_kernel_connected(hub: LabHub, short: str) -> bool:
    """A notebook session of the user whose kernel is idle with a websocket connected."""
    sessions = httpx.get(f"{hub.server_url(short)}/api/sessions",
                         headers={"Authorization": f"token {hub.token(short)}"}).json()
    return any(s["path"].endswith(".ipynb") and s["kernel"]["execution_state"] == "idle"
               and s["kernel"].get("connections", 0) >= 1 for s in sessions)


def test_login_open_notebook_run_cell(lab_hub: LabHub, browser_page):
    page = browser_page
    alice = lab_hub.user("alice")
    page.goto(f"{lab_hub.url}/hub/login")
    page.fill("#username_input", alice.name)
    page.fill("#password_input", alice.password)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(f"**/user/{alice.name}/lab**", timeout=90_000)
    page.locator(".jp-LauncherCard[data-category='Notebook']").first.click(timeout=60_000)
    cell = page.locator(".jp-Notebook .jp-Cell .cm-content").first
    cell.wait_for(timeout=60_000)
    # the page's kernel is ready when the server sees it idle with the page connected
    lab_hub.admin.wait(lambda: notebook_kernel_connected(lab_hub, "alice"),
                       "the notebook's kernel to be connected", timeout_s=90)
    cell.click()
    page.keyboard.type("print(6 * 7, __import__('getpass').getuser())")
    page.keyboard.press("Shift+Enter")
    output = page.locator(".jp-OutputArea-output").first
    output.wait_for(timeout=60_000)
    assert output.inner_text().strip() == f"42 {alice.name}"
