"""Our values files for the upstream charts, checked the way `helm install` checks them:
merged onto the chart's default values, then validated against its published schema
(which rejects unknown keys and wrong types)."""
from __future__ import annotations

import json

import pytest

from tests.deploy.conftest import UPSTREAM, VALUES_DIR, load_yaml, schemas_dir
from tests.deploy.values_merge import merge_values, schema_errors


def chart_inputs(chart: str) -> tuple[dict, dict, dict]:
    stem = UPSTREAM[chart]
    defaults = load_yaml(schemas_dir() / f"{stem}.default-values.yaml")
    schema = json.loads((schemas_dir() / f"{stem}.values.schema.json").read_text())
    ours = load_yaml(VALUES_DIR / f"{chart}.yaml")
    return defaults, schema, ours


@pytest.mark.parametrize("chart", sorted(UPSTREAM))
def test_values_validate_against_the_chart_schema(chart):
    defaults, schema, ours = chart_inputs(chart)
    assert schema_errors(merge_values(defaults, ours), schema) == []


@pytest.mark.parametrize("chart, path, bad", [
    ("jupyterhub", ("singleuser", "profilelist"), []),          # unknown key (case)
    ("jupyterhub", ("cull", "timeout"), "one hour"),           # wrong type
    ("jupyterhub", ("hub", "db", "type"), "postgresql"),        # not in the enum
    ("dask-gateway", ("gateway", "auth", "jupyterhub", "serviceName"), "x"),  # unknown key
    ("dask-gateway", ("gateway", "backend", "worker", "threads"), "2"),
])
def test_the_check_rejects_mistakes(chart, path, bad):
    defaults, schema, ours = chart_inputs(chart)
    broken = merge_values(ours, {})
    node = broken
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = bad
    errors = schema_errors(merge_values(defaults, broken), schema)
    assert errors and any(".".join(path[:-1]) in e or path[-1] in e for e in errors), errors


def test_merge_follows_helm():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    assert merge_values(base, {"a": {"c": [3]}, "d": None}) == {"a": {"b": 1, "c": [3]}}


def test_dask_gateway_respects_hub_permissions():
    _, _, gateway = chart_inputs("dask-gateway")
    _, _, hub = chart_inputs("jupyterhub")
    auth = gateway["gateway"]["auth"]
    assert auth["type"] == "jupyterhub"
    # the service name is what makes the gateway require its access scope
    assert auth["jupyterhub"]["jupyterhubServiceName"] == "dask-gateway"
    assert "dask-gateway" in hub["hub"]["services"]
    assert auth["jupyterhub"]["apiTokenFromSecretKey"] == "hub.services.dask-gateway.apiToken"
    assert gateway["gateway"]["prefix"] == "/services/dask-gateway"


def test_workers_run_the_user_image():
    _, _, gateway = chart_inputs("dask-gateway")
    _, _, hub = chart_inputs("jupyterhub")
    assert gateway["gateway"]["backend"]["image"] == hub["singleuser"]["image"]


SECRET_KEYS = {"apitoken", "api_token", "password", "cookiesecret", "cookie_secret",
               "client_secret", "secrettoken", "keys"}


def secret_values(node, path=()):
    """(path, value) of every non-empty value under a key that names a secret."""
    if isinstance(node, dict):
        for key, value in node.items():
            if str(key).lower() in SECRET_KEYS and value not in (None, "", [], {}):
                yield ".".join((*path, str(key))), value
            yield from secret_values(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from secret_values(value, (*path, str(index)))


def test_no_secret_in_any_values_file():
    assert list(secret_values({"hub": {"services": {"x": {"apiToken": "abc"}}}}))
    for path in sorted(VALUES_DIR.glob("*.yaml")):
        assert list(secret_values(load_yaml(path))) == [], path.name


def test_network_policies_of_the_hub_side():
    defaults, _, ours = chart_inputs("jupyterhub")
    values = merge_values(defaults, ours)
    user = values["singleuser"]["networkPolicy"]
    assert user["enabled"] is True
    rules = user["egressAllowRules"]
    # no pod-to-pod traffic except what is listed, no cloud metadata
    assert rules["privateIPs"] is False and rules["cloudMetadataServer"] is False
    targets = [peer["podSelector"]["matchLabels"] for rule in user["egress"] for peer in rule["to"]]
    assert {"app": "jupyterhub", "component": "proxy"} in targets
    assert {"app.kubernetes.io/name": "dask-gateway",
            "app.kubernetes.io/component": "traefik"} in targets
    hub_ingress = [peer["podSelector"]["matchLabels"]
                   for rule in values["hub"]["networkPolicy"]["ingress"] for peer in rule["from"]]
    assert {"app.kubernetes.io/name": "dask-gateway",
            "app.kubernetes.io/component": "gateway"} in hub_ingress
    assert values["proxy"]["chp"]["networkPolicy"]["egressAllowRules"]["nonPrivateIPs"] is False


def test_site_example_layers_onto_ours():
    from tests.deploy.conftest import HELM_DIR

    defaults, schema, ours = chart_inputs("jupyterhub")
    site = load_yaml(HELM_DIR / "examples" / "site-jupyterhub.yaml")
    merged = merge_values(merge_values(defaults, ours), site)
    assert schema_errors(merged, schema) == []
    # the site's env entry joins ours instead of replacing it
    assert set(merged["hub"]["extraEnv"]) == {"DLCLAB_DASK_GATEWAY_URL", "OAUTH_CLIENT_SECRET"}
    assert list(secret_values(site)) == []
