"""The names the three releases use for each other: every volume a user's pod or a dask
worker mounts is a claim our chart creates, and every service URL names a Service that
exists under that name and port."""
from __future__ import annotations

from dask_gateway_server.models import User

from tests.deploy.conftest import VALUES_DIR, load_yaml
from tests.deploy.test_chart import small  # noqa: F401 (fixture: the rendered chart)
from tests.deploy.test_gateway_config import cluster_pods, gateway_config
from tests.deploy.test_hub_config import Group, LabUser, claims, pod_manifest
from tests.deploy.test_hub_config import hub_app, hub_values  # noqa: F401 (fixtures)
from tests.deploy.test_gateway_config import gateway_values  # noqa: F401 (fixture)

EVERY_GROUP = ["kascade", "taiga", "students", "instructors",
               "nbgrader-astroparticle-online", "formgrade-astroparticle-online"]


def test_every_mounted_claim_is_created_by_our_chart(small, hub_app, gateway_values):  # noqa: F811
    created = {name for kind, name in small if kind == "PersistentVolumeClaim"}
    user = pod_manifest(hub_app, LabUser("everyone", [Group(g) for g in EVERY_GROUP]))
    used = set(claims(user)) - {"claim-everyone"}  # the home claim KubeSpawner creates
    _, worker, _ = cluster_pods(gateway_config(gateway_values),
                                User("everyone", EVERY_GROUP), {})
    used |= {v["persistentVolumeClaim"]["claimName"] for v in worker["spec"]["volumes"]
             if "persistentVolumeClaim" in v}
    assert used and used <= created, sorted(used - created)


def test_service_urls_name_existing_services(small, hub_values):  # noqa: F811
    das = small[("Service", "dlclab-data-aggregation")]
    port = das["spec"]["ports"][0]["port"]
    assert hub_values["hub"]["services"]["data-aggregation"]["url"] == (
        f"http://dlclab-data-aggregation:{port}")
    gateway = load_yaml(VALUES_DIR / "dask-gateway.yaml")
    # the dask-gateway chart names its proxy traefik-<fullname>
    traefik = f"traefik-{gateway['fullnameOverride']}"
    assert hub_values["hub"]["services"]["dask-gateway"]["url"] == f"http://{traefik}"
    assert hub_values["singleuser"]["extraEnv"]["DASK_GATEWAY__PROXY_ADDRESS"].startswith(
        f"gateway://{traefik}:")
    assert hub_values["hub"]["extraEnv"]["DLCLAB_DASK_GATEWAY_URL"] == (
        f"http://{traefik}{gateway['gateway']['prefix']}")
