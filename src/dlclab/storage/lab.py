"""All the lab's storage servers together: started in parallel, ready, stopped together."""
from __future__ import annotations

import json
from pathlib import Path

from dlclab.errors import DlclabError
from dlclab.hub.services import free_port
from dlclab.hub.settings import COLLABORATION_GROUPS
from dlclab.storage.xrootd import Instance, XrootdServer, make_keys


class StorageLab:
    """The sss server and (if it has public exports and a public port) the anonymous
    server of each instance."""

    def __init__(self, instances: list[Instance], state_dir: Path,
                 run_root: Path | None = None) -> None:
        """``state_dir``: client keytabs and ``servers.json``; ``run_root`` (default
        ``state_dir``): the servers' own files, reachable by the server account."""
        self.state_dir = state_dir
        self.run_root = run_root or state_dir
        self.servers: list[XrootdServer] = []
        self.instances: list[Instance] = []
        #: why a server is not running (non-strict start)
        self.errors: dict[str, str] = {}
        #: servers whose port was chosen here (another may be given if it is taken)
        self._chosen_ports: set[str] = set()
        for inst in instances:
            if not inst.port:
                self._chosen_ports.add(inst.name)
            if inst.public_port == 0:
                self._chosen_ports.add(inst.name + "-public")
            inst = inst.model_copy(update={
                "port": inst.port or free_port(),
                "public_port": None if inst.public_port is None else inst.public_port or free_port()})
            self.instances.append(inst)
            self.servers.append(XrootdServer(inst, state_dir, run_root=self.run_root))
            if inst.public_port is not None and inst.public_exports:
                self.servers.append(XrootdServer(inst, state_dir, anonymous=True,
                                                 run_root=self.run_root))

    @property
    def keys_dir(self) -> Path:
        return self.state_dir / "keys"

    def server(self, name: str) -> XrootdServer:
        """By server name: ``<instance>`` or ``<instance>-public``."""
        return next(s for s in self.servers if s.name == name)

    def start(self, timeout_s: float = 120.0, strict: bool = True) -> None:
        """Launch every server, then wait until each answers a query. A server that fails:
        ``strict``, every server is stopped and the error raised; otherwise its error is
        kept (:attr:`errors`, in the status) and the others serve."""
        for folder in {self.state_dir, self.run_root}:
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o755)
        # a key per collaboration, also those without internal data here: their members
        # log in and are refused other collaborations' data by the authdb
        make_keys(self.keys_dir, sorted({g for i in self.instances for g in i.groups}
                                        | set(COLLABORATION_GROUPS)),
                  self.run_root / "server.keytab")
        try:
            for server in self.servers:
                try:
                    server.launch()
                except (DlclabError, OSError) as exc:
                    if strict:
                        raise
                    self.errors[server.name] = f"could not start: {exc}"
            for server in self.servers:
                if server.name in self.errors:
                    continue
                try:
                    self._wait_ready(server, timeout_s)
                except DlclabError as exc:
                    if strict:
                        raise
                    server.stop()
                    self.errors[server.name] = str(exc)
            self.publish()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, server: XrootdServer, timeout_s: float, attempts: int = 3) -> None:
        """Wait for ``server``; a free port chosen here but taken by another process
        before the server bound it gets another free port (a busy machine)."""
        for attempt in range(attempts):
            try:
                server.wait_ready(timeout_s)
                return
            except DlclabError as exc:
                taken = "already in use" in str(exc).lower()
                if not (taken and server.name in self._chosen_ports) or attempt == attempts - 1:
                    raise
            key = "public_port" if server.anonymous else "port"
            server.instance = server.instance.model_copy(update={key: free_port()})
            server.launch()

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        self.servers_file.unlink(missing_ok=True)

    @property
    def servers_file(self) -> Path:
        """Where the running servers' URLs are published (ports may be chosen at start)."""
        return self.state_dir / "servers.json"

    def publish(self) -> None:
        tmp = self.servers_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"servers": self.status()}, indent=1))
        tmp.chmod(0o644)
        tmp.replace(self.servers_file)

    def status(self) -> list[dict]:
        return [{"name": s.name, "instance": s.instance.name, "url": s.url,
                 "anonymous": s.anonymous, "pid": s.process.pid if s.process else None,
                 "running": bool(s.process and s.process.poll() is None),
                 "error": self.errors.get(s.name),
                 "exports": [e.model_dump() for e in (s.instance.public_exports if s.anonymous
                                                      else s.instance.exports)]}
                for s in self.servers]

    def __enter__(self) -> StorageLab:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
