"""A Voilà server on loopback for the dashboards, with the session's analysis runs in its
user's HOME, and Debian's Chromium driven by Playwright."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.analysis.runs import session_runs

PROJECT = Path(__file__).resolve().parents[2]
DASHBOARDS = PROJECT / "notebooks" / "dashboards"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def dashboard_home(tmp_path_factory, sample_data_root) -> Path:
    """A HOME whose ~/dlclab-runs holds every analysis run (as after `dlclab run`)."""
    base = tmp_path_factory.getbasetemp()
    session_runs(base)
    return base


@pytest.fixture(scope="session")
def voila_url(dashboard_home):
    port = _free_port()
    # JUPYTER_PATH makes the dashboards' own Voilà template (no CDN assets) findable;
    # voila.json in the dashboards folder selects it and the extension denylist
    jupyter_path = os.pathsep.join(filter(None, [str(DASHBOARDS), os.environ.get("JUPYTER_PATH")]))
    env = dict(os.environ, HOME=str(dashboard_home), JUPYTER_PATH=jupyter_path)
    env.pop("JUPYTERHUB_API_URL", None)  # standalone: exports go to the local fallback
    voila = Path(sys.executable).with_name("voila")
    proc = subprocess.Popen(
        [str(voila), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1", "--template=dlclab"],
        cwd=DASHBOARDS, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("voila did not start: " + proc.stderr.read().decode()[-2000:])
            time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="package")
def chromium(tmp_path_factory):
    # package scope, not session: Playwright's sync API keeps an event loop running while
    # it is open, which would break every later test that calls asyncio.run()
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Chromium is missing: run `make browser`"
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(tmp_path_factory.mktemp("chromium")),
                                                   executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield ctx
        ctx.close()


@pytest.fixture
def page(chromium):
    pg = chromium.new_page()
    blocked = []
    # no CDN: any request that leaves loopback is a failure of the dashboard
    pg.on("request", lambda r: blocked.append(r.url) if not r.url.startswith(("http://127.0.0.1", "blob:", "data:", "ws://127.0.0.1")) else None)
    yield pg
    pg.close()
    assert not blocked, f"the page tried to load external assets: {blocked[:5]}"


IMAGE_DIGEST_JS = """async (sel) => {
  const img = document.querySelector(sel);
  if (!img || !img.src) return null;
  const buf = await (await fetch(img.src)).arrayBuffer();
  const h = await crypto.subtle.digest('SHA-256', buf);
  return Array.from(new Uint8Array(h)).map(b => b.toString(16).padStart(2, '0')).join('') + ':' + buf.byteLength;
}"""


def image_digest(page, selector: str = "img.dlc-plot") -> str | None:
    """sha256 of the bytes the <img> shows (not its blob URL, which changes anyway)."""
    return page.evaluate(IMAGE_DIGEST_JS, selector)


def wait_for_new_image(page, old: str, selector: str = "img.dlc-plot", timeout_s: float = 60) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        new = image_digest(page, selector)
        if new and new != old:
            return new
        page.wait_for_timeout(200)
    raise AssertionError("the figure did not change")
