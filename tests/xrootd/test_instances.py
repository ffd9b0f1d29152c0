"""The lab's storage instances from one configuration: anonymous reading of public paths
(on each instance's anonymous server), refusal of collaboration data by the servers."""
from __future__ import annotations

import hashlib
import subprocess

from dlclab.storage.config import DEFAULT_CONFIG, load_instances
from tests.xrootd.conftest import xrdfs

INTERNAL = "/raw/taiga/tunka133/run1.dat"


def test_the_lab_configuration_declares_both_instances(tmp_path):
    instances = {i.name: i for i in load_instances(tmp_path, DEFAULT_CONFIG)}
    assert set(instances) == {"kit-kascade", "isu-taiga"}
    assert instances["isu-taiga"].groups == ["taiga"]
    assert instances["kit-kascade"].groups == []
    assert all(i.root == tmp_path for i in instances.values())


def test_anonymous_list_read_and_checksum_of_public_files(storage_lab):
    public = storage_lab.server("kit-kascade-public")
    assert "/releases/kascade/OCEANUS/events/a.dat" in xrdfs(
        public.url, "ls", "/releases/kascade/OCEANUS/events").stdout
    r = xrdfs(public.url, "cat", "/raw/kcdc/NABOO/x.txt")
    assert r.stdout == "kcdc export\n", r.stderr
    data = (public.instance.root / "releases/kascade/OCEANUS/events/a.dat").read_bytes()
    out = xrdfs(public.url, "query", "checksum", "/releases/kascade/OCEANUS/events/a.dat")
    assert out.stdout.split() == ["sha256", hashlib.sha256(data).hexdigest()]
    taiga_public = storage_lab.server("isu-taiga-public")
    r = xrdfs(taiga_public.url, "cat", "/releases/taiga/T2020.1-EDU/files.txt")
    assert r.stdout == "taiga public release\n", r.stderr


def test_public_paths_are_readable_with_any_key(storage_lab):
    server = storage_lab.server("isu-taiga")
    r = xrdfs(server.url, "cat", "/releases/taiga/T2020.1-EDU/files.txt",
              keytab=server.keytab("dlclab-service"))
    assert r.stdout == "taiga public release\n", r.stderr


def test_members_and_the_service_read_internal_data(storage_lab):
    # the file is 0640 root:taiga: the server reads it with the instance's groups
    server = storage_lab.server("isu-taiga")
    for group in ("taiga", "dlclab-service"):
        r = xrdfs(server.url, "cat", INTERNAL, keytab=server.keytab(group))
        assert r.stdout == "taiga raw, collaboration only\n", (group, r.stderr)


def test_anonymous_and_non_members_are_refused_internal_data(storage_lab):
    server = storage_lab.server("isu-taiga")
    for path in (INTERNAL, "/releases/taiga/T2020.1/files.txt"):
        # the anonymous server does not export it
        r = xrdfs(storage_lab.server("isu-taiga-public").url, "cat", path)
        assert r.returncode != 0 and "taiga" not in r.stdout, r.stdout
        # no key: the sss server does not let the client log in
        r = xrdfs(server.url, "cat", path)
        assert r.returncode != 0 and "taiga" not in r.stdout, r.stdout
        # another group's key (known to the server): authenticated, refused by the authdb
        r = xrdfs(server.url, "cat", path, keytab=server.keytab("kascade"))
        assert r.returncode != 0 and "taiga" not in r.stdout, r.stdout
        assert "permission denied" in r.stderr.lower(), r.stderr


def test_a_public_export_may_not_be_a_prefix_of_an_internal_one(tmp_path):
    import pytest
    from pydantic import ValidationError

    from dlclab.storage.xrootd import Export, Instance

    with pytest.raises(ValidationError, match="prefix"):
        Instance(name="x", root=tmp_path, exports=[Export(path="/releases/T2020"),
                                                   Export(path="/releases/T2020.1", access="taiga")])


def test_a_chosen_port_taken_before_the_server_binds_it_is_replaced(storage_base):
    """On a busy machine another process may take a free port between its choice and the
    server's bind: the server gets another one (a port given in the configuration not)."""
    import socket

    from dlclab.storage.lab import StorageLab
    from dlclab.storage.xrootd import Export, Instance

    (storage_base / "taken" / "pub").mkdir(parents=True)
    (storage_base / "taken" / "pub" / "f.txt").write_text("here\n")
    subprocess.run(["chmod", "-R", "a+rX", str(storage_base / "taken")], check=True)
    lab = StorageLab([Instance(name="x", root=storage_base / "taken", public_port=None,
                               exports=[Export(path="/pub")])], storage_base / "state-taken")
    server = lab.server("x")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server.instance = server.instance.model_copy(update={"port": port})
        lab.start()
        try:
            assert server.port != port
            r = xrdfs(server.url, "cat", "/pub/f.txt", keytab=server.keytab("dlclab-service"))
            assert r.stdout == "here\n", r.stderr
        finally:
            lab.stop()
