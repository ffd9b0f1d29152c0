"""One XRootD server per storage instance, plus an anonymous one for its public paths.

An instance has a data root and exported paths, each ``public`` or internal to a
collaboration (a hub group). Access control is XRootD's own: the ``sss`` (shared secret)
protocol identifies clients by the key they hold, and an authdb (``acc.authdb``) grants
``lr`` (lookup, read) per path: ``u *`` for public paths, ``g <group>`` for a
collaboration's paths, the aggregation service's identity for all. A client without a
key cannot authenticate at all (sss only; the ``unix`` protocol is not enabled because it
trusts a client-claimed name), so anonymous reading goes to a second server of the
instance that exports the public paths only and has no security protocol.
Checksums: ``xrootd.chksum sha256`` with a program, since XRootD 5.5 computes only
adler32/crc32/md5 itself and the manifests record sha256.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from pydantic import BaseModel, Field, field_validator, model_validator

from dlclab.errors import DlclabError

CKSUM_SCRIPT = """#!/bin/sh
# $1: the instance's data root, $2: the logical file name XRootD passes
out=$(sha256sum -b -- "$1$2") || exit 1
echo "${out%% *}" | tr -d '\\\\'
"""
PUBLIC = "public"
#: the aggregation service's key: user and group XRootD sees for it
SERVICE_USER, SERVICE_GROUP = "data-aggregation", "dlclab-service"
#: the system account the servers run as (Debian's xrootd-server creates it)
SERVER_ACCOUNT = "xrootd"


class Export(BaseModel):
    path: str = Field(description="exported path below the data root, e.g. /raw/kcdc "
                      "(no trailing slash: XRootD would not list the folder itself)")
    access: str = Field(default=PUBLIC, description="'public' or the collaboration group")

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/") or ".." in value.split("/") or any(c.isspace() for c in value):
            raise ValueError(f"export path {value!r}: expected an absolute path without "
                             "'..' or spaces")
        return value.rstrip("/") or "/"


class Instance(BaseModel):
    """One storage instance (one XRootD server on loopback, one more for anonymous reads)."""

    name: str = Field(description="instance name, e.g. kit-kascade")
    root: Path = Field(description="data root (oss.localroot)")
    port: int = Field(default=0, ge=0, description="TCP port of the sss server (loopback "
                      "clients only); 0: a free port chosen at start")
    public_port: int | None = Field(
        default=0, ge=0, description="TCP port of the anonymous server exporting the public "
        "paths only; 0: a free port chosen at start; None: no anonymous server")
    exports: list[Export] = Field(description="exported paths and their access")

    @model_validator(mode="after")
    def _no_public_prefix_of_internal(self) -> Instance:
        # XRootD matches export and authdb paths as string prefixes: a public /a/b would
        # open an internal /a/bc to everyone
        for pub in self.public_exports:
            for other in self.exports:
                if other.access != PUBLIC and other.path.startswith(pub.path):
                    raise ValueError(f"{self.name}: public export {pub.path} is a prefix of "
                                     f"the internal export {other.path} (XRootD matches "
                                     "paths as prefixes): rename one")
        return self

    @property
    def groups(self) -> list[str]:
        """The collaboration groups of its internal exports."""
        return sorted({e.access for e in self.exports if e.access != PUBLIC})

    @property
    def public_exports(self) -> list[Export]:
        return [e for e in self.exports if e.access == PUBLIC]


def _is_root() -> bool:
    return os.geteuid() == 0


def _give_to_server(path: Path, mode: int | None = None) -> None:
    if _is_root():
        shutil.chown(path, SERVER_ACCOUNT)
    if mode is not None:
        path.chmod(mode)


def make_keys(keys_dir: Path, groups: list[str], server_keytab: Path | None = None) -> dict[str, Path]:
    """Client keytabs (the service's, one per group) and the server keytab holding all.

    One key set for the whole lab: the service's one keytab opens every instance, a
    member's opens every instance exporting their collaboration's data."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    keys_dir.chmod(0o755)
    # keys made before (other instances' groups) stay in the server keytab
    out: dict[str, Path] = {p.name.removesuffix(".keytab"): p for p in sorted(keys_dir.glob("*.keytab"))
                            if p.name != "server.keytab"}
    for who, group in [(SERVICE_USER, SERVICE_GROUP)] + [(f"{g}-member", g) for g in groups]:
        path = keys_dir / f"{group}.keytab"
        if not path.exists():
            subprocess.run(["xrdsssadmin", "-k", group, "-u", who, "-g", group, "add",
                            str(path)], check=True, capture_output=True, input=b"y\n")
            path.chmod(0o600)
        out[group] = path
    # xrdsssadmin numbers keys by the clock, so keys made in one second collide: the
    # server keytab numbers them itself (a client's key number must match the server's)
    numbered: list[str] = []
    for number, path in enumerate(out.values(), start=1):
        text = path.read_text().strip()
        old = text.split(" N:", 1)[1].split()[0]
        text = text.replace(f" N:{old} ", f" N:{number} ")
        path.write_text(text + "\n")
        numbered.append(text)
    server = server_keytab or keys_dir / "server.keytab"
    server.parent.mkdir(parents=True, exist_ok=True)
    server.unlink(missing_ok=True)
    server.write_text("".join(t + "\n" for t in numbered))
    _give_to_server(server, 0o400)
    return out


def write_config(instance: Instance, run_dir: Path, server_keytab: Path | None) -> Path:
    """The server's config file, authdb and checksum program below ``run_dir``.

    ``server_keytab`` None: the anonymous server (public exports, no security protocol)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    _give_to_server(run_dir)
    cks = run_dir / "sha256.sh"
    cks.write_text(CKSUM_SCRIPT)
    cks.chmod(0o755)
    root = str(instance.root.resolve())
    exports = instance.exports if server_keytab is not None else instance.public_exports
    if not exports:
        raise DlclabError(f"storage instance {instance.name}: nothing to export")
    cfg = [f"all.export {e.path}" for e in exports] + [
        f"oss.localroot {root}", f"xrd.port {instance.port if server_keytab else instance.public_port}",
        "xrd.allow host localhost",  # XRootD 5.5 cannot bind one address: refuse others
        f"all.adminpath {run_dir}", f"all.pidpath {run_dir}",
        f"xrootd.chksum max 4 sha256 {cks} {root}"]
    if server_keytab is not None:
        # one line per identity (XRootD refuses a second rule for one id)
        def rule(who: str, paths: list[str]) -> str:
            return f"{who} " + " ".join(f"{p} lr" for p in paths)

        lines = [rule(f"u {SERVICE_USER}", [e.path for e in exports])]
        public = [e.path for e in exports if e.access == PUBLIC]
        lines += [rule("u *", public)] if public else []
        lines += [rule(f"g {g}", [e.path for e in exports if e.access == g])
                  for g in instance.groups]
        (run_dir / "auth.db").write_text("\n".join(lines) + "\n")
        cfg += ["xrootd.seclib libXrdSec.so",
                f"sec.protocol sss -s {server_keytab}",
                f"acc.authdb {run_dir / 'auth.db'}", "ofs.authorize"]
    path = run_dir / "xrootd.cfg"
    path.write_text("\n".join(cfg) + "\n")
    return path


def client_env(keytab: Path | None) -> dict[str, str]:
    """The environment of an XRootD client process holding ``keytab`` (None: no key)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XrdSec")}
    if keytab is not None:
        env["XrdSecSSSKT"] = str(keytab)
    return env


class XrootdServer:
    """A running ``xrootd`` for one instance: the sss one, or (``anonymous``) the public one.

    As root it runs as Debian's ``xrootd`` account with the instance's collaboration
    groups as supplementary groups (``setpriv``: ``xrootd -R`` drops the groups, and the
    internal folders are readable by their group only)."""

    def __init__(self, instance: Instance, state_dir: Path, anonymous: bool = False,
                 run_root: Path | None = None) -> None:
        """``state_dir``: the client keytabs (``keys/``); ``run_root`` (default
        ``state_dir``): what the server itself reads and writes (config, server keytab,
        log), so it must be reachable by the server account."""
        if anonymous and instance.public_port is None:
            raise DlclabError(f"storage instance {instance.name} has no public_port")
        self.instance = instance
        self.anonymous = anonymous
        self.name = instance.name + ("-public" if anonymous else "")
        self.state_dir = state_dir
        self.keys_dir = state_dir / "keys"
        self.run_root = run_root or state_dir
        self.run_dir = self.run_root / self.name
        self.server_keytab = self.run_root / "server.keytab"
        self.process: subprocess.Popen | None = None

    @property
    def port(self) -> int:
        port = self.instance.public_port if self.anonymous else self.instance.port
        assert port is not None
        return port

    @property
    def url(self) -> str:
        return f"root://127.0.0.1:{self.port}/"

    def keytab(self, group: str) -> Path:
        return self.keys_dir / f"{group}.keytab"

    def command(self, cfg: Path) -> list[str]:
        cmd = ["xrootd", "-c", str(cfg), "-l", str(self.run_dir / "xrootd.log"), "-n", self.name]
        if not _is_root():
            return cmd
        groups = ",".join(["xrootd"] + ([] if self.anonymous else self.instance.groups))
        # the server dies with its manager, even if the manager is killed
        return ["setpriv", f"--reuid={SERVER_ACCOUNT}", f"--regid={SERVER_ACCOUNT}",
                f"--groups={groups}", "--pdeathsig=TERM", "--"] + cmd

    def launch(self) -> None:
        """Start the process (see :meth:`wait_ready`)."""
        wanted = [SERVICE_GROUP] + self.instance.groups
        if not self.anonymous and not (all(self.keytab(g).exists() for g in wanted)
                                       and self.server_keytab.exists()):
            make_keys(self.keys_dir, self.instance.groups, self.server_keytab)
        cfg = write_config(self.instance, self.run_dir,
                           None if self.anonymous else self.server_keytab)
        # cwd: xrootd makes its home folder (<cwd>/<name>) there, as the server account
        with open(self.run_dir / "xrootd.out", "wb") as out:  # what fails before the log
            self.process = subprocess.Popen(self.command(cfg), cwd=self.run_dir,
                                            stdout=out, stderr=subprocess.STDOUT)

    def ready(self) -> bool:
        """The server answers a query (as the service, or anonymously)."""
        key = None if self.anonymous else self.keytab(SERVICE_GROUP)
        try:
            done = subprocess.run(["xrdfs", self.url, "query", "config", "version"],
                                  env=client_env(key) | {"XRD_CONNECTIONRETRY": "1",
                                                         "XRD_REQUESTTIMEOUT": "30"},
                                  capture_output=True, timeout=60, check=False)
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0

    @property
    def log_file(self) -> Path:
        """xrootd puts its log below a folder named after the server (``-n``)."""
        return self.run_dir / self.name / "xrootd.log"

    def log_tail(self, n_lines: int = 5) -> str:
        log = self.log_file
        if not log.exists():
            log = self.run_dir / "xrootd.out"
        try:
            lines = log.read_text(errors="replace").splitlines()
        except OSError:
            return f"no log at {log}"
        return " | ".join(lines[-n_lines:]) + f" (log: {log})"

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise DlclabError(f"xrootd {self.name} exited: {self.log_tail()}")
            if self.ready():
                return
            time.sleep(0.2)
        self.stop()
        raise DlclabError(f"xrootd {self.name} did not answer within {timeout_s} s; "
                          f"see {self.log_file}")

    def start(self, timeout_s: float = 120.0) -> None:
        self.launch()
        self.wait_ready(timeout_s)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
