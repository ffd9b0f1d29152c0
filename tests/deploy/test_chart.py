"""Our own chart (helm/dlclab) rendered by the real helm and validated strictly against
the Kubernetes API schemas with kubernetes-validate."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.deploy.conftest import HELM_DIR, KUBERNETES_VERSION

CHART = HELM_DIR / "dlclab"
LARGE_SITE = HELM_DIR / "examples" / "large-site.yaml"


def render(helm: Path, *args: str) -> dict[tuple[str, str], dict]:
    """``helm template`` of the chart: {(kind, name): manifest}, each validated."""
    out = subprocess.run([str(helm), "template", "dlclab", str(CHART), "--namespace", "dlclab",
                          "--kube-version", KUBERNETES_VERSION, *args], check=True, capture_output=True, text=True)
    manifests = {}
    for doc in yaml.safe_load_all(out.stdout):
        if doc:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
            manifests[(doc["kind"], doc["metadata"]["name"])] = doc
    return manifests


@pytest.fixture(scope="module")
def small(helm):
    return render(helm)


@pytest.fixture(scope="module")
def large(helm):
    return render(helm, "-f", str(LARGE_SITE))


def env_of(deployment: dict) -> dict[str, dict]:
    return {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}


def test_helm_lint(helm):
    for extra in ([], ["-f", str(LARGE_SITE)]):
        out = subprocess.run([str(helm), "lint", "--strict", str(CHART), *extra],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr


def test_values_schema_rejects_unknown_keys(helm):
    out = subprocess.run([str(helm), "template", "x", str(CHART), "--set", "catalogue.inClster.enabled=true"],
                         capture_output=True, text=True)
    assert out.returncode != 0 and "inClster" in out.stderr


def test_small_site_runs_its_own_catalogue_database(small):
    db = small[("StatefulSet", "dlclab-catalogue-db")]
    env = {e["name"]: e for e in db["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "dlclab-catalogue-db", "key": "password"}
    das = env_of(small[("Deployment", "dlclab-data-aggregation")])
    assert "@dlclab-catalogue-db:5432/dlclab" in das["DLCLAB_CATALOGUE_URL"]["value"]
    assert "$(DLCLAB_CATALOGUE_PASSWORD)" in das["DLCLAB_CATALOGUE_URL"]["value"]


def test_large_site_uses_an_external_database_from_a_secret(large):
    assert ("StatefulSet", "dlclab-catalogue-db") not in large
    das = env_of(large[("Deployment", "dlclab-data-aggregation")])
    assert das["DLCLAB_CATALOGUE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "dlclab-catalogue-url", "key": "url"}
    egress = large[("NetworkPolicy", "dlclab-data-aggregation")]["spec"]["egress"]
    assert {"ipBlock": {"cidr": "10.20.30.40/32"}} in [t for rule in egress for t in rule.get("to", [])]
    assert large[("PersistentVolumeClaim", "dlclab-data")]["spec"]["storageClassName"] == "cvmfs"
    assert ("PersistentVolumeClaim", "dlclab-internal-kascade") not in large
    assert ("PersistentVolumeClaim", "nbgrader-course-kascade-school") in large


def test_external_database_needs_its_secret(helm):
    out = subprocess.run([str(helm), "template", "x", str(CHART), "--set",
                          "catalogue.inCluster.enabled=false"], capture_output=True, text=True)
    assert out.returncode != 0 and "catalogue.external.existingSecret" in out.stderr


def test_no_secret_values_rendered(small, large):
    for manifests in (small, large):
        assert not any(kind == "Secret" for kind, _ in manifests)
        for (kind, name), doc in manifests.items():
            if kind in ("Deployment", "StatefulSet"):
                for env in doc["spec"]["template"]["spec"]["containers"][0].get("env", []):
                    if any(w in env["name"] for w in ("PASSWORD", "TOKEN")):
                        assert "valueFrom" in env, (name, env["name"])


def test_data_volumes_are_read_only(small):
    for name in ("dlclab-data", "dlclab-internal-kascade", "dlclab-internal-taiga"):
        assert small[("PersistentVolumeClaim", name)]["spec"]["accessModes"] == ["ReadOnlyMany"]
        pv = small[("PersistentVolume", f"{name}-dlclab")]
        assert pv["spec"]["nfs"]["readOnly"] is True and "ro" in pv["spec"]["mountOptions"]
    das = small[("Deployment", "dlclab-data-aggregation")]["spec"]["template"]["spec"]
    mounts = {m["mountPath"]: m for m in das["containers"][0]["volumeMounts"]}
    assert mounts["/srv/dlclab/data"]["readOnly"] is True
    # the service reads every collaboration's tree with its gid
    assert mounts["/srv/dlclab/collaborations/taiga"]["readOnly"] is True
    assert das["securityContext"]["supplementalGroups"] == [3001, 3002]


def test_course_folder_layout(small):
    pvc = small[("PersistentVolumeClaim", "nbgrader-course-astroparticle-online")]
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    job = small[("Job", "nbgrader-course-layout-astroparticle-online")]
    container = job["spec"]["template"]["spec"]["containers"][0]
    script = container["command"][-1]
    assert "chown -h 0:2000 /course" in script and "chmod 2770 /course" in script
    assert container["securityContext"]["capabilities"]["add"] == ["CHOWN", "FOWNER"]


def test_database_reachable_only_from_the_aggregation_service(small):
    policy = small[("NetworkPolicy", "dlclab-catalogue-db")]["spec"]
    (rule,) = policy["ingress"]
    (peer,) = rule["from"]
    assert peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "data-aggregation"
    das = small[("NetworkPolicy", "dlclab-data-aggregation")]["spec"]
    sources = [p["podSelector"]["matchLabels"]["component"] for p in das["ingress"][0]["from"]]
    assert sorted(sources) == ["hub", "proxy"]  # users come through the hub's proxy


def test_dask_clusters_isolated(small):
    policy = small[("NetworkPolicy", "dlclab-dask-clusters")]["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    sources = [p["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
               for rule in policy["ingress"] for p in rule["from"]]
    assert sorted(sources) == ["gateway", "traefik"]  # other dask pods: per-owner policy
    assert not any("ipBlock" in t for r in policy["egress"] for t in r.get("to", []))


def test_hub_may_manage_network_policies_and_nothing_else(small):
    role = small[("Role", "dlclab-hub-networkpolicies")]
    assert role["rules"] == [{"apiGroups": ["networking.k8s.io"],
                              "resources": ["networkpolicies"],
                              "verbs": ["get", "create", "update"]}]
    binding = small[("RoleBinding", "dlclab-hub-networkpolicies")]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "hub",
                                    "namespace": "dlclab"}]


def resolved_env(deployment: dict) -> dict[str, str]:
    """The service container's environment, Secrets replaced by stand-ins and
    Kubernetes' $(VAR) references expanded as the kubelet does."""
    env = {}
    for item in deployment["spec"]["template"]["spec"]["containers"][0]["env"]:
        value = item.get("value", f"<{item['name']}>")
        for name, known in env.items():
            value = value.replace(f"$({name})", known)
        env[item["name"]] = value
    return env


def test_aggregation_service_arguments_match_its_command_line(small):
    deployment = small[("Deployment", "dlclab-data-aggregation")]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["python", "-m", "dlclab.service"]
    out = subprocess.run([sys.executable, "-m", "dlclab.service", "--help"], check=True,
                         capture_output=True, text=True).stdout
    flags = [a for a in container["args"] if a.startswith("--")]
    assert flags and all(flag in out for flag in flags), (flags, out)
    args = dict(zip(container["args"][::2], container["args"][1::2]))
    assert args["--prefix"] == "/services/data-aggregation/"
    assert args["--db"] == "$(DLCLAB_CATALOGUE_URL)"


def test_aggregation_service_environment_is_what_huboauth_reads(small, monkeypatch):
    from jupyterhub.services.auth import HubOAuth

    env = resolved_env(small[("Deployment", "dlclab-data-aggregation")])
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    auth = HubOAuth()
    assert auth.api_url == "http://hub:8081/hub/api"
    assert auth.api_token == "<JUPYTERHUB_API_TOKEN>"  # from the Secret `hub`
    assert auth.oauth_client_id == "service-data-aggregation"
    assert auth.oauth_redirect_uri.endswith("/services/data-aggregation/oauth_callback")
    assert auth.access_scopes == {"access:services!service=data-aggregation"}
    assert env["DLCLAB_CATALOGUE_URL"] == (
        "postgresql+psycopg://dlclab:<DLCLAB_CATALOGUE_PASSWORD>@dlclab-catalogue-db:5432/dlclab")


def test_ngshare_arguments_match_its_command_line(small):
    deployment = small[("Deployment", "dlclab-ngshare")]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["python", "-m", "ngshare"]
    out = subprocess.run([sys.executable, "-m", "ngshare", "--help"], check=True,
                         capture_output=True, text=True).stdout
    flags = [a for a in container["args"] if a.startswith("--")]
    assert flags and all(flag in out for flag in flags), (flags, out)
    args = dict(zip(container["args"][::2], container["args"][1::2]))
    # its state lives on its own claim, which no user's pod mounts
    assert args["--database"] == "sqlite:////srv/ngshare/ngshare.db"
    assert args["--storage"].startswith("/srv/ngshare/")
    assert args["--admins"] == "admin"
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes[mounts["/srv/ngshare"]]["persistentVolumeClaim"]["claimName"] == "dlclab-ngshare"
    security = deployment["spec"]["template"]["spec"]["securityContext"]
    assert security["runAsUser"] not in (0, 1000) and security["runAsNonRoot"] is True


def test_ngshare_environment_is_what_huboauth_reads(small, monkeypatch):
    from jupyterhub.services.auth import HubOAuth

    env = resolved_env(small[("Deployment", "dlclab-ngshare")])
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    auth = HubOAuth()
    assert auth.api_url == "http://hub:8081/hub/api"
    assert auth.api_token == "<JUPYTERHUB_API_TOKEN>"  # z2jh's Secret `hub`
    assert auth.oauth_client_id == "service-ngshare"
    assert auth.access_scopes == {"access:services!service=ngshare"}
    assert env["JUPYTERHUB_SERVICE_PREFIX"] == "/services/ngshare/"
    assert env["JUPYTERHUB_SERVICE_URL"] == "http://0.0.0.0:8080"
