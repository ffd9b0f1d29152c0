"""The service's web page in Debian's Chromium, through the real hub: log in on the hub,
reach the page via the hub's OAuth, form a query, request an export and download it."""
from __future__ import annotations

import h5py
import httpx
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.hub]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


def test_query_and_export_in_the_browser(hub, service_url, tmp_path, lab):
    from playwright.sync_api import sync_playwright

    alice = hub.user("alice")
    token = hub.token("alice")
    expected = httpx.get(f"{service_url}/api/files", headers={"Authorization": f"token {token}"},
                         params={"release": "OCEANUS", "cut": "energy:3e15:"}).json()["files"]
    assert expected
    foreign: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path="/usr/bin/chromium", headless=True,
            args=CHROMIUM_ARGS, accept_downloads=True)
        try:
            page = browser.new_page()
            page.on("request", lambda r: None if r.url.startswith(hub.url) else foreign.append(r.url))
            page.goto(f"{hub.url}/hub/login")
            page.fill("#username_input", alice.name)
            page.fill("#password_input", alice.password)
            page.click("#login_submit")
            page.wait_for_url("**/hub/**")
            page.goto(f"{service_url}/")  # -> hub OAuth -> oauth_callback -> the page
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            assert alice.name in page.inner_text("#whoami") and "taiga" in page.inner_text("#whoami")
            page.fill("input[name=release]", "OCEANUS")
            page.fill("input[name=cuts]", "energy:3e15:")
            page.click("#search")
            page.wait_for_function(
                "document.querySelectorAll('#results tbody tr').length > 0", timeout=30_000)
            paths = [row.inner_text() for row in page.query_selector_all("#results tbody tr td:nth-child(3)")]
            assert sorted(paths) == sorted(f["path"] for f in expected)
            page.select_option("select[name=format]", "HDF5")
            page.fill("input[name=quantities]", "energy, zenith")
            page.click("#request-export")
            page.wait_for_function(
                "document.querySelector('#message').textContent.includes(' done')", timeout=60_000)
            with page.expect_download() as download_info:
                page.click("#exports tbody tr:first-child a")
            target = tmp_path / "export.h5"
            download_info.value.save_as(target)
            with h5py.File(target) as h5:
                energies = h5["kascade/energy_eV"][:]
                assert len(energies) > 0 and energies.min() >= 3e15
                assert "zenith_deg" in h5["kascade"]
            # a malformed cut shows the service's message on the page
            page.fill("input[name=cuts]", "brightness:1:2")
            page.click("#search")
            page.wait_for_selector("#message.error", timeout=30_000)
            assert "unknown term 'brightness'" in page.inner_text("#message")
        finally:
            browser.close()
    assert not foreign, f"the page loaded assets from elsewhere: {foreign}"
