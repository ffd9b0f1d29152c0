"""What a user's server offers beyond JupyterLab: the lab's dashboards in Voila with the
lab's own template (no CDN assets), and no instructor tools for anyone."""
from __future__ import annotations

import re

import httpx

from tests.hub_harness import LabHub


def test_dashboards_render_in_voila_with_local_assets_only(lab_hub: LabHub, alice_kernel):
    url = (lab_hub.server_url("alice")
           + "/voila/render/dlclab-notebooks/dashboards/spectrum_explorer.ipynb")
    resp = httpx.get(url, headers={"Authorization": f"token {lab_hub.token('alice')}"},
                     timeout=180, follow_redirects=True)
    assert resp.status_code == 200
    external = re.findall(r'(?:src|href)="(https?://[^"]+)"', resp.text)
    assert external == [], f"the dashboard page loads external assets: {external[:5]}"
    # and without a token it is the hub's login, not the dashboard
    anonymous = httpx.get(url, follow_redirects=False, timeout=30)
    assert anonymous.status_code in (302, 401, 403)


def test_no_formgrader_in_users_servers(lab_hub: LabHub, alice_kernel):
    resp = httpx.get(lab_hub.server_url("alice") + "/formgrader",
                     headers={"Authorization": f"token {lab_hub.token('alice')}"}, timeout=30)
    assert resp.status_code == 404
