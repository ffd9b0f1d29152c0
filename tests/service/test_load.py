"""A bounded load test on loopback: N concurrent clients query and request exports for a
fixed time against the service served by uvicorn; zero errors, no request lost."""
from __future__ import annotations

import random
import socket
import threading
import time

import httpx
import uvicorn
from fastapi import Request

from dlclab.service import ServiceSettings, create_app
from dlclab.service.dependencies import current_member, current_user
from dlclab.service.auth import User
from tests.service.conftest import ROOMY

CLIENTS = 8
SECONDS = 3.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_concurrent_clients_see_no_errors_and_lose_nothing(lab, tmp_path):
    app = create_app(ServiceSettings(db_url=lab["db_url"], export_dir=tmp_path / "exports",
                                     export_workers=2, **ROOMY))

    def load_user(request: Request) -> User:  # one user per client (not a security test)
        return User(request.headers["x-load-user"], frozenset({"taiga"}))

    app.dependency_overrides[current_user] = load_user
    app.dependency_overrides[current_member] = load_user
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    while not server.started:
        time.sleep(0.02)

    errors: list[str] = []
    submitted: dict[str, list[str]] = {}
    counts: dict[str, int] = {}

    def client(i: int) -> None:
        name = f"load{i}"
        rng = random.Random(i)
        mine, n = [], 0
        with httpx.Client(base_url=base, headers={"x-load-user": name}, timeout=30) as http:
            deadline = time.monotonic() + SECONDS
            while time.monotonic() < deadline:
                params = rng.choice([{"facility": "tunka133"}, {"release": "OCEANUS"},
                                     {"cut": f"energy:{10 ** rng.uniform(15, 16.5)}:"},
                                     {"cut": "Ze::20", "release": "TSIM1"}, {"cluster": 2}])
                reply = http.get("/api/files", params=params)
                n += 1
                if reply.status_code != 200:
                    errors.append(f"{name} GET {params}: {reply.status_code} {reply.text}")
                if n % 5 == 0:
                    reply = http.post("/api/exports", json={
                        "format": rng.choice(["ASCII", "HDF5", "ROOT"]),
                        "query": {"release": "OCEANUS"}, "quantities": ["energy"],
                        "cuts": ["zenith::30"]})
                    if reply.status_code != 202:
                        errors.append(f"{name} POST: {reply.status_code} {reply.text}")
                    else:
                        mine.append(reply.json()["id"])
        submitted[name], counts[name] = mine, n

    try:
        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[:5]
        assert sum(counts.values()) >= CLIENTS and all(submitted.values())
        # nothing lost: every request listed for its owner only, and every one finishes
        with httpx.Client(base_url=base, timeout=30) as http:
            for name, ids in submitted.items():
                for _ in range(1200):
                    mine = http.get("/api/exports", headers={"x-load-user": name}).json()
                    if all(r["status"] not in ("queued", "running") for r in mine):
                        break
                    time.sleep(0.05)
                assert sorted(r["id"] for r in mine) == sorted(ids)
                assert {r["status"] for r in mine} == {"done"}, [r["error"] for r in mine]
                assert len({r["n_events"] for r in mine}) == 1  # the same selection each time
    finally:
        server.should_exit = True
        thread.join(timeout=30)
