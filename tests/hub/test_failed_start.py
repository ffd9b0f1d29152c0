"""A hub that fails to start stops what it started and says why, with its log kept.

JupyterHub alone exits on a managed service that does not answer and leaves the
services it had already started running without a parent (seen in CI as stray
aggregation services holding ports)."""
from __future__ import annotations

import time

import psutil
import pytest

from dlclab.errors import DlclabError
from tests.hub_harness import LabHub

pytestmark = pytest.mark.hub


def processes_with(marker: str) -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["cmdline"]) if marker in " ".join(p.info["cmdline"] or [])]


def test_a_failed_start_stops_the_services_it_started_and_names_its_log():
    marker = f"dlclab-started-before-the-failure-{time.time_ns()}"
    good = {"name": "good", "url": "http://127.0.0.1:{port}",
            "command": ["{python}", "-m", "http.server", "--bind", "127.0.0.1", "{port}"],
            "environment": {"MARKER": marker}}
    good["command"].append("--directory=/nonexistent-" + marker)  # the marker, in its argv
    silent = {"name": "silent", "url": "http://127.0.0.1:{port}",
              "command": ["{python}", "-c", "import time; time.sleep(600)"]}
    hub = LabHub(extra_services=[good, silent], settings={"service_start_timeout_s": 2.0})
    with pytest.raises(DlclabError) as failure:
        with hub:
            pass
    message = str(failure.value)
    assert "silent" in message, message  # the log's last lines name the service
    assert str(hub.kept_log) in message and hub.kept_log.exists()
    deadline = time.monotonic() + 60
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not processes_with(marker), "a service started before the failure is still running"
