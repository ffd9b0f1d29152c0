"""REST logic of the Data Aggregation Service across two storages (local + HTTP).

The user is injected here (a dependency override); authentication and isolation are
proven against a real hub in test_security.py."""
from __future__ import annotations

import io
import time
import zipfile

import h5py
import numpy as np
import pandas as pd
import pytest
import uproot

RELEASE_FILES = "kascade/OCEANUS/events/experiment=kascade/release=OCEANUS"


def oceanus(lab) -> pd.DataFrame:
    """Ground truth: the public release's events as written."""
    folder = lab["http_root"] / RELEASE_FILES
    return pd.concat([pd.read_parquet(p).assign(file=p.name) for p in sorted(folder.glob("*.parquet"))])


def wait_done(client, request_id: str) -> dict:
    for _ in range(600):
        status = client.get(f"/api/exports/{request_id}").json()
        if status["status"] not in ("queued", "running"):
            return status
        time.sleep(0.05)
    raise AssertionError(f"export {request_id} did not finish")


def test_storages_follow_groups(member, outsider):
    assert {s["name"]: s["protocol"] for s in member.get("/api/storages").json()} == {
        "releases": "http", "taiga-raw": "file"}
    assert [s["name"] for s in outsider.get("/api/storages").json()] == ["releases"]


def test_releases_carry_identifiers_licence_and_provenance(member, outsider):
    releases = {r["name"]: r for r in member.get("/api/releases").json()}
    assert set(releases) == {"OCEANUS", "TSIM1"}
    oc = releases["OCEANUS"]
    assert oc["doi"] == "10.5445/IR/1000000000" and oc["licence"] == "CC-BY-4.0"
    assert oc["provenance"]["build_id"] and oc["provenance"]["storage"] == "releases"
    assert releases["TSIM1"]["access"] == "taiga"
    assert [r["name"] for r in outsider.get("/api/releases").json()] == ["OCEANUS"]


def test_file_level_query_across_storages(member, lab):
    everything = member.get("/api/files", params={"limit": 1000}).json()["files"]
    storages = {f["storage"] for f in everything}
    assert storages == {"taiga-raw", "releases"}
    t133 = member.get("/api/files", params={"facility": "tunka133"}).json()["files"]
    assert sorted(f["cluster"] for f in t133) == [1, 2, 3]
    assert all(f["date"] == "2013-01-05" and f["n_events"] == 5 for f in t133)
    one = member.get("/api/files", params={"facility": "tunka133", "cluster": 2}).json()["files"]
    assert [f["sequence_number"] for f in one] == [2]
    rel = member.get("/api/files", params={"release": "OCEANUS"}).json()["files"]
    assert sorted(f["path"].rsplit("/", 1)[1] for f in rel) == ["set1.parquet", "set2.parquet"]
    # time range: the second half of the release's time span holds set2 only
    truth = oceanus(lab)
    t_mid = truth[truth.file == "set2.parquet"].gps_time_s.min() + 0.001
    later = member.get("/api/files", params={
        "release": "OCEANUS", "start": pd.Timestamp(t_mid, unit="s").isoformat() + "Z"}).json()
    assert [f["path"].rsplit("/", 1)[1] for f in later["files"]] == ["set2.parquet"]


def test_event_level_cuts_use_unified_terms(member, lab):
    truth = oceanus(lab)
    per_file = truth.groupby("file").energy_eV.max()
    threshold = float(per_file.min()) * 1.0001  # above one file's maximum, below the other's
    expected = sorted(per_file[per_file >= threshold].index)
    for cut in (f"energy:{threshold}:", f"E:{threshold}:", f"lgE:{np.log10(threshold)}:",
                f"energy_PeV:{threshold / 1e15}:"):
        files = member.get("/api/files", params={"release": "OCEANUS", "cut": cut}).json()["files"]
        assert sorted(f["path"].rsplit("/", 1)[1] for f in files) == expected, cut
    nothing = member.get("/api/files", params={"cut": ["Ze:80:90"], "release": "OCEANUS"}).json()
    assert nothing["files"] == []


def test_file_record_and_data_through_both_adapters(member, lab):
    rel = member.get("/api/files", params={"release": "OCEANUS", "limit": 1}).json()["files"][0]
    detail = member.get(f"/api/files/{rel['uuid']}").json()
    assert detail["licence"] == "CC-BY-4.0" and detail["provenance"]["storage"] == "releases"
    assert detail["versions"][0]["path_kind"] == "E1"
    assert {s["term"] for s in detail["summaries"]} >= {"energy", "zenith", "core_x", "arrival_time"}
    body = member.get(rel["data_url"]).content  # HTTP storage
    assert body == (lab["http_root"] / rel["path"]).read_bytes()
    raw = member.get("/api/files", params={"storage": "taiga-raw", "limit": 1}).json()["files"][0]
    assert member.get(raw["data_url"]).content == (lab["raw"] / raw["path"]).read_bytes()


@pytest.mark.parametrize("fmt", ["ASCII", "HDF5", "ROOT"])
def test_export_request_lifecycle(member, outsider, lab, fmt):
    truth = oceanus(lab)
    selected = truth[(truth.energy_eV >= 3e15) & (truth.zenith_deg <= 30)]
    reply = member.post("/api/exports", json={
        "format": fmt, "query": {"release": "OCEANUS"}, "components": ["kascade"],
        "quantities": ["energy", "Ze"], "cuts": ["energy:3e15:", "zenith::30"]})
    assert reply.status_code == 202, reply.text
    request_id = reply.json()["id"]
    status = wait_done(member, request_id)
    assert status["status"] == "done", status
    assert status["n_events"] == len(selected)
    data = member.get(status["download_url"]).content
    if fmt == "ASCII":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            table = pd.read_csv(zf.open("kascade.txt"), sep=" ", comment="#", header=None)
            assert "energy" in zf.read("Info.txt").decode()
        got = sorted(table.iloc[:, 0])  # uuid first
    elif fmt == "HDF5":
        with h5py.File(io.BytesIO(data)) as h5:
            got = sorted(x.decode() for x in h5["kascade/uuid"][:])
            assert np.all(h5["kascade/energy_eV"][:] >= 3e15)
    else:
        with uproot.open(io.BytesIO(data)) as root:
            energies = root["kascade"]["energy_eV"].array(library="np")
            assert len(energies) == len(selected) and np.all(energies >= 3e15)
            got = None
    if got is not None:
        assert got == sorted(selected.uuid)
    # the owner lists it, another user neither lists nor reaches it
    assert request_id in [r["id"] for r in member.get("/api/exports").json()]
    assert request_id not in [r["id"] for r in outsider.get("/api/exports").json()]
    assert outsider.get(f"/api/exports/{request_id}").status_code == 404
    assert outsider.get(f"/api/exports/{request_id}/download").status_code == 404


def test_collaboration_data_refused_to_outsiders(outsider, member):
    for params in ({"release": "TSIM1"}, {"storage": "taiga-raw"}):
        reply = outsider.get("/api/files", params=params)
        assert reply.status_code == 403 and "taiga" in reply.json()["detail"]
    reply = outsider.post("/api/exports", json={"format": "HDF5", "query": {"release": "TSIM1"}})
    assert reply.status_code == 403
    raw = member.get("/api/files", params={"storage": "taiga-raw", "limit": 1}).json()["files"][0]
    assert outsider.get(f"/api/files/{raw['uuid']}").status_code == 403
    assert outsider.get(raw["data_url"]).status_code == 403
    # an unrestricted query of an outsider returns public files only
    files = outsider.get("/api/files", params={"limit": 1000}).json()["files"]
    assert files and {f["release"] for f in files} == {"OCEANUS"}
    # and an unrestricted export cannot leak collaboration events either
    reply = outsider.post("/api/exports", json={"format": "HDF5", "quantities": ["energy"]})
    status = wait_done(outsider, reply.json()["id"])
    assert status["status"] == "done" and status["n_events"] == 800


def test_bad_inputs_get_clear_4xx(member):
    cases = [
        ({"cut": "energy"}, 400, "TERM:MIN:MAX"),
        ({"cut": "brightness:1:2"}, 400, "unknown term 'brightness'"),
        ({"cut": "energy:x:"}, 400, "not a number"),
        ({"limit": 10**9}, 422, "less than or equal"),
        ({"start": "yesterday"}, 422, "datetime"),
        ({"start": "2014-01-01T00:00:00", "end": "2013-01-01T00:00:00"}, 400, "start is after end"),
        ({"facility": "a\x01b"}, 400, "printable"),
    ]
    for params, code, message in cases:
        reply = member.get("/api/files", params=params)
        assert reply.status_code == code, (params, reply.text)
        assert message in reply.text, (params, reply.text)
    huge = member.get("/api/files", params={"start": "0001-01-01T00:00:00",
                                            "end": "9999-12-31T23:59:59", "cut": "energy:0:1e300"})
    assert huge.status_code == 200 and huge.json()["files"]
    for path in ("/api/files/..%2F..%2Fetc%2Fpasswd", "/api/files/%2E%2E/data",
                 "/api/exports/..%2Fcatalogue.sqlite/download"):
        assert member.get(path).status_code == 404, path
    reply = member.post("/api/exports", json={"format": "CSV"})
    assert reply.status_code == 422
    reply = member.post("/api/exports", json={"format": "ASCII", "quantities": ["colour"]})
    assert reply.status_code == 400 and "unknown term 'colour'" in reply.json()["detail"]
