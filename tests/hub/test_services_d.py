"""hub/services.d: a service is configuration (parsing, roles, clear errors)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dlclab.errors import DlclabError
from dlclab.hub.config import configure
from dlclab.hub.services import load_services, parse_service, service_roles
from dlclab.hub.settings import LabSettings


@pytest.fixture
def settings(tmp_path: Path) -> LabSettings:
    services = tmp_path / "services.d"
    services.mkdir()
    return LabSettings(state_dir=tmp_path / "state", hub_dir=tmp_path / "hub",
                       extra_services_dirs=[services], isolated=True)


def write(settings: LabSettings, name: str, spec: dict) -> Path:
    path = settings.extra_services_dirs[0] / name
    path.write_text(yaml.safe_dump(spec))
    return path


def test_managed_service_with_placeholders_and_group_access(settings: LabSettings):
    write(settings, "formgrader.yaml", {
        "name": "formgrader", "command": ["{python}", "-m", "x", "--port={port}"],
        "url": "http://127.0.0.1:{port}", "access": ["instructors"], "scopes": ["list:users"]})
    [spec] = load_services(settings)
    port = spec.hub_entry["url"].rsplit(":", 1)[1]
    assert spec.hub_entry["command"] == [str(settings.python), "-m", "x", f"--port={port}"]
    roles, everyone = service_roles([spec])
    assert {"name": "access-formgrader", "scopes": ["access:services!service=formgrader"],
            "groups": ["instructors"]} in roles
    assert {"name": "service-formgrader", "scopes": ["list:users"],
            "services": ["formgrader"]} in roles
    assert everyone == []


def test_hub_config_grants_access_all_services_to_the_user_role(settings: LabSettings):
    from traitlets.config import Config

    write(settings, "agg.yaml", {"name": "data-aggregation", "url": "http://127.0.0.1:{port}",
                                 "command": ["{python}", "-m", "dlclab.service"], "access": "all"})
    c = Config()
    configure(c, settings)
    user_role = next(r for r in c.JupyterHub.load_roles if r["name"] == "user")
    assert "access:services!service=data-aggregation" in user_role["scopes"]
    assert "access:services!service=data-aggregation" in c.Spawner.server_token_scopes
    assert "data-aggregation" in {s["name"] for s in c.JupyterHub.services}
    # never open access
    assert c.JupyterHub.authenticator_class.endswith("LabSystemUserAuthenticator")
    assert c.NativeAuthenticator.open_signup is False


@pytest.mark.parametrize("spec, message", [
    ({"command": ["x"]}, "at least 'name'"),
    ({"name": "a", "command": "python -m x", "url": "http://x"}, "list of arguments"),
    ({"name": "a", "command": ["x"]}, "needs a 'url'"),
    ({"name": "a", "access": "everyone"}, "'access' must be"),
    ({"name": "a", "colour": "red"}, "unknown keys"),
    ({"name": "a", "url": "http://127.0.0.1:{prot}"}, "unknown placeholder"),
])
def test_bad_service_definitions_are_clear_errors(settings: LabSettings, spec, message):
    with pytest.raises(DlclabError, match=message):
        parse_service(spec, settings, source=Path("x.yaml"))


def test_duplicate_service_names_are_refused(settings: LabSettings):
    write(settings, "a.yaml", {"name": "same"})
    write(settings, "b.yaml", {"name": "same"})
    with pytest.raises(DlclabError, match="already defined"):
        load_services(settings)
