"""The container images, checked without a Docker engine: what they install is the lock,
what they copy exists and is in the build context, hadolint finds nothing, and the
in-image test script passes on the project's venv (the image's twin)."""
from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.conftest import HELM_DIR, PROJECT, UPSTREAM, VALUES_DIR, load_yaml
from tests.deploy.dockerfiles import DockerIgnore, copy_sources, instructions, pip_installs

IMAGES = PROJECT / "images"
DOCKERFILES = sorted(IMAGES.glob("*/Dockerfile"))
LOCK = PROJECT / "requirements" / "lab.lock"


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name.lower()] = version
    return pins


def runs(dockerfile: Path) -> list:
    return [i for i in instructions(dockerfile) if i.keyword == "RUN"]


@pytest.fixture(scope="module")
def hadolint() -> Path:
    out = subprocess.run([sys.executable, str(HELM_DIR / "tools" / "get_tools.py"),
                          "--tool", "hadolint"], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip().splitlines()[-1])


def test_all_images_present():
    assert [p.parent.name for p in DOCKERFILES] == ["hub", "lab", "lab-gpu"]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_hadolint(hadolint, dockerfile):
    out = subprocess.run([str(hadolint), "--failure-threshold", "info", str(dockerfile)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_hadolint_catches_mistakes(hadolint, tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:latest\nRUN apt-get install python3\n")
    out = subprocess.run([str(hadolint), str(bad)], capture_output=True, text=True)
    assert out.returncode != 0 and "DL3007" in out.stdout  # the linter really runs


def test_lab_image_installs_exactly_the_lock():
    dockerfile = IMAGES / "lab" / "Dockerfile"
    copies = [(copy_sources(i), i.arguments.split()[-1])
              for i in instructions(dockerfile) if i.keyword == "COPY"]
    # into the build stage (installed) and into the image (checked by run-image-tests)
    assert (["requirements/lab.lock"], "/tmp/lab.lock") in copies
    assert (["requirements/lab.lock"], "/opt/dlclab/lab.lock") in copies
    installs = [args for run in runs(dockerfile) for args in pip_installs(run)]
    assert installs, "no pip install in the lab image"
    targets = []
    for args in installs:
        assert "--no-deps" in args, args  # nothing beyond what is named
        positional = [a for a in args if not a.startswith("-")
                      and not a.startswith("http") and a != "/tmp/lab.lock"]
        targets += positional
        if "-r" in args:
            assert args[args.index("-r") + 1] == "/tmp/lab.lock"
    assert sorted(targets) == ["/tmp/dlclab"]  # the lock and the project, nothing else
    assert any("-r" in args for args in installs)
    text = dockerfile.read_text()
    assert "pip\" check" in text or "pip check" in text
    # torch +cpu is in the lock and its index is given
    assert lock_pins()["torch"].endswith("+cpu")
    assert "https://download.pytorch.org/whl/cpu" in text


def test_voila_config_is_installed_into_the_venv():
    copies = [(copy_sources(i), i.arguments.split()[-1])
              for i in instructions(IMAGES / "lab" / "Dockerfile") if i.keyword == "COPY"]
    assert (["images/lab/etc-jupyter/"], "/opt/dlclab/venv/etc/jupyter/") in copies


def test_runtime_stage_has_the_system_libraries_wheels_link_to():
    final_stage = (IMAGES / "lab" / "Dockerfile").read_text().rsplit("FROM ", 1)[1]
    for package in ("python3", "tini", "libgomp1", "ca-certificates", "bubblewrap"):
        assert f" {package} " in final_stage, package
    assert "build-essential" not in final_stage  # compilers stay in the build stage


def test_lab_image_user_and_entrypoint():
    by_keyword = {}
    for i in instructions(IMAGES / "lab" / "Dockerfile"):
        by_keyword.setdefault(i.keyword, []).append(i.arguments)
    assert by_keyword["USER"][-1] == "1000:100"
    assert "--uid 1000" in (IMAGES / "lab" / "Dockerfile").read_text()
    assert by_keyword["ENTRYPOINT"][-1] == '["tini", "-g", "--"]'
    assert by_keyword["CMD"][-1] == '["jupyterhub-singleuser"]'
    froms = [a.split()[0] for a in by_keyword["FROM"]]
    assert froms == ["${BASE_IMAGE}", "${BASE_IMAGE}"]  # build and runtime share the base
    (base,) = [a for a in by_keyword["ARG"] if a.startswith("BASE_IMAGE=")]
    assert base.split("=", 1)[1] == "debian:12.11-slim"  # Debian's Python 3.11, as CI


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_copied_files_exist_and_are_in_the_build_context(dockerfile):
    ignore = DockerIgnore(PROJECT / ".dockerignore")
    for instruction in instructions(dockerfile):
        if instruction.keyword not in ("COPY", "ADD"):
            continue
        for source in copy_sources(instruction):
            if source == ".":
                continue
            assert (PROJECT / source).exists(), f"{dockerfile}:{instruction.line}: {source}"
            assert ignore.included(source), f"{source} is left out by .dockerignore"


def test_build_context_is_an_allow_list():
    ignore = DockerIgnore(PROJECT / ".dockerignore")
    for path in ("src/dlclab/config.py", "pyproject.toml", "catalogs/dlc.yaml",
                 "courses/courses.yaml", "requirements/lab.lock"):
        assert ignore.included(path), path
    for path in ("data/releases/x.parquet", ".venv/bin/python", ".git/config", ".env",
                 ".cache/tools/bin/helm", "tests/conftest.py", "src/dlclab/__pycache__/x.pyc",
                 "src/.env", "node_modules/x/index.js", "requirements/lab.in"):
        assert not ignore.included(path), path


def test_hub_image_is_the_charts_hub_plus_dlclab():
    dockerfile = IMAGES / "hub" / "Dockerfile"
    (base,) = [i.arguments for i in instructions(dockerfile)
               if i.keyword == "ARG" and i.arguments.startswith("BASE_IMAGE=")]
    chart_version = UPSTREAM["jupyterhub"].rsplit("-", 1)[1]
    assert base == f"BASE_IMAGE=quay.io/jupyterhub/k8s-hub:{chart_version}"
    installs = [args for run in runs(dockerfile) for args in pip_installs(run)]
    assert installs == [["--no-cache-dir", "--no-deps", "/tmp/dlclab"]]
    assert "PIP_CONSTRAINT=/tmp/dlclab/requirements/lab.lock pip install" in dockerfile.read_text()
    hub_values = load_yaml(VALUES_DIR / "jupyterhub.yaml")
    assert hub_values["hub"]["image"]["name"] == "ghcr.io/dlclab/hub"


def imported_roots(module_path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(module_path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_hub_side_code_needs_nothing_beyond_the_hub_image():
    # What hub.extraConfig imports (dlclab.hub.hooks) and what that imports in turn.
    src = PROJECT / "src" / "dlclab"
    modules = [src / "__init__.py", src / "hub" / "__init__.py", src / "hub" / "hooks.py",
               src / "hub" / "unix.py"]
    in_hub_image = set(sys.stdlib_module_names) | {"dlclab", "jupyterhub", "tornado",
                                                   "traitlets", "kubespawner"}
    for module in modules:
        assert imported_roots(module) <= in_hub_image, module


def test_gpu_image_changes_only_torch():
    dockerfile = IMAGES / "lab-gpu" / "Dockerfile"
    text = dockerfile.read_text()
    version = lock_pins()["torch"].split("+")[0]
    assert f"ARG TORCH_VERSION={version}" in text
    installs = [args for run in runs(dockerfile) for args in pip_installs(run)]
    assert [[a for a in args if not a.startswith("-") and "://" not in a and "INDEX" not in a]
            for args in installs] == [["torch==${TORCH_VERSION}"]]
    profiles = load_yaml(VALUES_DIR / "jupyterhub.yaml")["singleuser"]["profileList"]
    gpu = next(p for p in profiles if p["slug"] == "gpu")
    assert gpu["kubespawner_override"]["image"].startswith("ghcr.io/dlclab/lab-gpu:")


def test_one_lab_image_everywhere():
    hub = load_yaml(VALUES_DIR / "jupyterhub.yaml")["singleuser"]["image"]
    gateway = load_yaml(VALUES_DIR / "dask-gateway.yaml")["gateway"]["backend"]["image"]
    ours = load_yaml(HELM_DIR / "dlclab" / "values.yaml")["labImage"]
    assert hub == gateway == {"name": ours["name"], "tag": ours["tag"]}
    gpu_tag = next(p for p in load_yaml(VALUES_DIR / "jupyterhub.yaml")["singleuser"]["profileList"]
                   if p["slug"] == "gpu")["kubespawner_override"]["image"].split(":")[1]
    assert gpu_tag == hub["tag"]


@pytest.fixture()
def image_tests(monkeypatch):
    """images/lab/test_image.py, pointed at the checkout's lock and catalogue."""
    spec = importlib.util.spec_from_file_location("dlclab_image_tests",
                                                  IMAGES / "lab" / "test_image.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "LOCK", LOCK)
    # the files the Dockerfile copies into the venv's etc/jupyter
    monkeypatch.setattr(module, "JUPYTER_ETC", IMAGES / "lab" / "etc-jupyter")
    monkeypatch.setenv("DLCLAB_IMAGE_CATALOG", str(PROJECT / "catalogs" / "dlc.yaml"))
    return module


@pytest.mark.parametrize("check", [
    "test_installed_packages_are_exactly_the_lock", "test_catalogue_opens",
    "test_small_dask_computation", "test_dask_commands_for_gateway_pods",
    "test_jupyterlab_extensions_present", "test_shared_libraries_resolve",
    "test_voila_leaves_out_extensions_that_break_dashboards"])
def test_in_image_checks_pass_on_the_venv(image_tests, check, monkeypatch):
    """The image's own checks, run on the venv built from the same lock (the imports are
    exercised by the rest of the suite; the identity check needs the image's jovyan)."""
    if check == "test_shared_libraries_resolve":
        # This host has every system library, so here the check only proves it runs; on
        # numpy's extensions to stay quick (in the image it covers the whole venv).
        import numpy

        monkeypatch.setattr(image_tests, "PREFIX", Path(numpy.__file__).parent)
    getattr(image_tests, check)()


def test_in_image_lock_check_sees_a_difference(image_tests, tmp_path, monkeypatch):
    changed = tmp_path / "lab.lock"
    changed.write_text(LOCK.read_text().replace("numpy==", "numpy==0.0.0+not"))
    monkeypatch.setattr(image_tests, "LOCK", changed)
    with pytest.raises(AssertionError, match="numpy"):
        image_tests.test_installed_packages_are_exactly_the_lock()


def test_run_tests_script_runs_the_image_tests():
    script = (IMAGES / "lab" / "run_tests.sh").read_text()
    assert script.startswith("#!/bin/bash") and "set -euo pipefail" in script
    assert "/opt/dlclab/tests/test_image.py" in script
    assert os.access(IMAGES / "lab" / "run_tests.sh", os.X_OK)
