"""One real lab hub for the session: alice (kascade, students), bob (taiga) and carol
(students), system users created through the REST API, their servers started
concurrently. Teardown asserts that nothing is left running."""
from __future__ import annotations

from pathlib import Path

import pytest

from dlclab import config
from tests.hub_harness import LabHub

pytestmark = pytest.mark.hub

USERS = {"alice": ["kascade", "students"], "bob": ["taiga"], "carol": ["students"]}
#: a minimal web service, started by the hub like any hub/services.d entry
_SERVICE_CODE = """
import http.server, sys
class Notes(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"taiga notes"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Notes).serve_forever()
"""
#: registered as configuration, open to the taiga group only
TAIGA_SERVICE = {"name": "taiga-notes", "url": "http://127.0.0.1:{port}", "access": ["taiga"],
                 "command": ["{python}", "-c", _SERVICE_CODE, "{port}"]}


@pytest.fixture(scope="session")
def lab_data_root() -> Path:
    """The lab's data root as `make data` builds it (raw TAIGA files inside)."""
    root = config.data_root().resolve()
    assert (root / "raw" / "taiga").is_dir(), f"no raw TAIGA data under {root}: run `make data`"
    return root


@pytest.fixture(scope="session")
def lab_hub(lab_data_root: Path):
    hub = LabHub(users=USERS, data_root=lab_data_root, extra_services=[TAIGA_SERVICE])
    with hub:
        for name in USERS:  # spawn concurrently, then wait for all
            hub.admin.start_server(hub.user(name).name)
        for name in USERS:
            hub.admin.wait(lambda n=name: hub.admin.server_ready(hub.user(n).name),
                           f"{name}'s server", timeout_s=150)
        yield hub
        hub.remember_processes()
    hub.assert_nothing_left()


@pytest.fixture(scope="session")
def alice_kernel(lab_hub: LabHub):
    with lab_hub.kernel("alice") as kernel:
        yield kernel


@pytest.fixture(scope="session")
def bob_kernel(lab_hub: LabHub):
    with lab_hub.kernel("bob") as kernel:
        yield kernel


@pytest.fixture(scope="session")
def taiga_raw_file(lab_data_root: Path) -> Path:
    """A raw TAIGA file (collaboration-internal)."""
    files = sorted(p for p in (lab_data_root / "raw" / "taiga").rglob("*")
                   if p.is_file() and p.stat().st_size >= 64)
    assert files, "no raw TAIGA file under the data root"
    return files[0]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Expose each phase's report to fixtures (the browser keeps a screenshot on failure)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
