"""One XRootD server per storage instance: configuration, keys, start and stop.

An instance has a data root and exported paths, each ``public`` or internal to a
collaboration (a hub group). Access control is XRootD's own: the ``sss`` (shared secret)
protocol identifies clients by the key they hold, and an authdb (``acc.authdb``) grants
``lr`` (lookup, read) per path: ``u *`` for public paths, ``g <group>`` for a
collaboration's paths, the aggregation service's identity for all. A client without a
key cannot authenticate at all (sss only; the ``unix`` protocol is not enabled because it
trusts a client-claimed name). Checksums: ``xrootd.chksum sha256`` with a program, since
XRootD 5.5 computes only adler32/crc32/md5 itself and the manifests record sha256.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from pydantic import BaseModel, Field

from dlclab.errors import DlclabError

CKSUM_SCRIPT = """#!/bin/sh
# $1: the instance's data root, $2: the logical file name XRootD passes
out=$(sha256sum -b -- "$1$2") || exit 1
echo "${out%% *}" | tr -d '\\\\'
"""


class Export(BaseModel):
    path: str = Field(description="exported path below the data root, e.g. /raw/kcdc")
    access: str = Field(default="public", description="'public' or the collaboration group")


class Instance(BaseModel):
    """One storage instance (one XRootD server on loopback)."""

    name: str = Field(description="instance name, e.g. kit-kascade")
    root: Path = Field(description="data root (oss.localroot)")
    port: int = Field(description="TCP port; the server accepts loopback clients only")
    exports: list[Export] = Field(description="exported paths and their access")


def run_dir_for(instance: Instance, state_dir: Path) -> Path:
    return state_dir / instance.name


def make_keys(run_dir: Path, groups: list[str], service: str = "data-aggregation") -> dict[str, Path]:
    """Client keytabs (one per group, one for the service) and the server keytab holding all."""
    keys = run_dir / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for number, (who, group) in enumerate([(service, "dlclab-service")]
                                          + [(f"{g}-member", g) for g in groups], start=1):
        path = keys / f"{group}.keytab"
        if not path.exists():
            subprocess.run(["xrdsssadmin", "-k", group, "-u", who, "-g", group, "-n",
                            str(number), "add", str(path)], check=True, capture_output=True,
                           input=b"y\n")
            # xrdsssadmin numbers keys by the clock: keys made in one second collide
            text = path.read_text()
            old = text.split(" N:", 1)[1].split()[0]
            path.write_text(text.replace(f" N:{old} ", f" N:{int(old) + number} "))
        out[group] = path
    server = keys / "server.keytab"
    server.write_text("".join(p.read_text().strip() + "\n" for p in out.values()))
    shutil.chown(server, "xrootd")
    server.chmod(0o400)
    return out


def write_config(instance: Instance, run_dir: Path) -> Path:
    """The server's config file, authdb and checksum program below ``run_dir``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    shutil.chown(run_dir, "xrootd")
    groups = sorted({e.access for e in instance.exports if e.access != "public"})
    make_keys(run_dir, groups)
    cks = run_dir / "sha256.sh"
    cks.write_text(CKSUM_SCRIPT)
    cks.chmod(0o755)
    root = str(instance.root.resolve())
    lines = ["u data-aggregation " + " ".join(f"{e.path} lr" for e in instance.exports)]
    lines += [f"u * {e.path} lr" for e in instance.exports if e.access == "public"]
    lines += [f"g {e.access} {e.path} lr" for e in instance.exports if e.access != "public"]
    (run_dir / "auth.db").write_text("\n".join(lines) + "\n")
    cfg = [f"all.export {e.path}" for e in instance.exports] + [
        f"oss.localroot {root}", f"xrd.port {instance.port}",
        "xrd.allow host localhost",  # XRootD 5.5 cannot bind one address: refuse others
        f"all.adminpath {run_dir}", f"all.pidpath {run_dir}",
        f"xrootd.chksum max 4 sha256 {cks} {root}",
        "xrootd.seclib libXrdSec.so", f"sec.protocol sss -s {run_dir / 'keys/server.keytab'}",
        f"acc.authdb {run_dir / 'auth.db'}", "ofs.authorize"]
    path = run_dir / "xrootd.cfg"
    path.write_text("\n".join(cfg) + "\n")
    return path


class XrootdServer:
    """A running ``xrootd`` (as Debian's ``xrootd`` account) for one instance."""

    def __init__(self, instance: Instance, state_dir: Path) -> None:
        self.instance = instance
        self.run_dir = run_dir_for(instance, state_dir)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"root://127.0.0.1:{self.instance.port}/"

    def keytab(self, group: str) -> Path:
        return self.run_dir / "keys" / f"{group}.keytab"

    def start(self, timeout_s: float = 30.0) -> None:
        cfg = write_config(self.instance, self.run_dir)
        self.process = subprocess.Popen(
            ["xrootd", "-R", "xrootd", "-c", str(cfg), "-l", str(self.run_dir / "xrootd.log"),
             "-n", self.instance.name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DlclabError(f"xrootd {self.instance.name} exited; see {self.run_dir}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.instance.port)) == 0:
                    return
            time.sleep(0.1)
        self.stop()
        raise DlclabError(f"xrootd {self.instance.name} did not listen within {timeout_s} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
