"""Service fixtures: two storage instances (a local path with raw TAIGA files of the
collaboration, an HTTP endpoint on loopback with public and collaboration releases), one
catalogue extracted from both, and TestClients whose user is injected (non-security tests
only; the security tests use the real hub, see test_security.py)."""
from __future__ import annotations

import functools
import http.server
import threading
import time
from pathlib import Path

import yaml

import pytest
from fastapi.testclient import TestClient

from dlclab.metadata.db import open_catalogue
from dlclab.metadata.extractor import Extractor, StorageSpec
from dlclab.service import ServiceSettings, create_app
from dlclab.service.dependencies import current_member, current_user, optional_user
from dlclab.service.auth import User
from tests.metadata.builders import build_raw_taiga, build_release

PROJECT = Path(__file__).resolve().parents[2]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output readable
        pass


@pytest.fixture(scope="session")
def http_storage(tmp_path_factory):
    """A storage directory served over HTTP on loopback: (root, url)."""
    root = tmp_path_factory.mktemp("http_storage")
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def lab(tmp_path_factory, http_storage):
    """Storages + catalogue: a dict with the catalogue URL, roots and the export dir."""
    base = tmp_path_factory.mktemp("das")
    raw = base / "raw_taiga"
    build_raw_taiga(raw, n_files=3, n_events=5)
    http_root, http_url = http_storage
    build_release(http_root, "kascade", "OCEANUS", "public", n_events=400, seed=1,
                  doi="10.5445/IR/1000000000")
    build_release(http_root, "taiga", "TSIM1", "collaboration:taiga", n_events=300, seed=2)
    url = f"sqlite:///{base / 'catalogue.sqlite'}"
    engine = open_catalogue(url)
    s1 = Extractor(engine, StorageSpec("taiga-raw", raw, "taiga", access="taiga")).run()
    s2 = Extractor(engine, StorageSpec("releases", http_root, "mixed", access="public",
                                       url=http_url)).run()
    engine.dispose()
    return {"db_url": url, "raw": raw, "http_root": http_root, "http_url": http_url,
            "export_dir": base / "exports", "summaries": (s1, s2)}


#: the harvest catalogue: (experiment, release, access); 5 public records (3 pages of 2)
#: and 3 internal ones, whose names must never reach an anonymous or non-member harvester
OAI_RELEASES = [("kascade", "OCEANUS", "public"), ("kascade", "NABOO", "public"),
                ("kascade", "KPUB3", "public"), ("taiga", "T2020.1-EDU", "public"),
                ("taiga", "TPUB2", "public"), ("taiga", "TSECRET-1", "collaboration:taiga"),
                ("taiga", "TSECRET-2", "collaboration:taiga"),
                ("kascade", "KSECRET-1", "collaboration:kascade")]


@pytest.fixture(scope="session")
def oai_lab(tmp_path_factory):
    """A catalogue of the :data:`OAI_RELEASES` on a local storage (for paging and sets)."""
    base = tmp_path_factory.mktemp("oai")
    root = base / "releases"
    for seed, (experiment, name, access) in enumerate(OAI_RELEASES):
        build_release(root, experiment, name, access, n_events=20, seed=seed, n_files=1,
                      doi="10.5445/IR/1000000001" if name == "OCEANUS" else None)
    url = f"sqlite:///{base / 'catalogue.sqlite'}"
    engine = open_catalogue(url)
    Extractor(engine, StorageSpec("oai-releases", root, "mixed", access="public")).run()
    engine.dispose()
    return {"db_url": url, "export_dir": base / "exports"}


#: quotas high enough that the logic tests never meet them (test_web_attacks tests quotas)
ROOMY = {"export_quota_count": 10_000, "export_quota_bytes": 1 << 40}


def make_client(lab: dict, user: User | None, **settings) -> TestClient:
    """A TestClient whose requests are ``user``'s (both identity dependencies overridden)."""
    app = create_app(ServiceSettings(db_url=lab["db_url"], export_dir=lab["export_dir"],
                                     export_ttl_s=3600, **{**ROOMY, **settings}))
    if user is not None:
        app.dependency_overrides[current_user] = lambda: user
        app.dependency_overrides[current_member] = lambda: user
        app.dependency_overrides[optional_user] = lambda: user
    return TestClient(app)


@pytest.fixture(scope="session")
def member(lab):
    """A TAIGA collaboration member (user injected: NOT for security tests)."""
    with make_client(lab, User("alice", frozenset({"taiga"}))) as client:
        yield client


@pytest.fixture(scope="session")
def outsider(lab):
    """A lab user outside the TAIGA collaboration (user injected)."""
    with make_client(lab, User("bob", frozenset())) as client:
        yield client


@pytest.fixture(scope="session")
def hub(lab, oai_lab):
    """One real lab hub for the session with the service registered from hub/services.d's
    format: alice is in the TAIGA collaboration (group ``taiga``), bob is not."""
    from tests.hub_harness import LabHub

    spec = service_spec(lab, "das-test")
    # the harvest test's service: its own catalogue, OAI-PMH pages of 2
    oai = service_spec(oai_lab, "das-oai", "--oai-page-size", "2")
    with LabHub(users={"alice": ["taiga"], "bob": []}, extra_services=[spec, oai]) as lab_hub:
        yield lab_hub


def service_spec(lab: dict, name: str, *args: str) -> dict:
    """The shipped definition (hub/services.d) under a test name (the shipped one runs
    too, on the data root), pointed at this session's catalogue and an export folder of
    its own; ``args``: more command-line options of the service."""
    spec = yaml.safe_load((PROJECT / "hub" / "services.d" / "data-aggregation.yaml").read_text())
    spec["name"] = name
    # this session's catalogue is in pytest's root-only tmp folder: run as the hub's user
    for key in ("user", "groups", "owns", "cwd"):
        spec.pop(key, None)
    spec["command"] = ["{python}", "-m", "dlclab.service", "--db", lab["db_url"],
                       "--export-dir", str(lab["export_dir"] / name), *args]
    return spec


def wait_for_service(hub, name: str) -> str:
    """The URL of service ``name`` through the hub's proxy, once it answers."""
    import httpx

    url = f"{hub.url}/services/{name}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/api/whoami", timeout=5).status_code == 401:
                return url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the service did not come up behind the proxy: see {hub.log_file}")


@pytest.fixture(scope="session")
def service_url(hub) -> str:
    """The service through the hub's proxy, waited for until it answers."""
    return wait_for_service(hub, "das-test")
