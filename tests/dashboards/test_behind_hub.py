"""A dashboard in a user's server behind the real hub: refused without login, rendered by
Voilà's server extension for the user's own token, and not for another user's token."""
from __future__ import annotations

import shutil

import httpx
import pytest

from tests.dashboards.conftest import DASHBOARDS

pytestmark = [pytest.mark.hub]


@pytest.fixture(scope="module")
def hub_with_dashboard(sample_data_root):
    from tests.hub_harness import LabHub

    hub = LabHub(users={"dana": ["kascade"], "eve": ["kascade"]}, data_root=sample_data_root)
    with hub:
        hub.start_server("dana")
        home = f"/home/{hub.user('dana').name}"
        # the dashboard as the user would have it in their home (a copy of the lab's)
        tmp = f"/tmp/{hub.user('dana').name}-spectrum_explorer.ipynb"
        shutil.copy(DASHBOARDS / "spectrum_explorer.ipynb", tmp)
        shutil.os.chmod(tmp, 0o644)
        done = hub.run_as("dana", ["cp", tmp, f"{home}/spectrum_explorer.ipynb"])
        assert done.returncode == 0, done.stderr
        yield hub
    shutil.os.remove(tmp)


def test_dashboard_needs_hub_login(hub_with_dashboard):
    hub = hub_with_dashboard
    url = f"{hub.server_url('dana')}/voila/render/spectrum_explorer.ipynb"
    anonymous = httpx.get(url, follow_redirects=False, timeout=60)
    assert anonymous.status_code in (302, 303)
    # to the hub: its OAuth authorisation, which sends anonymous browsers to the login page
    assert anonymous.headers["location"].startswith(("/hub/api/oauth2/authorize", "/hub/login"))
    # following the redirects ends at the login form, never at the dashboard
    page = httpx.get(url, follow_redirects=True, timeout=60)
    assert "Spectrum explorer" not in page.text and ("login" in str(page.url) or page.status_code in (401, 403))


def test_dashboard_renders_for_its_user_and_not_for_another(hub_with_dashboard):
    hub = hub_with_dashboard
    url = f"{hub.server_url('dana')}/voila/render/spectrum_explorer.ipynb"
    own = httpx.get(url, headers={"Authorization": f"token {hub.token('dana')}"}, timeout=240)
    assert own.status_code == 200
    # executed in dana's kernel: the markdown and the widget views of the dashboard
    assert "Spectrum explorer" in own.text and "application/vnd.jupyter.widget-view+json" in own.text
    other = httpx.get(url, headers={"Authorization": f"token {hub.token('eve')}"}, follow_redirects=False,
                      timeout=60)
    assert other.status_code in (302, 403, 404)
    assert "Spectrum explorer" not in other.text
