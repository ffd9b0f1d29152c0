"""The hub side of the chart: our z2jh values loaded as JupyterHub would load them.

The merged values are turned into a ``jupyterhub_config.py`` (z2jh's mapping plus our
``hub.extraConfig`` snippets, verbatim) and loaded by a real ``JupyterHub`` application;
KubeSpawner then builds each profile's pod for users of different groups, and every pod
validates strictly against the Kubernetes API schema.
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import kubernetes_validate
import pytest
from jupyterhub.app import JupyterHub
from jupyterhub.scopes import _check_scopes_exist
from jupyterhub.utils import maybe_future
from kubernetes_asyncio.client import ApiClient
from kubespawner import KubeSpawner
from nativeauthenticator import NativeAuthenticator

from tests.deploy.conftest import KUBERNETES_VERSION, UPSTREAM, VALUES_DIR, load_yaml, schemas_dir
from tests.deploy.values_merge import merge_values
from dlclab.hub.kubernetes import user_uid
from tests.deploy.z2jh_config import write_hub_config

GATEWAY_URL = "http://traefik-dask-gateway/services/dask-gateway"


@dataclass
class Group:
    name: str


def hub_database(*names: str):
    """A real JupyterHub database (in memory) holding users ``names``."""
    from jupyterhub import orm

    session = orm.new_session_factory("sqlite://")()
    for name in names:
        session.add(orm.User(name=name))
    session.commit()
    return session


@dataclass
class LabUser:
    """What KubeSpawner and our snippets read of a ``jupyterhub.user.User``: its
    ``db`` is a real hub database, holding this user and ``others``."""
    name: str
    groups: list[Group] = field(default_factory=list)
    admin: bool = False
    id: int = 7
    url: str = "/user/x/"
    others: tuple[str, ...] = ("someone-else",)
    db: object = None

    def __post_init__(self):
        if self.db is None:
            self.db = hub_database(self.name, *self.others)

    @property
    def escaped_name(self) -> str:
        return self.name


@pytest.fixture(scope="module")
def hub_values() -> dict:
    defaults = load_yaml(schemas_dir() / f"{UPSTREAM['jupyterhub']}.default-values.yaml")
    return merge_values(defaults, load_yaml(VALUES_DIR / "jupyterhub.yaml"))


#: KubeSpawner loads a client configuration when it is created (it never calls the API
#: while building a pod); this one names a server that is never contacted.
OFFLINE_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: offline, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: offline, user: {token: not-used}}]
contexts: [{name: offline, context: {cluster: offline, user: offline, namespace: dlclab}}]
current-context: offline
"""


@pytest.fixture(scope="module")
def hub_app(hub_values, tmp_path_factory) -> JupyterHub:
    mp = pytest.MonkeyPatch()
    kubeconfig = tmp_path_factory.mktemp("kube") / "config"
    kubeconfig.write_text(OFFLINE_KUBECONFIG)
    # read by kubernetes_asyncio at import time, hence the module attribute
    import kubernetes_asyncio.config.kube_config as kube_config

    mp.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(kubeconfig))
    for name, value in hub_values["hub"]["extraEnv"].items():
        mp.setenv(name, value)  # z2jh sets hub.extraEnv on the hub container
    path = write_hub_config(hub_values, tmp_path_factory.mktemp("hub") / "jupyterhub_config.py")
    app = JupyterHub()
    app.load_config_file(str(path))
    yield app
    mp.undo()


def in_loop(function, *args):
    """Run ``function(*args)`` inside an event loop (KubeSpawner needs one to exist)."""
    async def call():
        result = function(*args)
        return await result if asyncio.iscoroutine(result) else result

    return asyncio.run(call())


def spawner_for(hub_app: JupyterHub, user: LabUser | None = None,
                profile: str | None = None) -> KubeSpawner:
    """A KubeSpawner for ``user``; call it inside :func:`in_loop`."""
    kwargs = {"user": user} if user is not None else {}
    spawner = KubeSpawner(_mock=True, config=hub_app.config, **kwargs)
    spawner.user_options = {"profile": profile} if profile else {}
    return spawner


def pod_manifest(hub_app: JupyterHub, user: LabUser, profile: str | None = None) -> dict:
    """The pod KubeSpawner would create, validated strictly against the Kubernetes API."""
    async def build():
        spawner = spawner_for(hub_app, user, profile)
        await spawner.load_user_options()
        pod = await spawner.get_pod_manifest()
        if spawner.modify_pod_hook:  # as KubeSpawner.start does before creating the pod
            pod = await maybe_future(spawner.modify_pod_hook(spawner, pod))
        async with ApiClient() as client:
            return client.sanitize_for_serialization(pod)

    manifest = asyncio.run(build())
    manifest.setdefault("apiVersion", "v1")
    manifest.setdefault("kind", "Pod")
    kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    return manifest


def visible_profiles(hub_app: JupyterHub, user: LabUser) -> list[str]:
    def slugs():
        spawner = spawner_for(hub_app, user)
        return [p["slug"] for p in spawner.profile_list(spawner)]

    return in_loop(slugs)


def claims(manifest: dict) -> dict[str, bool]:
    """PVC claim name -> read-only, for every PVC volume of the pod."""
    return {v["persistentVolumeClaim"]["claimName"]: bool(v["persistentVolumeClaim"].get("readOnly"))
            for v in manifest["spec"]["volumes"] if "persistentVolumeClaim" in v}


def mounts(manifest: dict) -> dict[str, dict]:
    notebook = next(c for c in manifest["spec"]["containers"] if c["name"] == "notebook")
    return {m["mountPath"]: m for m in notebook.get("volumeMounts", [])}


def test_hub_configuration_loads_into_jupyterhub(hub_app):
    config = hub_app.config
    hub = JupyterHub(config=config)
    assert hub.authenticator_class is NativeAuthenticator
    assert hub.spawner_class is KubeSpawner
    assert set(hub.load_groups) >= {"kascade", "taiga", "students", "instructors", "admins"}
    services = {s["name"]: s for s in hub.services}
    assert {"dask-gateway", "data-aggregation", "idle-culler"} <= set(services)
    assert services["data-aggregation"]["url"] == "http://dlclab-data-aggregation:8000"
    assert all(s.get("api_token") for n, s in services.items() if n != "idle-culler")


def test_roles_and_server_tokens_reach_the_services(hub_app):
    hub = JupyterHub(config=hub_app.config)
    roles = {r["name"]: r for r in hub.load_roles}
    user_scopes = set(roles["user"]["scopes"])
    token_scopes = set(in_loop(lambda: spawner_for(hub_app).server_token_scopes))
    for service in ("dask-gateway", "data-aggregation"):
        scope = f"access:services!service={service}"
        assert scope in user_scopes and scope in token_scopes
    assert set(roles["idle-culler"]["scopes"]) == {"list:users", "read:users:activity",
                                                   "read:servers", "delete:servers"}
    assert roles["data-aggregation-service"]["services"] == ["data-aggregation"]
    assert set(roles["data-aggregation-service"]["scopes"]) == {"read:users:groups",
                                                               "read:users:name"}
    for role in roles.values():
        _check_scopes_exist(set(role["scopes"]))  # raises on a misspelt scope
    _check_scopes_exist({s for s in token_scopes if "!" not in s} | {
        s.split("!")[0] for s in token_scopes})


def test_profiles_are_gated_by_groups(hub_app):
    assert visible_profiles(hub_app, LabUser("stud", [Group("students")])) == ["standard"]
    assert visible_profiles(hub_app, LabUser("teach", [Group("instructors")])) == ["standard", "large"]
    assert visible_profiles(hub_app, LabUser("tunka", [Group("taiga")])) == ["standard", "large", "gpu"]
    assert visible_profiles(hub_app, LabUser("root", admin=True)) == ["standard", "large", "gpu"]
    # The dlclab-only key never reaches KubeSpawner.
    def profiles():
        spawner = spawner_for(hub_app, LabUser("tunka", [Group("taiga")]))
        return spawner.profile_list(spawner)

    assert all("allowed_groups" not in p for p in in_loop(profiles))


def test_a_hidden_profile_cannot_be_requested_by_name(hub_app):
    def request_gpu():
        spawner = spawner_for(hub_app, LabUser("stud", [Group("students")]), profile="gpu")
        return spawner.load_user_options()

    with pytest.raises(ValueError, match="gpu"):
        in_loop(request_gpu)


@pytest.mark.parametrize("profile", ["standard", "large", "gpu"])
def test_every_profile_makes_a_valid_pod(hub_app, profile):
    manifest = pod_manifest(hub_app, LabUser("tunka", [Group("taiga")]), profile)
    notebook = next(c for c in manifest["spec"]["containers"] if c["name"] == "notebook")
    limits = notebook["resources"]["limits"]
    assert notebook["securityContext"]["runAsUser"] == user_uid("tunka")
    assert notebook["securityContext"]["allowPrivilegeEscalation"] is False
    assert notebook["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    if profile == "gpu":
        assert limits["nvidia.com/gpu"] == "1"
        assert notebook["image"] == "ghcr.io/dlclab/lab-gpu:0.1.0"
        assert manifest["spec"]["nodeSelector"] == {"dlclab.org/node-pool": "gpu"}
    else:
        assert "nvidia.com/gpu" not in limits
        assert notebook["image"] == "ghcr.io/dlclab/lab:0.1.0"
    assert int(limits["memory"]) == {"standard": 4, "large": 32, "gpu": 32}[profile] * 2**30


def test_data_is_read_only_and_collaboration_data_only_for_members(hub_app):
    member = pod_manifest(hub_app, LabUser("tunka", [Group("taiga")]))
    outsider = pod_manifest(hub_app, LabUser("stud", [Group("students")]))
    assert claims(member)["dlclab-data"] is True
    assert mounts(member)["/srv/dlclab/data"]["readOnly"] is True
    assert claims(member)["dlclab-internal-taiga"] is True
    assert mounts(member)["/srv/dlclab/collaborations/taiga"]["readOnly"] is True
    assert "dlclab-internal-kascade" not in claims(member)
    assert not any(c.startswith("dlclab-internal-") for c in claims(outsider))
    assert "claim-stud" in claims(outsider)  # the home volume
    assert mounts(outsider)["/home/jovyan"]["name"] == "volume-stud"


def test_course_folder_is_mounted_for_the_course_instructors_only(hub_app):
    course = "astroparticle-online"
    student = pod_manifest(hub_app, LabUser("s1", [Group(f"nbgrader-{course}")]))
    teacher = pod_manifest(hub_app, LabUser("t1", [Group(f"formgrade-{course}")]))
    other = pod_manifest(hub_app, LabUser("o1", [Group("students")]))
    assert f"nbgrader-course-{course}" not in claims(student)
    assert 2000 not in (student["spec"]["securityContext"].get("supplementalGroups") or [])
    assert claims(teacher)[f"nbgrader-course-{course}"] is False
    assert f"/home/jovyan/courses/{course}" in mounts(teacher)
    assert 2000 in teacher["spec"]["securityContext"]["supplementalGroups"]
    assert not any(c.startswith("nbgrader-") for c in claims(other))
    # no exchange folder at all: ngshare is the exchange
    for pod in (student, teacher, other):
        assert not any(c.startswith("nbgrader-exchange") for c in claims(pod))


def test_stopping_a_server_stops_the_users_dask_clusters(hub_app):
    hook = in_loop(lambda: spawner_for(hub_app).post_stop_hook)
    assert callable(hook) and hook.__qualname__.startswith("make_post_stop_hook")
    # The hook closes over the gateway URL that hub.extraEnv gives the hub container.
    cells = {c.cell_contents for c in hook.__closure__ if isinstance(c.cell_contents, str)}
    assert cells == {GATEWAY_URL}


def test_snippets_do_not_need_z2jh_helpers(hub_values):
    for key, snippet in hub_values["hub"]["extraConfig"].items():
        assert "get_config" not in snippet and "z2jh" not in snippet, key


def test_user_environment_points_at_the_services(hub_values):
    env = hub_values["singleuser"]["extraEnv"]
    assert env["DASK_GATEWAY__AUTH__TYPE"] == "jupyterhub"
    assert env["DASK_GATEWAY__ADDRESS"].endswith("/services/dask-gateway")
    assert env["DLCLAB_CATALOG"].startswith(env["DLCLAB_DATA_ROOT"])
    json.dumps(env)  # plain strings only


def test_service_definitions_use_only_jupyterhub_service_fields(hub_app):
    # JupyterHub refuses to start on an unknown service field ("No such service field")
    from jupyterhub.services.service import Service

    fields = set(Service.class_traits())
    for spec in JupyterHub(config=hub_app.config).services:
        assert set(spec) - {"api_token"} <= fields, spec["name"]


def test_idle_culler_is_on(hub_values):
    cull = hub_values["cull"]
    assert cull["enabled"] is True and cull["timeout"] == 3600 and cull["every"] == 300
    assert cull["users"] is False  # culls servers, keeps the accounts


def env_of_notebook(manifest: dict) -> dict[str, str]:
    notebook = next(c for c in manifest["spec"]["containers"] if c["name"] == "notebook")
    return {e["name"]: e.get("value") for e in notebook.get("env", [])}


def load_extra_file(hub_values, key, tmp_path, monkeypatch, instructor_courses=None):
    """Load a singleuser.extraFiles config as Jupyter/nbgrader would in the user's pod."""
    from traitlets.config.loader import PyFileConfigLoader

    spec = hub_values["singleuser"]["extraFiles"][key]
    path = tmp_path / spec["mountPath"].rsplit("/", 1)[1]
    path.write_text(spec["stringData"])
    if instructor_courses is None:
        monkeypatch.delenv("DLCLAB_INSTRUCTOR_COURSES", raising=False)
    else:
        monkeypatch.setenv("DLCLAB_INSTRUCTOR_COURSES", instructor_courses)
    return PyFileConfigLoader(path.name, str(tmp_path)).load_config()


def test_instructors_are_told_their_course(hub_app):
    course = "astroparticle-online"
    teacher = pod_manifest(hub_app, LabUser("t1", [Group(f"formgrade-{course}")]))
    student = pod_manifest(hub_app, LabUser("s1", [Group(f"nbgrader-{course}")]))
    assert env_of_notebook(teacher)["DLCLAB_INSTRUCTOR_COURSES"] == course
    assert "DLCLAB_INSTRUCTOR_COURSES" not in env_of_notebook(student)


def test_nbgrader_config_in_the_users_servers(hub_values, tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "s1")  # KubeSpawner sets it in every server
    import ngshare_exchange
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange import ExchangeFactory

    student = load_extra_file(hub_values, "nbgrader-config", tmp_path, monkeypatch)
    factory = ExchangeFactory(config=student)
    assert factory.submit is ngshare_exchange.ExchangeSubmit
    assert factory.collect is ngshare_exchange.ExchangeCollect
    assert factory.release_assignment is ngshare_exchange.ExchangeReleaseAssignment
    exchange = factory.exchange(config=student, coursedir=CourseDirectory(config=student))
    # through the hub's proxy, which forwards to the ngshare service of helm/dlclab
    assert exchange.ngshare_url == "http://proxy-public/services/ngshare"
    assert Authenticator(config=student).plugin_class.__name__ == "JupyterHubAuthPlugin"
    assert CourseDirectory(config=student).course_id == ""
    teacher = load_extra_file(hub_values, "nbgrader-config", tmp_path, monkeypatch,
                              "astroparticle-online")
    coursedir = CourseDirectory(config=teacher)
    assert coursedir.course_id == "astroparticle-online"
    assert coursedir.root == "/home/jovyan/courses/astroparticle-online"
    # autograde in the instructor's pod runs students' code in the sandbox
    from nbgrader.converters.autograde import Autograde

    from dlclab.courses.sandbox import SandboxedExecute
    assert SandboxedExecute in Autograde(config=teacher).autograde_preprocessors
    # its mount point is the one the hub snippet mounts the course folder at
    assert hub_values["singleuser"]["extraFiles"]["nbgrader-config"]["mountPath"].startswith(
        "/etc/jupyter/")


def test_students_do_not_get_the_formgrader(hub_values, tmp_path, monkeypatch):
    student = load_extra_file(hub_values, "jupyter-server-config", tmp_path, monkeypatch)
    assert student.ServerApp.jpserver_extensions == {
        "nbgrader.server_extensions.formgrader": False,
        "nbgrader.server_extensions.course_list": False}
    teacher = load_extra_file(hub_values, "jupyter-server-config", tmp_path, monkeypatch,
                              "astroparticle-online")
    assert "jpserver_extensions" not in teacher.ServerApp
