"""Tests run INSIDE the lab image (``run-image-tests``), after pangeo-docker-images.

They check what only the built image can show: the installed packages are the lock,
the lab's catalogue opens, dask computes, the JupyterLab extensions are there, and the
image runs as jovyan (uid 1000) with no secrets in it. Paths come from the environment
so the same file also checks the project's venv (tests/deploy/test_images.py).
"""
from __future__ import annotations

import importlib
import json
import os
import pwd
import sys
from pathlib import Path

import pytest

PREFIX = Path(sys.prefix)
LOCK = Path(os.environ.get("DLCLAB_IMAGE_LOCK", "/opt/dlclab/lab.lock"))
SHARE = Path(os.environ.get("DLCLAB_SHARE", "/opt/dlclab/share"))
JUPYTER_ETC = PREFIX / "etc" / "jupyter"

#: What a lab user imports first thing; an import error here is a broken image.
IMPORTS = ["dlclab", "dlclab.catalog", "dlclab.metadata", "intake", "xarray", "zarr", "pandas",
           "pyarrow", "numpy", "scipy", "h5py", "uproot", "awkward", "astropy", "iminuit",
           "hist", "boost_histogram", "torch", "sklearn", "matplotlib", "dask", "distributed",
           "dask_gateway", "papermill", "rocrate", "nbgrader", "voila", "ipywidgets",
           "kaitaistruct", "crflux", "sqlalchemy", "psycopg", "jupyterhub", "jupyterlab"]

#: JupyterLab extensions the lab relies on (prebuilt, shipped in Python packages).
LAB_EXTENSIONS = ["dask-labextension", "@jupyter/nbgrader",
                  "@voila-dashboards/jupyterlab-preview", "@jupyter-widgets/jupyterlab-manager"]
SERVER_EXTENSIONS = ["dask_labextension", "nbgrader.server_extensions.assignment_list",
                     "nbgrader.server_extensions.formgrader", "jupyterlab"]


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonical(name)] = version
    return pins


def canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def installed() -> dict[str, str]:
    from importlib.metadata import distributions

    import sysconfig

    # Only what pip installed into the environment: importing setuptools puts its vendored
    # packages (setuptools/_vendor/*.dist-info) on sys.path, and they are not installed.
    site = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    found = {}
    for dist in distributions(path=site):
        name = dist.metadata["Name"]
        if name is None:  # a half-removed package (pip uninstalling right now)
            continue
        if canonical(name) not in ("pip", "dlclab"):
            found[canonical(name)] = dist.version
    return found


def test_installed_packages_are_exactly_the_lock():
    pins, found = lock_pins(), installed()
    missing = {n: v for n, v in pins.items() if n not in found and n != "pip"}
    extra = sorted(set(found) - set(pins))
    different = {n: (pins[n], found[n]) for n in pins if n in found and pins[n] != found[n]}
    assert (missing, extra, different) == ({}, [], {}), (
        f"not installed: {missing}; not in the lock: {extra}; other versions: {different}")


@pytest.mark.parametrize("module", IMPORTS)
def test_imports(module):
    importlib.import_module(module)


def test_torch_is_the_cpu_build():
    import torch

    assert torch.__version__.endswith("+cpu")
    assert float(torch.ones(3).sum()) == 3.0


def test_catalogue_opens():
    import intake

    path = Path(os.environ.get("DLCLAB_IMAGE_CATALOG", SHARE / "catalogs" / "dlc.yaml"))
    cat = intake.open_catalog(str(path))
    assert {"kcdc", "taiga"} <= set(cat.entries)


def test_small_dask_computation():
    import dask.array as da
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        x = da.arange(1_000_000, chunks=100_000)
        assert client.compute((x * 2).sum()).result() == 999_999_000_000


def test_dask_commands_for_gateway_pods():
    # dask-gateway's pods run `dask scheduler` / `dask worker` from PATH
    for command in ("dask", "jupyterhub-singleuser", "jupyter-lab", "voila", "nbgrader",
                    "papermill", "dlclab"):
        assert (PREFIX / "bin" / command).exists(), command


def test_jupyterlab_extensions_present():
    labext = PREFIX / "share" / "jupyter" / "labextensions"
    for name in LAB_EXTENSIONS:
        assert (labext / name / "package.json").exists(), name
    enabled = {}
    for path in (PREFIX / "etc" / "jupyter" / "jupyter_server_config.d").glob("*.json"):
        enabled.update(json.loads(path.read_text())["ServerApp"]["jpserver_extensions"])
    for name in SERVER_EXTENSIONS:
        assert enabled.get(name) is True, name


#: Libraries some wheels link to for optional features the lab does not use
#: (numba's TBB threading layer; it falls back to OpenMP, libgomp1 is in the image).
OPTIONAL_LIBRARIES = {"libtbb.so.12"}


def test_shared_libraries_resolve():
    """Every compiled extension finds its libraries in the slim runtime image (a library
    only the build stage had would show up here as "not found")."""
    import subprocess

    libraries = [str(p) for p in PREFIX.rglob("*.so*") if p.is_file()]
    vendored = {p.name for p in PREFIX.rglob("*.libs/*")}  # auditwheel's bundled copies
    missing = set()
    for start in range(0, len(libraries), 200):
        out = subprocess.run(["ldd", *libraries[start:start + 200]], capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            if "not found" in line:
                name = line.split("=>")[0].strip()
                if name not in OPTIONAL_LIBRARIES and name not in vendored:
                    missing.add(name)
    assert missing == set(), f"libraries not found: {sorted(missing)}"


def test_voila_leaves_out_extensions_that_break_dashboards():
    from traitlets.config.loader import JSONFileConfigLoader
    from voila.configuration import VoilaConfiguration

    for path in (JUPYTER_ETC / "voila.json",
                 JUPYTER_ETC / "jupyter_server_config.d" / "dlclab-voila.json"):
        config = JSONFileConfigLoader(path.name, str(path.parent)).load_config()
        denied = VoilaConfiguration(config=config).extension_denylist
        assert {"@jupyter/nbgrader", "@jupyter-notebook/lab-extension"} <= set(denied), path


def test_runs_as_jovyan_without_secrets():
    assert os.getuid() == 1000 and pwd.getpwuid(1000).pw_name == "jovyan"
    assert os.environ["HOME"] == "/home/jovyan" and os.access("/home/jovyan", os.W_OK)
    suspicious = [p for p in Path("/opt/dlclab").rglob("*")
                  if p.name in {".env", "id_rsa", "id_ed25519", ".netrc", ".pypirc"}
                  or p.suffix in {".pem", ".key"} and "site-packages" not in p.parts]
    assert suspicious == []
    assert not [k for k in os.environ if any(w in k for w in ("TOKEN", "PASSWORD", "SECRET"))
                and not k.startswith("JUPYTERHUB_")]
