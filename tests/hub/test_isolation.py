"""Users are isolated: nothing without authentication, nothing of another user."""
from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.hub_harness import KernelError, LabHub

pytestmark = pytest.mark.hub

GATEWAY_API = "/services/dask-gateway/api/v1/clusters/"


@pytest.mark.parametrize("path", [
    "/hub/api/users",
    "/hub/api/users/{alice}",
    "/user/{alice}/api/kernels",
    "/user/{alice}/api/contents",
    "/services/dask-gateway/api/v1/clusters/",
])
def test_unauthenticated_requests_are_refused(lab_hub: LabHub, path: str):
    url = lab_hub.url + path.format(alice=lab_hub.user("alice").name)
    resp = httpx.get(url, follow_redirects=False)
    if resp.status_code in (302, 303):  # a browser would be sent to the login page
        assert "/hub/login" in resp.headers["location"] or "/hub/user" in resp.headers["location"]
        resp = httpx.get(url, follow_redirects=True)
        assert "/hub/login" in str(resp.url)
        assert "api/kernels" not in resp.text
    else:
        assert resp.status_code in (401, 403), (resp.status_code, resp.text[:200])


def test_unauthenticated_cannot_sign_in_without_approval(lab_hub: LabHub):
    """Sign-up exists, but an unapproved account cannot log in (no open access)."""
    mallory = f"{lab_hub.prefix}-mallory"
    with httpx.Client(base_url=lab_hub.url) as http:
        http.get("/hub/signup")
        signed_up = http.post("/hub/signup", data={
            "username": mallory, "signup_password": "S3cret-pass!",
            "signup_password_confirmation": "S3cret-pass!", "_xsrf": http.cookies.get("_xsrf")})
        assert "sent to the admin" in signed_up.text  # recorded, waiting for approval
        http.get("/hub/login")
        resp = http.post("/hub/login", data={"username": mallory, "password": "S3cret-pass!",
                                             "_xsrf": http.cookies.get("_xsrf")},
                         follow_redirects=False)
        assert resp.status_code != 302 or "/hub/login" in resp.headers.get("location", "")
        assert http.get("/hub/api/user").status_code in (401, 403)


def test_alice_cannot_open_bobs_server(lab_hub: LabHub):
    alice = lab_hub.token("alice")
    bob_server = lab_hub.server_url("bob")
    for path in ("/api/kernels", "/api/contents", "/lab"):
        resp = httpx.get(bob_server + path, headers={"Authorization": f"token {alice}"},
                         follow_redirects=False)
        assert resp.status_code in (403, 404) or (
            resp.status_code == 302 and "/hub/" in resp.headers["location"]), (path, resp.status_code)
    # and bob can (the same request is not refused for everyone)
    bob = lab_hub.token("bob")
    assert httpx.get(bob_server + "/api/kernels",
                     headers={"Authorization": f"token {bob}"}).status_code == 200


def test_alice_cannot_list_or_use_bobs_clusters(lab_hub: LabHub, alice_kernel, bob_kernel):
    name = bob_kernel.execute("from dask_gateway import Gateway\n"
                              "bobs = Gateway().new_cluster()\nprint(bobs.name)").strip()
    try:
        alice = lab_hub.token("alice", scopes=["access:services!service=dask-gateway"])
        headers = {"Authorization": f"jupyterhub {alice}"}
        assert name not in httpx.get(lab_hub.url + GATEWAY_API, headers=headers).json()
        assert httpx.get(lab_hub.url + GATEWAY_API + name, headers=headers).status_code in (403, 404)
        assert httpx.delete(lab_hub.url + GATEWAY_API + name,
                            headers=headers).status_code in (403, 404)
        with pytest.raises(KernelError):
            alice_kernel.execute(f"from dask_gateway import Gateway\nGateway().connect({name!r})")
        assert name in bob_kernel.execute("print(Gateway().list_clusters())")
    finally:
        bob_kernel.execute("bobs.shutdown()")


def test_alice_cannot_use_bobs_token(lab_hub: LabHub, alice_kernel, bob_kernel):
    # bob's server token lives in the environment of bob's processes: alice cannot read it
    pid = int(bob_kernel.execute("import os; print(os.getpid())"))
    with pytest.raises(KernelError, match="PermissionError"):
        alice_kernel.execute(f"open('/proc/{pid}/environ').read()")
    # and alice's token does not act for bob
    alice = lab_hub.token("alice")
    bob_name = lab_hub.user("bob").name
    for method, path in (("GET", f"/hub/api/users/{bob_name}"),
                         ("POST", f"/hub/api/users/{bob_name}/tokens"),
                         ("DELETE", f"/hub/api/users/{bob_name}/server")):
        resp = httpx.request(method, lab_hub.url + path, headers={"Authorization": f"token {alice}"},
                             json={} if method == "POST" else None)
        assert resp.status_code in (403, 404), (method, path, resp.status_code)


SCOPES_CODE = (
    "import os, json, urllib.request\n"
    "req = urllib.request.Request(os.environ['JUPYTERHUB_API_URL'] + '/user',\n"
    "    headers={'Authorization': 'token ' + os.environ['JUPYTERHUB_API_TOKEN']})\n"
    "print(json.dumps(json.load(urllib.request.urlopen(req))['scopes']))\n")


def test_a_services_d_entry_is_reachable_by_its_groups_only(lab_hub: LabHub, alice_kernel,
                                                             bob_kernel):
    """hub/services.d-style entry with access: [taiga] (conftest.TAIGA_SERVICE)."""
    scope = "access:services!service=taiga-notes"
    assert scope in json.loads(bob_kernel.execute(SCOPES_CODE))        # bob is in taiga
    assert scope not in json.loads(alice_kernel.execute(SCOPES_CODE))  # alice is not
    # the hub started it and routes /services/taiga-notes/ to it
    assert httpx.get(f"{lab_hub.url}/services/taiga-notes/").text == "taiga notes"


def test_server_token_is_least_privilege(lab_hub: LabHub, bob_kernel):
    """$JUPYTERHUB_API_TOKEN of bob's server: its own server, activity and services."""
    scopes = set(json.loads(bob_kernel.execute(SCOPES_CODE)))
    bob = lab_hub.user("bob").name
    assert f"access:servers!server={bob}/" in scopes
    assert "access:services!service=dask-gateway" in scopes
    assert not {s for s in scopes if s.startswith(("admin", "tokens", "list:users", "servers"))}
    assert not {s for s in scopes if "access:servers" in s and f"={bob}" not in s}


def test_alice_cannot_read_bobs_home(lab_hub: LabHub, alice_kernel, bob_kernel):
    bob_home = Path("/home") / lab_hub.user("bob").name
    bob_kernel.execute("open(os.path.expanduser('~/secret.txt'), 'w').write('bob only')")
    denied = lab_hub.run_as("alice", ["cat", str(bob_home / "secret.txt")])
    assert denied.returncode != 0 and "Permission denied" in denied.stderr
    assert lab_hub.run_as("alice", ["ls", str(bob_home)]).returncode != 0
    with pytest.raises(KernelError, match="PermissionError"):
        alice_kernel.execute(f"import os; os.listdir({str(bob_home)!r})")
    assert lab_hub.run_as("bob", ["cat", str(bob_home / "secret.txt")]).stdout == "bob only"


def test_only_taiga_members_read_taiga_internal_data(lab_hub: LabHub, alice_kernel, bob_kernel,
                                                     taiga_raw_file: Path):
    code = f"print(len(open({str(taiga_raw_file)!r}, 'rb').read(64)))"
    assert bob_kernel.execute(code).strip() == "64"  # bob is in taiga
    with pytest.raises(KernelError, match="PermissionError"):
        alice_kernel.execute(code)  # alice is not
    denied = lab_hub.run_as("alice", ["head", "-c", "16", str(taiga_raw_file)])
    assert denied.returncode != 0 and "Permission denied" in denied.stderr
