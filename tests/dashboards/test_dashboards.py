"""The Voilà dashboards in a real Chromium: widgets render, interactions change the figure."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from tests.dashboards.conftest import image_digest, wait_for_new_image

pytestmark = pytest.mark.browser
LOAD_MS = 180_000


def _open(page, url):
    page.goto(url, timeout=LOAD_MS)
    page.wait_for_selector("img.dlc-plot", timeout=LOAD_MS)
    page.wait_for_function("document.querySelector('img.dlc-plot').src.length > 0", timeout=LOAD_MS)


def _count(page) -> int:
    return int(page.inner_text(".dlc-count .dlc-n"))


def _settled_count(page, polls: int = 3, every_ms: int = 700) -> int:
    """The count once the kernel has caught up with every slider move: the same value
    on several consecutive reads (key presses are sent one by one, each recomputes)."""
    last, same = None, 0
    for _ in range(LOAD_MS // every_ms):
        value = _count(page)
        same = same + 1 if value == last else 0
        if same >= polls:
            return value
        last = value
        page.wait_for_timeout(every_ms)
    raise AssertionError("the event count never settled")


def test_event_selection_cuts_update_count_and_histogram_and_export(page, voila_url, dashboard_home):
    _open(page, f"{voila_url}/voila/render/event_selection.ipynb")
    page.wait_for_selector(".dlc-count .dlc-n", timeout=LOAD_MS)
    before_count, before_img = _count(page), image_digest(page)
    assert before_count > 1000
    # move the lower handle of the zenith cut to the right with the keyboard
    handle = page.locator(".dlc-cut-zenith_deg .noUi-handle").first
    handle.focus()
    for _ in range(40):
        handle.press("ArrowRight")
    page.wait_for_function(f"Number(document.querySelector('.dlc-count .dlc-n').innerText) < {before_count}",
                           timeout=LOAD_MS)
    wait_for_new_image(page, before_img)
    settled = _settled_count(page)
    # export: no hub here, so the selection is written locally, with the same number of events;
    # the kernel handles messages in order, so once the export reports back, the count label
    # shows the state the export was made from
    page.click(".dlc-export")
    page.wait_for_selector(".dlc-export-local", timeout=LOAD_MS)
    after_count = _count(page)
    assert after_count == settled
    assert 0 < after_count < before_count
    text = page.inner_text(".dlc-export-status")
    folder = re.search(r"written to (\S+)", text).group(1)
    exported = pd.read_parquet(f"{folder}/events.parquet")
    assert len(exported) == after_count
    assert str(dashboard_home) in folder
    info = open(f"{folder}/Info.txt").read()
    assert "Ze<" in info or "<=Ze<" in info


def test_spectrum_explorer_toggles_change_the_figure(page, voila_url):
    _open(page, f"{voila_url}/voila/render/spectrum_explorer.ipynb")
    status = page.inner_text(".dlc-status")
    assert "no run yet" not in status  # it found the analyses' result tables
    first = image_digest(page)
    page.get_by_text("KASCADE", exact=True).click()
    second = wait_for_new_image(page, first)
    page.get_by_text("flux", exact=True).click()
    wait_for_new_image(page, second)


def test_iact_event_display_navigates_and_shows_the_cnn_score(page, voila_url):
    _open(page, f"{voila_url}/voila/render/iact_event_display.ipynb")
    page.wait_for_selector(".dlc-info .dlc-score", timeout=LOAD_MS)
    score = float(page.inner_text(".dlc-info .dlc-score"))
    assert 0.0 <= score <= 1.0
    first_info, first_img = page.inner_text(".dlc-info"), image_digest(page)
    assert "Hillas" in first_info or "pixels after cleaning" in first_info
    assert page.inner_text(".dlc-info .dlc-event") == "0"
    page.click(".dlc-next")
    page.wait_for_function("document.querySelector('.dlc-info .dlc-event').innerText === '1'", timeout=LOAD_MS)
    assert page.input_value(".dlc-index input") == "1"
    wait_for_new_image(page, first_img)
    assert page.inner_text(".dlc-info") != first_info
