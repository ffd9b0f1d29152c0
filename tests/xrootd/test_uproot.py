"""Users read where the data are: ``uproot.open("root://...")`` on a KCDC ROOT export of a
public KASCADE release, served by the kit-kascade instance's anonymous server (no key)."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest
import uproot

from dlclab.formats.kcdc import write_export
from dlclab.simulate.kascade import simulate_kascade


@pytest.fixture(scope="module")
def kcdc_root(storage_lab):
    root = storage_lab.server("kit-kascade").instance.root
    export = simulate_kascade(300, seed=5).to_export(release="NABOO", data_set="KASCADE_R")
    written = write_export(export, root / "raw/kcdc/NABOO/KASCADE_R_ROOT", "root")
    subprocess.run(["chmod", "-R", "a+rX", str(root / "raw/kcdc")], check=True)
    return written


def test_uproot_reads_a_kcdc_root_export_over_root_url(storage_lab, kcdc_root):
    server = storage_lab.server("kit-kascade-public")
    lfn = "/" + str(kcdc_root.relative_to(server.instance.root))
    url = f"{server.url}{lfn}"
    assert url.startswith("root://127.0.0.1:") and "//raw/kcdc/" in url
    with uproot.open(kcdc_root) as local, uproot.open(url) as remote:
        assert sorted(remote.keys()) == sorted(local.keys())
        trees = [k for k, v in local.classnames().items() if v == "TTree"]
        assert trees
        for tree in trees:
            for branch in local[tree].keys():
                np.testing.assert_array_equal(remote[tree][branch].array(library="np"),
                                              local[tree][branch].array(library="np"))
