"""A real XRootD server (Debian's xrootd-server) on a free loopback port: listing, reads,
sha256 checksums, and refusal of collaboration data for a client without the group's key."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from dlclab.hub.services import free_port
from dlclab.storage.xrootd import Export, Instance, XrootdServer


@pytest.fixture(scope="module")
def server():
    # not below pytest's tmp folder: it is private to root, the server runs as xrootd
    base = Path(tempfile.mkdtemp(prefix="dlclab-xrootd-"))
    base.chmod(0o755)
    root = base / "isu-taiga"
    root.mkdir()
    (root / "pub").mkdir()
    (root / "int").mkdir()
    (root / "kas").mkdir()
    (root / "pub" / "a.dat").write_bytes(os.urandom(100_000))
    (root / "int" / "b.dat").write_bytes(b"collaboration only\n")
    subprocess.run(["chmod", "-R", "a+rX", str(base)], check=True)
    inst = Instance(name="isu-taiga", root=root, port=free_port(),
                    exports=[Export(path="/pub"), Export(path="/int", access="taiga"),
                             Export(path="/kas", access="kascade")])
    srv = XrootdServer(inst, root.parent / "state")
    srv.start()
    yield srv
    srv.stop()
    shutil.rmtree(base)


def xrdfs(srv, *args, keytab=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("XrdSec")}
    if keytab:
        env["XrdSecSSSKT"] = str(keytab)
    return subprocess.run(["xrdfs", srv.url, *args], env=env, capture_output=True, text=True, check=False,
                          timeout=60)


def test_listing_read_and_sha256_checksum(server):
    key = server.keytab("dlclab-service")
    assert "/pub/a.dat" in xrdfs(server, "ls", "/pub", keytab=key).stdout
    data = (server.instance.root / "pub" / "a.dat").read_bytes()
    out = xrdfs(server, "query", "checksum", "/pub/a.dat", keytab=key).stdout.split()
    assert out == ["sha256", hashlib.sha256(data).hexdigest()]


def test_member_and_service_read_internal_data(server):
    for group in ("taiga", "dlclab-service"):
        r = xrdfs(server, "cat", "/int/b.dat", keytab=server.keytab(group))
        assert r.stdout == "collaboration only\n", r.stderr


def test_non_member_is_refused_by_the_server(server):
    # no key at all: authentication fails (sss only; no client-claimed identities)
    r = xrdfs(server, "cat", "/int/b.dat")
    assert r.returncode != 0 and "collaboration" not in r.stdout
    # another collaboration's key, known to the server: authenticated, refused by the authdb
    r = xrdfs(server, "cat", "/int/b.dat", keytab=server.keytab("kascade"))
    assert r.returncode != 0 and "collaboration" not in r.stdout
    assert "permission denied" in r.stderr.lower(), r.stderr
