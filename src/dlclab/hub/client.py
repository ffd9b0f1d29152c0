"""A small client of the JupyterHub REST API (admin side), used by ``dlclab lab`` to set
up demo users and by the test harness."""
from __future__ import annotations

import time
from typing import Any

import httpx

from dlclab.errors import DlclabError


class HubClient:
    """REST calls to ``<base_url>/hub/api`` with a token."""

    def __init__(self, base_url: str, token: str, timeout_s: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.api = f"{self.base_url}/hub/api"
        self.http = httpx.Client(headers={"Authorization": f"token {token}"}, timeout=timeout_s)

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, expect: tuple[int, ...] = (200, 201, 202, 204),
                **kwargs) -> Any:
        resp = self.http.request(method, f"{self.api}{path}", **kwargs)
        if resp.status_code not in expect:
            raise DlclabError(f"hub API {method} {path}: HTTP {resp.status_code} {resp.text[:300]}")
        return resp.json() if resp.content and "json" in resp.headers.get("content-type", "") else None

    # ---- users and groups
    def user(self, name: str) -> dict | None:
        resp = self.http.get(f"{self.api}/users/{name}")
        return resp.json() if resp.status_code == 200 else None

    def create_users(self, names: list[str]) -> None:
        missing = [n for n in names if self.user(n) is None]
        if missing:
            self.request("POST", "/users", json={"usernames": missing})

    def add_to_group(self, group: str, names: list[str]) -> None:
        self.request("POST", f"/groups/{group}/users", json={"users": names})

    def delete_user(self, name: str) -> None:
        self.request("DELETE", f"/users/{name}", expect=(204, 404))

    def new_token(self, user: str, scopes: list[str] | None = None, note: str = "dlclab") -> str:
        body: dict[str, Any] = {"note": note, "expires_in": 3600}
        if scopes is not None:
            body["scopes"] = scopes
        return self.request("POST", f"/users/{user}/tokens", json=body)["token"]

    # ---- servers
    def start_server(self, user: str) -> None:
        self.request("POST", f"/users/{user}/server", expect=(201, 202, 400))

    def stop_server(self, user: str) -> None:
        self.request("DELETE", f"/users/{user}/server", expect=(202, 204, 400))

    def server_ready(self, user: str) -> bool:
        info = self.user(user) or {}
        server = (info.get("servers") or {}).get("", {})
        return bool(server.get("ready"))

    def server_stopped(self, user: str) -> bool:
        info = self.user(user) or {}
        return "" not in (info.get("servers") or {})

    def wait(self, condition, what: str, timeout_s: float = 120.0, poll_s: float = 0.2) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(poll_s)
        raise DlclabError(f"timed out after {timeout_s:g} s waiting for {what}")

    def start_and_wait(self, user: str, timeout_s: float = 120.0) -> None:
        self.start_server(user)
        self.wait(lambda: self.server_ready(user), f"{user}'s server", timeout_s)

    def stop_and_wait(self, user: str, timeout_s: float = 60.0) -> None:
        self.stop_server(user)
        self.wait(lambda: self.server_stopped(user), f"{user}'s server to stop", timeout_s)
