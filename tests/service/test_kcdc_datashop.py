"""Export requests over KCDC exports go through the KCDC DataShop
(``dlclab.formats.kcdc.export_selection``): the result equals a direct selection."""
from __future__ import annotations

import io
import time
import zipfile

import pytest

from dlclab.formats.kcdc import export_selection, read_export, write_export
from dlclab.metadata.db import open_catalogue
from dlclab.metadata.extractor import Extractor, StorageSpec
from dlclab.service.auth import User
from dlclab.simulate.kascade import simulate_kascade
from tests.service.conftest import make_client


@pytest.fixture(scope="module")
def kcdc_lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("kcdc_lab")
    export = simulate_kascade(400, seed=11).to_export(release="NABOO", data_set="KASCADE_T")
    write_export(export, base / "kcdc" / "NABOO" / "KASCADE_T_HDF5", "hdf5")
    write_export(export, base / "kcdc" / "NABOO" / "KASCADE_T_ASCII", "ascii")
    url = f"sqlite:///{base / 'c.sqlite'}"
    engine = open_catalogue(url)
    assert Extractor(engine, StorageSpec("kcdc", base / "kcdc", "kascade")).run().errors == 0
    engine.dispose()
    lab = {"db_url": url, "export_dir": base / "exports"}
    with make_client(lab, User("carol")) as client:
        yield client, export, base


@pytest.mark.parametrize("fmt", ["HDF5", "ASCII"])
def test_datashop_selection_through_the_service(kcdc_lab, fmt, tmp_path):
    client, export, base = kcdc_lab
    reply = client.post("/api/exports", json={
        "format": fmt, "query": {"storage": ["kcdc"]}, "components": ["array"],
        "quantities": ["energy", "zenith", "electron_number"],
        "cuts": ["energy:1e15:", "Ze::30"]})
    assert reply.status_code == 202, reply.text
    for _ in range(600):
        status = client.get(f"/api/exports/{reply.json()['id']}").json()
        if status["status"] not in ("queued", "running"):
            break
        time.sleep(0.05)
    assert status["status"] == "done", status
    # the same selection made directly, on both files (the service merges them)
    both = {c: __import__("pandas").concat([t, t], ignore_index=True) for c, t in export.tables.items()}
    direct = read_export(export_selection(both, ["E>=1e15", "Ze<=30.0"], ["array"],
                                          ["E", "Ze", "Ne"], fmt.lower(), tmp_path / "direct"))
    data = client.get(status["download_url"]).content
    target = tmp_path / "got"
    if fmt == "ASCII":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            zf.extractall(target)
    else:
        target.mkdir()
        target = target / "events.h5"
        target.write_bytes(data)
    got = read_export(target)
    assert status["n_events"] == len(direct) > 0
    assert got.equals(direct), got.differences(direct)
